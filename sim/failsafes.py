"""The vehicle failsafes: GPS loss and the EKF failsafe, low and critical battery, injected faults.

As ArduCopter's events.cpp / ekf_check.cpp / AP_BattMonitor: checked once a tick before the
copter moves, each acting through the copter's own mode changes and disarm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim import modes as M
from sim.events import SEV_CRITICAL, SEV_INFO, SEV_WARNING
from sim.params import ParamStore

if TYPE_CHECKING:
    from sim.vehicle import Copter

EKF_FAILSAFE_S = 1.0  # a position mode without GPS this long: the EKF failsafe


class _BatteryLevel:
    """One battery threshold (low or critical): by remaining mAh at once, by resting voltage
    once it has stayed under the limit for BATT_LOW_TIMER."""

    def __init__(self, volt_param: str, mah_param: str) -> None:
        self.volt_param, self.mah_param = volt_param, mah_param
        self.since: float | None = None

    def reached(self, p: ParamStore, t: float, rest_v: float, remaining_mah: float) -> bool:
        v, mah = p[self.volt_param], p[self.mah_param]
        by_mah = mah > 0 and remaining_mah < mah
        if v > 0 and rest_v < v:
            if self.since is None:
                self.since = t
            by_volt = t - self.since >= p["BATT_LOW_TIMER"]
        else:
            self.since = None
            by_volt = False
        return by_mah or by_volt


class Failsafes:
    """Failsafe state (what the pre-arm checks and the telemetry report) and its update."""

    def __init__(self, copter: Copter) -> None:
        self.copter = copter
        self.gps_ok = True
        self.ekf_failsafe = False
        self.batt_low = self.batt_crit = False
        self._gps_lost_since: float | None = None
        self._low = _BatteryLevel("BATT_LOW_VOLT", "BATT_LOW_MAH")
        self._crit = _BatteryLevel("BATT_CRT_VOLT", "BATT_CRT_MAH")

    def clear_battery(self) -> None:
        """A charged pack (or a monitor reset): the battery failsafe is cleared."""
        self.batt_low = self.batt_crit = False
        self._low.since = self._crit.since = None

    def update(self) -> None:
        self._gps()
        c = self.copter
        f = c.cfg.faults
        if f.battery_failure_at_s is not None and c.t >= f.battery_failure_at_s and not c.battery.failed_cell:
            c.battery.failed_cell = True
            c.say(SEV_CRITICAL, "Battery 1: cell failure")
        self._battery()

    def _gps(self) -> None:
        """SIM_GPS_DISABLE or the gps_loss fault window; LAND (FS_EKF_ACTION 1 or 3) after
        EKF_FAILSAFE_S without a fix, flying in a position mode."""
        c = self.copter
        f = c.cfg.faults
        gps_disabled = bool(int(c.p["SIM_GPS_DISABLE"]))
        fault_window = (
            f.gps_loss_at_s is not None
            and c.t >= f.gps_loss_at_s
            and (f.gps_loss_s == 0 or c.t < f.gps_loss_at_s + f.gps_loss_s)
        )
        gps_ok = not (gps_disabled or fault_window)
        if gps_ok != self.gps_ok:
            self.gps_ok = gps_ok
            c.say(SEV_WARNING if not gps_ok else SEV_INFO, "GPS 1: lost fix" if not gps_ok else "GPS 1: fix restored")
            self._gps_lost_since = None if gps_ok else c.t
            if gps_ok:
                self.ekf_failsafe = False
        if (
            not self.gps_ok
            and not self.ekf_failsafe
            and self._gps_lost_since is not None
            and c.t - self._gps_lost_since > EKF_FAILSAFE_S
            and c.armed
            and c.flying
            and c.flightmode.requires_position
        ):
            self.ekf_failsafe = True
            if int(c.p["FS_EKF_ACTION"]) in (1, 3):
                c.set_mode(M.LAND, failsafe=True)
                c.say(SEV_CRITICAL, "EKF Failsafe: changed to LAND Mode")

    def _battery(self) -> None:
        c = self.copter
        b = c.battery
        rest = b.resting_voltage()
        remaining = b.capacity_mah - b.used_mah
        if not self.batt_crit and self._crit.reached(c.p, c.t, rest, remaining):
            self.batt_crit = self.batt_low = True
            c.say(SEV_CRITICAL, f"Battery 1 is critical {rest:.2f}V used {b.used_mah:.0f} mAh")
            self._battery_action(int(c.p["BATT_FS_CRT_ACT"]))
        elif not self.batt_low and self._low.reached(c.p, c.t, rest, remaining):
            self.batt_low = True
            c.say(SEV_CRITICAL, f"Battery 1 is low {rest:.2f}V used {b.used_mah:.0f} mAh")
            self._battery_action(int(c.p["BATT_FS_LOW_ACT"]))

    def _battery_action(self, action: int) -> None:
        """BATT_FS_*_ACT: 1 LAND, 2/3/4/6 RTL (LAND if RTL is refused), 5 terminate; on the ground, disarm."""
        c = self.copter
        if action == 0 or not c.armed:
            return
        if not c.flying:
            c.disarm("Disarming motors")
            return
        if action == 1:
            c.set_mode(M.LAND, failsafe=True)
        elif action in (2, 3, 4, 6):
            if c.mode not in (M.LAND,) and not (c.mode == M.RTL):
                if not c.set_mode(M.RTL, failsafe=True):
                    c.set_mode(M.LAND, failsafe=True)
        elif action == 5:
            c.disarm("Disarming motors", force=True)
