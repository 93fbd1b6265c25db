"""Swath direction and edge laps: try the area's edge directions and a coarse sweep, keep the best.

A quick pass scores every candidate heading by the path it needs (swath length, plus a
cost per turn) and by the spray it wastes past the edges; the best few, spread over
different headings, are then laid out in full (swath ends trimmed) and measured, with
and without an edge lap when the operator leaves that to the planner, and the layout
with the best path and coverage wins.  When the winner still sprays too much outside or
twice, its swath ends are trimmed harder and measured again, as long as coverage holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation, bearing_to_math
from planner.headlands import Headland
from planner.metrics import coverage
from planner.swaths import SwathSet, make_swaths, quick_estimate, ring_edges

SWEEP_STEP_DEG = 10.0
EDGE_CANDIDATES = 8
FINALISTS = 2  # per edge-pass variant
FINALISTS_SMALL = 3  # fields of fewer than SMALL_BANDS bands can afford more full layouts
SMALL_BANDS = 120
END_WEIGHT = 2.0  # an unsprayed m² weighs as much as 2 m² sprayed to waste
QUICK_BANDS = 100
SHARED_CANDIDATES = 10  # headings the edge-lap variants are ranked on (the first variant's best)
RETRIM_LAYOUTS = 3
FINALIST_SPREAD_DEG = 6.0
RETRIM_WEIGHT = 1.5  # first harder trim tried when a waste target is missed (END_WEIGHT is 2)
RETRIM_STEPS = 2
COVERAGE_TARGET_PCT = 99.0
OUTSIDE_TARGET_PCT = 1.5
OVERLAP_TARGET_PCT = 3.0


@dataclass
class Layout:
    bearing_deg: float
    swaths: SwathSet
    score: float
    coverage_pct: float = 0.0
    outside_pct: float = 0.0
    overlap_pct: float = 0.0
    headland: Headland | None = None


def _apart(a: float, b: float) -> float:
    """Degrees between two swath headings, which repeat every 180°."""
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


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
        if all(_apart(b, o) >= 1.0 for o in out):
            out.append(b)
        if len(out) >= limit:
            break
    rect = area.minimum_rotated_rectangle
    if isinstance(rect, shapely.Polygon):
        c = np.asarray(rect.exterior.coords)
        for d in np.diff(c, axis=0)[:2]:
            b = float(np.degrees(np.arctan2(d[0], d[1])) % 180.0)
            if all(_apart(b, o) >= 1.0 for o in out):
                out.append(b)
    return out


def _layout(parts, keepout, holes, rot, width, end_weight) -> SwathSet:
    sets = [make_swaths(p, keepout, holes, rot, width, end_weight=end_weight) for p in parts]
    return SwathSet.concat(sets) if len(sets) > 1 else sets[0]


def _anchorings(area: BaseGeometry) -> list[list[BaseGeometry]]:
    """The whole area banded as one, and (for several parts) each part banded on its own."""
    parts = [p for p in shapely.get_parts(area) if p.area > 0]
    if not parts:
        return []
    out = [[area]]
    if len(parts) > 1:
        out.append(parts)  # each part gets its own first band
    return out


def candidate_bearings(area: BaseGeometry) -> list[float]:
    out = edge_bearings(area)
    for b in np.arange(0.0, 180.0, SWEEP_STEP_DEG):
        if all(_apart(b, o) >= 2.0 for o in out):
            out.append(float(b))
    return out


def score_of(path_ratio: float, cov_pct: float, out_pct: float, ov_pct: float) -> float:
    """Lower is better: path first, then coverage, spray outside and overlap; each
    target missed (99 % coverage, 1.5 % outside, 3 % overlap) weighs heavily."""
    return (
        100.0 * path_ratio
        + (100.0 - cov_pct)
        + out_pct
        + 0.3 * ov_pct
        + 60.0 * max(0.0, COVERAGE_TARGET_PCT - cov_pct)
        + 30.0 * (max(0.0, out_pct - OUTSIDE_TARGET_PCT) + max(0.0, ov_pct - OVERLAP_TARGET_PCT))
    )


def choose_layout(
    area: BaseGeometry,
    keepout: BaseGeometry,
    holes: BaseGeometry,
    width: float,
    turn_cost_m: float,
    bearing: float | None = None,
    headlands: list[Headland] | None = None,
) -> Layout:
    """The swath layout to fly: the fixed heading, or the best one found.

    `headlands` are the edge-pass variants to weigh against each other (e.g. no lap and
    one lap): each is scored with its laps' length, and the best few headings of each
    are laid out in full and measured on the whole area.
    """
    if headlands is None:
        headlands = [Headland([], area, 0)]
    c = area.centroid
    origin = (c.x, c.y)
    a_m2 = area.area
    # Big fields are scored on coarser bands (at most ~QUICK_BANDS of them), then scaled.
    coarse = max(width, math.sqrt(a_m2) / QUICK_BANDS)
    scale = coarse / width
    k_edges = ring_edges(keepout)
    bands = math.sqrt(a_m2) / width
    finalists = FINALISTS_SMALL if bands < SMALL_BANDS else FINALISTS
    measured: list[tuple[Layout, list[BaseGeometry], Rotation]] = []
    ranked: list[float] = []  # headings of the first variant, best first
    for head in headlands:
        anchorings = _anchorings(head.rest)
        if not anchorings:  # the laps cover everything
            s = SwathSet(Rotation(0.0, origin), width, np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
            b = bearing % 180.0 if bearing is not None else 0.0
            measured.append((_measure(area, keepout, width, turn_cost_m, head, s, b), [], s.rotation))
            continue
        if bearing is not None:
            candidates = [bearing % 180.0]
        elif ranked:  # the laps change the ends, not which headings suit the shape
            candidates = ranked[:SHARED_CANDIDATES]
        else:
            candidates = candidate_bearings(head.rest)
        anchor_edges = []
        for anchor in anchorings:
            rings = [ring_edges(p) for p in anchor]
            anchor_edges.append((np.vstack(rings), np.repeat(np.arange(len(rings)), [len(r) for r in rings])))
        quick = []
        for b in candidates:
            rot = Rotation(bearing_to_math(b), origin)
            for k, (edges, part) in enumerate(anchor_edges):
                s_len, s_n, lost_m2 = quick_estimate(edges, k_edges, rot, coarse, part)
                spray = head.length + s_len * scale
                count = head.corners + s_n * scale
                waste = max(0.0, spray * width - a_m2) / width
                quick.append((spray + count * turn_cost_m + 2.0 * waste + 4.0 * lost_m2 / width, b, k))
        quick.sort()
        if not ranked:
            ranked = list(dict.fromkeys(b for _, b, _ in quick))
        for _, b, k in _diverse(quick, finalists):
            rot = Rotation(bearing_to_math(b), origin)
            s = _layout(anchorings[k], keepout, holes, rot, width, END_WEIGHT)
            measured.append((_measure(area, keepout, width, turn_cost_m, head, s, b), anchorings[k], rot))
    measured.sort(key=lambda m: m[0].score)
    best = measured[0][0]
    if _wasteful(best):
        # Over a waste target: trim the swath ends harder on the best few, trading a
        # little coverage (weighed by the score) for less spray twice or outside.
        for layout, anchor, rot in measured[:RETRIM_LAYOUTS]:
            if not anchor:
                continue
            weight = RETRIM_WEIGHT
            assert layout.headland is not None  # _measure always sets it
            for _ in range(RETRIM_STEPS):
                s = _layout(anchor, keepout, holes, rot, width, weight)
                again = _measure(area, keepout, width, turn_cost_m, layout.headland, s, layout.bearing_deg)
                if again.score < best.score:
                    best = again
                # still over the waste targets: trim harder; short of coverage: ease off
                if _wasteful(again):
                    weight -= 0.5
                elif again.coverage_pct < COVERAGE_TARGET_PCT:
                    weight += 0.25
                else:
                    break
    return best


def _wasteful(layout: Layout) -> bool:
    return layout.outside_pct > OUTSIDE_TARGET_PCT or layout.overlap_pct > OVERLAP_TARGET_PCT


def _diverse(quick: list[tuple[float, float, int]], count: int) -> list[tuple[float, float, int]]:
    """The best `count` candidates whose headings differ by at least FINALIST_SPREAD_DEG
    (neighbouring headings lay out almost the same swaths: measuring both says little)."""
    out: list[tuple[float, float, int]] = []
    for q in quick:
        if all(_apart(q[1], o[1]) >= FINALIST_SPREAD_DEG or q[2] != o[2] for o in out):
            out.append(q)
        if len(out) >= count:
            break
    return out


def _measure(area, keepout, width, turn_cost_m, head: Headland, s: SwathSet, b: float) -> Layout:
    a_m2 = area.area
    lines = list(head.laps) + [s.world(i) for i in range(len(s))]
    cov = coverage(lines, width, area, keepout)
    cov_pct = 100.0 * cov.covered_m2 / a_m2
    out_pct = 100.0 * cov.outside_m2 / a_m2
    ov_pct = 100.0 * cov.overlap_m2 / a_m2
    path = float(s.lengths.sum()) + head.length + (len(s) + len(head.laps) + head.corners) * turn_cost_m
    path_ratio = path / (a_m2 / width)
    score = score_of(path_ratio, cov_pct, out_pct, ov_pct)
    return Layout(b, s, score, cov_pct, out_pct, ov_pct, head)
