"""Lap corners as ArduCopter flies them: each sharp corner of an edge lap is told to the copter
a little early, so its swing out of the turn lands it on the lap's line.

Out of a sharp corner ArduCopter's copter carries on along the old heading before it turns
(its velocity integral still holds the lean the old heading needed against drag, as at a
swath's end: planner/dose.py), then takes some 20 m to settle back on the line. Measured on
ArduCopter 4.7 SITL at 5 m/s, after a leg of 20 m or more: 0.40-0.44 m outside the line 1-4 m
past a 66-94° corner, 0.3 m past a 45-51° one, 0.1 m past a 15-20° one (tea hill,
nl_field_188), 0.46 m past a 96° corner of Cổ Lũng's lap, which swung its spray 0.45 m into
the canal's buffer. After a shorter leg the copter is slower at the corner and swings out
less: 0.15 m past 91-100° corners after 6-9 m, 0.19 m past a 55° one after 10 m. Flown as
planned, the lap's footprint leaves a strip unsprayed on the inside of the turn (beside a
hole: 11 m² round the tea hill's) and sprays outside the field or into a buffer on the outside.

So the plan keeps the lap where it should be sprayed, and the mission moves the corner's
waypoint back along the leg before it, SWING_M after a leg of FULL_SWING_LEG_M or more and in
proportion after a shorter one (the lateral offset that gives is SWING_M times the sine of the
turn, as measured), and adds one SETTLE_M along the next leg, where the copter is back on the
line (as the pump-off waypoint sits the copter's overrun short of a swath's end). Beside a
buffer on the outside of the turn it is moved OVERSHOOT_M, whatever the leg before: the most
it swung out, and no spray in the buffer if it swings less.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import unit_vector
from planner.headlands import SHARP_CORNER_DEG

SWING_M = 0.42
FULL_SWING_LEG_M = 20.0
OVERSHOOT_M = 0.5
SETTLE_M = 20.0
# A corner before a leg beside a keep-out zone on the outside of the turn is moved from
# OVERSHOOT_TURN_DEG: on the tea hill a 17° bend of the lap beside the stream's buffer brought the
# spray within 2 mm of the buffer on SITL, and 3 cm into it on the simulator. Every other corner
# from a sharp corner's SHARP_CORNER_DEG: a gentler bend swings out little and cuts its corner
# more (0.2-0.4 m inside in its first metre at 10-17°).
OVERSHOOT_TURN_DEG = 15.0


def _side(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def _pull_back_m(
    prev: np.ndarray, here: np.ndarray, nxt: np.ndarray, width: float, keepout: BaseGeometry | None
) -> float:
    """How far back along the leg before it the corner at `here` is told (0: where it is). With a
    zone beside the next leg on the outside of the turn, OVERSHOOT_M from OVERSHOOT_TURN_DEG; on
    the inside never (a copter that swung out less than ArduCopter's would spray it); with none,
    SWING_M (less after a short leg) from SHARP_CORNER_DEG."""
    u_in, u_out = unit_vector(here - prev), unit_vector(nxt - here)
    if u_in is None or u_out is None:
        return 0.0
    turn = _side(u_in, u_out)
    bend = abs(float(np.degrees(np.arctan2(turn, float(u_in @ u_out)))))
    leg_in = float(np.hypot(*(here - prev)))
    if bend < OVERSHOOT_TURN_DEG:
        return 0.0
    if keepout is not None and not keepout.is_empty:
        probe = here + u_out * min(2.0, float(np.hypot(*(nxt - here))) / 2.0)
        to_zone = np.asarray(shapely.shortest_line(shapely.Point(probe), keepout).coords)[-1] - probe
        if float(np.hypot(*to_zone)) <= width / 2.0 + OVERSHOOT_M + 0.2:
            return min(OVERSHOOT_M, leg_in / 2.0) if _side(u_out, to_zone) * turn < 0 else 0.0
    if bend < SHARP_CORNER_DEG:
        return 0.0
    return min(SWING_M * min(1.0, leg_in / FULL_SWING_LEG_M), leg_in / 2.0)


def swing_compensated(coords: np.ndarray, width: float, keepout: BaseGeometry | None) -> tuple[np.ndarray, np.ndarray]:
    """The waypoints (local metres) that fly a lap's leg `coords` onto its line, and where each
    lies along `coords` (segment index + fraction, to interpolate altitudes by)."""
    pts = np.asarray(coords, dtype=float)
    out, at = [pts[0]], [0.0]
    for k in range(1, len(pts) - 1):
        prev, here, nxt = pts[k - 1], pts[k], pts[k + 1]
        back = _pull_back_m(prev, here, nxt, width, keepout)
        if back <= 0.0:
            out.append(here)
            at.append(float(k))
            continue
        leg_in, leg_out = float(np.hypot(*(here - prev))), float(np.hypot(*(nxt - here)))
        out.append(here + (prev - here) * (back / leg_in))
        at.append(k - back / leg_in)
        if leg_out > 1.5 * SETTLE_M:
            out.append(here + (nxt - here) * (SETTLE_M / leg_out))
            at.append(k + SETTLE_M / leg_out)
    out.append(pts[-1])
    at.append(float(len(pts) - 1))
    return np.asarray(out), np.asarray(at)
