"""The copter's outputs (SRV_Channels): what each SERVOn channel carries, by its SERVOn_FUNCTION.

The pump (22) and spinner (23) from the sprayer, the motors (33..40) from arming and climb,
a channel with no function from DO_SET_SERVO, any other its trim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.params import SPRAYER_PUMP_FUNCTION, SPRAYER_SPINNER_FUNCTION
from sim.sprayer import servo_pwm

if TYPE_CHECKING:
    from sim.vehicle import Copter


class Servos:
    """PWM per channel, and the DO_SET_SERVO values of the channels without a function."""

    def __init__(self, copter: Copter) -> None:
        self.copter = copter
        self.override: dict[int, int] = {}

    def set(self, channel: int, pwm: int) -> bool:
        """DO_SET_SERVO: only a channel with SERVOn_FUNCTION 0 may be set by hand."""
        if not 1 <= channel <= 16 or int(self.copter.p[f"SERVO{channel}_FUNCTION"]) != 0:
            return False
        self.override[channel] = pwm
        return True

    def pwm(self, channel: int) -> int:
        c = self.copter
        p = c.p
        function = int(p[f"SERVO{channel}_FUNCTION"])
        lo, hi = p[f"SERVO{channel}_MIN"], p[f"SERVO{channel}_MAX"]
        rev = bool(int(p[f"SERVO{channel}_REVERSED"]))
        if function == SPRAYER_PUMP_FUNCTION:
            return servo_pwm(c.payload.pump_demand, lo, hi, rev)
        if function == SPRAYER_SPINNER_FUNCTION:
            if c.payload.sprayer.spraying:
                return int(p["SPRAY_SPINNER"])
            return int(hi if rev else lo)
        if 33 <= function <= 40:
            if not c.armed:
                return 1000
            if c.motion.landed:
                return 1100
            throttle = 0.5 + 0.1 * c.motion.vz
            return int(1000 + 1000 * min(max(throttle, 0.15), 1.0))
        if function == 0:
            return self.override.get(channel, 0)
        return int(p[f"SERVO{channel}_TRIM"])

    def throttle_pct(self) -> int:
        """VFR_HUD throttle: idle on the ground, about 45 % in a hover, more climbing."""
        c = self.copter
        if not c.armed:
            return 0
        if c.motion.landed:
            return 10
        return int(min(max(45 + 10 * c.motion.vz, 15), 100))
