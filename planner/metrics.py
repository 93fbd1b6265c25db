"""Plan metrics measured on the geometry (shapely, vectorised), never asserted.

The sprayed area is the union of the footprints of every pump-on leg: the leg's line
buffered by half the swath with flat ends and round corners (what a boom or rotary
nozzles cover as the copter flies it). The spray record measures the flown track with
the same two functions, `footprints` and `overlap_area`, so a strip sprayed twice shows
the same in the plan and in the record.
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


def footprints(lines: list, width: float) -> np.ndarray:
    """Each pump-on line (coordinates or a shapely geometry) buffered by half the swath: flat
    ends, round corners; a disc where the line is a single point (the drone hovered)."""
    geoms = np.array(
        [g if isinstance(g, BaseGeometry) else shapely.LineString(g) for g in lines], dtype=object
    ).reshape(-1)
    out = np.empty(len(geoms), dtype=object)
    if len(geoms) == 0:
        return out
    is_point = shapely.get_type_id(geoms) == 0
    if (~is_point).any():
        out[~is_point] = shapely.buffer(
            geoms[~is_point], width / 2.0, cap_style="flat", join_style="round", quad_segs=8
        )
    if is_point.any():
        out[is_point] = shapely.buffer(geoms[is_point], width / 2.0, quad_segs=8)
    return out


def margins_m2(width: float, spacing: float | np.ndarray, length_m: float | np.ndarray) -> float:
    """What lines `spacing` apart spray twice by design along `length_m` of them (a spacing and a
    length for each line, or one for all): the margin each shares with its neighbour
    (planner/params.py TRACK_MARGIN_M, and more where band_layout draws a band's lines closer to fit
    it). The flow is set for the spacing, so it is not a double dose; the overlap figures take it
    in, the waste they weigh must not."""
    return float(np.sum(np.maximum(0.0, width - np.asarray(spacing)) * np.asarray(length_m)))


def overlap_area(polys: np.ndarray) -> BaseGeometry:
    """Where two or more footprints cross each other (sprayed twice or more)."""
    if len(polys) < 2:
        return shapely.Polygon()
    tree = shapely.STRtree(polys)
    i, j = tree.query(polys, predicate="intersects")
    pairs = i < j
    if not pairs.any():
        return shapely.Polygon()
    inter = shapely.intersection(polys[i[pairs]], polys[j[pairs]])
    inter = inter[shapely.area(inter) > 1e-3]
    return shapely.union_all(inter) if len(inter) else shapely.Polygon()


def coverage(
    lines: list[np.ndarray], width: float, sprayable: BaseGeometry, keepout: BaseGeometry, *, exact: bool = False
) -> Coverage:
    """Coverage of `sprayable` by the lines' footprints. The overlap is where footprints cross
    (`overlap_area`, as the record measures it) when `exact`, else the quicker sum of the
    footprints less their union (what the angle search ranks layouts by)."""
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
        overlap_m2=float(overlap_area(feet).area) if exact else max(0.0, total - float(union.area)),
        no_spray_m2=float(no_spray) if no_spray > 1e-6 else 0.0,
        footprint=union,
    )
