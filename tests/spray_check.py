"""Checks of spray quality written apart from the planner's own metrics.

`independent_plan_coverage` recomputes a plan's coverage the way an outside reviewer
would: the swath lines of plan.geojson buffered by half the swath with flat ends, against
the field's sprayable area as `fields.load` gives it. `flown_dose_map` builds the
dose map of every closed flight in a database from its logged telemetry.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

import fields
from planner import PlanDocument, load_plan
from telemetry import list_flights, list_records, open_db
from telemetry.records.asapplied import PumpCalibration, load_track
from telemetry.records.dosemap import Deposits, DoseMap, dose_map, flight_deposits, rasterise


def independent_plan_coverage(plan_dir: Path, field_file: Path) -> tuple[float, float]:
    """(the coverage plan.json reports, the recomputation from plan.geojson), in %."""
    plan = json.loads((plan_dir / "plan.json").read_text())
    field = next(f for f in fields.load(field_file) if f.id == plan["field"]["id"])
    w = float(plan["params"]["swath_m"])
    lines = []
    for ft in json.loads((plan_dir / "plan.geojson").read_text())["features"]:
        if ft["properties"]["kind"] == "swath":
            lon, lat = np.array(ft["geometry"]["coordinates"], float).T
            lines.append(shapely.LineString(np.column_stack(field.frame.to_local(lon, lat))))
    feet = shapely.buffer(np.array(lines, dtype=object), w / 2, cap_style="flat")
    covered = shapely.intersection(shapely.union_all(feet), field.sprayable).area
    return float(plan["metrics"]["coverage_pct"]), 100.0 * covered / field.sprayable.area


def swath_lines_local(plan: PlanDocument) -> tuple[list[np.ndarray], list[int]]:
    frame = plan.field.frame
    lines, numbers = [], []
    for s in plan.sorties:
        for k, leg in enumerate(s.swath_legs):
            lon, lat = np.array(leg.coords, float).T
            x, y = frame.to_local(lon, lat)
            lines.append(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
            numbers.append(k if leg.swath is None else int(leg.swath))
    return lines, numbers


def flown_dose_map(db_path: Path, plan: PlanDocument) -> DoseMap:
    db = open_db(db_path)
    rec = list_records(db)[-1]
    cal = PumpCalibration(rec["pump_servo"], rec["pump_max_l_min"])
    frame = plan.field.frame
    parts = []
    for f in list_flights(db):
        if not f.closed:
            continue
        track = load_track(db, f.sysid, f.start_us, f.end_us, cal.servo)
        parts.append(flight_deposits(track, cal.flow(track.pwm), frame))
    sprayable = plan.field.sprayable_local
    w = float(plan.params.swath_m)
    grid = rasterise(Deposits.concat(parts), w, sprayable.bounds)
    lines, numbers = swath_lines_local(plan)
    return dose_map(grid, sprayable, lines, numbers, w, float(plan.params.dose_l_ha))


__all__ = ["independent_plan_coverage", "flown_dose_map", "swath_lines_local", "load_plan"]
