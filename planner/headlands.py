"""Edge passes: pump-on laps along the sprayable area's edge (round fields, holes and buffers).

Lap k runs (k - 1/2) swath widths inside the edge, so its footprint just reaches the
edge (or the previous lap); the swaths then cover what is left inside the laps, ending
at the inner headland line.  Where a swath meets an oblique edge, the wedge its square
end sprays past that line lands on the lap's strip (sprayed twice) instead of outside
the field, and the wedges a flat swath end cannot reach beside a slanted or round
keep-out buffer are covered by the lap running along that buffer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import polyline_length

MITRE_LIMIT = 3.0
SHARP_CORNER_DEG = 30.0
CORNER_CLEARANCE_M = 0.5
LAP_TOLERANCE_M = 0.3  # how far a lap may stray from the exact offset to fly with fewer legs
MIN_MISSED_FRACTION = 0.25  # parts the laps leave out bigger than this share of w² get swaths
# The radius ArduCopter flies a lap's sharp corner on at spray speed: its track passed 0.45-0.6 m
# inside 90° corners (an arc of 1.1-1.5 m; ArduCopter 4.7 SITL and the simulator at 5 m/s, with the
# corners told early as missions/corners.py does). Flown, each 90° corner of a lap left 1.3-1.5 m²
# more crop dry than its planned footprint (the Đại Từ paddies with a lap round each plot).
CORNER_RADIUS_M = 1.2
CORNER_CUT_MAX_DEG = 120.0  # sharper turns are flown slower and tighter than the arc says


@dataclass
class Headland:
    """The laps of a field and the area left for the swaths."""

    laps: list[np.ndarray]  # closed polylines, outermost first
    rest: BaseGeometry  # what the swaths cover
    passes: int

    @property
    def length(self) -> float:
        return sum(polyline_length(c) for c in self.laps)

    @property
    def corners(self) -> int:
        """Sharp bends along the laps, where the drone slows down as in a turn."""
        return int(sum(sharp_corners(c) for c in self.laps))


def _turns(ring: np.ndarray) -> np.ndarray:
    """How much the heading changes at each vertex of a closed ring (radians)."""
    d = np.diff(ring, axis=0)
    d = d[np.hypot(*d.T) > 1e-9]
    if len(d) < 2:
        return np.zeros(0)
    h = np.arctan2(d[:, 1], d[:, 0])
    return np.abs((np.diff(np.append(h, h[0])) + np.pi) % (2 * np.pi) - np.pi)


def sharp_corners(ring: np.ndarray, min_deg: float = SHARP_CORNER_DEG) -> int:
    """Vertices of a closed ring where the heading changes by more than `min_deg`."""
    return int((np.degrees(_turns(ring)) > min_deg).sum())


def corner_cut_m2(laps: list[np.ndarray], width: float) -> float:
    """The crop the laps' sharp corners leave dry as flown, past what their footprint as planned
    leaves: ArduCopter flies the corner on an arc of CORNER_RADIUS_M, so the footprint's outer
    edge there is an arc of that plus half a swath, not of half a swath round the corner; the
    area between an arc of radius r and the two lines it meets at a turn t is r² (tan t/2 - t/2)."""
    half = width / 2.0
    total = 0.0
    for ring in laps:
        t = _turns(ring)
        t = np.minimum(t[np.degrees(t) > SHARP_CORNER_DEG], np.radians(CORNER_CUT_MAX_DEG))
        total += ((CORNER_RADIUS_M + half) ** 2 - half**2) * float((np.tan(t / 2) - t / 2).sum())
    return total


def _erode(area: BaseGeometry, d: float) -> BaseGeometry:
    g = area.buffer(-d, join_style="mitre", mitre_limit=MITRE_LIMIT) if d > 0 else area
    return shapely.make_valid(g) if not g.is_valid else g


def _flyable(ring: BaseGeometry, width: float, keepout: BaseGeometry | None) -> np.ndarray:
    """The lap's ring with fewer, longer legs: within LAP_TOLERANCE_M of the exact offset, unless
    that would bring its footprint into a keep-out zone.

    An offset of a round island or a curved edge has a vertex every metre or so; AC_WPNav
    slows for every one of them (to under 1 m/s round a small island, where AC_Sprayer's
    SPRAY_SPEED_MIN stops the pump), so the exact lap is sprayed worse than a close one."""
    exact = np.asarray(ring.coords)
    fewer = shapely.simplify(ring, LAP_TOLERANCE_M)
    if len(fewer.coords) >= len(exact) or len(fewer.coords) < 4:
        return exact
    if keepout is not None and not keepout.is_empty:
        foot = shapely.buffer(shapely.LineString(fewer.coords), width / 2.0, cap_style="flat")
        if shapely.intersection(foot, keepout).area > 1e-6:
            return exact
    return np.asarray(fewer.coords)


def edge_passes(
    area: BaseGeometry, width: float, passes: int, keepout: BaseGeometry | None = None, spacing: float | None = None
) -> Headland:
    """Closed lap polylines (outermost first) and the area left for the swaths (the laps' footprints
    never reach into `keepout`, the no-spray zones). The outermost lap's footprint ends at the edge;
    each next lap, and the swaths' first line, lies `spacing` further in (the width when None).

    Parts of the field too narrow to hold a lap (a strip under one swath wide, a ring
    shorter than two swaths) are handed back to the swaths, so nothing is left out.
    """
    s = width if spacing is None else spacing
    laps: list[np.ndarray] = []
    for k in range(1, passes + 1):
        inner = _erode(area, width / 2.0 + (k - 1) * s)
        for poly in shapely.get_parts(inner):
            if not isinstance(poly, shapely.Polygon) or poly.is_empty:
                continue
            for ring in [poly.exterior, *poly.interiors]:
                c = _flyable(ring, width, keepout)
                if len(c) >= 4 and shapely.LineString(c).length >= 2 * width:
                    laps.append(c)
    if not passes:
        return Headland([], area, 0)
    rest = _erode(area, passes * s)
    if laps:
        lines = np.array([shapely.LineString(c) for c in laps], dtype=object)
        feet = shapely.buffer(lines, width / 2.0, cap_style="flat", join_style="mitre", mitre_limit=MITRE_LIMIT)
        reached = shapely.union_all(np.concatenate([feet, [rest]]))
    else:
        reached = rest
    missed = area.difference(reached)
    big = [p for p in shapely.get_parts(missed) if p.area > MIN_MISSED_FRACTION * width * width]
    if big:
        # only the parts too narrow for a lap; a thin seam along a lap is not worth a swath
        narrow = [p for p in big if not p.buffer(-0.25 * width).is_empty]
        if narrow:
            rest = shapely.union_all([rest, *narrow])
    return Headland(laps, rest, passes)


def start_lap_at(ring: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The same closed lap, starting (and ending) at the point of the ring nearest `point`.

    The start is kept off the lap's corners (on a straight stretch), so the footprints
    of its first and last metres, or of two sorties that split it there, meet flush.
    """
    line = shapely.LineString(ring)
    d = float(line.project(shapely.Point(point[0], point[1])))
    seg = np.hypot(*np.diff(ring, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    i = int(np.clip(np.searchsorted(cum, d, side="right") - 1, 0, len(seg) - 1))
    if seg[i] <= 1e-9:
        i = int(np.argmax(seg))
    margin = min(CORNER_CLEARANCE_M, seg[i] / 2.0)
    d = min(max(d, cum[i] + margin), cum[i] + seg[i] - margin)
    t = (d - cum[i]) / seg[i]
    p = ring[i] + t * (ring[i + 1] - ring[i])
    body = np.vstack([p, ring[i + 1 : -1], ring[: i + 1], p])
    keep = np.concatenate([[True], np.hypot(*np.diff(body, axis=0).T) > 1e-9])
    return body[keep]
