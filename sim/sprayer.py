"""AC_Sprayer (the flight controller's pump output) and SIM_Sprayer's tank (what really flows)."""

from __future__ import annotations

import math

TURN_ON_DELAY_S = 0.1  # AC_SPRAYER_DEFAULT_TURN_ON_DELAY
SHUT_OFF_DELAY_S = 1.0  # AC_SPRAYER_DEFAULT_SHUT_OFF_DELAY
# Copter schedules AC_Sprayer::update at 3 Hz (ArduCopter/Copter.cpp): the pump output is a
# step function of ground speed, and switching on takes two updates (the 0.1 s on-delay
# is only checked at the next one), so the pump starts 1/3 to 2/3 s after DO_SPRAYER 1.
# The updates run on the scheduler's own beat, whatever the mission does: DO_SPRAYER 1 only
# sets a flag (AC_Sprayer::run). Measured on ArduCopter 4.7 SITL (Cổ Lũng, 95 swath starts),
# the pump came on 0.28 to 0.82 s after the start waypoint was reached, 0.51 s on average.
UPDATE_HZ = 3.0


class Sprayer:
    """Pump output in 0..10000 (AC_Sprayer's servo range): SPRAY_PUMP_RATE % per m/s of ground speed.

    `running` is what DO_SPRAYER sets; the output is forced off (and the timers reset) when the
    copter may not spray: sprayer disabled, not armed or not flying (any flight mode, as in
    ArduCopter: a failsafe RTL does not stop it).
    """

    def __init__(self) -> None:
        self.running = False
        self.spraying = False
        self._over_since: float | None = None
        self._under_since: float | None = None
        self._next_update = 0.0
        self._output = 0.0

    def update(
        self,
        t: float,
        *,
        allowed: bool,
        ground_speed_m_s: float,
        pump_rate_pct: float,
        speed_min_cm_s: float,
        pump_min_pct: float,
    ) -> float:
        """Return the pump demand 0..10000 at sim time t (called every tick)."""
        beat = t >= self._next_update
        if beat:
            self._next_update = (math.floor(t * UPDATE_HZ + 1e-6) + 1) / UPDATE_HZ
        if not (allowed and self.running):  # AC_Sprayer::run(false) stops the pump at once
            self.spraying = False
            self._over_since = self._under_since = None
            self._output = 0.0
            return 0.0
        if not beat:
            return self._output
        self._output = self._compute(t, ground_speed_m_s, pump_rate_pct, speed_min_cm_s, pump_min_pct)
        return self._output

    def _compute(
        self, t: float, ground_speed_m_s: float, pump_rate_pct: float, speed_min_cm_s: float, pump_min_pct: float
    ) -> float:
        """One AC_Sprayer::update."""
        speed_cm_s = ground_speed_m_s * 100.0
        should = self.spraying
        if speed_cm_s >= speed_min_cm_s:
            if not self.spraying:
                if self._over_since is None:
                    self._over_since = t
                elif t - self._over_since > TURN_ON_DELAY_S:
                    should = True
                    self._over_since = None
            self._under_since = None
        else:
            if self.spraying:
                if self._under_since is None:
                    self._under_since = t
                elif t - self._under_since > SHUT_OFF_DELAY_S:
                    should = False
                    self._under_since = None
            self._over_since = None
        self.spraying = should
        if not should:
            return 0.0
        pos = speed_cm_s * pump_rate_pct
        pos = max(pos, 100.0 * pump_min_pct)
        return min(pos, 10000.0)


def servo_pwm(demand: float, pwm_min: float, pwm_max: float, reversed_: bool) -> int:
    """SRV_Channel::move_servo for a 0..10000 range (off = the MIN end)."""
    frac = demand / 10000.0
    if reversed_:
        frac = 1.0 - frac
    return int(round(pwm_min + (pwm_max - pwm_min) * frac))


class Tank:
    """The liquid: SIM_Sprayer reads the pump PWM on a 1000..2000 us scale, flow = that x Q_max."""

    def __init__(self, capacity_l: float, fill_l: float | None = None) -> None:
        self.capacity_l = capacity_l
        self.litres = capacity_l if fill_l is None else fill_l
        self.sprayed_l = 0.0

    @staticmethod
    def flow_fraction(pwm: int) -> float:
        return min(max((pwm - 1000) * 0.001, 0.0), 1.0)

    def drain(self, pwm: int, q_max_l_min: float, dt: float) -> float:
        """Let the pump run for dt seconds; return the flow in L/min that really left the tank."""
        if self.litres <= 0.0:
            return 0.0
        flow = self.flow_fraction(pwm) * q_max_l_min
        litres = min(flow * dt / 60.0, self.litres)
        self.litres -= litres
        self.sprayed_l += litres
        return flow if litres > 0 else 0.0

    def refill(self, capacity_l: float | None = None) -> None:
        if capacity_l is not None:
            self.capacity_l = capacity_l
        self.litres = self.capacity_l
