"""Cells: the boustrophedon decomposition read off the swaths themselves.

Swaths in neighbouring bands that overlap along the swath direction can be flown one
after the other with a short turn.  A cell is a run of bands where this chain does not
branch: where a hole, a keep-out zone or a bay splits a band into two swaths (or two
swaths merge into one), one cell ends and new ones begin, exactly like the trapezoidal
/ boustrophedon decomposition at the critical points of the area, but with no split
line that could leave a sliver unsprayed.
"""

from __future__ import annotations

import numpy as np

from planner.swaths import SwathSet


def cells_of(swaths: SwathSet) -> list[list[int]]:
    """Swath indices per cell, each list ordered by band."""
    n = len(swaths)
    if n == 0:
        return []
    order = np.lexsort((swaths.x0, swaths.band))
    by_band: dict[int, list[int]] = {}
    for i in order:
        by_band.setdefault(int(swaths.band[i]), []).append(int(i))
    succ: dict[int, list[int]] = {int(i): [] for i in order}
    pred: dict[int, list[int]] = {int(i): [] for i in order}
    for b, items in by_band.items():
        for i in items:
            for j in by_band.get(b + 1, []):
                lo = max(swaths.x0[i], swaths.x0[j])
                hi = min(swaths.x1[i], swaths.x1[j])
                if hi > lo:
                    succ[i].append(j)
                    pred[j].append(i)
    cell_of: dict[int, int] = {}
    cells: list[list[int]] = []
    for i in order:
        i = int(i)
        p = pred[i]
        if len(p) == 1 and len(succ[p[0]]) == 1 and p[0] in cell_of:
            c = cell_of[p[0]]
            cells[c].append(i)
            cell_of[i] = c
        else:
            cell_of[i] = len(cells)
            cells.append([i])
    return cells
