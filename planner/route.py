"""Route: the order the drone flies edge laps, cells and swaths, joined by pump-off legs.

Within a cell the swaths are flown boustrophedon (back and forth, band after band).
The cells are visited in the order (and each in the direction) that makes the hops
between them shortest: exactly for a few cells, nearest-first for many.  Edge laps go
where they add the least flight; so do the open pieces of laps a fleet plan cuts at the
boundary between two drones' parts (planner/fleet.py), each flown whichever way is shorter.
Every pump-off leg goes through the transit planner, so turns and transits keep clear of
keep-out zones and holes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from planner.geometry import polyline_length
from planner.headlands import start_lap_at
from planner.leads import Leads
from planner.swaths import SwathSet
from planner.transit import TransitPlanner


@dataclass
class Leg:
    """One piece of the flight: pump on along a swath, or pump off between two points."""

    kind: str  # "swath" | "transit"
    coords: np.ndarray  # (n, 2) local metres, n >= 2
    swath: int | None = None  # swath number in flying order (swath legs)
    turn: bool = False  # transit between two swaths of the coverage route
    offset: float = 0.0  # swath legs: distance of coords[0] from the swath's start
    alts: np.ndarray | None = None  # terrain plans: altitude of each coordinate above home (planner/terrain.py)
    speed: float | None = None  # terrain plans: the speed a slope allows, when lower than the plan's
    length: float = field(init=False)

    def __post_init__(self) -> None:
        self.coords = np.asarray(self.coords, dtype=float)
        self.length = polyline_length(self.coords)

    @property
    def start(self) -> np.ndarray:
        return self.coords[0]

    @property
    def end(self) -> np.ndarray:
        return self.coords[-1]


def _cell_variants(swaths: SwathSet, cell: list[int]):
    """(entry, exit, [(swath index, reversed)]) for the four ways into a cell."""
    out = []
    for bottom_first in (True, False):
        seq = cell if bottom_first else cell[::-1]
        for first_rev in (False, True):
            items = [(i, first_rev ^ (k % 2 == 1)) for k, i in enumerate(seq)]
            i0, r0 = items[0]
            i1, r1 = items[-1]
            entry = swaths.world(i0, r0)[0]
            exit_ = swaths.world(i1, r1)[-1]
            out.append((entry, exit_, items))
    return out


EXACT_ORDER_MAX = 9  # up to this many cells the visiting order is exact (Held-Karp)
LAP_SLOTS_CHECKED = 6


def build_route(
    swaths: SwathSet,
    cells: list[list[int]],
    laps: list[np.ndarray],
    transit: TransitPlanner,
    start: np.ndarray,
    leads: Leads | None = None,
    *,
    pieces: list[np.ndarray] | None = None,
    sweep: bool = False,
) -> list[Leg]:
    """Pump-on and pump-off legs from the first swath's start to the last swath's end.

    The cells are ordered first (each in the best of its four ways through); every
    edge lap is then slipped in where it lengthens the flight least, entered and left
    at the same point of the lap, and every open piece of a lap (`pieces`) where it
    lengthens the flight least, in the better of its two directions. With `sweep`, the
    route sweeps the area upwards (+y of the swath frame): the cells in the order of their
    middles, each flown band after band upwards, only which end each starts at is chosen;
    the drones of a fleet all sweep their parts the same way (planner/fleet.py).
    """
    start = np.asarray(start, dtype=float)
    variants = [_cell_variants(swaths, cell) for cell in cells]
    if sweep:  # the first two ways through a cell fly it bottom band first
        variants = [vs[:2] for vs in variants]
    nv = 2 if sweep else 4
    entries = np.array([[v[0] for v in vs] for vs in variants]).reshape(len(cells), nv, 2)
    exits = np.array([[v[1] for v in vs] for vs in variants]).reshape(len(cells), nv, 2)
    if sweep:
        order = _order_sweep(swaths, cells, entries, exits, transit, start)
    elif len(cells) <= EXACT_ORDER_MAX:
        m = len(cells) * nv
        hop = transit.lengths(exits.reshape(m, 2), entries.reshape(m, 2))
        first = transit.lengths(start[None, :], entries.reshape(m, 2))[0]
        order = _order_exact(hop, first, len(cells), nv)
    else:
        order = _order_greedy(entries, exits, start)
    # the flight as a list of stops: (entry, exit, pump-on polylines)
    stops: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = []
    for c, v in order:
        entry, exit_, items = variants[c][v]
        stops.append((entry, exit_, [swaths.world(i, rev) for i, rev in items]))
    for k in sorted(range(len(laps)), key=lambda j: -polyline_length(laps[j])):
        slot, point = _best_lap_slot(laps[k], stops, start, transit)
        lap = start_lap_at(laps[k], point)
        stops.insert(slot, (lap[0], lap[-1], [lap]))
    open_pieces = pieces or []
    for k in sorted(range(len(open_pieces)), key=lambda j: -polyline_length(open_pieces[j])):
        slot, reverse = _best_piece_slot(open_pieces[k], stops, start, transit)
        piece = open_pieces[k][::-1] if reverse else open_pieces[k]
        stops.insert(slot, (piece[0], piece[-1], [piece]))
    flown = [p for _, _, ps in stops for p in ps]
    return join(flown, transit, leads)


def _order_sweep(
    swaths: SwathSet,
    cells: list[list[int]],
    entries: np.ndarray,
    exits: np.ndarray,
    transit: TransitPlanner,
    start: np.ndarray,
) -> list[tuple[int, int]]:
    """The cells bottom to top (by the middle of each), each entered at the end (of its two
    upward ways) that makes the hops shortest (a shortest path through two states a cell)."""
    n = len(cells)
    if n == 0:
        return []
    mid = [(swaths.y[c[0]] + swaths.y[c[-1]]) / 2.0 for c in cells]
    seq = sorted(range(n), key=lambda c: (mid[c], float(swaths.x0[cells[c][0]])))
    cost = transit.lengths(start[None, :], entries[seq[0]])[0]
    back = []
    for a, b in zip(seq, seq[1:]):
        via = cost[:, None] + transit.lengths(exits[a], entries[b])
        back.append(np.argmin(via, axis=0))
        cost = via.min(axis=0)
    ways = [int(np.argmin(cost))]
    for row in reversed(back):
        ways.append(int(row[ways[-1]]))
    return list(zip(seq, ways[::-1]))


def _order_greedy(entries: np.ndarray, exits: np.ndarray, start: np.ndarray) -> list[tuple[int, int]]:
    """Nearest cell next, entered at its nearest corner (many cells)."""
    todo = np.ones(len(entries), bool)
    pos = start
    out = []
    for _ in range(len(entries)):
        d = np.hypot(*(entries - pos).transpose(2, 0, 1))
        d[~todo] = np.inf
        c, v = np.unravel_index(int(np.argmin(d)), d.shape)
        out.append((int(c), int(v)))
        todo[c] = False
        pos = exits[c, v]
    return out


def _order_exact(hop: np.ndarray, first: np.ndarray, n: int, nv: int = 4) -> list[tuple[int, int]]:
    """Shortest order of the cells and way through each (Held-Karp over cells x ways).

    hop[(i,v), (j,u)]: flight from cell i left by way v to cell j entered by way u;
    first[(j,u)]: from the start.
    """
    if n == 0:
        return []
    m = n * nv
    full = (1 << n) - 1
    cost = np.full((1 << n, m), np.inf)
    parent = np.full((1 << n, m), -1, dtype=np.int64)
    item = np.arange(m) // nv
    for i in range(n):
        cost[1 << i, i * nv : (i + 1) * nv] = first[i * nv : (i + 1) * nv]
    bit = 1 << np.arange(n)
    for mask in range(1, full):
        row = cost[mask]
        if not np.isfinite(row).any():
            continue
        via = row[:, None] + hop  # (from, to)
        best_from = np.argmin(via, axis=0)
        best = via[best_from, np.arange(m)]
        to = np.nonzero((mask & bit[item]) == 0)[0]  # every way into every cell not yet flown
        rows = mask | bit[item[to]]
        better = best[to] < cost[rows, to]
        if better.any():
            rows, to = rows[better], to[better]
            cost[rows, to] = best[to]
            parent[rows, to] = best_from[to]
    last = int(np.argmin(cost[full]))
    out = []
    mask = full
    while last >= 0:
        out.append((last // nv, last % nv))
        prev = int(parent[mask, last])
        mask &= ~(1 << (last // nv))
        last = prev
    return out[::-1]


def _best_lap_slot(ring: np.ndarray, stops, start: np.ndarray, transit: TransitPlanner) -> tuple[int, np.ndarray]:
    """Where to fly a closed lap: the slot between two stops and the point of the lap
    (mid-edge or nearest point to either neighbour) that add the least flight.  Straight
    hops rank the choices; the best few are measured along safe transits."""
    line = shapely.LineString(ring)
    before = np.array([start] + [s[1] for s in stops])  # where the drone is before slot k
    after = [s[0] for s in stops] + [None]  # where it must go next (None: the route ends)
    cands = [(ring[:-1] + ring[1:]) / 2.0]  # mid-edges: a lap starts on a straight stretch
    for pts in (before, np.array([a for a in after if a is not None]).reshape(-1, 2)):
        if len(pts):
            d = shapely.line_locate_point(line, shapely.points(pts))
            cands.append(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))
    cand = np.vstack(cands)
    to_p = np.hypot(*(cand[None, :, :] - before[:, None, :]).transpose(2, 0, 1))  # (slots, cands)
    nxt = np.array([a if a is not None else [np.nan, np.nan] for a in after])
    from_p = np.hypot(*(cand[None, :, :] - nxt[:, None, :]).transpose(2, 0, 1))
    direct = np.hypot(*(nxt - before).T)
    from_p = np.where(np.isnan(from_p), 0.0, from_p)
    direct = np.where(np.isnan(direct), 0.0, direct)
    extra = (to_p + from_p - direct[:, None]).ravel()
    top = np.argsort(extra)[:LAP_SLOTS_CHECKED]
    slots, cs = np.divmod(top, len(cand))
    p = cand[cs]
    a = before[slots]
    last = np.isnan(nxt[slots, 0])  # at the route's end nothing follows the lap
    b = np.where(last[:, None], p, nxt[slots])
    cost = transit.pair_lengths(np.vstack([a, p, a]), np.vstack([p, b, b])).reshape(3, -1)
    cost[2, last] = 0.0
    k = int(np.argmin(cost[0] + cost[1] - cost[2]))
    return int(slots[k]), p[k]


def _best_piece_slot(piece: np.ndarray, stops, start: np.ndarray, transit: TransitPlanner) -> tuple[int, bool]:
    """Where and which way to fly an open polyline: the slot between two stops and the
    direction that add the least flight (straight hops rank them, the best few are measured
    along safe transits, as for a lap)."""
    before = np.array([start] + [s[1] for s in stops])
    nxt = np.array([s[0] for s in stops] + [[np.nan, np.nan]])
    ends = np.array([[piece[0], piece[-1]], [piece[-1], piece[0]]])  # (way, in/out, xy)
    to_p = np.hypot(*(ends[None, :, 0, :] - before[:, None, :]).transpose(2, 0, 1))  # (slots, ways)
    from_p = np.hypot(*(ends[None, :, 1, :] - nxt[:, None, :]).transpose(2, 0, 1))
    direct = np.hypot(*(nxt - before).T)
    last = np.isnan(direct)  # at the route's end nothing follows the piece
    extra = to_p + np.where(last[:, None], 0.0, from_p) - np.where(last, 0.0, direct)[:, None]
    top = np.argsort(extra.ravel())[:LAP_SLOTS_CHECKED]
    slots, ways = np.divmod(top, 2)
    a = before[slots]
    p_in, p_out = ends[ways, 0], ends[ways, 1]
    b = np.where(last[slots][:, None], p_out, nxt[slots])
    cost = transit.pair_lengths(np.vstack([a, p_out, a]), np.vstack([p_in, b, b])).reshape(3, -1)
    cost[1:, last[slots]] = 0.0
    k = int(np.argmin(cost[0] + cost[1] - cost[2]))
    return int(slots[k]), bool(ways[k])


def join(pieces: list[np.ndarray], transit: TransitPlanner, leads: Leads | None = None) -> list[Leg]:
    """Swath legs with safe pump-off legs between consecutive ones (with a straight run-out
    and lead-in round each turn when `leads` is given)."""
    legs: list[Leg] = []
    if not pieces:
        return legs
    ends = np.array([p[-1] for p in pieces[:-1]])
    starts = np.array([p[0] for p in pieces[1:]])
    clear = transit.clear(ends, starts) if len(ends) else np.zeros(0, bool)
    for k, p in enumerate(pieces):
        if k:
            a, b = pieces[k - 1][-1], p[0]
            if leads is not None:
                legs.append(Leg("transit", leads.turn(pieces[k - 1], p), turn=True))
            elif np.hypot(*(b - a)) > 1e-6:
                path = np.vstack([a, b]) if clear[k - 1] else transit.path(a, b)
                legs.append(Leg("transit", path, turn=True))
        legs.append(Leg("swath", p, swath=k))
    return legs
