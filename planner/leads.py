"""Lead-in and run-out: short straight pump-off legs before and after every swath.

A copter that turns at the field's edge reaches the swath slow and off its line, so the pump
(which ArduPilot's AC_Sprayer switches on up to 2/3 s late and drives by ground speed) would
start wherever the turn happened to leave it. Spray-drone makers fly a few metres straight
before and after each swath instead, and the pump switches at the edge rather than at a stop
(missions/build.py places DO_SPRAYER 1 `pump_on_early_m` before the swath on the lead-in).

How long: not long enough to reach spray speed. Out of the turn's corner ArduCopter's
jerk-limited S-curve crosses the edge at only 2.1-2.3 m/s after 7 m of lead-in (measured on
ArduCopter 4.7 SITL and the simulator), and AC_Sprayer's 1/3 s beat spreads the pump's start
over a third of a second of that speed. After LEAD_M (3 m) the copter crosses at 1.2 m/s: the
pump's start is spread over half the ground (IQR 0.22 against 0.36-0.49 m), the Hà Châu strip's
spray outside the field falls by a quarter, and each turn is 8 m shorter (a tenth of the
flight on a field of short swaths). Lead-ins and run-outs are shortened or left out where they
would cross a keep-out zone, a hole or an obstacle; the turn between them is the usual safe
transit.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.dose import PUMP_ON_LAG_S
from planner.geometry import unit_vector
from planner.swaths import END_WEIGHT
from planner.transit import TransitPlanner

LEAD_M = 3.0  # the lead-in and run-out (above): stays well inside the geofence 10 m outside the field
LEAD_MIN_M = 1.0  # shorter is not worth a waypoint
# The speed the copter crosses a swath's start at after a straight lead-in of L metres out of a
# turn: about EDGE_SPEED_M_S + EDGE_SPEED_PER_M * L (ArduCopter 4.7 SITL and the simulator: 1.2 m/s
# after 3 m, 1.8 after 5 m, 2.1-2.3 after 7 m), never more than the spray speed.
EDGE_SPEED_M_S = 0.45
EDGE_SPEED_PER_M = 0.25
# AC_Sprayer's update runs at 3 Hz: the pump starts at the first beat 0.1 s after DO_SPRAYER 1's beat,
# so its start is spread evenly over one beat (measured on SITL: IQR 0.20-0.22 m at 1.2 m/s).
PUMP_ON_BEAT_S = 1.0 / 3.0


def edge_speed_m_s(lead_m: float, spray_speed_m_s: float) -> float:
    """The speed a copter crosses a swath's start at after a straight lead-in of `lead_m`."""
    return min(spray_speed_m_s, EDGE_SPEED_M_S + EDGE_SPEED_PER_M * max(lead_m, 0.0))


def pump_on_spread_m(lead_m: float, spray_speed_m_s: float) -> float:
    """Over how much ground the pump's start is spread: one AC_Sprayer beat at the edge speed."""
    return edge_speed_m_s(lead_m, spray_speed_m_s) * PUMP_ON_BEAT_S


def pump_on_early_m(lead_m: float, spray_speed_m_s: float, onto_crop: bool = False) -> float:
    """How far before a swath's start DO_SPRAYER 1 runs, after a straight lead-in of `lead_m`: what
    the copter covers at its edge speed in the pump's net lag, so that it starts at the start.

    Where the ground before the start is crop (`onto_crop`: a lap's, inside the field) a pump that
    starts early sprays it twice, and one that starts late leaves crop dry, which weighs END_WEIGHT
    times as much (as where the planner trims swath ends: planner/swaths.py). There it runs earlier,
    so that 1 / (1 + END_WEIGHT) of the starts are late instead of half: a sixth of a beat."""
    lag = PUMP_ON_LAG_S + (PUMP_ON_BEAT_S * (0.5 - 1.0 / (1.0 + END_WEIGHT)) if onto_crop else 0.0)
    return edge_speed_m_s(lead_m, spray_speed_m_s) * lag


class Leads:
    """Lead-in and run-out points for swath polylines, clear of every keep-out zone (and, for
    one drone of a fleet, inside `keep_in`, its own part of the sky: planner/fleet.py)."""

    def __init__(self, transit: TransitPlanner, length_m: float, keep_in: BaseGeometry | None = None) -> None:
        self.transit = transit
        self.length = float(length_m)
        self.keep_in = keep_in
        if keep_in is not None:
            shapely.prepare(keep_in)

    def _along(self, at: np.ndarray, u: np.ndarray | None) -> np.ndarray | None:
        if u is None or self.length < LEAD_MIN_M:
            return None
        for d in (self.length, self.length / 2):
            if d < LEAD_MIN_M:
                break
            p = at + d * u
            if self.keep_in is not None and not shapely.contains_xy(self.keep_in, float(p[0]), float(p[1])):
                continue
            if self.transit.clear(at, p)[0]:
                return p
        return None

    def lead_in(self, swath: np.ndarray) -> np.ndarray | None:
        """The point the copter starts its straight run from, before the swath's first point."""
        return self._along(swath[0], unit_vector(swath[0] - swath[1]))

    def run_out(self, swath: np.ndarray) -> np.ndarray | None:
        """The point the copter runs on to, after the swath's last point."""
        return self._along(swath[-1], unit_vector(swath[-1] - swath[-2]))

    def _clear_path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        path = self.transit.path(a, b)
        return path if bool(self.transit.clear(path[:-1], path[1:]).all()) else None

    def turn(self, done: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """Pump-off path from the end of swath `done` to the start of swath `nxt`."""
        a, b = done[-1], nxt[0]
        r, lead = self.run_out(done), self.lead_in(nxt)
        middle = self._clear_path(r if r is not None else a, lead if lead is not None else b)
        if middle is None:
            return self.transit.path(a, b)
        pts = ([a] if r is not None else []) + list(middle) + ([b] if lead is not None else [])
        return np.vstack(pts)

    def approach(self, start: np.ndarray, nxt: np.ndarray) -> np.ndarray:
        """From a point off the swaths (the reload point) to the start of swath `nxt`."""
        lead = self.lead_in(nxt)
        if lead is not None:
            middle = self._clear_path(start, lead)
            if middle is not None:
                return np.vstack([middle, nxt[:1]])
        return self.transit.path(start, nxt[0])
