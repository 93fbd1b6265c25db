"""Arming checks and the automatic disarm, as AP_Arming_Copter and ArduCopter's motors.cpp do them.

Kept apart from the vehicle so the pre-arm rules (worded as ArduPilot words them, since ground
stations and the fly command show them to the operator) are read in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim import modes as M

if TYPE_CHECKING:
    from sim.vehicle import Copter

PREARM_REPORT_S = 30.0  # a disarmed copter repeats its first failing pre-arm check this often
LAND_DETECT_S = 1.0  # ArduCopter land_detector.cpp: LAND_DETECTOR_TRIGGER_SEC


class Arming:
    """Why the copter may not arm, and when it disarms by itself on the ground."""

    def __init__(self, copter: Copter) -> None:
        self.copter = copter
        self.landed_since: float | None = None  # armed and on the ground since (sim s)
        self._last_prearm_report = -PREARM_REPORT_S

    def prearm_failure(self, mode: int | None = None) -> str | None:
        """The first failing pre-arm check as ArduPilot words it, or None."""
        c = self.copter
        mode = c.mode if mode is None else mode
        if int(c.p["ARMING_CHECK"]) != 0:
            if not c.ekf_ok:
                return "PreArm: Need Position Estimate"
            if not c.failsafes.gps_ok and mode in M.REQUIRES_POSITION:
                return "PreArm: GPS 1: Bad fix"
            if c.failsafes.batt_low or c.failsafes.batt_crit:
                return "PreArm: Battery 1 low voltage failsafe"
            arm_volt = c.p["BATT_ARM_VOLT"]
            if arm_volt > 0 and c.battery.resting_voltage() < arm_volt:
                return "PreArm: Battery 1 below minimum arming voltage"
        return None

    def arm_failure(self, force: bool) -> str | None:
        """Why COMPONENT_ARM_DISARM is refused now (a forced arm skips the pre-arm checks but
        not the mode, nor the position a position mode needs), or None."""
        c = self.copter
        if not c.flightmode.allows_arming():
            return "Arm: Mode not armable"
        if not force:
            return self.prearm_failure()
        if not c.ekf_ok and c.flightmode.requires_position:
            return "Arm: Need Position Estimate"
        return None

    def report_prearm(self) -> str | None:
        """While disarmed, the first failing check every PREARM_REPORT_S (as ArduPilot nags)."""
        c = self.copter
        if not c.armed and c.t - self._last_prearm_report >= PREARM_REPORT_S:
            self._last_prearm_report = c.t
            return self.prearm_failure()
        return None

    def auto_disarm(self) -> None:
        """After a landing descent, disarm LAND_DETECT_S after touchdown; armed on the ground
        without taking off, disarm after DISARM_DELAY."""
        c = self.copter
        if not c.armed:
            return
        m = c.motion
        if m.landed:
            if (
                c.disarm_on_land
                and self.landed_since is not None
                and m.descending
                and c.t - self.landed_since >= LAND_DETECT_S
            ):
                c.disarm("Disarming motors")
                m.descending = False
                if c.sequence is not None:
                    c.sequence.finish()
                return
            taking_off = m.target_alt is not None and m.target_alt > m.alt + 0.2 and c.flightmode.may_take_off()
            if taking_off:
                self.landed_since = c.t
            elif self.landed_since is not None:
                delay = c.p["DISARM_DELAY"]
                if delay > 0 and c.t - self.landed_since >= delay:
                    c.disarm("Disarming motors")
