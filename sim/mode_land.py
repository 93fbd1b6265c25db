"""LAND (ArduCopter mode_land.cpp), and the landing AUTO's NAV_LAND item flies.

LAND descends where the copter is at LAND_SPEED_HIGH (or WPNAV_SPEED_DN), then LAND_SPEED
below LAND_ALT_LOW; the land detector disarms it (sim/arming.py). A NAV_LAND with a position
first flies there at the current altitude (ModeAuto's land FlyToLocation), then descends.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim import modes as M

if TYPE_CHECKING:
    from sim.vehicle import Copter

APPROACH_RADIUS_M = 1.0  # close enough to the landing point to start descending


def land_start(copter: Copter, where: tuple[float, float] | None) -> None:
    """Land here (where None) or fly to `where` (north, east) first."""
    m = copter.motion
    m.nav_on = False
    copter.disarm_on_land = True
    if where is None:
        m.target = (m.n, m.e) if not m.landed else None
        m.descending = True
        m.target_alt = None
    else:
        m.target = where
        m.target_alt = m.alt
        m.descending = False
        copter.sequence = LandApproach(copter)


class LandApproach:
    """Flying to the landing point ("approach"), then descending ("land"); "done" once disarmed."""

    def __init__(self, copter: Copter) -> None:
        self.copter = copter
        self.phase = "approach"

    def update(self) -> None:
        m = self.copter.motion
        if self.phase == "approach":
            if m.target and math.hypot(m.target[0] - m.n, m.target[1] - m.e) < APPROACH_RADIUS_M:
                self.phase = "land"
                m.descending = True
                m.target_alt = None

    def finish(self) -> None:
        self.phase = "done"


class ModeLand(M.Mode):
    number = M.LAND

    def enter(self) -> None:
        land_start(self.copter, None)
