"""What a swath layout covers, measured quickly for the heading search.

The heading search (planner/angle.py) measures dozens of layouts that share their edge laps
and differ only in their swaths. `metrics.coverage`, which the finished plan is measured with,
unites every footprint each time; most of that time goes on noding rectangles that touch
along whole sides. Here the laps' footprint is united once per headland (`LapCover`), and
each layout adds its swaths by inclusion and exclusion: a swath's footprint is a rectangle
of its swath frame, so what it adds to the field and to the laps' footprint comes from
clipping those to the rectangle (no general overlay), and where two swaths overlap (a band
folded back onto its neighbour) their common rectangle is taken off again. No point lies
in three swaths, so the figures are those `metrics.coverage` gives, to rounding; a layout
whose parts lie at different headings is measured by `metrics.coverage` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.metrics import Coverage, coverage, footprints
from planner.swaths import SwathSet

_EPS = 1e-9


@dataclass(frozen=True)
class LapCover:
    """The edge laps' footprint, for every layout measured with the same laps."""

    lines: list[np.ndarray]
    footprint: BaseGeometry  # union of the laps' footprints
    inside: BaseGeometry  # the part of it on the sprayable area
    total_m2: float  # the laps' footprints added up (what they spray twice counts twice)


def lap_cover(laps: list[np.ndarray], width: float, area: BaseGeometry) -> LapCover:
    feet = footprints(laps, width)
    union = shapely.union_all(feet) if len(feet) else shapely.Polygon()
    return LapCover(list(laps), union, shapely.intersection(union, area), float(shapely.area(feet).sum()))


def swath_coverage(laps: LapCover, swaths: SwathSet, width: float, area: BaseGeometry) -> tuple[float, float, float]:
    """(covered, outside, overlap) m² of the laps and swaths together, as `metrics.coverage`
    measures them (overlap: the footprints added up less their union)."""
    if not swaths.one_heading:
        lines = laps.lines + [swaths.world(i) for i in range(len(swaths))]
        cov: Coverage = coverage(lines, width, area, shapely.Polygon())
        return cov.covered_m2, cov.outside_m2, cov.overlap_m2
    rot = swaths.rotation
    half = width / 2.0
    rects = np.column_stack([swaths.x0, swaths.y - half, swaths.x1, swaths.y + half])
    shared = _shared(rects)
    field, laps_in, laps_all = (rot.geom_to_swath(g) for g in (area, laps.inside, laps.footprint))
    gain_field = _clipped(field, rects) - _clipped(field, shared)  # the swaths' footprint on the field
    gain_laps_in = _clipped(laps_in, rects) - _clipped(laps_in, shared)  # ... and where the laps cover it too
    gain_laps = _clipped(laps_all, rects) - _clipped(laps_all, shared)
    box_area = float(np.prod(rects[:, 2:] - rects[:, :2], axis=1).sum())
    shared_area = float(np.prod(shared[:, 2:] - shared[:, :2], axis=1).sum()) if len(shared) else 0.0
    union = laps.footprint.area + box_area - shared_area - gain_laps
    covered = laps.inside.area + gain_field - gain_laps_in
    total = laps.total_m2 + box_area
    return covered, max(0.0, union - covered), max(0.0, total - union)


def _clipped(geom: BaseGeometry, rects: np.ndarray) -> float:
    """The area of `geom` inside each rectangle (xmin, ymin, xmax, ymax), added up."""
    if geom.is_empty or len(rects) == 0:
        return 0.0
    x0, y0, x1, y1 = geom.bounds
    total = 0.0
    for a, b, c, d in rects:
        if c > x0 and a < x1 and d > y0 and b < y1:
            total += shapely.clip_by_rect(geom, a, b, c, d).area
    return total


def _shared(rects: np.ndarray) -> np.ndarray:
    """The rectangle two swaths' footprints share, for every pair that overlaps."""
    if len(rects) < 2:
        return np.zeros((0, 4))
    tree = shapely.STRtree(shapely.box(*rects.T))
    i, j = tree.query(shapely.box(*rects.T), predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    lo = np.maximum(rects[i, :2], rects[j, :2])
    hi = np.minimum(rects[i, 2:], rects[j, 2:])
    real = np.all(hi - lo > _EPS, axis=1)
    return np.hstack([lo[real], hi[real]])
