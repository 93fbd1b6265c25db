"""Why a dose-map cell is off the target: what the record can say of a cell more than 15 % off.

An agronomist reading a dose map wants to tell the misses of the flight from the ones the job
had to make, and the record knows two of the latter from the plan and the flown track alone:

- "overlap": the plan itself sprays part of the cell twice (an edge lap meeting a slanted swath,
  a last band folded back), measured with the footprint geometry the plan and the record share
  (planner/metrics.py), and the cell is over the dose by no more than that share plus the 15 %
  band: what the plan sprays twice explains the excess, not a flight that sprayed more again;
- "switch": the pump stopped and started again inside the cell in the middle of a swath, away
  from the ends the plan gives it: a sortie that ended at its breakpoint and the next one that
  resumed there, a failsafe resume, a hold for another drone. The copter brakes to a stop and
  sets off again there, and the pump's switching lag leaves a dip or a double strip.

Any other cell off the target is left unexplained: that is a miss of the flight to look at.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from planner.metrics import footprints, overlap_area

if TYPE_CHECKING:
    from telemetry.records.dosemap import DoseMap

SAME_POINT_M = 0.01  # two legs of one swath meeting here: a planned breakpoint, not an end
REASONS = ("overlap", "switch")


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


def explain(
    dmap: DoseMap,
    lines: list[np.ndarray],
    numbers: list[int],
    switches: np.ndarray,
    band_pct: float,
) -> dict[tuple[int, int, int], str]:
    """(grid, band, index) -> reason, for the cells more than `band_pct` off the target that have one."""
    w = dmap.width_m
    planned_twice = overlap_area(footprints(lines, w))
    shapely.prepare(planned_twice)
    at = mid_swath_switches(switches, swath_ends(lines, numbers), w)
    points = shapely.points(at) if len(at) else None
    out: dict[tuple[int, int, int], str] = {}
    dev = dmap.deviations_pct()
    for cell, d in zip(dmap.cells, dev):
        if abs(d) <= band_pct:
            continue
        ring = shapely.Polygon(dmap.ring(cell))
        twice_pct = 100.0 * shapely.intersection(ring, planned_twice).area / max(cell.sprayable_m2, 1e-9)
        if d > 0 and twice_pct > 0 and d - twice_pct <= band_pct:
            out[(cell.grid, cell.band, cell.index)] = "overlap"
        elif points is not None and shapely.intersects(ring.buffer(w / 2), points).any():
            out[(cell.grid, cell.band, cell.index)] = "switch"
    return out
