"""Flying a plan and keeping its record from a test, the way `agrodrone fly` does it:
missions.fly_job over the link, telemetry.JobRecorder listening and making the record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from missions import BuildOptions, FlightLimits, JobOutcome, JobSettings, fly_job
from telemetry import JobRecorder


@dataclass
class Flown:
    """The job's outcome and its record."""

    outcome: JobOutcome
    record: dict | None

    @property
    def sorties(self):
        return self.outcome.sorties

    @property
    def finished(self) -> bool:
        return self.outcome.finished

    @property
    def stopped(self) -> str:
        return self.outcome.stopped


def fly_and_record(
    plan_dir: Path,
    url: str,
    db: Path,
    *,
    first_sortie: int = 1,
    battery_min_pct: float = 80.0,
    link_timeout_s: float = 5.0,
    **record: object,
) -> Flown:
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    settings = JobSettings(
        first_sortie=first_sortie,
        rehearsal_crew=True,
        build=BuildOptions(),
        limits=FlightLimits(battery_min_pct=battery_min_pct, link_timeout_s=link_timeout_s),
    )
    with JobRecorder(db, plan) as recorder:
        outcome = fly_job(plan, url, settings, listeners=[recorder.handle])
    return Flown(outcome, recorder.record(notes=outcome.stopped or None, **record) if outcome.sorties else None)
