"""Route: the order the drone flies edge laps, cells and swaths, joined by pump-off legs.

Within a cell the swaths are flown boustrophedon (back and forth, band after band);
cells are visited nearest-first, each entered at whichever of its four corners is
closest.  Every pump-off leg goes through the transit planner, so turns and transits
keep clear of keep-out zones and holes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.geometry import polyline_length
from planner.headlands import start_lap_at
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


def build_route(
    swaths: SwathSet,
    cells: list[list[int]],
    laps: list[np.ndarray],
    transit: TransitPlanner,
    start: np.ndarray,
) -> list[Leg]:
    """Pump-on and pump-off legs from the first swath's start to the last swath's end."""
    pieces: list[np.ndarray] = []  # pump-on polylines in flying order
    pos = np.asarray(start, dtype=float)
    todo = list(range(len(laps)))
    while todo:
        k = min(todo, key=lambda j: float(np.min(np.hypot(*(laps[j] - pos).T))))
        todo.remove(k)
        lap = start_lap_at(laps[k], pos)
        pieces.append(lap)
        pos = lap[-1]
    remaining = set(range(len(cells)))
    while remaining:
        best = None
        for c in remaining:
            for entry, exit_, items in _cell_variants(swaths, cells[c]):
                d = float(np.hypot(*(entry - pos)))
                if best is None or d < best[0]:
                    best = (d, c, exit_, items)
        _, c, exit_, items = best
        remaining.discard(c)
        for i, rev in items:
            pieces.append(swaths.world(i, rev))
        pos = exit_
    return join(pieces, transit)


def join(pieces: list[np.ndarray], transit: TransitPlanner) -> list[Leg]:
    """Swath legs with safe pump-off legs between consecutive ones."""
    legs: list[Leg] = []
    if not pieces:
        return legs
    ends = np.array([p[-1] for p in pieces[:-1]])
    starts = np.array([p[0] for p in pieces[1:]])
    clear = transit.clear(ends, starts) if len(ends) else np.zeros(0, bool)
    for k, p in enumerate(pieces):
        if k:
            a, b = pieces[k - 1][-1], p[0]
            if np.hypot(*(b - a)) > 1e-6:
                path = np.vstack([a, b]) if clear[k - 1] else transit.path(a, b)
                legs.append(Leg("transit", path, turn=True))
        legs.append(Leg("swath", p, swath=k))
    return legs
