"""The record of a job flown live: log it while it flies, make its spray record after.

`agrodrone fly`, `agrodrone demo` and the tests fly a job with `missions.fly_job` and
hand it a `JobRecorder.handle` as a link listener; afterwards `JobRecorder.record` groups
the flights this session logged into the job and appends its chained record. Everything
a record needs is checked when the recorder is made, before the first take-off, so a job
is never flown for a record that cannot be written.

A fleet job (several drones at once, one link each) gives each link its own listener,
`handle_for(drone)`: all of them log into the one database and tlog, and each learns its
vehicle's system id from the first autopilot heartbeat on its link, so the record knows which
drone flew each flight (telemetry/records/fleet.py). Two links whose vehicles share a system id
cannot be told apart: `sysid_conflict()` says so and `record()` refuses (the flight runner
checks system ids itself before anything takes off: missions.fleet.check_system_ids).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telemetry.errors import TelemetryError
from telemetry.ingest.flights import list_flights, rebuild_flights
from telemetry.ingest.messages import MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS
from telemetry.ingest.recorder import Recorder
from telemetry.ingest.schema import open_db
from telemetry.records.fleet import check_names, drone_label, is_fleet
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
        drones: Mapping[int, str | None] | None = None,
    ) -> None:
        """`drones`: the plan's drone numbers -> the names the operator gave the drones (one per link;
        None: unnamed). `drone` names the first drone when `drones` does not (a single-drone plan:
        its one drone, as before fleets)."""
        self.db_path = Path(db_path)
        self.plan = plan_document(plan)
        self.fleet = is_fleet(self.plan)
        self.drones = check_names(self.plan, drones or {})  # every plan drone, named or not
        if not self.fleet:
            drone = drone or self.drones.get(1)
        elif drone is not None and self.drones[self.plan.drone_numbers()[0]] is None:
            self.drones[self.plan.drone_numbers()[0]] = drone  # --drone names the first drone
        self._lock = threading.Lock()
        self._sysid_drone: dict[int, int] = {}  # learnt per link: vehicle system id -> plan drone number
        self._conflict: str | None = None
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
        # a fleet's one log has no one drone: each link names its own (handle_for)
        self.recorder = Recorder(
            self.db_path, tlog_path=tlog_path, cooperative=self.cooperative, drone=None if self.fleet else drone
        )

    @property
    def tlog_path(self) -> Path | None:
        return self.recorder.tlog_path

    def handle(self, msg: Any) -> None:
        """The link listener: every message is logged."""
        self.recorder.handle(msg)

    def handle_for(self, drone: int) -> Callable[[Any], None]:
        """The listener for plan drone `drone`'s link: logs every message like `handle`, and learns
        the link's vehicle system id from the first autopilot heartbeat it passes. Each link calls
        its own listener from its own thread."""
        if drone not in self.drones:
            raise TelemetryError(
                _("drone {drone}: the plan has drones {have}").format(
                    drone=drone, have=", ".join(map(str, self.drones))
                )
            )
        learnt = False  # this link's own state: only its thread reads and writes it

        def listener(msg: Any) -> None:
            nonlocal learnt
            if (
                not learnt
                and msg is not None
                and msg.get_type() == "HEARTBEAT"
                and msg.autopilot != MAV_AUTOPILOT_INVALID
                and msg.type != MAV_TYPE_GCS
            ):
                learnt = True
                self._learn(drone, msg.get_srcSystem())
            self.recorder.handle(msg)

        return listener

    def _learn(self, drone: int, sysid: int) -> None:
        with self._lock:
            other = self._sysid_drone.setdefault(sysid, drone)
            if other != drone:
                if self._conflict is None:
                    self._conflict = _(
                        "{a} and {b} both fly as MAVLink system id {sysid}: their flights cannot be told "
                        "apart; give each drone its own MAV_SYSID (SYSID_THISMAV before ArduPilot 4.7)"
                    ).format(
                        a=drone_label(other, self.drones.get(other)),
                        b=drone_label(drone, self.drones.get(drone)),
                        sysid=sysid,
                    )
                return
        self.recorder.name_sysid(sysid, self.drones.get(drone))

    def sysid_conflict(self) -> str | None:
        """Why this fleet job cannot be recorded (two of its links heard the same system id), or None."""
        with self._lock:
            return self._conflict

    def sysids(self) -> dict[int, int]:
        """The system ids the links have learnt so far -> their plan drone numbers."""
        with self._lock:
            return dict(self._sysid_drone)

    def close(self) -> None:
        self.recorder.close()

    def record(self, **details: Any) -> dict | None:
        """Close the log and append the job's spray record from the flights flown since this
        recorder was made (None when nothing took off). `details`: create_record's who/what
        (operator, operator_name, product, registration, pump_servo, notes)."""
        self.close()
        conflict = self.sysid_conflict()
        if conflict:
            raise TelemetryError(conflict)
        db = open_db(self.db_path)
        try:
            rebuild_flights(db)
            flights = [f for f in list_flights(db, unassigned=True) if f.closed and f.start_us >= self.started_us]
            if self.fleet:  # the vehicles this job's links heard, not another job's logged meanwhile
                heard = self.recorder.vehicle_sysids()
                flights = [f for f in flights if f.sysid in heard]
            if not flights:
                return None
            return create_record(
                db,
                self.plan,
                job_id=self.job_id,
                flight_ids=[f.id for f in flights],
                cooperative=self.cooperative,
                terrain=self.terrain,
                drones=self.drones if self.fleet else None,
                sysids=self.sysids() if self.fleet else None,
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
