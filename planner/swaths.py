"""Swaths: straight pump-on passes across the area, one band of one swath width each.

The area is cut into bands of the swath width perpendicular to the swath direction.
In each band a swath first runs as far as the band still holds sprayable area, so its
flat-capped footprint (the line buffered by half a swath) covers the band's part of the
field completely.  Where the field's edge cuts the band at a slant, running to the far
corner sprays a wedge outside the field; each swath end is then pulled back to the
point that balances the area left unsprayed (weighted by `end_weight`) against the
area sprayed outside.  The footprint never reaches into a keep-out zone: the band is
cut wherever a zone reaches into it.  The swath line (what the drone flies with the
pump on) never crosses a hole of the field or a gap between fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation, merge_intervals, subtract_intervals

MIN_SWATH_M = 0.5  # shorter pieces are not worth switching the pump for
END_SAMPLES = 10  # candidate positions tried for each swath end
_AREA_EPS = 1e-6


@dataclass
class SwathSet:
    """All swaths for one direction, in the rotated frame (swaths run along +x)."""

    rotation: Rotation
    width: float
    band: np.ndarray  # band index of each swath (bands are numbered along +y)
    y: np.ndarray  # swath line ordinate
    x0: np.ndarray  # start (smaller x)
    x1: np.ndarray  # end
    lost_m2: float = 0.0  # rough area left out where zones or holes cut bands

    def __len__(self) -> int:
        return len(self.band)

    @property
    def lengths(self) -> np.ndarray:
        return self.x1 - self.x0

    def world(self, i: int, reverse: bool = False) -> np.ndarray:
        """Swath i as a 2-point polyline in the field's frame."""
        pts = np.array([[self.x0[i], self.y[i]], [self.x1[i], self.y[i]]])
        if reverse:
            pts = pts[::-1]
        return self.rotation.to_world(pts)

    @staticmethod
    def concat(sets: list["SwathSet"]) -> "SwathSet":
        """Join swath sets of the same rotation; band numbers stay distinct per set."""
        band, off = [], 0
        for s in sets:
            band.append(s.band + off)
            off += int(s.band.max()) + 2 if len(s) else 0
        return SwathSet(
            rotation=sets[0].rotation,
            width=sets[0].width,
            band=np.concatenate(band) if band else np.zeros(0, int),
            y=np.concatenate([s.y for s in sets]),
            x0=np.concatenate([s.x0 for s in sets]),
            x1=np.concatenate([s.x1 for s in sets]),
            lost_m2=sum(s.lost_m2 for s in sets),
        )


def band_layout(ymin: float, ymax: float, width: float, top_overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """Band tiles [lo, hi] to cover and the swath line of each band.

    Bands start at the lowest point; the last band would stick out past the top by the
    excess e = n*w - height.  A share `top_overlap` of it is folded back onto the band
    below (sprayed twice) instead of outside the field.
    """
    height = ymax - ymin
    n = max(1, math.ceil(height / width - 1e-6))
    lo = ymin + width * np.arange(n)
    hi = np.minimum(lo + width, ymax)
    line = lo + width / 2.0
    excess = n * width - height
    if n > 1 and excess > 0:
        line[-1] -= excess * top_overlap
    return np.column_stack([lo, hi]), line


def make_swaths(
    area: BaseGeometry,
    keepout: BaseGeometry,
    holes: BaseGeometry,
    rotation: Rotation,
    width: float,
    *,
    top_overlap: float = 1.0,
    end_weight: float | None = 2.0,
) -> SwathSet:
    """Swaths covering `area` along the rotation's direction (pure geometry, vectorised).

    `end_weight` None keeps every swath at full length (used to score angles quickly).
    """
    a = rotation.geom_to_swath(area)
    xmin, ymin, xmax, ymax = a.bounds
    tiles, line = band_layout(ymin, ymax, width, top_overlap)
    n = len(line)
    pad = width
    boxes = shapely.box(xmin - pad, tiles[:, 0], xmax + pad, tiles[:, 1])
    strips = shapely.intersection(boxes, a)
    needed = _projection(strips, n)

    blocked: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    if not keepout.is_empty:
        k = rotation.geom_to_swath(keepout)
        # The footprint may touch a keep-out zone's edge but never reach into it.
        feet = shapely.box(xmin - pad, line - width / 2 + 1e-7, xmax + pad, line + width / 2 - 1e-7)
        for i, iv in enumerate(_projection(shapely.intersection(feet, k), n)):
            blocked[i].extend(map(tuple, iv))
    if not holes.is_empty:
        h = rotation.geom_to_swath(holes)
        parts, idx = shapely.get_parts(shapely.intersection(_hlines(xmin - pad, xmax + pad, line), h), return_index=True)
        if len(parts):
            lb = shapely.bounds(parts)
            for j, b0, b2 in zip(idx, lb[:, 0], lb[:, 2]):
                if b2 - b0 > 1e-6:
                    blocked[j].append((b0, b2))

    bands, x0s, x1s = [], [], []
    lost = 0.0
    for i in range(n):
        if len(needed[i]) == 0:
            continue
        cut = np.asarray(blocked[i], dtype=float).reshape(-1, 2)
        kept = subtract_intervals(needed[i], cut)
        lost += (float((needed[i][:, 1] - needed[i][:, 0]).sum()) - sum(b - a for a, b in kept)) * width
        for p0, p1 in kept:
            if p1 - p0 >= MIN_SWATH_M:
                bands.append(i)
                x0s.append(p0)
                x1s.append(p1)
    band = np.asarray(bands, dtype=int)
    x0 = np.asarray(x0s, dtype=float)
    x1 = np.asarray(x1s, dtype=float)
    if end_weight is not None and len(band):
        x0, x1 = _trim_ends(strips[band], x0, x1, width, end_weight)
        keep = x1 - x0 >= MIN_SWATH_M
        band, x0, x1 = band[keep], x0[keep], x1[keep]
    return SwathSet(rotation=rotation, width=width, band=band, y=line[band], x0=x0, x1=x1, lost_m2=lost)


def _trim_ends(strips: np.ndarray, x0: np.ndarray, x1: np.ndarray, width: float, weight: float):
    """Pull each end back to where (weight+1) * unsprayed - cut footprint is least.

    For every end, END_SAMPLES cut positions in the outer part of the swath are tried:
    cutting at x leaves the band's area beyond x unsprayed (A) and removes a footprint
    of (end - x) * w, of which w*(end - x) - A lay outside the band's field area.
    """
    m = len(x0)
    reach = np.minimum((x1 - x0) / 2.0, 8.0 * width)
    t = np.linspace(0.0, 1.0, END_SAMPLES)
    # right ends: cut at x1 - reach*t ; left ends: cut at x0 + reach*t
    cut_r = x1[:, None] - reach[:, None] * t[None, :]
    cut_l = x0[:, None] + reach[:, None] * t[None, :]
    big = 1e9
    box_r = shapely.box(cut_r, -big, x1[:, None], big)
    box_l = shapely.box(x0[:, None], -big, cut_l, big)
    s = np.repeat(strips[:, None], END_SAMPLES, axis=1)
    a_r = shapely.area(shapely.intersection(s, box_r))
    a_l = shapely.area(shapely.intersection(s, box_l))
    cost_r = (weight + 1.0) * a_r - (x1[:, None] - cut_r) * width
    cost_l = (weight + 1.0) * a_l - (cut_l - x0[:, None]) * width
    best_r = cut_r[np.arange(m), np.argmin(cost_r, axis=1)]
    best_l = cut_l[np.arange(m), np.argmin(cost_l, axis=1)]
    return best_l, best_r


def _hlines(x0: float, x1: float, ys: np.ndarray) -> np.ndarray:
    n = len(ys)
    return shapely.linestrings(
        np.stack([np.column_stack([np.full(n, x0), ys]), np.column_stack([np.full(n, x1), ys])], axis=1)
    )


def _projection(pieces: np.ndarray, n: int) -> list[np.ndarray]:
    """Per band: the x-intervals its (multi)polygon piece occupies (each part projects to one)."""
    parts, idx = shapely.get_parts(pieces, return_index=True)
    out: list[list] = [[] for _ in range(n)]
    if len(parts):
        keep = shapely.area(parts) > _AREA_EPS
        parts, idx = parts[keep], idx[keep]
        b = shapely.bounds(parts)
        for j, x0, x1 in zip(idx, b[:, 0], b[:, 2]):
            out[j].append((x0, x1))
    return [merge_intervals(np.asarray(iv, dtype=float).reshape(-1, 2)) for iv in out]


def ring_edges(geom: BaseGeometry) -> np.ndarray:
    """Every edge of every ring of a (multi)polygon as rows x1, y1, x2, y2."""
    if geom.is_empty:
        return np.zeros((0, 4))
    rows = []
    for ring in shapely.get_rings(shapely.get_parts(geom)):
        c = shapely.get_coordinates(ring)
        rows.append(np.hstack([c[:-1], c[1:]]))
    return np.vstack(rows) if rows else np.zeros((0, 4))


def _scan(edges: np.ndarray, ys: np.ndarray) -> list[np.ndarray]:
    """Even-odd scanline crossings: per y, the x-intervals inside the rings (numpy only)."""
    if len(edges) == 0:
        return [np.zeros((0, 2)) for _ in ys]
    y1, y2 = edges[:, 1][None, :], edges[:, 3][None, :]
    yy = ys[:, None]
    hit = (y1 <= yy) != (y2 <= yy)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = edges[:, 0][None, :] + (yy - y1) * (edges[:, 2] - edges[:, 0])[None, :] / (y2 - y1)
    x = np.where(hit, x, np.inf)
    x.sort(axis=1)
    counts = hit.sum(axis=1)
    out = []
    for row, c in zip(x, counts):
        c -= c % 2
        out.append(row[:c].reshape(-1, 2))
    return out


def quick_estimate(
    area_edges: np.ndarray, keepout_edges: np.ndarray, rotation: Rotation, width: float
) -> tuple[float, int, float]:
    """(swath length, swath count, area lost to zones) for ranking directions, fast.

    Each band is probed by three scanlines (its two edges and its middle) with plain
    numpy instead of being clipped as a polygon; the ranking only needs a close estimate.
    """
    def rot(e: np.ndarray) -> np.ndarray:
        if len(e) == 0:
            return e
        a = rotation.to_swath(e[:, :2])
        b = rotation.to_swath(e[:, 2:])
        return np.hstack([a, b])

    ae, ke = rot(area_edges), rot(keepout_edges)
    ymin = float(min(ae[:, 1].min(), ae[:, 3].min()))
    ymax = float(max(ae[:, 1].max(), ae[:, 3].max()))
    tiles, line = band_layout(ymin, ymax, width, 1.0)
    n = len(line)
    eps = min(1e-3, width * 1e-3)
    ys = np.concatenate([tiles[:, 0] + eps, line, tiles[:, 1] - eps])
    probe_a = _scan(ae, ys)
    probe_k = _scan(ke, ys) if len(ke) else None
    total, count, lost = 0.0, 0, 0.0
    for i in range(n):
        need = merge_intervals(np.vstack([probe_a[i], probe_a[i + n], probe_a[i + 2 * n]]))
        if len(need) == 0:
            continue
        if probe_k is not None:
            cut = np.vstack([probe_k[i], probe_k[i + n], probe_k[i + 2 * n]])
            kept = subtract_intervals(need, cut) if len(cut) else [tuple(r) for r in need]
        else:
            kept = [tuple(r) for r in need]
        full = float((need[:, 1] - need[:, 0]).sum())
        got = [b - a for a, b in kept if b - a >= MIN_SWATH_M]
        lost += (full - sum(got)) * width
        total += sum(got)
        count += len(got)
    return total, count, lost
