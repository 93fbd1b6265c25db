"""Which logged flights make a job, and the pump calibration each is read with.

A job is the sorties flown for one plan: the flights named, or else the earliest run of
unassigned flights over the plan's field. One drone's sorties follow each other with reloads
in between; a fleet's drones (several links, one system id each) fly theirs at the same time,
so a fleet job also takes the other vehicles' runs that overlap it (telemetry/records/fleet.py
says which drone flew which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import sqlite_utils

from telemetry.errors import TelemetryError
from telemetry.ingest.flights import Flight, group_sorties, list_flights, rebuild_flights
from telemetry.records.asapplied import PumpCalibration

if TYPE_CHECKING:
    from planner.document import PlanDocument

DEFAULT_PUMP_SERVO = 9
SORTIE_GAP_S = 3600.0  # flights of one job: at most this long on the ground between sorties


def _flights_over_field(db: sqlite_utils.Database, flights: list[Flight], plan: PlanDocument) -> list[Flight]:
    minx, miny, maxx, maxy = plan.field.boundary_local.buffer(20).bounds
    lon0, lat0 = plan.field.frame.to_wgs84(minx, miny)
    lon1, lat1 = plan.field.frame.to_wgs84(maxx, maxy)
    out = []
    for f in flights:
        n = db.execute(
            "SELECT COUNT(*) FROM positions WHERE sysid = ? AND t_us BETWEEN ? AND ? "
            "AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?",
            [f.sysid, f.start_us, f.end_us, min(lon0, lon1), max(lon0, lon1), min(lat0, lat1), max(lat0, lat1)],
        ).fetchone()[0]
        if n:
            out.append(f)
    return out


def _with_concurrent(groups: list[list[Flight]], max_gap_s: float) -> list[Flight]:
    """The earliest run of sorties and, for a fleet, every other vehicle's first run that overlaps
    it (or follows within `max_gap_s`): the drones of one job fly at the same time."""
    job = list(groups[0])
    sysids = {job[0].sysid}
    lo, hi = job[0].start_utc_us, max(cast(int, f.end_utc_us) for f in job)  # closed flights
    gap = max_gap_s * 1e6
    for g in groups[1:]:
        g_lo, g_hi = g[0].start_utc_us, max(cast(int, f.end_utc_us) for f in g)
        if g[0].sysid in sysids or g_lo > hi + gap or g_hi < lo - gap:
            continue
        job.extend(g)
        sysids.add(g[0].sysid)
        lo, hi = min(lo, g_lo), max(hi, g_hi)
    return sorted(job, key=lambda f: f.start_us)


def select_flights(
    db: sqlite_utils.Database,
    plan: PlanDocument,
    flight_ids: list[int] | None = None,
    max_gap_s: float = SORTIE_GAP_S,
    *,
    fleet: bool = False,
) -> list[Flight]:
    """The sorties of one job: given ids, or the earliest run of unassigned flights over the field
    (with `fleet`, the runs of the other vehicles flown at the same time too)."""
    rebuild_flights(db)
    if flight_ids:
        by_id = {f.id: f for f in list_flights(db)}
        missing = [i for i in flight_ids if i not in by_id]
        if missing:
            raise TelemetryError(f"no flight with id {', '.join(map(str, missing))}")
        chosen = [by_id[i] for i in flight_ids]
        for f in chosen:
            if f.job_id:
                raise TelemetryError(f"flight {f.id} already belongs to job {f.job_id}")
            if not f.closed:
                raise TelemetryError(f"flight {f.id} has no disarm yet (still flying or log cut short)")
        return sorted(chosen, key=lambda f: f.start_us)
    over = _flights_over_field(db, [f for f in list_flights(db, unassigned=True) if f.closed], plan)
    groups = group_sorties(over, max_gap_s)
    if not groups:
        raise TelemetryError(f"no logged flight over field {plan.field.id} that is not already in a job")
    return _with_concurrent(groups, max_gap_s) if fleet else groups[0]


def pump_calibration(
    db: sqlite_utils.Database,
    plan: PlanDocument,
    drone_id: str | None,
    sysid: int | None,
    pump_servo: int | None,
    pump_max_l_min: float | None,
) -> PumpCalibration:
    """How to read one drone's pump: the servo given, else the drone's, else the autopilot's own
    SERVOn_FUNCTION=22 seen on the link, else channel 9; the flow at full output given, else the
    drone's, else its plan's (a fleet plan: that drone's part, PlanDocument.for_drone)."""
    row = (
        db.execute(
            "SELECT pump_servo, pump_max_l_min, pwm_off, pwm_full FROM drones WHERE id = ?", [drone_id]
        ).fetchone()
        if drone_id
        else None
    )
    d_servo, d_max, d_off, d_full = row if row else (None, None, None, None)
    servo = pump_servo or d_servo
    if servo is None and sysid is not None:  # the autopilot's own setting, when the parameter went over the link
        p = db.execute(
            "SELECT param_id FROM params WHERE sysid = ? AND param_id LIKE 'SERVO%_FUNCTION' "
            "AND value = 22 ORDER BY t_us DESC LIMIT 1",
            [sysid],
        ).fetchone()
        if p:
            servo = int(p[0][5:-9])
    servo = servo or DEFAULT_PUMP_SERVO
    pump_max = pump_max_l_min or d_max or plan.pump_max_l_min
    if not pump_max:
        raise TelemetryError("pump maximum flow unknown: give --pump-max or a plan with drone.pump_max_l_min")
    return PumpCalibration(int(servo), float(pump_max), int(d_off or 1000), int(d_full or 2000))
