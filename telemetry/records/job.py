"""The record of a job flown live: log it while it flies, make its spray record after.

`agrodrone fly`, `agrodrone demo` and the tests fly a job with `missions.fly_job` and
hand it a `JobRecorder.handle` as a link listener; afterwards `JobRecorder.record` groups
the flights this session logged into the job and appends its chained record. Everything
a record needs is checked when the recorder is made, before the first take-off, so a job
is never flown for a record that cannot be written.
"""

from __future__ import annotations

import time
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telemetry.errors import TelemetryError
from telemetry.ingest.flights import list_flights, rebuild_flights
from telemetry.ingest.recorder import Recorder
from telemetry.ingest.schema import open_db
from telemetry.records.record import create_record, plan_document

if TYPE_CHECKING:
    from fields.terrain import Terrain
    from planner.document import PlanDocument


class JobRecorder:
    """Logs a job's link into `db_path` (and a tlog) and makes its record; see the module doc."""

    def __init__(
        self,
        db_path: str | Path,
        plan: PlanDocument | dict,
        *,
        cooperative: str | None = None,
        drone: str | None = None,
        job_id: str | None = None,
        tlog_path: str | Path | None = None,
        terrain: Terrain | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.plan = plan_document(plan)
        self.terrain = terrain  # a terrain plan's DEM (planner.load_terrain): the record's height above ground
        self.cooperative = cooperative or self.plan.field.prop("cooperative")
        if not self.cooperative:
            raise TelemetryError(
                _(
                    "no cooperative for the spray record: give --cooperative ID "
                    "(or name it in the field file's `cooperative` property)"
                )
            )
        self.job_id = job_id
        if job_id is not None and self.db_path.exists():
            db = open_db(self.db_path)
            try:
                taken = db.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone()
            finally:
                db.conn.close()
            if taken:
                raise TelemetryError(
                    _("--job {job}: that job already has its spray record in {db}").format(job=job_id, db=self.db_path)
                )
        self.started_us = int(time.time() * 1e6)
        self.recorder = Recorder(self.db_path, tlog_path=tlog_path, cooperative=self.cooperative, drone=drone)

    @property
    def tlog_path(self) -> Path | None:
        return self.recorder.tlog_path

    def handle(self, msg: Any) -> None:
        """The link listener: every message is logged."""
        self.recorder.handle(msg)

    def close(self) -> None:
        self.recorder.close()

    def record(self, **details: Any) -> dict | None:
        """Close the log and append the job's spray record from the flights flown since this
        recorder was made (None when nothing took off). `details`: create_record's who/what
        (operator, operator_name, product, registration, pump_servo, notes)."""
        self.close()
        db = open_db(self.db_path)
        try:
            rebuild_flights(db)
            flights = [f.id for f in list_flights(db, unassigned=True) if f.closed and f.start_us >= self.started_us]
            if not flights:
                return None
            return create_record(
                db,
                self.plan,
                job_id=self.job_id,
                flight_ids=flights,
                cooperative=self.cooperative,
                terrain=self.terrain,
                **details,
            )
        finally:
            db.conn.close()

    def __enter__(self) -> JobRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.recorder.discard_if_empty()  # e.g. nothing listened on the link: no empty files
        self.close()
