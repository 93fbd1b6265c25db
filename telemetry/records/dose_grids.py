"""Which grid of dose cells each swath's ground is cut on (dosemap.py).

Cells lie along the swaths, a swath wide, so a grid follows a set of swath lines: one heading,
and lines a whole number of swath widths apart. A plan flown at one heading on one set of lines
has one grid; a plan whose parts have headings of their own (planner/part_headings.py) has one
per part; and where stacks of plots have lines of their own (planner/anchoring.py: the Đại Từ
paddies' three columns, each from its own lower edge), each set of lines has its own. One grid
for the paddies' columns put two of the three astride two swaths: a 3 m stop of the pump in the
middle of a swath was spread over two cells, neither 15 % under. In a job of several plots each
plot's lines are a set of their own, with their own spacing (planner/swaths.py fits them to it):
cells the plan's mean spacing wide drifted off the paddies' lines by up to 1.8 m across a plot.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.anchoring import stacks
from planner.geometry import Rotation, apart, heading_deg

# Swaths this close in heading share a grid of cells. The plan document keeps coordinates to 1e-7°
# (1.1 cm): one heading's 42 m swaths (the Đại Từ paddies') read back 0.02° apart, and at 0.01°
# one plot's lines fell into two grids. Parts at headings of their own lie 0.15° apart or more.
SAME_HEADING_DEG = 0.05
SAME_LATTICE_M = 0.05  # ... and, stack by stack, lines this close to one lattice of swath widths


def direction(swath_lines: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Unit vector along the longest straight swath and the offset of a band edge across it."""
    straight = [c for c in swath_lines if len(c) == 2] or swath_lines
    best = max(straight, key=lambda c: float(np.hypot(*(c[-1] - c[0]))))
    d = best[-1] - best[0]
    u = d / max(float(np.hypot(*d)), 1e-9)
    n = np.array([-u[1], u[0]])
    return u, float(best[0] @ n)


def line_spacing(lines: list[np.ndarray], n: np.ndarray, default: float) -> float:
    """How far apart `lines` lie across the swaths (`n`): the slope of their distinct offsets
    against their count of steps from the first (the median step apart), fitted over them all, as
    the document's coordinates are rounded to a centimetre; `default` for fewer than two, or a step
    that is no line spacing."""
    offsets = np.sort([float((c[0] + c[-1]) @ n) / 2.0 for c in lines])
    cuts = np.flatnonzero(np.diff(offsets) > 0.25 * default) + 1
    centres = np.array([float(g.mean()) for g in np.split(offsets, cuts)])
    if len(centres) < 2:
        return default
    steps = np.round((centres - centres[0]) / float(np.median(np.diff(centres))))
    step = float(np.polyfit(steps, centres, 1)[0])
    return step if 0.5 * default <= step <= 1.2 * default else default


def swath_groups(
    swath_lines: list[np.ndarray], swath_m: float, plots: tuple[BaseGeometry, ...] = ()
) -> list[tuple[list[np.ndarray], float]]:
    """The straight swaths by heading and, within a heading, by the lattice their lines lie on, most
    metres first, each with its line spacing: one group for a plan flown at one heading on one set
    of lines; one per part for a plan whose parts have their own headings (planner/part_headings.py);
    one per set of lines where stacks of plots have lines of their own (planner/anchoring.py), so
    that every group's cells lie along its own swaths, a line spacing wide (`swath_m`).

    With the `plots` of a job of several plots, each plot's lines are a group of their own, as wide
    apart as they lie: the planner draws each plot's lines closer to fit it (planner/swaths.py), so
    one plot's lines are not on another's lattice, nor the plan's mean spacing apart."""
    straight = [c for c in swath_lines if len(c) == 2]
    if not straight:  # laps only
        return [(swath_lines, swath_m)]
    by_heading: list[tuple[float, list[np.ndarray]]] = []
    for c in straight:
        h = float(heading_deg(c[1] - c[0]))
        for g, members in by_heading:
            if apart(h, g) <= SAME_HEADING_DEG:
                members.append(c)
                break
        else:
            by_heading.append((h, [c]))
    sets: list[list[np.ndarray]] = []
    for _, members in by_heading:
        if len(plots) > 1:  # each plot's lines on their own
            mids = shapely.points([(c[0] + c[1]) / 2.0 for c in members])
            plot = shapely.STRtree(list(plots)).query_nearest(mids, all_matches=False)[1]
            sets.extend([c for c, k in zip(members, plot) if k == j] for j in np.unique(plot))
        else:
            sets.append(members)
    groups: list[tuple[list[np.ndarray], float]] = []
    for members in sets:
        u, v_ref = direction(members)
        n = np.array([-u[1], u[0]])
        step = line_spacing(members, n, swath_m) if len(plots) > 1 else swath_m
        stack = stacks(tuple(shapely.LineString(c) for c in members), Rotation(math.atan2(u[1], u[0]), (0.0, 0.0)))
        # each stack's lattice: where its longest line lies across the swaths, against the longest of all
        lattices: list[tuple[float, list[np.ndarray]]] = []
        for k in range(int(stack.max()) + 1):
            mine = [c for c, j in zip(members, stack) if j == k]
            longest = max(mine, key=lambda c: float(np.hypot(*(c[1] - c[0]))))
            shift = (float(longest[0] @ n) - v_ref) % step
            for lattice, lines in lattices:
                apart_m = abs(lattice - shift)
                if min(apart_m, step - apart_m) <= SAME_LATTICE_M:
                    lines.extend(mine)
                    break
            else:
                lattices.append((shift, mine))
        groups.extend((lines, step) for _, lines in lattices)
    return sorted(groups, key=lambda m: -sum(float(np.hypot(*(c[1] - c[0]))) for c in m[0]))
