"""Which grid of dose cells each swath's ground is cut on (dosemap.py).

Cells lie along the swaths, a swath wide, so a grid follows a set of swath lines: one heading,
and lines a whole number of swath widths apart. A plan flown at one heading on one set of lines
has one grid; a plan whose parts have headings of their own (planner/part_headings.py) has one
per part; and where stacks of plots have lines of their own (planner/anchoring.py: the Đại Từ
paddies' three columns, each from its own lower edge), each set of lines has its own. One grid
for the paddies' columns put two of the three astride two swaths: a 3 m stop of the pump in the
middle of a swath was spread over two cells, neither 15 % under.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from planner.anchoring import stacks
from planner.geometry import Rotation, apart, heading_deg

SAME_HEADING_DEG = 0.01  # swaths this close in heading share a grid of cells
SAME_LATTICE_M = 0.05  # ... and, stack by stack, lines this close to one lattice of swath widths


def direction(swath_lines: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Unit vector along the longest straight swath and the offset of a band edge across it."""
    straight = [c for c in swath_lines if len(c) == 2] or swath_lines
    best = max(straight, key=lambda c: float(np.hypot(*(c[-1] - c[0]))))
    d = best[-1] - best[0]
    u = d / max(float(np.hypot(*d)), 1e-9)
    n = np.array([-u[1], u[0]])
    return u, float(best[0] @ n)


def swath_groups(swath_lines: list[np.ndarray], swath_m: float) -> list[list[np.ndarray]]:
    """The straight swaths by heading and, within a heading, by the lattice their lines lie on, most
    metres first: one group for a plan flown at one heading on one set of lines; one per part for a
    plan whose parts have their own headings (planner/part_headings.py); one per set of lines where
    stacks of plots have lines of their own (planner/anchoring.py: the Đại Từ paddies' columns), so
    that every group's cells lie along its own swaths, a swath wide."""
    straight = [c for c in swath_lines if len(c) == 2]
    if not straight:  # laps only
        return [swath_lines]
    by_heading: list[tuple[float, list[np.ndarray]]] = []
    for c in straight:
        h = float(heading_deg(c[1] - c[0]))
        for g, members in by_heading:
            if apart(h, g) <= SAME_HEADING_DEG:
                members.append(c)
                break
        else:
            by_heading.append((h, [c]))
    groups: list[list[np.ndarray]] = []
    for _, members in by_heading:
        u, v_ref = direction(members)
        stack = stacks(tuple(shapely.LineString(c) for c in members), Rotation(math.atan2(u[1], u[0]), (0.0, 0.0)))
        # each stack's lattice: where its longest line lies across the swaths, against the longest of all
        n = np.array([-u[1], u[0]])
        lattices: list[tuple[float, list[np.ndarray]]] = []
        for k in range(int(stack.max()) + 1):
            mine = [c for c, j in zip(members, stack) if j == k]
            longest = max(mine, key=lambda c: float(np.hypot(*(c[1] - c[0]))))
            shift = (float(longest[0] @ n) - v_ref) % swath_m
            for lattice, lines in lattices:
                apart_m = abs(lattice - shift)
                if min(apart_m, swath_m - apart_m) <= SAME_LATTICE_M:
                    lines.extend(mine)
                    break
            else:
                lattices.append((shift, mine))
        groups.extend(lines for _, lines in lattices)
    return sorted(groups, key=lambda m: -sum(float(np.hypot(*(c[1] - c[0]))) for c in m))
