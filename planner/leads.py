"""Lead-in and run-out: straight pump-off legs before and after every swath.

A copter that turns at the field's edge reaches the swath slow and leaves it braking, so
the pump (which ArduPilot's AC_Sprayer switches on up to 2/3 s late and drives by ground
speed) starts inside the field and runs where the copter slows. Spray-drone makers fly a
few metres straight before and after each swath instead: the copter crosses the edge at
spray speed, on the line, and the pump switches at the edge rather than at a stop
(missions/build.py places DO_SPRAYER 1 `PUMP_ON_LAG_S` early on the lead-in).

Each lead-in and run-out is as long as the copter needs to reach spray speed (with a
margin), shortened or left out where it would cross a keep-out zone, a hole or an
obstacle; the turn between them is the usual safe transit.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.dose import PUMP_ON_LAG_S
from planner.geometry import unit_vector
from planner.transit import TransitPlanner

ACCEL_M_S2 = 2.5  # ArduCopter's WPNAV_ACCEL default (250 cm/s²)
LEAD_MAX_M = 8.0  # stays well inside the geofence, which sits 10 m outside the field
LEAD_MIN_M = 1.0  # shorter is not worth a waypoint


def lead_length(speed_m_s: float) -> float:
    """Metres to reach spray speed from a turn, plus the pump's switch-on lag, capped."""
    need = 1.2 * speed_m_s**2 / (2 * ACCEL_M_S2) + speed_m_s * PUMP_ON_LAG_S
    return round(min(LEAD_MAX_M, need), 1)


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
