"""Why a dose-map cell is off the target: what the record can say of a cell more than 15 % off.

An agronomist reading a dose map wants to tell the misses of the flight from the ones the job
had to make, and the record knows three of the latter from the plan and the flown track alone:

- "overlap": the plan itself sprays part of the cell twice (an edge lap meeting a slanted swath,
  a last band folded back, the inside of a lap's sharp corner), and the cell is over the dose by
  no more than that share plus the 15 % band: what the plan sprays twice explains the excess, not
  a flight that sprayed more again;
- "gap": the plan itself leaves part of the cell unsprayed (a wedge between a slanted edge lap and
  the swath beside it, a corner a flat swath end cannot reach, the outside of a lap's sharp corner),
  and the cell is under the dose by no more than that share plus the band: the plan's gaps explain
  the shortfall, not a flight that missed more;
- "switch": the pump stopped and started again inside the cell in the middle of a swath, away
  from the ends the plan gives it: a sortie that ended at its breakpoint and the next one that
  resumed there, a failsafe resume, a hold for another drone. The copter brakes to a stop and
  sets off again there, and the pump's switching lag leaves a dip or a double strip.

"overlap" and "gap" are measured on the plan's legs cut at their corners, as the deposits are laid
(deposits.py): a lap that turns sharply sprays the inside of its corner with both legs and the
outside with neither (the pump follows the copter's speed, which falls to nothing there), where one
round-cornered footprint of the whole lap (planner/metrics.py, the plan's coverage figure) counts
each once.

Any other cell off the target is left unexplained: that is a miss of the flight to look at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.metrics import footprints, overlap_area

if TYPE_CHECKING:
    from telemetry.records.dosemap import DoseMap

SAME_POINT_M = 0.01  # two legs of one swath meeting here: a planned breakpoint, not an end
REASONS = ("overlap", "gap", "switch")


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every point of `a` against every point of `b` (metres), a (len(a), len(b)) matrix."""
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


def swath_ends(lines: list[np.ndarray], numbers: list[int]) -> np.ndarray:
    """Where the plan's swaths begin and end (an edge lap where it starts): every end of a swath
    leg but those where two legs of the same swath meet (the breakpoint between two sorties)."""
    if not lines:
        return np.zeros((0, 2))
    pts = np.array([line[k] for line in lines for k in (0, -1)], float)
    swath = np.repeat(np.asarray(numbers), 2)
    leg = np.repeat(np.arange(len(lines)), 2)
    near = _distances(pts, pts) < SAME_POINT_M
    shared = (near & (swath[:, None] == swath[None, :]) & (leg[:, None] != leg[None, :])).any(axis=1)
    return pts[~shared]


def mid_swath_switches(switches: np.ndarray, ends: np.ndarray, swath_m: float) -> np.ndarray:
    """The pump's switch points (local metres) farther than a swath from every planned swath end."""
    switches = np.asarray(switches, float).reshape(-1, 2)
    if len(switches) == 0 or len(ends) == 0:
        return switches
    return switches[_distances(switches, ends).min(axis=1) > swath_m]


def _stretches(lines: list[np.ndarray]) -> list[np.ndarray]:
    """Every straight stretch of the lines (a lap cut at its corners)."""
    return [line[k : k + 2] for line in lines for k in range(len(line) - 1)]


def explain(
    dmap: DoseMap,
    lines: list[np.ndarray],
    numbers: list[int],
    switches: np.ndarray,
    band_pct: float,
    sprayable: BaseGeometry,
    swath_m: float | None = None,
) -> dict[tuple[int, int, int], str]:
    """(grid, band, index) -> reason, for the cells more than `band_pct` off the target that have one.

    The plan's footprints are `swath_m` wide (the cells' width, the line spacing, when None). Lines
    laid closer than the swath spray each footprint at spacing / swath of the dose, so a cell the
    plan covers (1 + twice - gap) times over gets spacing / swath of that."""
    w = dmap.width_m
    thin = w / swath_m if swath_m else 1.0
    feet = footprints(_stretches(lines), swath_m or w)
    planned_twice = overlap_area(feet)
    unsprayed = shapely.difference(sprayable, shapely.union_all(feet))
    shapely.prepare(planned_twice)
    shapely.prepare(unsprayed)
    at = mid_swath_switches(switches, swath_ends(lines, numbers), w)
    points = shapely.points(at) if len(at) else None
    out: dict[tuple[int, int, int], str] = {}
    dev = dmap.deviations_pct()
    for cell, d in zip(dmap.cells, dev):
        if abs(d) <= band_pct:
            continue
        ring = shapely.Polygon(dmap.ring(cell))
        share = 100.0 / max(cell.sprayable_m2, 1e-9)
        twice = share * shapely.intersection(ring, planned_twice).area if d > 0 else 0.0
        gap = share * shapely.intersection(ring, unsprayed).area if d < 0 else 0.0
        twice_pct = 100.0 * thin * (1.0 + twice / 100.0) - 100.0  # what the plan puts over the dose
        gap_pct = 100.0 - 100.0 * thin * (1.0 - gap / 100.0)  # and under it
        if d > 0 and twice > 0 and d - twice_pct <= band_pct:
            out[(cell.grid, cell.band, cell.index)] = "overlap"
        elif d < 0 and gap > 0 and -d - gap_pct <= band_pct:
            out[(cell.grid, cell.band, cell.index)] = "gap"
        elif points is not None and shapely.intersects(ring.buffer(w / 2), points).any():
            out[(cell.grid, cell.band, cell.index)] = "switch"
    return out
