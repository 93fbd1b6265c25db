"""Plan metrics measured on the geometry (shapely, vectorised), never asserted.

The sprayed area is the union of the footprints of every pump-on leg: the leg's line
buffered by half the swath with flat ends (what a boom or rotary nozzles cover).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Coverage:
    sprayed_m2: float  # union of footprints
    covered_m2: float  # of the sprayable area
    outside_m2: float  # sprayed but not sprayable (outside the field, holes, gaps)
    overlap_m2: float  # sprayed more than once (sum of footprints minus their union)
    no_spray_m2: float  # sprayed inside keep-out zones (must be 0)
    footprint: BaseGeometry


def footprints(lines: list[np.ndarray], width: float) -> np.ndarray:
    geoms = np.array([shapely.LineString(c) for c in lines], dtype=object)
    return shapely.buffer(geoms, width / 2.0, cap_style="flat", join_style="mitre", mitre_limit=3.0)


def coverage(lines: list[np.ndarray], width: float, sprayable: BaseGeometry, keepout: BaseGeometry) -> Coverage:
    feet = footprints(lines, width)
    if len(feet) == 0:
        empty = shapely.Polygon()
        return Coverage(0.0, 0.0, 0.0, 0.0, 0.0, empty)
    union = shapely.union_all(feet)
    inside = shapely.intersection(union, sprayable).area
    no_spray = shapely.intersection(union, keepout).area if not keepout.is_empty else 0.0
    total = float(shapely.area(feet).sum())
    return Coverage(
        sprayed_m2=float(union.area),
        covered_m2=float(inside),
        outside_m2=max(0.0, float(union.area - inside)),
        overlap_m2=max(0.0, total - float(union.area)),
        no_spray_m2=float(no_spray) if no_spray > 1e-6 else 0.0,
        footprint=union,
    )
