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
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation, merge_intervals, subtract_intervals

MIN_SWATH_M = 0.5  # shorter pieces are not worth switching the pump for
# A swath stops this far short of a keep-out zone across its path: ArduPilot stops the pump up
# to half a metre after the waypoint (measured on SITL: bench/spray_quality.py), and a swath
# that ends at a buffer has no run-out to stop it in.
KEEPOUT_END_CLEARANCE_M = 0.6
END_SAMPLES = 24  # candidate positions tried for each swath end
SIDE_SAMPLES = 25  # candidate insets tried for a part's outermost footprints (_side_inset)
# There a m² left dry weighs half a m² sprayed onto the bund or past the job, as the targets do
# (99 % covered, 0.5 % outside): at 1, the Đại Từ paddies flew 0.55 % outside on SITL (99.89 % planned).
SIDE_WEIGHT = 0.5
END_WEIGHT = 2.0  # an unsprayed m² weighs as much as 2 m² sprayed to waste
_AREA_EPS = 1e-6
# How much closer than the spacing a band's lines may be drawn so its last footprint ends at the
# band's top rather than past it (band_layout), in a job of several plots: the Đại Từ paddies'
# plots, 36.4-37.3 m across the swaths, each take ten lines 3.60-3.70 m apart, where lines 3.95 m
# apart stuck 2.2 m out of each plot (onto the bund between the rows) or sprayed 2.2 m of it twice.
FIT_TOLERANCE = 0.1


@dataclass
class SwathSet:
    """All swaths of a layout, each in its swath frame (swaths run along +x).

    Most layouts lie at one heading (`rotation`). A layout whose separate parts each lie at
    their own heading (planner/part_headings.py) keeps every part's rotation in `rotations` and the
    part of each swath in `part`; y, x0 and x1 are then in the swath's own part's frame.
    """

    rotation: Rotation
    width: float
    band: np.ndarray  # band index of each swath (bands are numbered along +y)
    y: np.ndarray  # swath line ordinate
    x0: np.ndarray  # start (smaller x)
    x1: np.ndarray  # end
    rotations: tuple[Rotation, ...] = ()  # one per part laid at its own heading (empty: one heading)
    part: np.ndarray | None = None  # index into `rotations` of each swath
    step: np.ndarray | None = None  # how far each swath's line lies from its neighbours (None: `width`)

    def __len__(self) -> int:
        return len(self.band)

    @property
    def lengths(self) -> np.ndarray:
        return self.x1 - self.x0

    @property
    def one_heading(self) -> bool:
        return not self.rotations

    @property
    def steps(self) -> np.ndarray:
        """Each swath's line spacing: the strip it sprays for, what its flow is set by."""
        return np.full(len(self), self.width) if self.step is None else self.step

    def world(self, i: int, reverse: bool = False) -> np.ndarray:
        """Swath i as a 2-point polyline in the field's frame."""
        pts = np.array([[self.x0[i], self.y[i]], [self.x1[i], self.y[i]]])
        if reverse:
            pts = pts[::-1]
        rotation = self.rotation if self.part is None else self.rotations[int(self.part[i])]
        return rotation.to_world(pts)

    def subset(self, keep: np.ndarray) -> SwathSet:
        """The swaths where `keep` is true, as their own set (numbered from 0 again)."""
        part = None if self.part is None else self.part[keep]
        step = None if self.step is None else self.step[keep]
        return replace(
            self, band=self.band[keep], y=self.y[keep], x0=self.x0[keep], x1=self.x1[keep], part=part, step=step
        )

    @staticmethod
    def concat(sets: list[SwathSet]) -> SwathSet:
        """Join swath sets of one heading each; band numbers stay distinct per set, so no cell
        runs from one set into the next. Sets at different headings keep their own."""
        band, off = [], 0
        for s in sets:
            band.append(s.band + off)
            off += int(s.band.max()) + 2 if len(s) else 0
        rots = [s.rotation for s in sets]
        mixed = any((r.theta, r.ox, r.oy) != (rots[0].theta, rots[0].ox, rots[0].oy) for r in rots)
        return SwathSet(
            rotation=rots[0],
            width=sets[0].width,
            band=np.concatenate(band) if band else np.zeros(0, int),
            y=np.concatenate([s.y for s in sets]),
            x0=np.concatenate([s.x0 for s in sets]),
            x1=np.concatenate([s.x1 for s in sets]),
            rotations=tuple(rots) if mixed else (),
            part=np.repeat(np.arange(len(sets)), [len(s) for s in sets]) if mixed else None,
            step=np.concatenate([s.steps for s in sets]) if sets else None,
        )


def band_layout(
    ymin: float,
    ymax: float,
    width: float,
    top_overlap: float,
    spacing: float | None = None,
    slack: float = 0.0,
    fit: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Band tiles [lo, hi] to cover and the swath line of each band.

    The first line lies half a swath above the lowest point, the others `spacing` apart (the
    swath width when None), each band the stretch its line sprays nearer than its neighbours.
    Where lines that close need one line more than lines spread a little wider would, the fewer
    lines are kept: drawn in by up to `slack` at either end (the margin they share with an edge
    lap there) and, if that is not enough, spread evenly up to a swath apart, where the line more
    would be sprayed three quarters twice or more (a field that fits a whole number of swaths; such
    a line would also tip the heading search into trimming swath ends harder), or where half of
    every margin is kept. Spread all the way whenever it saved a line, the tea hill's upper part
    (33 lines, the line more 62 % twice) lost its margins and flew 98.99 % on the simulator,
    against 99.09 % with them and the line more. Otherwise the last footprint
    would stick out past the top by the excess e. With `fit` (a share, e.g. FIT_TOLERANCE) the lines
    are then drawn evenly closer, so the last footprint ends at the top, as long as they stay
    within that share of the spacing (the plan sets the flow for the lines' mean spacing:
    planner/plan.py), rather than spread wider where they could be drawn closer: one plot's lines
    spread to 3.97 m and another's drawn in to 3.60 m put the two 10 % apart in dose. Otherwise a
    share `top_overlap` of e is folded back onto the band below (sprayed twice) instead of outside
    the field.

    Returns the bands, the lines and the spacing they are laid at.
    """
    height = ymax - ymin
    s = width if spacing is None else spacing
    n = 1 + max(0, math.ceil((height - width) / s - 1e-6))
    inset = 0.0
    reach = height - 2.0 * slack  # what one line fewer must cover at least
    short = reach - (width + (n - 2) * s)  # what one line fewer at the spacing leaves out
    # spread when the line more would be sprayed three quarters twice, or spreading keeps at least
    # half of each margin; else fly it, folded back
    spread = short <= width / 4.0 or short <= (n - 2) * (width - s) / 2.0
    if fit and short > 0 and n > 1 and (height - width) / (n - 1) >= s * (1.0 - fit):
        spread = False  # drawn closer to fit rather than spread wider: every plot near one spacing
    if n >= 2 and (width >= reach - 1e-9 if n == 2 else spread and (reach - width) / (n - 2) <= width + 1e-9):
        n -= 1
        if short <= 0:
            inset = (height - width - (n - 1) * s) / 2.0
        else:
            inset, s = slack, (reach - width) / (n - 1)
    line = ymin + inset + width / 2.0 + s * np.arange(n)
    excess = line[-1] + width / 2.0 - ymax
    if n > 1 and excess > 1e-9 and s - excess / (n - 1) >= s * (1.0 - fit):
        s -= excess / (n - 1)
        line, excess = line[0] + s * np.arange(n), 0.0
    lo = np.concatenate([[ymin], line[1:] - s / 2.0])
    hi = np.minimum(np.concatenate([line[:-1] + s / 2.0, [ymax]]), ymax)
    if n > 1 and excess > 0:
        line[-1] -= excess * top_overlap
    return np.column_stack([lo, hi]), line, s


def make_swaths(
    area: BaseGeometry,
    keepout: BaseGeometry,
    holes: BaseGeometry,
    rotation: Rotation,
    width: float,
    *,
    top_overlap: float = 1.0,
    end_weight: float | None = END_WEIGHT,
    spacing: float | None = None,
    slack: float = 0.0,
    fit: float = 0.0,
) -> SwathSet:
    """Swaths covering `area` along the rotation's direction (pure geometry, vectorised), their
    lines `spacing` apart (the swath `width` when None; band_layout, with `slack` and `fit`).

    `end_weight` None keeps every swath at full length (used to score angles quickly).
    """
    a = rotation.geom_to_swath(area)
    xmin, ymin, xmax, ymax = a.bounds
    if fit and end_weight is not None:  # a plot's slanted side: its first and last lines drawn in
        ymin += _side_inset(a, ymin, width, SIDE_WEIGHT, top=False)
        ymax -= _side_inset(a, ymax, width, SIDE_WEIGHT, top=True)
    tiles, line, step = band_layout(ymin, ymax, width, top_overlap, spacing, slack, fit)
    n = len(line)
    pad = width
    # rectangle clipping: several times faster than a general intersection
    strips = np.array([shapely.clip_by_rect(a, xmin - pad, lo, xmax + pad, hi) for lo, hi in tiles], dtype=object)
    needed = _projection(strips, n)

    blocked: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    if not keepout.is_empty:
        k = rotation.geom_to_swath(keepout)
        # The footprint may touch a keep-out zone's edge but never reach into it.
        lo, hi = line - width / 2 + 1e-7, line + width / 2 - 1e-7
        _, k_lo, _, k_hi = k.bounds
        near = (hi > k_lo) & (lo < k_hi)
        hits = np.full(n, None, dtype=object)
        hits[near] = [shapely.clip_by_rect(k, xmin - pad, y0, xmax + pad, y1) for y0, y1 in zip(lo[near], hi[near])]
        for i, iv in enumerate(_projection(hits, n)):
            blocked[i].extend((a - KEEPOUT_END_CLEARANCE_M, b + KEEPOUT_END_CLEARANCE_M) for a, b in iv)
    if not holes.is_empty:
        h = rotation.geom_to_swath(holes)
        parts, idx = shapely.get_parts(
            shapely.intersection(_hlines(xmin - pad, xmax + pad, line), h), return_index=True
        )
        if len(parts):
            lb = shapely.bounds(parts)
            for j, b0, b2 in zip(idx, lb[:, 0], lb[:, 2]):
                if b2 - b0 > 1e-6:
                    blocked[j].append((b0, b2))

    bands, x0s, x1s = [], [], []
    for i in range(n):
        if len(needed[i]) == 0:
            continue
        cut = np.asarray(blocked[i], dtype=float).reshape(-1, 2)
        for p0, p1 in subtract_intervals(needed[i], cut):
            if p1 - p0 >= MIN_SWATH_M:
                bands.append(i)
                x0s.append(p0)
                x1s.append(p1)
    band = np.asarray(bands, dtype=int)
    x0 = np.asarray(x0s, dtype=float)
    x1 = np.asarray(x1s, dtype=float)
    if end_weight is not None and len(band):
        # a line's own strip is `spacing` wide: what cutting an end saves or leaves out
        x0, x1 = _trim_ends(strips[band], x0, x1, width if spacing is None else spacing, end_weight)
        keep = x1 - x0 >= MIN_SWATH_M
        band, x0, x1 = band[keep], x0[keep], x1[keep]
    return SwathSet(
        rotation=rotation, width=width, band=band, y=line[band], x0=x0, x1=x1, step=np.full(len(band), step)
    )


def _side_inset(a: BaseGeometry, edge: float, width: float, weight: float, top: bool) -> float:
    """How far in from `edge` (the area's lowest or highest point across the swaths) the outermost
    footprint should end: a side at a slant to the swaths leaves a wedge beside the footprint,
    sprayed outside if the footprint reaches the side's far point; pulled in by d, the wedge's tip
    beyond d is left dry instead. The inset balances the two (`weight` per m² left dry against one
    per m² outside): for a straight slant of height h, d = h / (1 + weight). Banded on their own,
    the Đại Từ paddies' plots, whose sides lie up to 0.5 m off straight across their 42 m, sprayed
    0.3 % of the job outside that way."""
    xmin, _, xmax, _ = a.bounds
    reach = width / 2.0
    lo, hi = (edge - reach, edge) if top else (edge, edge + reach)
    near = shapely.clip_by_rect(a, xmin, lo, xmax, hi)
    if near.is_empty:
        return 0.0
    x0, _, x1, _ = near.bounds
    best, inset = (x1 - x0) * reach - near.area, 0.0  # reaching the edge: nothing dry
    for d in np.linspace(0.0, reach, SIDE_SAMPLES)[1:]:
        beyond = (
            shapely.clip_by_rect(near, x0, edge - d, x1, edge)
            if top
            else shapely.clip_by_rect(near, x0, edge, x1, edge + d)
        )
        outside = (x1 - x0) * (reach - d) - (near.area - beyond.area)
        cost = weight * beyond.area + outside
        if cost < best - 1e-9:
            best, inset = cost, float(d)
    return inset


def _trim_ends(strips: np.ndarray, x0: np.ndarray, x1: np.ndarray, width: float, weight: float):
    """Pull each end back to where weight * unsprayed - waste removed is least.

    For every end, END_SAMPLES cut positions in the outer part of the swath are tried:
    cutting at x leaves the band's area between x and the end unsprayed (A) and removes
    a footprint of (end - x) * w, of which w*(end - x) - A was sprayed to waste.  The
    areas come from one exact edge integral per strip (numpy, no polygon clipping).
    """
    m = len(x0)
    reach = np.minimum((x1 - x0) / 2.0, 8.0 * width)
    t = np.linspace(0.0, 1.0, END_SAMPLES)
    cut_r = x1[:, None] - reach[:, None] * t[None, :]  # right ends: cut at x1 - reach*t
    cut_l = x0[:, None] + reach[:, None] * t[None, :]  # left ends: cut at x0 + reach*t
    edges, owner = edges_by_item(strips)
    f = area_right_of(edges, owner, np.hstack([cut_r, cut_l, x0[:, None], x1[:, None]]))
    k = END_SAMPLES
    f_r, f_l, f_x0, f_x1 = f[:, :k], f[:, k : 2 * k], f[:, 2 * k : 2 * k + 1], f[:, 2 * k + 1 :]
    a_r = np.maximum(f_r - f_x1, 0.0)  # field area between the cut and the right end
    a_l = np.maximum(f_x0 - f_l, 0.0)
    cost_r = (weight + 1.0) * a_r - (x1[:, None] - cut_r) * width
    cost_l = (weight + 1.0) * a_l - (cut_l - x0[:, None]) * width
    best_r = cut_r[np.arange(m), np.argmin(cost_r, axis=1)]
    best_l = cut_l[np.arange(m), np.argmin(cost_l, axis=1)]
    return best_l, best_r


def edges_by_item(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ring edges (x1, y1, x2, y2) of every (multi)polygon, exteriors counter-clockwise
    and holes clockwise, with the index of the geometry each edge belongs to."""
    oriented = shapely.orient_polygons(np.asarray(geoms, dtype=object))
    parts, pidx = shapely.get_parts(oriented, return_index=True)
    rings, ridx = shapely.get_rings(parts, return_index=True)
    xy, cidx = shapely.get_coordinates(rings, return_index=True)
    same = cidx[1:] == cidx[:-1]  # consecutive points of one ring form an edge
    edges = np.hstack([xy[:-1][same], xy[1:][same]])
    return edges, pidx[ridx[cidx[:-1][same]]]


def area_right_of(edges: np.ndarray, owner: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Area of each polygon beyond x = cuts[i, k] (its part with X >= cut), exactly.

    For a counter-clockwise ring, area = -∮ y dX; the vertical cut line adds nothing
    (dX = 0), so the area beyond a cut is minus the integral over the edges clipped to
    X >= cut.  One row per edge, one column per cut.
    """
    out = np.zeros(cuts.shape, dtype=float)
    if len(edges) == 0:
        return out
    x1, y1, x2, y2 = (edges[:, j : j + 1] for j in range(4))
    c = cuts[owner]
    a = np.maximum(np.minimum(x1, x2), c)
    hi = np.maximum(x1, x2)
    dx = x2 - x1
    slope = np.where(dx != 0, (y2 - y1) / np.where(dx != 0, dx, 1.0), 0.0)
    ya = y1 + (a - x1) * slope
    yb = y1 + (hi - x1) * slope
    part = np.where(hi > a, (hi - a) * (ya + yb) / 2.0, 0.0) * np.sign(dx)
    for k in range(cuts.shape[1]):
        out[:, k] = -np.bincount(owner, weights=part[:, k], minlength=len(cuts))
    return out


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


def _scan(
    edges: np.ndarray, ys: np.ndarray, edge_part: np.ndarray | None = None, y_part: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Even-odd scanline crossings: (row, x_start, x_end) of every inside interval (numpy only).

    With `edge_part` / `y_part`, scanline i only sees the edges of its own part.
    """
    if len(edges) == 0 or len(ys) == 0:
        return np.zeros(0, int), np.zeros(0), np.zeros(0)
    y1, y2 = edges[:, 1][None, :], edges[:, 3][None, :]
    yy = ys[:, None]
    hit = (y1 <= yy) != (y2 <= yy)
    if edge_part is not None and y_part is not None:
        hit &= edge_part[None, :] == y_part[:, None]
    r, e = np.nonzero(hit)  # only the crossings: a few per scanline
    ex1, ey1, ex2, ey2 = edges[e, 0], edges[e, 1], edges[e, 2], edges[e, 3]
    x = ex1 + (ys[r] - ey1) * (ex2 - ex1) / (ey2 - ey1)
    order = np.lexsort((x, r))
    r, x = r[order], x[order]
    # even-odd: crossing 2k and 2k+1 of a row bound an inside interval
    first = np.ones(len(r), bool)
    first[1:] = r[1:] != r[:-1]
    start_idx = np.nonzero(first)[0]
    rank = np.arange(len(r)) - np.repeat(start_idx, np.diff(np.append(start_idx, len(r))))
    per_row = np.bincount(r, minlength=len(ys))
    usable = rank < (per_row - per_row % 2)[r]
    opens = usable & (rank % 2 == 0)
    i = np.nonzero(opens)[0]
    return r[i], x[i], x[i + 1]


def band_pieces(
    need: tuple[np.ndarray, np.ndarray, np.ndarray],
    cut: tuple[np.ndarray, np.ndarray, np.ndarray],
    n: int,
    min_len: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per band: length and count of the pieces of (union of need) minus (union of cut)
    at least `min_len` long, and the length of the union of need (one event sweep)."""
    nb, na, ne = need
    cb, ca, ce = cut
    band = np.concatenate([nb, nb, cb, cb])
    x = np.concatenate([na, ne, ca, ce])
    dn = np.concatenate([np.ones(len(nb)), -np.ones(len(nb)), np.zeros(2 * len(cb))])
    dc = np.concatenate([np.zeros(2 * len(nb)), np.ones(len(cb)), -np.ones(len(cb))])
    order = np.lexsort((-dn, x, band))  # at a tie a need interval opens before one closes
    band, x, dn, dc = band[order], x[order], dn[order], dc[order]
    inside = np.cumsum(dn) > 0.5
    blocked = np.cumsum(dc) > 0.5
    same = np.zeros(len(x), bool)
    same[:-1] = band[1:] == band[:-1]
    seg = np.where(same, np.append(np.diff(x), 0.0), 0.0)
    free = inside & ~blocked & same
    need_len = np.bincount(band, weights=np.where(inside & same, seg, 0.0), minlength=n)
    prev = np.concatenate([[False], free[:-1] & same[:-1]])
    piece = np.cumsum(free & ~prev) - 1
    if not free.any():
        return np.zeros(n), np.zeros(n, int), need_len
    lengths = np.bincount(piece[free], weights=seg[free])
    piece_band = np.zeros(len(lengths), int)
    piece_band[piece[free]] = band[free]
    keep = lengths >= min_len
    total = np.bincount(piece_band[keep], weights=lengths[keep], minlength=n)
    count = np.bincount(piece_band[keep], minlength=n)
    return total, count, need_len


def quick_estimate(
    area_edges: np.ndarray,
    keepout_edges: np.ndarray,
    rotation: Rotation,
    width: float,
    edge_part: np.ndarray | None = None,
    fit: float = 0.0,
) -> tuple[float, int, float, float]:
    """(swath length, swath count, area lost to zones, area the lines spray for: their length times
    their spacing) for ranking directions, fast.

    Each band is probed by three scanlines (its two edges and its middle) with plain
    numpy instead of being clipped as a polygon; the ranking only needs a close estimate.
    With `edge_part` (the part number of each edge) every part gets its own bands.
    """

    def rot(e: np.ndarray) -> np.ndarray:
        if len(e) == 0:
            return e
        return np.hstack([rotation.to_swath(e[:, :2]), rotation.to_swath(e[:, 2:])])

    ae, ke = rot(area_edges), rot(keepout_edges)
    if edge_part is None:
        edge_part = np.zeros(len(ae), int)
    lo = np.minimum(ae[:, 1], ae[:, 3])
    hi = np.maximum(ae[:, 1], ae[:, 3])
    n_parts = int(edge_part.max()) + 1
    ys_all, part_all, band_all, steps = [], [], [], []
    n = 0
    for k in range(n_parts):
        mine = edge_part == k
        if not mine.any():
            continue
        tiles, line, step = band_layout(float(lo[mine].min()), float(hi[mine].max()), width, 1.0, fit=fit)
        eps = min(1e-3, width * 1e-3)
        m = len(line)
        steps.append(np.full(m, step))
        ys_all.append(np.concatenate([tiles[:, 0] + eps, line, tiles[:, 1] - eps]))
        part_all.append(np.full(3 * m, k))
        band_all.append(np.tile(np.arange(n, n + m), 3))
        n += m
    ys = np.concatenate(ys_all)
    y_part = np.concatenate(part_all)
    y_band = np.concatenate(band_all)
    rows, a, b = _scan(ae, ys, edge_part, y_part)
    need = (y_band[rows], a, b)
    if len(ke):
        rows_k, ka, kb = _scan(ke, ys)
        cut = (y_band[rows_k], ka, kb)
    else:
        cut = (np.zeros(0, int), np.zeros(0), np.zeros(0))
    total, count, need_len = band_pieces(need, cut, n, MIN_SWATH_M)
    lost = float((need_len - total).sum()) * width
    return float(total.sum()), int(count.sum()), lost, float((total * np.concatenate(steps)).sum())
