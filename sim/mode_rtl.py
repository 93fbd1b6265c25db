"""RTL (ArduCopter mode_rtl.cpp): climb to RTL_ALT, fly home, loiter RTL_LOIT_TIME, land.

The sequence is its own object because AUTO flies it too, for a NAV_RETURN_TO_LAUNCH item,
as ModeAuto does by running ModeRTL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim import modes as M

if TYPE_CHECKING:
    from sim.vehicle import Copter


class RTLSequence:
    """The phases after the start: climb, return (a WPNav leg home), loiter, then land, or
    hover at RTL_ALT_FINAL (final) when that is set; done once the copter disarmed on landing."""

    def __init__(self, copter: Copter, phase: str, alt: float = 0.0) -> None:
        self.copter = copter
        self.phase = phase
        self.alt = alt  # the return altitude above the ground
        self.loiter_until = 0.0

    @classmethod
    def start(cls, copter: Copter) -> RTLSequence:
        """ModeRTL::init: climb from here (on the ground there is nothing but to land or stay)."""
        c = copter
        m = c.motion
        p = c.p
        m.nav_on = False
        c.disarm_on_land = True
        if m.landed:
            m.release()
            return cls(c, "done" if not c.armed else "land")
        rtl_alt = p["RTL_ALT"] / 100.0
        climb_min = p["RTL_CLIMB_MIN"] / 100.0
        seq = cls(c, "climb", max(c.relative_to_ground(rtl_alt), m.alt + climb_min, m.alt))
        m.target = (m.n, m.e)
        m.target_alt = seq.alt
        rtl_speed = p["RTL_SPEED"]
        m.speed_m_s = (rtl_speed if rtl_speed > 0 else p["WPNAV_SPEED"]) / 100.0
        return seq

    def update(self) -> None:
        c = self.copter
        m = c.motion
        phase = self.phase
        if phase == "climb":
            if m.alt >= self.alt - 0.5:
                home = c.home or (0.0, 0.0, c.origin_alt)
                self.phase = "return"
                m.target = (home[0], home[1])
                m.target_alt = self.alt
                m.nav_on = False
                m.fly_leg((home[0], home[1], self.alt), None)
        elif phase == "return":
            if m.nav.reached or not m.nav_on:
                m.nav_on = False
                self.phase = "loiter"
                self.loiter_until = c.t + c.p["RTL_LOIT_TIME"] / 1000.0
        elif phase == "loiter":
            if c.t >= self.loiter_until:
                final = c.p["RTL_ALT_FINAL"] / 100.0
                if final > 0:
                    self.phase = "final"
                    m.target_alt = c.relative_to_ground(final)
                else:
                    self.phase = "land"
                    m.descending = True
                    m.target_alt = None

    def finish(self) -> None:
        """Landed and disarmed."""
        self.phase = "done"


class ModeRTL(M.Mode):
    number = M.RTL

    def enter(self) -> None:
        self.copter.sequence = RTLSequence.start(self.copter)
