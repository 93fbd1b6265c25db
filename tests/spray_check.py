"""Checks of spray quality written apart from the planner's own metrics.

`independent_plan_coverage` recomputes a plan's coverage the way an outside reviewer
would: the swath lines of plan.geojson buffered by half the swath with flat ends, against
the field's sprayable area as `fields.load` gives it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

import fields


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


__all__ = ["independent_plan_coverage"]
