"""The spray payload on the copter: AC_Sprayer's pump output and what SIM_Sprayer lets out of the tank.

sim/sprayer.py holds the two models; this is their place on the vehicle, updated once a tick
after the copter moved (the pump follows ground speed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config import SimConfig
from sim.events import SEV_WARNING
from sim.sprayer import Sprayer, Tank

if TYPE_CHECKING:
    from sim.vehicle import Copter


class Payload:
    """Sprayer, tank and the flow this tick."""

    def __init__(self, copter: Copter, cfg: SimConfig) -> None:
        self.copter = copter
        self.sprayer = Sprayer()
        self.tank = Tank(cfg.tank_l, cfg.tank_fill_l)
        self.pump_demand = 0.0  # AC_Sprayer output, 0..10000
        self.flow_l_min = 0.0  # what really left the tank this tick
        self.tank_empty_reported = False

    def refill(self, capacity_l: float | None = None) -> None:
        self.tank.refill(capacity_l)
        self.tank_empty_reported = False

    def update(self, dt: float) -> None:
        # AC_Sprayer does not look at the flight mode: after a failsafe RTL the pump goes on
        # following ground speed until DO_SPRAYER 0, SPRAY_ENABLE 0 or the disarm (as SITL does)
        c = self.copter
        p = c.p
        allowed = bool(int(p["SPRAY_ENABLE"])) and c.armed and c.flying
        self.pump_demand = self.sprayer.update(
            c.t,
            allowed=allowed,
            ground_speed_m_s=c.motion.ground_speed(),
            pump_rate_pct=p["SPRAY_PUMP_RATE"],
            speed_min_cm_s=p["SPRAY_SPEED_MIN"],
            pump_min_pct=p["SPRAY_PUMP_MIN"],
        )
        self.flow_l_min = 0.0
        if int(p["SIM_SPR_ENABLE"]):
            ch = int(p["SIM_SPR_PUMP"])
            pwm = c.servos.pwm(ch) if 1 <= ch <= 16 else 0
            self.flow_l_min = self.tank.drain(pwm, p["SIM_SPR_QMAX"], dt)
            if self.tank.litres <= 0.0 and not self.tank_empty_reported:
                self.tank_empty_reported = True
                c.say(SEV_WARNING, "Sprayer: tank empty")
