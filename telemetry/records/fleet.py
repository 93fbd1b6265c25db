"""Several drones on one job (issue #18): which drone flew each flight, and each drone's part.

A fleet plan (plan.json version 3, its `fleet` section) splits one field's sorties between 2-3
drones; each flies on its own MAVLink link as its own system id, and they fly at the same time.
The job still gets ONE spray record: its area, volume, overlap and map are the union of every
drone's flights, as for one drone, and each drone's part is kept beside them (`drones_json`),
with the area sprayed by two or more different drones (`drone_overlap_m2`, from the same
footprints the record's overlap is measured on) and each drone's as-applied area for the
report's map (`drones_geojson`).

Which drone flew a flight is known from the link it came over (JobRecorder.handle_for learns
each link's system id). A system id no link named (a tlog imported afterwards) is given to the
drone whose reload point is nearest to where its first flight took off: each drone's part starts
and ends at its own reload point. When that cannot decide (two vehicles nearest the same point,
or a take-off as far from two reload points) the record is refused with one line saying so,
rather than credited to a guessed drone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from gettext import gettext as _
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely
import sqlite_utils
from shapely.geometry.base import BaseGeometry

from planner.errors import PlanError
from planner.metrics import overlap_area
from telemetry.errors import TelemetryError
from telemetry.ingest.flights import Flight, utc_iso
from telemetry.records.asapplied import PumpCalibration, wgs84_geojson
from telemetry.records.sorties import pump_calibration

if TYPE_CHECKING:
    from fields.frame import LocalFrame
    from planner.document import PlanDocument

AMBIGUOUS_M = 5.0  # a take-off less than this nearer one reload point than another names no drone


def is_fleet(plan: PlanDocument) -> bool:
    """A plan flown by two drones or more: its record carries each drone's part."""
    return len(plan.drone_numbers()) > 1


def drone_plan(plan: PlanDocument, drone: int) -> PlanDocument:
    """Drone `drone`'s part of the plan (its sorties, reload point, drone, sprayer and params)."""
    try:
        return plan.for_drone(drone)
    except PlanError as exc:
        raise TelemetryError(str(exc)) from None


def drone_label(number: int, name: str | None) -> str:
    """How a drone is named in messages: its number in the plan, and its name when it has one."""
    label = _("drone {n}").format(n=number)
    return f"{label} ({name})" if name else label


def check_names(plan: PlanDocument, names: Mapping[int, str | None]) -> dict[int, str | None]:
    """Every plan drone's name (None: unnamed) from the names given by plan drone number; a number
    the plan does not have is refused. One name may be given to two drones (one key signing both
    links): their flights are still told apart by system id, and the drones_json entries by number."""
    numbers = plan.drone_numbers()
    stray = sorted(d for d in names if d not in numbers)
    if stray:
        raise TelemetryError(
            _("drone {drone}: the plan has drones {have}").format(
                drone=", ".join(map(str, stray)), have=", ".join(map(str, numbers))
            )
        )
    return {d: names.get(d) for d in numbers}


def _takeoff(db: sqlite_utils.Database, f: Flight) -> tuple[float, float] | None:
    row = db.execute(
        "SELECT lon, lat FROM positions WHERE sysid = ? AND t_us BETWEEN ? AND ? AND NOT (lat = 0 AND lon = 0) "
        "ORDER BY t_us LIMIT 1",
        [f.sysid, f.start_us, f.end_us],
    ).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def attribute_sysids(
    db: sqlite_utils.Database, plan: PlanDocument, flights: list[Flight], known: Mapping[int, int]
) -> dict[int, int]:
    """Each system id of the job's flights -> the plan drone that flew it: as the links said
    (`known`), else by the reload point nearest its first take-off (see the module doc)."""
    numbers = plan.drone_numbers()
    frame = plan.field.frame
    reloads = {}
    for d in numbers:
        r = drone_plan(plan, d).reload
        reloads[d] = frame.to_local(r.lon, r.lat)
    out: dict[int, int] = {}
    for sysid in sorted({f.sysid for f in flights}):
        if sysid in known:
            out[sysid] = known[sysid]
            continue
        first = min((f for f in flights if f.sysid == sysid), key=lambda f: f.start_us)
        where = _takeoff(db, first)
        if where is None:
            raise TelemetryError(
                _(
                    "flight {flight} (system id {sysid}) has no position: which drone of the plan flew it is unknown"
                ).format(flight=first.id, sysid=sysid)
            )
        x, y = frame.to_local(*where)
        dist = sorted((math.hypot(x - rx, y - ry), d) for d, (rx, ry) in reloads.items())
        if dist[1][0] - dist[0][0] < AMBIGUOUS_M:
            raise TelemetryError(
                _(
                    "flight {flight} (system id {sysid}) took off {a:.0f} m from drone {d1}'s reload point and "
                    "{b:.0f} m from drone {d2}'s: which drone flew it is unknown (log each drone's link as its "
                    "own drone when flying)"
                ).format(flight=first.id, sysid=sysid, a=dist[0][0], d1=dist[0][1], b=dist[1][0], d2=dist[1][1])
            )
        out[sysid] = dist[0][1]
    by_drone: dict[int, int] = {}
    for sysid, d in sorted(out.items()):
        if d not in numbers:
            raise TelemetryError(_("system id {sysid}: the plan has no drone {drone}").format(sysid=sysid, drone=d))
        if d in by_drone:
            raise TelemetryError(
                _(
                    "system ids {a} and {b} both flew drone {drone}'s part: one drone's part is flown by one "
                    "vehicle (give the flights of this job with --flight)"
                ).format(a=by_drone[d], b=sysid, drone=d)
            )
        by_drone[d] = sysid
    return out


@dataclass(frozen=True)
class DronePart:
    """One drone of a fleet job: its number in the plan, name, system id, plan part and pump."""

    number: int
    name: str | None
    sysid: int | None
    plan: PlanDocument
    calibration: PumpCalibration


@dataclass(frozen=True)
class FlightSpray:
    """What one flight sprayed (record.compute_record measures it; the fleet adds it up per drone)."""

    flight: Flight
    volume_l: float
    spray_s: float
    sprayed: bool
    spray_start_us: int | None  # UTC µs of its first pump on and last pump off
    spray_end_us: int | None
    footprints: np.ndarray  # pump-on footprints, local metres


@dataclass
class FleetJob:
    """The drones of a fleet job and which flew each system id."""

    parts: dict[int, DronePart]  # by plan drone number, in the plan's order
    drone_of: dict[int, int] = field(default_factory=dict)  # system id -> plan drone number

    def part(self, f: Flight) -> DronePart:
        return self.parts[self.drone_of[f.sysid]]

    @property
    def first(self) -> DronePart:
        """The plan's first drone: the record's drone_id, drone_sysid and pump columns are its."""
        return next(iter(self.parts.values()))

    def names(self) -> dict[int, str | None]:
        return {d: p.name for d, p in self.parts.items()}

    def columns(self, sprays: list[FlightSpray], frame: LocalFrame) -> dict[str, Any]:
        """drones_json, drone_overlap_m2 and drones_geojson (telemetry/ingest/record_columns.py)."""
        entries, features, areas = [], [], []
        for d, part in self.parts.items():
            mine = [s for s in sprays if self.drone_of.get(s.flight.sysid) == d]
            polys = [p for s in mine for p in s.footprints]
            union: BaseGeometry = (
                shapely.make_valid(shapely.union_all(np.array(polys, dtype=object))) if polys else shapely.Polygon()
            )
            if not union.is_empty:
                areas.append(union)
            starts = [s.flight.start_utc_us for s in mine]
            ends = [cast(int, s.flight.end_utc_us) for s in mine]  # a job's flights are closed
            entries.append(
                {
                    "drone": d,
                    "drone_id": part.name,
                    "sysid": part.sysid,
                    "flights": len(mine),
                    "sorties": sum(1 for s in mine if s.sprayed),
                    "planned_sorties": len(part.plan.sorties),
                    "area_m2": round(float(union.area), 2),
                    "volume_l": round(sum(s.volume_l for s in mine), 3),
                    "spray_time_s": round(float(sum(s.spray_s for s in mine)), 1),
                    "flight_time_s": round(sum(cast(float, s.flight.clock.duration_s) for s in mine), 1),
                    "start_utc": utc_iso(min(starts)) if starts else None,
                    "end_utc": utc_iso(max(ends)) if ends else None,
                    "pump_servo": part.calibration.servo,
                    "pump_max_l_min": part.calibration.pump_max_l_min,
                }
            )
            text = wgs84_geojson(union, frame)
            features.append(
                {
                    "type": "Feature",
                    "properties": {"drone": d, "drone_id": part.name},
                    "geometry": json.loads(text) if text else None,
                }
            )
        overlap = overlap_area(np.array(areas, dtype=object))
        return {
            "drones_json": json.dumps(entries, ensure_ascii=False, separators=(",", ":")),
            "drone_overlap_m2": round(float(overlap.area), 2),
            "drones_geojson": json.dumps(
                {"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")
            ),
        }


def fleet_job(
    db: sqlite_utils.Database,
    plan: PlanDocument,
    flights: list[Flight],
    *,
    sysids: Mapping[int, int] | None = None,
    names: Mapping[int, str | None] | None = None,
    drone: str | None = None,
    pump_servo: int | None = None,
    pump_max_l_min: float | None = None,
) -> FleetJob:
    """The fleet job's drones: `sysids` (system id -> plan drone number) as the links learnt them,
    `names` (plan drone number -> drone name) as the operator gave them; `drone` names the first
    drone when `names` does not; else a drone is named by the drone its system id was claimed for."""
    named = check_names(plan, names or {})
    known = dict(sysids or {})
    drone_of = attribute_sysids(db, plan, flights, known)
    flown = {d: s for s, d in drone_of.items()}
    linked = {d: s for s, d in known.items()}  # a link that saw its vehicle, which then never flew
    parts: dict[int, DronePart] = {}
    for k, d in enumerate(named):
        sysid = flown.get(d, linked.get(d))
        name = (
            named[d]
            or (drone if k == 0 else None)
            or next((f.drone_id for f in flights if f.sysid == sysid and f.drone_id), None)
        )
        part_plan = drone_plan(plan, d)
        calibration = pump_calibration(db, part_plan, name, sysid, pump_servo, pump_max_l_min)
        parts[d] = DronePart(d, name, sysid, part_plan, calibration)
    return FleetJob(parts, drone_of)


def read_drones(record: dict) -> list[dict] | None:
    """A fleet record's drones (the entries of drones_json), None for a single-drone record."""
    text = record.get("drones_json")
    return json.loads(text) if text else None
