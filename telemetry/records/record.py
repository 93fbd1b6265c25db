"""Spray records: one per job, built from the logged flights and the plan they flew.

A record answers an inspector's questions (EU 2023/564 as the checklist): who
(cooperative, operator, drone), what (product, registration, tank mix), on which crop
(name, EPPO code, growth stage), where (field, as-applied geometry), when (start and
end in UTC and local time), how much (area in ha and sào, volume, achieved vs target
dose) and how well (coverage of the planned sprayable area, gaps, overlaps, spray
outside the field or in no-spray buffers, wind). Records are written once and chained
(telemetry/records/chain.py); nothing here updates a record. A job flown by several drones
at once (a fleet plan) gets one record as well, with each drone's part (fleet.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import shapely
import sqlite_utils
from shapely.geometry.base import BaseGeometry

from fields.model import DEFAULT_TZ, HA_M2, SAO_M2
from planner.document import PlanDocument, as_document
from planner.errors import PlanError
from planner.metrics import footprints, overlap_area
from telemetry.errors import TelemetryError
from telemetry.ingest.flights import Flight, utc_iso
from telemetry.ingest.record_columns import RECORD_COLUMNS
from telemetry.records.agl import FlightHeights, agl_columns, flight_heights
from telemetry.records.asapplied import (
    PumpCalibration,
    clip_intervals,
    load_track,
    pump_volume,
    spray_intervals,
    spray_lines,
    wgs84_geojson,
)
from telemetry.records.chain import record_hash
from telemetry.records.deposits import Deposits, flight_deposits
from telemetry.records.dosemap import plan_dose_map
from telemetry.records.fleet import FleetJob, FlightSpray, fleet_job, is_fleet
from telemetry.records.refdata import ensure_product, ensure_row, insert_row
from telemetry.records.sorties import (  # noqa: F401 (their home before fleet jobs)
    DEFAULT_PUMP_SERVO,
    SORTIE_GAP_S,
    pump_calibration,
    select_flights,
)

if TYPE_CHECKING:
    from fields.terrain import Terrain

MIN_GAP_M2 = 1.0  # gap pieces smaller than this are edge slivers, not missed crop
GEOMETRY_COLUMNS = ("as_applied_geojson", "gaps_geojson", "drones_geojson")


# Positions come in 1e-7 degree steps (about 1 cm): a track simplified within 2 cm keeps its shape and
# its footprint does not widen with that jitter (overlap as the plan measures it). At 10 cm a lap
# hugging a no-spray buffer was measured up to 10 cm inside it, which the copter never flew.
SIMPLIFY_M = 0.02


def plan_document(plan: PlanDocument | dict) -> PlanDocument:
    """The plan a record is measured against (a plan.json dict is read and checked first);
    a bad plan is a TelemetryError naming the key that is wrong."""
    try:
        return as_document(plan)
    except PlanError as exc:
        raise TelemetryError(str(exc)) from None


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TelemetryError(f"unknown time zone {name!r}") from None


def _local(t_s: float | None, tz: ZoneInfo) -> str | None:
    return None if t_s is None else datetime.fromtimestamp(t_s, tz).isoformat(timespec="seconds")


def compute_record(
    db: sqlite_utils.Database,
    plan: PlanDocument,
    flights: list[Flight],
    *,
    calibration: PumpCalibration,
    tz: str = DEFAULT_TZ,
    terrain: Terrain | None = None,
    fleet: FleetJob | None = None,
) -> tuple[dict, BaseGeometry]:
    """Measure what the flights sprayed against the plan; returns the record columns and the map.

    Every time and duration is on each flight's one clock (the vehicle's, telemetry/ingest/clock.py):
    the pump intervals are kept inside their flight, so start <= spray start <= spray end <= end
    and spray time <= flight time hold whatever the simulator's speed-up. A terrain plan measured
    with its DEM (`terrain`, planner.load_terrain) also gets its height above ground (agl.py).
    A fleet job (`fleet`) reads each flight with its own drone's pump and swath, and adds each
    drone's part (telemetry/records/fleet.py); `calibration` is then its first drone's.
    """
    zone = _tz(tz)
    pf = plan.field
    frame, boundary, sprayable, keepout = pf.frame, pf.boundary_local, pf.sprayable_local, pf.keepout_local
    swath_m = float(plan.params.swath_m)
    polys: list[BaseGeometry]
    volume, spray_s, polys, sprayed_flights = 0.0, 0.0, [], 0
    deposits: list[Deposits] = []
    switches: list[np.ndarray] = []  # where the pump switched on or off (dose_reasons.py)
    heights: list[FlightHeights] = []
    sprays: list[FlightSpray] = []
    follow = terrain is not None and plan.terrain is not None
    spray_start = spray_end = None
    for f in flights:
        clock = f.clock  # one clock per flight: its start, end, pump intervals and their UTC
        assert f.end_us is not None  # a job's flights are closed (select_flights)
        part = fleet.part(f) if fleet else None
        cal = part.calibration if part else calibration
        track = load_track(db, f.sysid, f.start_us, f.end_us, cal.servo, vehicle=clock.vehicle)
        flow = cal.flow(track.pwm)
        litres = pump_volume(track.servo_t, flow)
        volume += litres
        deposits.append(flight_deposits(track, flow, frame))
        intervals = clip_intervals(spray_intervals(track.servo_t, flow), clock.start_s, clock.end_s)
        if follow:
            assert terrain is not None and plan.terrain is not None
            own = part.plan.terrain if part and part.plan.terrain else plan.terrain  # its own reload point
            heights.append(flight_heights(db, f, terrain, own.reload_elev_m, frame, intervals))
        on: int | None = None  # this flight's first pump on and last pump off, UTC µs
        off: int | None = None
        if intervals:
            sprayed_flights += 1
            spray_s += sum(b - a for a, b in intervals)
            on, off = clock.utc_us(intervals[0][0]), clock.utc_us(intervals[-1][1])
            spray_start = on if spray_start is None else min(spray_start, on)
            spray_end = off if spray_end is None else max(spray_end, off)
        lines = list(shapely.simplify(np.array(spray_lines(track, intervals, frame), dtype=object), SIMPLIFY_M))
        feet = footprints(lines, float(part.plan.params.swath_m) if part else swath_m)
        polys.extend(feet)
        switches.extend(c for g in lines for c in (shapely.get_coordinates(g)[[0, -1]] if not g.is_empty else []))
        if fleet:
            on_s = float(sum(y - x for x, y in intervals))
            sprays.append(FlightSpray(f, litres, on_s, bool(intervals), on, off, feet))
    polys_arr = np.array(polys, dtype=object)
    applied = shapely.make_valid(shapely.union_all(polys_arr)) if len(polys_arr) else shapely.Polygon()
    area = float(applied.area)
    overlap = overlap_area(polys_arr)
    gaps = shapely.difference(sprayable, applied)
    gaps = (
        shapely.union_all([g for g in getattr(gaps, "geoms", [gaps]) if g.area >= MIN_GAP_M2])
        if not gaps.is_empty
        else gaps
    )
    sprayable_m2 = float(sprayable.area)
    covered = float(shapely.intersection(applied, sprayable).area)
    wind = db.execute(
        "SELECT MAX(speed_m_s), AVG(speed_m_s) FROM wind WHERE "
        + " OR ".join("(sysid = ? AND t_us BETWEEN ? AND ?)" for _ in flights),
        [x for f in flights for x in (f.sysid, f.start_us, f.end_us)],
    ).fetchone()
    achieved = volume / (area / HA_M2) if area > 0 else None
    # closed flights: their end and duration are set
    start, end = min(f.start_utc_us for f in flights), max(cast(int, f.end_utc_us) for f in flights)
    target = float(plan.params.dose_l_ha)
    rec = {
        "start_utc": utc_iso(start),
        "end_utc": utc_iso(end),
        "start_local": _local(start / 1e6, zone),
        "end_local": _local(end / 1e6, zone),
        "timezone": tz,
        "spray_start_utc": utc_iso(spray_start),
        "spray_end_utc": utc_iso(spray_end),
        "area_m2": round(area, 2),
        "area_ha": round(area / HA_M2, 4),
        "area_sao": round(area / SAO_M2, 2),
        "area_in_field_ha": round(float(shapely.intersection(applied, boundary).area) / HA_M2, 4),
        "volume_l": round(volume, 3),
        "target_dose_l_ha": target,
        "achieved_dose_l_ha": None if achieved is None else round(achieved, 3),
        "dose_deviation_pct": None if achieved is None or not target else round((achieved - target) / target * 100, 2),
        "planned_sprayable_ha": round(sprayable_m2 / HA_M2, 4),
        "coverage_pct": round(covered / sprayable_m2 * 100, 2) if sprayable_m2 > 0 else None,
        "gaps_m2": round(float(gaps.area), 2),
        "overlap_m2": round(float(overlap.area), 2),
        "outside_field_m2": round(float(shapely.difference(applied, boundary).area), 2),
        "no_spray_m2": round(float(shapely.intersection(applied, keepout).area), 2) if not keepout.is_empty else 0.0,
        "wind_max_m_s": None if wind[0] is None else round(float(wind[0]), 2),
        "wind_mean_m_s": None if wind[1] is None else round(float(wind[1]), 2),
        "flights": len(flights),
        "sorties": sprayed_flights,
        "planned_sorties": len(plan.sorties),
        "spray_time_s": round(float(spray_s), 1),
        "flight_time_s": round(sum(cast(float, f.clock.duration_s) for f in flights), 1),  # closed: set
        "swath_m": swath_m,
        "pump_servo": calibration.servo,
        "pump_max_l_min": calibration.pump_max_l_min,
        "plan_sha256": plan.digest(),
        "plan_field_id": plan.field.id,
        "as_applied_geojson": wgs84_geojson(applied, frame),
        "gaps_geojson": wgs84_geojson(gaps, frame),
        **plan_dose_map(plan, Deposits.concat(deposits), np.array(switches).reshape(-1, 2)).columns(frame),
        **(agl_columns(plan, heights) if follow else {}),
        **(fleet.columns(sprays, frame) if fleet else {}),
    }
    return rec, applied


def create_record(
    db: sqlite_utils.Database,
    plan: PlanDocument | dict,
    *,
    job_id: str | None = None,
    flight_ids: list[int] | None = None,
    cooperative: str | None = None,
    operator: str | None = None,
    operator_name: str | None = None,
    drone: str | None = None,
    product: str | None = None,
    registration: str | None = None,
    active_substance: str | None = None,
    tank_mix: str | None = None,
    growth_stage: str | None = None,
    crop: str | None = None,
    eppo: str | None = None,
    pump_servo: int | None = None,
    pump_max_l_min: float | None = None,
    tz: str = DEFAULT_TZ,
    max_gap_s: float = SORTIE_GAP_S,
    notes: str | None = None,
    terrain: Terrain | None = None,
    drones: Mapping[int, str | None] | None = None,
    sysids: Mapping[int, int] | None = None,
) -> dict:
    """Group the job's flights, measure them against the plan, and append the chained record.

    `terrain`: the DEM of a terrain plan (planner.load_terrain); the record then holds the height
    above ground flown (telemetry/records/agl.py). A flat plan's record has no such section.
    A fleet plan's record also holds each drone's part (telemetry/records/fleet.py): `drones`
    names them by plan drone number, `sysids` says which system id each flew as (JobRecorder);
    `drone` then names the first drone when `drones` does not."""
    plan = plan_document(plan)
    pf = plan.field
    props = dict(pf.properties or {})
    cooperative = cooperative or props.get("cooperative")
    if not cooperative:
        raise TelemetryError("no cooperative: give --cooperative or a plan whose field names one")
    fleet: FleetJob | None = None
    flights = select_flights(db, plan, flight_ids, max_gap_s, fleet=is_fleet(plan))
    if is_fleet(plan):
        fleet = fleet_job(
            db,
            plan,
            flights,
            sysids=sysids,
            names=drones,
            drone=drone,
            pump_servo=pump_servo,
            pump_max_l_min=pump_max_l_min,
        )
        sysid, drone, calibration = fleet.first.sysid, fleet.first.name, fleet.first.calibration
    else:
        sysid = flights[0].sysid
        drone_part = plan.drone
        drone = drone or flights[0].drone_id or (drone_part.preset if drone_part else None)
        calibration = pump_calibration(db, plan, drone, sysid, pump_servo, pump_max_l_min)
    measured, _ = compute_record(db, plan, flights, calibration=calibration, tz=tz, terrain=terrain, fleet=fleet)
    crop, eppo = crop or props.get("crop"), eppo or props.get("eppo")
    if job_id is None:
        job_id = f"{pf.id}-{(measured['start_local'] or '')[:16].replace('-', '').replace(':', '').replace('T', '-')}"
    if db.execute("SELECT 1 FROM jobs WHERE id = ?", [job_id]).fetchone():
        raise TelemetryError(f"job {job_id} already exists (one spray record per job)")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with db.conn:
        ensure_row(db, "cooperatives", cooperative)
        ensure_row(
            db,
            "fields",
            pf.id,
            name=pf.name or pf.id,
            cooperative_id=cooperative,
            crop=crop,
            eppo=eppo,
            area_ha=round(pf.boundary_local.area / HA_M2, 4),
            area_sao=round(pf.boundary_local.area / SAO_M2, 2),
            sprayable_ha=round(pf.sprayable_local.area / HA_M2, 4),
            utm_epsg=pf.utm_epsg,
            boundary_geojson=json.dumps(pf.boundary),
            properties_json=json.dumps(props, ensure_ascii=False),
        )
        ensure_row(db, "operators", operator, name=operator_name, cooperative_id=cooperative)
        for name, part_plan in [(p.name, p.plan) for p in fleet.parts.values()] if fleet else [(drone, plan)]:
            _ensure_drone(db, name, cooperative, part_plan)
        product_id = ensure_product(db, product, registration, active_substance)
        insert_row(
            db,
            "jobs",
            {
                "id": job_id,
                "cooperative_id": cooperative,
                "field_id": pf.id,
                "operator_id": operator,
                "drone_id": drone,
                "product_id": product_id,
                "crop": crop,
                "eppo": eppo,
                "growth_stage": growth_stage,
                "tank_mix": tank_mix,
                "target_dose_l_ha": float(plan.params.dose_l_ha),
                "plan_sha256": plan.digest(),
                "plan_json": json.dumps(plan.to_dict(), ensure_ascii=False),
                "created_utc": now,
            },
        )
        for k, f in enumerate(flights, 1):
            if fleet is None:
                db.conn.execute(
                    "UPDATE flights SET job_id = ?, sortie = ?, drone_id = COALESCE(drone_id, ?) WHERE id = ?",
                    [job_id, k, drone, f.id],
                )
            else:  # each flight is its own drone's; the name the job gives it comes first
                db.conn.execute(
                    "UPDATE flights SET job_id = ?, sortie = ?, drone_id = COALESCE(?, drone_id) WHERE id = ?",
                    [job_id, k, fleet.part(f).name, f.id],
                )
        head = db.conn.execute(
            "SELECT length, head_hash FROM record_chain WHERE cooperative_id = ?", [cooperative]
        ).fetchone()
        seq, prev = (head[0] + 1, head[1]) if head else (1, None)
        unit = db.conn.execute("SELECT unit_id FROM cooperatives WHERE id = ?", [cooperative]).fetchone()
        record: dict[str, Any] = {c: None for c in RECORD_COLUMNS if c != "id"}
        record.update(measured)
        record.update(
            {
                "job_id": job_id,
                "cooperative_id": cooperative,
                "chain_seq": seq,
                "operator_id": operator,
                "operator_name": operator_name,
                "drone_id": drone,
                "drone_sysid": sysid,
                "field_id": pf.id,
                "field_name": pf.name or pf.id,
                "unit_id": unit[0] if unit else None,
                "crop": crop,
                "eppo": eppo,
                "growth_stage": growth_stage,
                "product": product,
                "registration": registration,
                "active_substance": active_substance,
                "tank_mix": tank_mix,
                "notes": notes,
                "created_utc": now,
                "prev_hash": prev,
            }
        )
        record["hash"] = record_hash(record, prev)
        record["id"] = insert_row(db, "spray_records", record)
        db.conn.execute(
            "INSERT INTO record_chain (cooperative_id, length, head_hash) VALUES (?, ?, ?) "
            "ON CONFLICT(cooperative_id) DO UPDATE SET length = excluded.length, "
            "head_hash = excluded.head_hash",
            [cooperative, seq, record["hash"]],
        )
    return record


def _ensure_drone(db: sqlite_utils.Database, drone: str | None, cooperative: str, plan: PlanDocument) -> None:
    """The drone's row, filled from its plan (a fleet job: its part) where it is still empty."""
    part = plan.drone
    ensure_row(
        db,
        "drones",
        drone,
        cooperative_id=cooperative,
        name=part.name if part else None,
        tank_l=part.tank_l if part else None,
        swath_m=part.swath_m if part else None,
        pump_max_l_min=plan.pump_max_l_min,
    )
