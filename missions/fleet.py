"""Flying one job with several drones at once: each drone's part of the plan is flown by its
own `fly_job`, in its own thread, over its own link, and `Separation` keeps them apart.

One drone's failsafe, lost link or no-go stops only that drone's part: the others fly on,
as a cooperative with three drones expects (the one with a problem is looked at on the
ground while the others finish). Ctrl-C (`stop`) sends every drone home.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from gettext import gettext as _
from typing import Any

from missions.errors import MissionError
from missions.job import JobEvents, JobOutcome, JobSettings, fly_job, job_sorties
from missions.link import Vehicle
from missions.plan_input import plan_document, plan_errors
from missions.separation import HoldEvent, Separation
from planner.document import PlanDocument
from planner.fleet import DEFAULT_SEPARATION_M


@dataclass
class FleetDrone:
    """One drone of the job: its number in the plan, its link, how to fly it, who listens."""

    drone: int
    url: str
    settings: JobSettings = JobSettings()
    listeners: list[Callable[[Any], None]] = field(default_factory=list)
    events: JobEvents = field(default_factory=JobEvents)


@dataclass
class FleetOutcome:
    """Each drone's outcome, and what the separation monitor saw."""

    drones: dict[int, JobOutcome]
    smallest_separation_m: float | None = None  # between two airborne drones; None: never two at once
    holds: list[HoldEvent] = field(default_factory=list)
    stopped: str = ""  # a no-go for the whole fleet (before anything took off)

    @property
    def finished(self) -> bool:
        return not self.stopped and all(o.finished for o in self.drones.values())

    def problems(self) -> list[str]:
        """One line per drone that did not finish, for the operator."""
        out = [self.stopped] if self.stopped else []
        return out + [f"drone {d}: {o.stopped}" for d, o in sorted(self.drones.items()) if o.stopped]


def drones_to_fly(plan: PlanDocument | dict, first_sortie: int = 1) -> dict[int, PlanDocument]:
    """Each drone's part of the plan (its single-drone document) with sorties from `first_sortie`
    on; a drone whose sorties all come before it has nothing left and is not in the answer."""
    doc = plan_document(plan)
    if first_sortie not in doc.sortie_numbers():
        numbers = doc.sortie_numbers()
        raise MissionError(
            _("--from-sortie {k}: the plan has sorties {first}..{last}").format(
                k=first_sortie, first=numbers[0], last=numbers[-1]
            )
        )
    with plan_errors():
        parts = {d: doc.for_drone(d) for d in doc.drone_numbers()}
    return {d: p for d, p in parts.items() if any(k >= first_sortie for k in p.sortie_numbers())}


def first_sortie_of(part: PlanDocument, first_sortie: int) -> int:
    """A drone's first sortie to fly when the job starts from `first_sortie` (drones_to_fly's parts)."""
    return min(k for k in part.sortie_numbers() if k >= first_sortie)


def separation_of(plan: PlanDocument) -> float:
    """The plan's minimum separation between drones (the planner's `--separation`)."""
    fleet = plan.fleet
    return float(fleet.separation_m) if fleet is not None and fleet.separation_m else DEFAULT_SEPARATION_M


def check_system_ids(drones: Sequence[FleetDrone]) -> dict[int, int]:
    """Connect to each drone once and read its MAVLink system id: two drones answering with the
    same id cannot be told apart (commands, records), so that is a no-go (MissionError)."""
    ids: dict[int, int] = {}
    for fd in drones:
        v = Vehicle.connect(fd.url, timeout=fd.settings.connect_timeout_s, key=fd.settings.key)
        try:
            ids[fd.drone] = v.target_system
        finally:
            v.close()
    seen: dict[int, int] = {}
    for d, sysid in ids.items():
        if sysid in seen:
            raise MissionError(
                _(
                    "drones {a} and {b} both answer as MAVLink system {sysid}: give each drone its own "
                    "MAV_SYSID (SYSID_THISMAV before ArduPilot 4.7)"
                ).format(a=seen[sysid], b=d, sysid=sysid)
            )
        seen[sysid] = d
    return ids


def fly_fleet(
    plan: PlanDocument | dict,
    drones: Sequence[FleetDrone],
    *,
    separation_m: float | None = None,
    stop: threading.Event | None = None,
) -> FleetOutcome:
    """Fly each drone's part at the same time; see the module docstring.

    `drones[i].settings.first_sortie` is the sortie to start from (as `--from-sortie`); each
    drone starts at its own first sortie from there on. Every part is checked before anything
    connects, and every drone's system id before anything takes off.
    """
    doc = plan_document(plan)
    stop = stop or threading.Event()
    first = min((fd.settings.first_sortie for fd in drones), default=1)
    parts = drones_to_fly(doc, first)
    missing = [fd.drone for fd in drones if fd.drone not in parts]
    if missing or len(drones) != len(parts):
        raise MissionError(
            _("the plan has drones {have} to fly: give one --connect for each, in that order").format(
                have=", ".join(str(d) for d in parts)
            )
        )
    settings = {}
    for fd in drones:
        settings[fd.drone] = replace(fd.settings, first_sortie=first_sortie_of(parts[fd.drone], first))
        job_sorties(parts[fd.drone], settings[fd.drone])
    sep = Separation([fd.drone for fd in drones], min_m=separation_m or separation_of(doc))
    outcome = FleetOutcome(drones={})
    try:
        check_system_ids(drones)
    except MissionError as exc:
        outcome.stopped = f"no-go: {exc}"
        return outcome

    def run(fd: FleetDrone) -> None:
        try:
            outcome.drones[fd.drone] = fly_job(
                parts[fd.drone],
                fd.url,
                settings[fd.drone],
                listeners=[*fd.listeners, sep.listener(fd.drone)],
                events=fd.events,
                stop=stop,
                guard=sep.guard(fd.drone),
            )
        except MissionError as exc:  # refused before it flew: only this drone's part stops
            outcome.drones[fd.drone] = JobOutcome(stopped=str(exc))

    threads = [threading.Thread(target=run, args=(fd,), name=f"drone-{fd.drone}", daemon=True) for fd in drones]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    outcome.smallest_separation_m = None if sep.smallest_m == float("inf") else round(sep.smallest_m, 2)
    outcome.holds = list(sep.events)
    return outcome
