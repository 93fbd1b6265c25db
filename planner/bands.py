"""Bands: a field's swaths cut across the swath direction into contiguous parts, one per drone.

The swath lines (swaths on the same ordinate of the swath frame are one line, e.g. the two
halves of a swath split by a pond) are numbered upwards (+y). A fleet's part k is the lines
cut[k] to cut[k+1] - 1: a strip of whole swaths, so two drones never spray next to each other
except along one boundary, which lies halfway between two lines. Edge laps crossing a boundary
are cut there into open pieces, each flown by the drone whose strip it lies in: the pieces meet
end to end, so nothing is sprayed twice or left out.

`split_chain` chooses the cuts from an estimate of each part's job time (a cost matrix per
drone, all parts at once): planner/fleet.py then corrects it with real sortie splits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation
from planner.swaths import SwathSet

SAME_LINE_M = 1e-6  # swaths closer than this across the swath direction are on one line
MIN_PIECE_M = 1.0  # a lap piece shorter than this stays with its neighbour (not worth a leg)
FAR_M = 1e6  # beyond any field: the outer edges of the outer strips


@dataclass(frozen=True)
class Lines:
    """The distinct swath lines of a layout, upwards, and which line each swath is on."""

    y: np.ndarray  # (L,) ordinate of each line in the swath frame, increasing
    of_swath: np.ndarray  # (n,) line number of each swath

    def __len__(self) -> int:
        return len(self.y)

    def cut_y(self, k: int) -> float:
        """The ordinate of the boundary below line k (halfway to line k - 1); far off at the ends."""
        if k <= 0:
            return -FAR_M
        if k >= len(self.y):
            return FAR_M
        return float(self.y[k - 1] + self.y[k]) / 2.0


def lines_of(swaths: SwathSet) -> Lines:
    order = np.argsort(swaths.y, kind="stable")
    ys = swaths.y[order]
    new = np.concatenate([[True], np.diff(ys) > SAME_LINE_M]) if len(ys) else np.zeros(0, bool)
    number = np.cumsum(new) - 1
    of_swath = np.empty(len(ys), dtype=int)
    of_swath[order] = number
    return Lines(y=ys[new], of_swath=of_swath)


def strip(rotation: Rotation, y0: float, y1: float) -> BaseGeometry:
    """The strip y0 <= y <= y1 of the swath frame, in the field's frame."""
    c = np.array([[-FAR_M, y0], [FAR_M, y0], [FAR_M, y1], [-FAR_M, y1]])
    return shapely.Polygon(rotation.to_world(c))


def _stretch(ring: np.ndarray, cum: np.ndarray, a: float, b: float) -> np.ndarray:
    """The part of a closed ring from arc length a to b (b may run past the ring's end)."""
    total = float(cum[-1])
    if b > total + 1e-9:
        head = _stretch(ring, cum, a, total)
        tail = _stretch(ring, cum, 0.0, b - total)
        return np.vstack([head, tail[1:]])
    x = np.interp([a, b], cum, ring[:, 0])
    y = np.interp([a, b], cum, ring[:, 1])
    inner = (cum > a + 1e-9) & (cum < b - 1e-9)
    pts = np.vstack([[x[0], y[0]], ring[inner], [x[1], y[1]]])
    keep = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-9])
    return pts[keep]


def cut_laps(laps: list[np.ndarray], rotation: Rotation, cuts: np.ndarray) -> list[tuple[list, list]]:
    """Per strip (len(cuts) + 1 of them, upwards): the closed laps that lie in it and the open
    pieces of the laps that cross a cut (ordinate `cuts`, increasing), each in the strip it lies in."""
    out: list[tuple[list, list]] = [([], []) for _ in range(len(cuts) + 1)]
    for ring in laps:
        y = rotation.to_swath(ring)[:, 1]
        seg = np.hypot(*np.diff(ring, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        total = float(cum[-1])
        at: list[float] = []
        for c in cuts:
            above = y >= c
            i = np.nonzero(above[:-1] != above[1:])[0]
            t = (c - y[i]) / (y[i + 1] - y[i])
            at.extend((cum[i] + t * seg[i]).tolist())
        if not at:
            out[int(np.searchsorted(cuts, y[0], side="right"))][0].append(ring)
            continue
        s = np.unique(np.asarray(at))
        bounds = np.append(s, s[0] + total)
        mids = (bounds[:-1] + bounds[1:]) / 2.0 % total
        mid_y = np.interp(mids, cum, y)
        strip_of = np.searchsorted(cuts, mid_y, side="right")
        length = np.diff(bounds)
        for k in range(len(strip_of)):  # a sliver across a cut stays with the piece before it
            if length[k] < MIN_PIECE_M:
                strip_of[k] = strip_of[k - 1]
        if (strip_of == strip_of[0]).all():  # only slivers crossed: the lap stays whole
            out[int(strip_of[0])][0].append(ring)
            continue
        # join neighbours of one strip, from the start of a run so none wraps round unseen
        first = int(np.nonzero(strip_of != np.roll(strip_of, 1))[0][0])
        m = len(strip_of)
        run_start = float(bounds[first])
        for j in range(m):
            k = (first + j) % m
            end = float(bounds[k + 1]) + (total if k < first else 0.0)
            if j == m - 1 or strip_of[(k + 1) % m] != strip_of[k]:
                a = run_start % total
                out[int(strip_of[k])][1].append(_stretch(ring, cum, a, a + end - run_start))
                run_start = end
    return out


def work_per_line(swaths: SwathSet, lines: Lines, laps: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(metres sprayed, turns) per line: its swaths, plus the laps' metres nearest to it."""
    n = len(lines)
    metres = np.bincount(lines.of_swath, weights=swaths.lengths, minlength=n).astype(float)
    turns = np.bincount(lines.of_swath, minlength=n).astype(float)
    mids = (lines.y[:-1] + lines.y[1:]) / 2.0
    for ring in laps:
        seg = np.hypot(*np.diff(ring, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        at = np.arange(0.5, cum[-1], 1.0)  # one sample a metre
        pts = np.column_stack([np.interp(at, cum, ring[:, 0]), np.interp(at, cum, ring[:, 1])])
        slot = np.searchsorted(mids, rotation_y(swaths.rotation, pts), side="right")
        metres += np.bincount(slot, minlength=n)[:n] * (cum[-1] / max(len(at), 1))
    return metres, turns


def rotation_y(rotation: Rotation, pts: np.ndarray) -> np.ndarray:
    return rotation.to_swath(np.atleast_2d(pts))[:, 1]


def split_chain(costs: list[np.ndarray], power: float = 8.0) -> list[int]:
    """Cuts 0 = c0 < c1 < ... < cN = L for N parts in a row: part k takes lines c[k] to
    c[k+1] - 1 at cost costs[k][c[k], c[k+1]] ((L+1, L+1) matrices, inf where not allowed).
    Minimises the sum of the costs to the `power` (dynamic programming): with a high power that
    is the slowest part first, then the others as even as they can be."""
    n = len(costs)
    size = costs[0].shape[0]
    scale = float(np.nanmax(np.where(np.isfinite(costs[0]), costs[0], np.nan))) or 1.0
    best = np.full(size, np.inf)
    best[0] = 0.0
    back = np.zeros((n, size), dtype=int)
    for k in range(n):
        step = best[:, None] + (costs[k] / scale) ** power  # (from, to)
        back[k] = np.argmin(step, axis=0)
        best = step[back[k], np.arange(size)]
    cut = [size - 1]
    for k in range(n - 1, -1, -1):
        cut.append(int(back[k, cut[-1]]))
    return cut[::-1]
