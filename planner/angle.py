"""Swath direction: try the directions of the area's edges and a coarse sweep, keep the best.

A quick pass scores every candidate by the path it needs (swath length, plus a cost per
turn) and by the spray it wastes past the edges; the best few are then laid out in full
(swath ends trimmed) and measured, and the one with the best path and coverage wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation, bearing_to_math
from planner.metrics import coverage
from planner.swaths import SwathSet, make_swaths, quick_estimate, ring_edges

SWEEP_STEP_DEG = 10.0
EDGE_CANDIDATES = 8
FINALISTS = 3
FINALISTS_SMALL = 5  # fields of fewer than SMALL_BANDS bands can afford more full layouts
SMALL_BANDS = 120
END_WEIGHT = 2.0
QUICK_BANDS = 100  # an unsprayed m² weighs as much as 2 m² sprayed outside


@dataclass
class Layout:
    bearing_deg: float
    swaths: SwathSet
    score: float
    coverage_pct: float = 0.0
    outside_pct: float = 0.0
    overlap_pct: float = 0.0


def edge_bearings(area: BaseGeometry, limit: int = EDGE_CANDIDATES) -> list[float]:
    """Headings (mod 180) of the area's longest edge directions, longest total first."""
    totals: dict[int, float] = {}
    for poly in shapely.get_parts(area):
        if not isinstance(poly, shapely.Polygon):
            continue
        for ring in [poly.exterior, *poly.interiors]:
            c = np.asarray(ring.coords)
            d = np.diff(c, axis=0)
            length = np.hypot(d[:, 0], d[:, 1])
            bearing = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 180.0
            for b, l in zip(bearing, length):
                key = int(round(b * 2)) % 360  # half-degree bins
                totals[key] = totals.get(key, 0.0) + float(l)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    out: list[float] = []
    for key, _ in ranked:
        b = key / 2.0
        if all(min(abs(b - o), 180 - abs(b - o)) >= 1.0 for o in out):
            out.append(b)
        if len(out) >= limit:
            break
    rect = area.minimum_rotated_rectangle
    if isinstance(rect, shapely.Polygon):
        c = np.asarray(rect.exterior.coords)
        for d in np.diff(c, axis=0)[:2]:
            b = float(np.degrees(np.arctan2(d[0], d[1])) % 180.0)
            if all(min(abs(b - o), 180 - abs(b - o)) >= 1.0 for o in out):
                out.append(b)
    return out


def _layout(area, parts, keepout, holes, rot, width, end_weight) -> SwathSet:
    sets = [make_swaths(p, keepout, holes, rot, width, end_weight=end_weight) for p in parts]
    return SwathSet.concat(sets) if len(sets) > 1 else sets[0]


def choose_layout(
    area: BaseGeometry,
    keepout: BaseGeometry,
    holes: BaseGeometry,
    width: float,
    turn_cost_m: float,
    bearing: float | None = None,
) -> Layout:
    """The swath layout to fly: the fixed heading, or the best one found."""
    c = area.centroid
    origin = (c.x, c.y)
    parts = [p for p in shapely.get_parts(area) if p.area > 0]
    anchorings = [[area]]
    if len(parts) > 1:
        anchorings.append(parts)  # each part gets its own first band
    if bearing is not None:
        candidates = [bearing % 180.0]
    else:
        candidates = edge_bearings(area)
        for b in np.arange(0.0, 180.0, SWEEP_STEP_DEG):
            if all(min(abs(b - o), 180 - abs(b - o)) >= 2.0 for o in candidates):
                candidates.append(float(b))
    a_m2 = area.area
    # Big fields are scored on coarser bands (at most ~QUICK_BANDS of them), then scaled.
    coarse = max(width, math.sqrt(a_m2) / QUICK_BANDS)
    scale = coarse / width
    quick = []
    k_edges = ring_edges(keepout)
    part_edges = [[ring_edges(p) for p in anchor] for anchor in anchorings]
    for b in candidates:
        rot = Rotation(bearing_to_math(b), origin)
        for k, anchor in enumerate(anchorings):
            spray, count, lost_m2 = 0.0, 0, 0.0
            for edges in part_edges[k]:
                s_len, s_n, s_lost = quick_estimate(edges, k_edges, rot, coarse)
                spray, count, lost_m2 = spray + s_len * scale, count + s_n, lost_m2 + s_lost
            waste = max(0.0, spray * width - a_m2) / width
            quick.append((spray + count * scale * turn_cost_m + 2.0 * waste + 4.0 * lost_m2 / width, b, k))
    quick.sort()
    bands = math.sqrt(a_m2) / width
    finalists = FINALISTS_SMALL if bands < SMALL_BANDS else FINALISTS
    best: Layout | None = None
    for _, b, k in quick[:finalists]:
        rot = Rotation(bearing_to_math(b), origin)
        s = _layout(area, anchorings[k], keepout, holes, rot, width, END_WEIGHT)
        lines = [s.world(i) for i in range(len(s))]
        cov = coverage(lines, width, area, keepout)
        cov_pct = 100.0 * cov.covered_m2 / a_m2
        out_pct = 100.0 * cov.outside_m2 / a_m2
        ov_pct = 100.0 * cov.overlap_m2 / a_m2
        path_ratio = (float(s.lengths.sum()) + len(s) * turn_cost_m) / (a_m2 / width)
        score = (
            100.0 * path_ratio
            + (100.0 - cov_pct) + out_pct + 0.3 * ov_pct
            + 30.0 * (max(0.0, 99.0 - cov_pct) + max(0.0, out_pct - 1.5) + max(0.0, ov_pct - 3.0))
        )
        if best is None or score < best.score:
            best = Layout(b, s, score, cov_pct, out_pct, ov_pct)
    assert best is not None
    return best
