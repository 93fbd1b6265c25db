"""Small geometric helpers shared by the planner stages (rotation, intervals, polylines)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def bearing_to_math(bearing_deg: float) -> float:
    """Swath heading clockwise from grid north -> radians counter-clockwise from east."""
    return math.radians(90.0 - bearing_deg)


def math_to_bearing(theta: float) -> float:
    """Radians counter-clockwise from east -> heading in [0, 180) clockwise from north."""
    return (90.0 - math.degrees(theta)) % 180.0


def heading_deg(d: np.ndarray) -> np.ndarray:
    """Heading in [0, 180) clockwise from grid north of a vector (x east, y north), or of each
    row of an (n, 2) array: a swath flown either way has one heading."""
    d = np.asarray(d, dtype=float)
    return np.degrees(np.arctan2(d[..., 0], d[..., 1])) % 180.0


def apart(a: float, b: float) -> float:
    """Degrees between two swath headings, which repeat every 180°."""
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


class Rotation:
    """Turns the plane so that the swath direction is the x axis (and back)."""

    def __init__(self, theta: float, origin: tuple[float, float]) -> None:
        self.theta = theta
        self.ox, self.oy = origin
        self.c, self.s = math.cos(theta), math.sin(theta)

    def to_swath(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - self.ox, xy[:, 1] - self.oy
        return np.column_stack([x * self.c + y * self.s, -x * self.s + y * self.c])

    def to_world(self, xy: np.ndarray) -> np.ndarray:
        u, v = xy[:, 0], xy[:, 1]
        return np.column_stack([u * self.c - v * self.s + self.ox, u * self.s + v * self.c + self.oy])

    def geom_to_swath(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, self.to_swath)


def merge_intervals(iv: np.ndarray) -> np.ndarray:
    """Union of [a, b] rows (touching intervals are joined)."""
    if len(iv) < 2:
        return iv.reshape(-1, 2).astype(float)
    iv = iv[np.argsort(iv[:, 0])]
    out = [list(iv[0])]
    for a, b in iv[1:]:
        if a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return np.asarray(out, dtype=float)


def subtract_intervals(iv: np.ndarray, cut: np.ndarray) -> list[tuple[float, float]]:
    """Parts of merged intervals `iv` that lie outside every interval of `cut`."""
    out: list[tuple[float, float]] = []
    cut = merge_intervals(cut) if len(cut) else cut
    for a, b in iv:
        pieces = [(a, b)]
        for ca, cb in cut:
            nxt = []
            for pa, pb in pieces:
                if cb <= pa or ca >= pb:
                    nxt.append((pa, pb))
                    continue
                if ca > pa:
                    nxt.append((pa, ca))
                if cb < pb:
                    nxt.append((cb, pb))
            pieces = nxt
        out.extend(pieces)
    return out


def unit_vector(v: np.ndarray) -> np.ndarray | None:
    """v scaled to length 1; None for a zero vector (two points in the same place)."""
    n = float(np.hypot(*v))
    return v / n if n > 1e-6 else None


def polyline_length(coords: np.ndarray) -> float:
    if len(coords) < 2:
        return 0.0
    return float(np.hypot(*np.diff(coords, axis=0).T).sum())


def split_polyline(coords: np.ndarray, at: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut a polyline `at` metres from its start; both halves share the cut point."""
    seg = np.hypot(*np.diff(coords, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    at = min(max(at, 0.0), cum[-1])
    i = int(np.searchsorted(cum, at, side="right") - 1)
    i = min(i, len(seg) - 1)
    t = 0.0 if seg[i] == 0 else (at - cum[i]) / seg[i]
    p = coords[i] + t * (coords[i + 1] - coords[i])
    head = np.vstack([coords[: i + 1], p])
    tail = np.vstack([p, coords[i + 1 :]])
    return _dedupe(head), _dedupe(tail)


def _dedupe(c: np.ndarray) -> np.ndarray:
    if len(c) < 2:
        return c
    keep = np.concatenate([[True], np.hypot(*np.diff(c, axis=0).T) > 1e-9])
    c = c[keep]
    return c if len(c) >= 2 else np.vstack([c, c])


def holes_of(geom: BaseGeometry) -> BaseGeometry:
    """The interior rings of a (multi)polygon as polygons: ponds, graves, houses."""
    rings: list[shapely.Polygon] = []
    for poly in shapely.get_parts(geom):
        if isinstance(poly, shapely.Polygon):
            rings.extend(shapely.Polygon(r) for r in poly.interiors)
    return shapely.union_all(rings) if rings else shapely.Polygon()
