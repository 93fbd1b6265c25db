"""The simulated copter: physics, flight modes, arming, failsafes, sprayer and battery.

Everything here runs in simulated time from one thread (the simulator loop); what a ground
station should hear about is put in `outbox` as small tuples the simulator turns into MAVLink.
"""

from __future__ import annotations

import math
import random

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes as M
from sim.battery import Battery, power_needed
from sim.config import SimConfig
from sim.geo import LocalGrid
from sim.mission import MISSION, Item, MissionRunner
from sim.params import SPRAYER_PUMP_FUNCTION, SPRAYER_SPINNER_FUNCTION, ParamStore
from sim.sprayer import Sprayer, Tank, servo_pwm
from sim.wpnav import WPNav, follow

G = 9.80665
FORCE_ARM = 2989
FORCE_DISARM = 21196
SEV_CRITICAL, SEV_ERROR, SEV_WARNING, SEV_NOTICE, SEV_INFO = 2, 3, 4, 5, 6
PREARM_REPORT_S = 30.0
LAND_DETECT_S = 1.0  # ArduCopter land_detector.cpp: LAND_DETECTOR_TRIGGER_SEC


class Copter:
    """State and behaviour of one ArduCopter-like quad; step(dt) advances it by dt sim seconds."""

    def __init__(self, cfg: SimConfig, params: ParamStore, stores: dict[int, list[Item]]) -> None:
        self.cfg = cfg
        self.p = params
        self.stores = stores  # mission type -> items (mission: home placeholder at index 0)
        self.nav = WPNav()  # AC_WPNav: the S-curve target of AUTO waypoints and the RTL return
        self._nav_on = False
        self.rng = random.Random(cfg.seed)
        lat, lon, alt = cfg.home
        self.origin_alt = alt
        self.grid = LocalGrid(lat, lon)
        self.outbox: list[tuple] = []
        # time and start-up
        self.t = 0.0
        self.ekf_ok = False
        self._rc_mode_done = False
        self._last_prearm_report = -PREARM_REPORT_S
        # kinematics (north/east/up metres from the origin, ground at alt 0)
        self.n = self.e = self.alt = 0.0
        self.vn = self.ve = self.vz = 0.0
        self.an = self.ae = 0.0
        self.yaw = 0.0
        self.yaw_rate = 0.0
        self.landed = True
        self.home: tuple[float, float, float] | None = None  # (n, e, alt AMSL)
        # control
        self.mode = M.STABILIZE
        self.armed = False
        self.auto_armed = False
        self._armed_landed_since: float | None = None
        self.target: tuple[float, float] | None = None  # horizontal goal (n, e)
        self.target_alt: float | None = None  # goal altitude above ground
        self.descending = False  # landing: descend at the land speed
        self.disarm_on_land = False
        self.speed_m_s = self.p["WPNAV_SPEED"] / 100.0
        self._rtl_phase: str | None = None
        self._rtl_alt = 0.0
        self._rtl_loiter_until = 0.0
        self._nav_hold_until: float | None = None
        self._cond_delay_until = 0.0
        # wind
        self.gust_n = self.gust_e = 0.0
        # payload, pump, battery
        self.sprayer = Sprayer()
        self.tank = Tank(cfg.tank_l, cfg.tank_fill_l)
        self.pump_demand = 0.0
        self.flow_l_min = 0.0
        self.tank_empty_reported = False
        self.battery = Battery(self.p["BATT_CAPACITY"], int(self.p["SIM_BATT_CELLS"]))
        self.batt_low = self.batt_crit = False
        self._batt_low_since: float | None = None
        self._batt_crit_since: float | None = None
        self.servo_override: dict[int, int] = {}
        # faults
        self.gps_ok = True
        self._gps_lost_since: float | None = None
        self._ekf_failsafe = False
        self.runner = MissionRunner(lambda: self.stores[MISSION], self._start_cmd, self._verify_cmd,
                                    self._mission_complete)
        self.p.on_change(self._param_changed)

    # ------------------------------------------------------------------ helpers
    def say(self, severity: int, text: str) -> None:
        self.outbox.append(("text", severity, text))

    def latlon(self) -> tuple[float, float]:
        return self.grid.to_latlon(self.n, self.e)

    def alt_amsl(self) -> float:
        return self.origin_alt + self.alt

    def relative_alt(self) -> float:
        return self.alt_amsl() - (self.home[2] if self.home else self.origin_alt)

    def ground_speed(self) -> float:
        return math.hypot(self.vn, self.ve)

    def wind(self) -> tuple[float, float]:
        """Wind velocity (towards), north/east m/s, gusts included."""
        spd = self.p["SIM_WIND_SPD"]
        frm = math.radians(self.p["SIM_WIND_DIR"])
        return -spd * math.cos(frm) + self.gust_n, -spd * math.sin(frm) + self.gust_e

    def airspeed(self) -> float:
        wn, we = self.wind()
        return math.hypot(self.vn - wn, self.ve - we)

    def mass_kg(self) -> float:
        return self.cfg.empty_mass_kg + self.tank.litres  # tank mix ~1 kg/L

    def _ne_of(self, item: Item) -> tuple[float, float]:
        return self.grid.to_ne(item.lat, item.lon)

    def _alt_of(self, item: Item) -> float:
        """Altitude above the ground for an item (relative frames are above home)."""
        home_alt = self.home[2] if self.home else self.origin_alt
        if item.alt_is_amsl:
            return item.z - self.origin_alt
        return item.z + home_alt - self.origin_alt

    def servo_function_channel(self, function: int) -> int | None:
        for n in range(1, 17):
            if int(self.p[f"SERVO{n}_FUNCTION"]) == function:
                return n
        return None

    @property
    def flying(self) -> bool:
        return not self.landed

    def _param_changed(self, name: str, value: float) -> None:
        if name == "WP_RADIUS":
            self.p.set("WPNAV_RADIUS", value * 100.0, notify=False)
            self.outbox.append(("param", "WPNAV_RADIUS"))
        elif name == "WPNAV_RADIUS":
            self.p.set("WP_RADIUS", value / 100.0, notify=False)
            self.outbox.append(("param", "WP_RADIUS"))
        elif name == "WPNAV_SPEED" and self.mode != M.AUTO:
            self.speed_m_s = value / 100.0
        elif name == "SIM_SPR_FILL" and value:
            self.refill()  # the trigger reads back as written, then rearms at the next step
        elif name == "SIM_SPR_TANK":
            self.tank.capacity_l = max(value, 0.0)
        elif name == "SIM_BATT_SWAP" and value:
            self.swap_battery()
        elif name == "BATT_CAPACITY" and value > 0:
            self.battery.capacity_mah = value
        elif name == "SIM_BATT_FAIL":
            self.battery.failed_cell = bool(value)

    def refill(self, capacity_l: float | None = None) -> None:
        """The operator fills the tank at the reload point."""
        self.tank.refill(capacity_l)
        self.tank_empty_reported = False
        self.say(SEV_INFO, f"Sprayer tank refilled: {self.tank.litres:.1f} L")

    def swap_battery(self) -> None:
        self.battery.swap()
        self.batt_low = self.batt_crit = False
        self._batt_low_since = self._batt_crit_since = None
        self.say(SEV_INFO, "Battery replaced")

    def reset_battery(self, pct: float) -> None:
        """MAV_CMD_BATTERY_RESET: the monitor counts the pack as `pct` % full again."""
        self.battery.used_mah = self.battery.capacity_mah * (1.0 - pct / 100.0)
        self.batt_low = self.batt_crit = False
        self._batt_low_since = self._batt_crit_since = None

    # ------------------------------------------------------------------ arming
    def prearm_failure(self, mode: int | None = None) -> str | None:
        """The first failing pre-arm check as ArduPilot words it, or None."""
        mode = self.mode if mode is None else mode
        if int(self.p["ARMING_CHECK"]) != 0:
            if not self.ekf_ok:
                return "PreArm: Need Position Estimate"
            if not self.gps_ok and mode in M.REQUIRES_POSITION:
                return "PreArm: GPS 1: Bad fix"
            if self.batt_low or self.batt_crit:
                return "PreArm: Battery 1 low voltage failsafe"
            arm_volt = self.p["BATT_ARM_VOLT"]
            if arm_volt > 0 and self.battery.resting_voltage() < arm_volt:
                return "PreArm: Battery 1 below minimum arming voltage"
        return None

    def arm(self, force: bool = False) -> bool:
        if self.armed:
            return True
        allows = self.mode in M.ARMABLE or (self.mode == M.AUTO and int(self.p["AUTO_OPTIONS"]) & 1)
        if not allows:
            self.say(SEV_CRITICAL, "Arm: Mode not armable")
            return False
        if not force:
            reason = self.prearm_failure()
            if reason:
                self.say(SEV_CRITICAL, reason)
                return False
        elif not self.ekf_ok and self.mode in M.REQUIRES_POSITION:
            self.say(SEV_CRITICAL, "Arm: Need Position Estimate")
            return False
        self.armed = True
        self.auto_armed = self.mode == M.AUTO and bool(int(self.p["AUTO_OPTIONS"]) & 2)
        self._armed_landed_since = self.t
        self.set_home_here()
        return True

    def disarm(self, reason: str = "Disarming motors", force: bool = False) -> bool:
        if not self.armed:
            return True
        if self.flying and not force:
            return False
        self.armed = False
        self.auto_armed = False
        self.sprayer.running = False  # AP_Arming_Copter::disarm turns the sprayer off
        self._armed_landed_since = None
        if self.flying:  # a forced disarm in the air: the copter falls
            self.target = None
            self.target_alt = None
        self.say(SEV_INFO, reason)
        return True

    def set_home_here(self) -> None:
        self.home = (self.n, self.e, self.alt_amsl())
        self.outbox.append(("home",))

    def set_home(self, lat: float, lon: float, alt_amsl: float) -> None:
        n, e = self.grid.to_ne(lat, lon)
        self.home = (n, e, alt_amsl)
        self.outbox.append(("home",))

    # ------------------------------------------------------------------ modes
    def set_mode(self, mode: int, *, failsafe: bool = False) -> bool:
        if mode not in M.NAMES:
            return False
        if mode == self.mode:
            return True
        if mode in M.REQUIRES_POSITION and not (self.ekf_ok and (self.gps_ok or failsafe)):
            self.say(SEV_WARNING, f"Mode change failed: {M.NAMES[mode]} requires position")
            return False
        if mode == M.AUTO:
            if len(self.stores[MISSION]) <= 1:
                self.say(SEV_WARNING, "Mode change failed: AUTO: no mission")
                return False
            if self.armed and self.landed and not self.runner.starts_with_takeoff():
                self.say(SEV_CRITICAL, "Auto: Missing Takeoff Cmd")
                return False
        if self.mode == M.AUTO:
            self.runner.stop()
        self._nav_on = False
        old = self.mode
        self.mode = mode
        self._rtl_phase = None
        self.descending = False
        self.disarm_on_land = False
        self._nav_hold_until = None
        if mode == M.AUTO:
            self.speed_m_s = self.p["WPNAV_SPEED"] / 100.0
            self._hold_here()
            self.runner.start_or_resume(bool(int(self.p["MIS_RESTART"])))
        elif mode == M.GUIDED or mode in M.HOLDS_POSITION:
            self.speed_m_s = self.p["WPNAV_SPEED"] / 100.0
            self._hold_here()
        elif mode == M.RTL:
            self._rtl_start()
        elif mode == M.LAND:
            self._land_start(None)
        elif mode in (M.STABILIZE, M.ACRO):
            self.target = None
            self.target_alt = None
        if old != mode:
            self.outbox.append(("mode",))
        return True

    def _hold_here(self) -> None:
        self._nav_on = False
        if self.flying:
            self.target = (self.n, self.e)
            self.target_alt = self.alt
        else:
            self.target = None
            self.target_alt = None

    def takeoff(self, alt_rel: float) -> bool:
        """MAV_CMD_NAV_TAKEOFF in GUIDED: climb from the ground to alt_rel metres above home."""
        if self.mode != M.GUIDED or not self.armed or not self.landed or alt_rel <= 0:
            return False
        self.target = (self.n, self.e)
        self.target_alt = self.relative_to_ground(alt_rel)
        return True

    def relative_to_ground(self, alt_rel: float) -> float:
        home_alt = self.home[2] if self.home else self.origin_alt
        return alt_rel + home_alt - self.origin_alt

    def goto(self, lat: float, lon: float, alt_rel: float | None) -> bool:
        """Guided reposition (SET_POSITION_TARGET_GLOBAL_INT, DO_REPOSITION)."""
        if self.mode != M.GUIDED or not self.armed or self.landed:
            return False
        self.target = self.grid.to_ne(lat, lon)
        if alt_rel is not None:
            self.target_alt = self.relative_to_ground(alt_rel)
        return True

    def mission_start(self) -> bool:
        if not self.set_mode(M.AUTO):
            return False
        self.auto_armed = True
        if self.runner.state != self.runner.RUNNING:
            self.runner.start_or_resume(bool(int(self.p["MIS_RESTART"])))
        return True

    def _rtl_start(self) -> None:
        self._nav_on = False
        self.disarm_on_land = True
        if self.landed:
            self._rtl_phase = "done" if not self.armed else "land"
            self.target = None
            self.target_alt = None
            return
        rtl_alt = self.p["RTL_ALT"] / 100.0
        climb_min = self.p["RTL_CLIMB_MIN"] / 100.0
        self._rtl_alt = max(self.relative_to_ground(rtl_alt), self.alt + climb_min, self.alt)
        self._rtl_phase = "climb"
        self.target = (self.n, self.e)
        self.target_alt = self._rtl_alt
        rtl_speed = self.p["RTL_SPEED"]
        self.speed_m_s = (rtl_speed if rtl_speed > 0 else self.p["WPNAV_SPEED"]) / 100.0

    def _land_start(self, where: tuple[float, float] | None) -> None:
        self._nav_on = False
        self.disarm_on_land = True
        if where is None:
            self.target = (self.n, self.e) if self.flying else None
            self.descending = True
            self.target_alt = None
        else:
            self.target = where
            self.target_alt = self.alt
            self.descending = False
            self._rtl_phase = "land_approach"

    # ------------------------------------------------------------------ mission commands
    def _start_cmd(self, index: int, item: Item) -> None:
        c = item.command
        if c in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_UNLIM,
                 mavlink.MAV_CMD_NAV_LOITER_TIME):
            self._rtl_phase = None
            self.descending = False
            self.disarm_on_land = False
            self.target = self._ne_of(item) if item.has_location else (self.n, self.e)
            if c == mavlink.MAV_CMD_NAV_WAYPOINT and self.flying:
                self._nav_start(self.target, None if item.param1 > 0 else self._next_wp(index))
            else:
                self._nav_on = False
            self.target_alt = self._alt_of(item) if (item.z or item.has_location) else self.alt
            self._nav_hold_until = None
            self.outbox.append(("current",))
        elif c == mavlink.MAV_CMD_NAV_TAKEOFF:
            self._rtl_phase = None
            self._nav_on = False
            self.target = (self.n, self.e)
            self.target_alt = max(self._alt_of(item), self.alt)
            self.outbox.append(("current",))
        elif c == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            self._rtl_start()
            self.outbox.append(("current",))
        elif c == mavlink.MAV_CMD_NAV_LAND:
            self._land_start(self._ne_of(item) if item.has_location else None)
            self.outbox.append(("current",))
        elif c == mavlink.MAV_CMD_NAV_DELAY:
            self._nav_hold_until = self.t + max(item.param1, 0.0)
            self._hold_here()
            self.outbox.append(("current",))
        elif c == mavlink.MAV_CMD_DO_SPRAYER:
            self.sprayer.running = item.param1 == 1
        elif c == mavlink.MAV_CMD_DO_CHANGE_SPEED:
            if item.param2 > 0:
                self.speed_m_s = item.param2
                self.nav.set_speed(item.param2)
        elif c == mavlink.MAV_CMD_DO_SET_HOME:
            if item.param1 == 1:
                self.set_home_here()
            elif item.has_location:
                self.set_home(item.lat, item.lon, item.z if item.alt_is_amsl else self.origin_alt + item.z)
        elif c == mavlink.MAV_CMD_DO_SET_SERVO:
            self.set_servo(int(item.param1), int(item.param2))
        elif c == mavlink.MAV_CMD_CONDITION_DELAY:
            self._cond_delay_until = self.t + max(item.param1, 0.0)

    def _verify_cmd(self, index: int, item: Item) -> bool:
        c = item.command
        done = False
        if c == mavlink.MAV_CMD_NAV_TAKEOFF:
            done = self.flying and self.target_alt is not None and self.alt >= self.target_alt - 0.3
        elif c in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TIME):
            if self._nav_hold_until is None and self._at_target():
                hold = item.param1 if item.param1 > 0 else 0.0
                self._nav_hold_until = self.t + hold
            done = self._nav_hold_until is not None and self.t >= self._nav_hold_until
        elif c == mavlink.MAV_CMD_NAV_LOITER_UNLIM:
            done = False
        elif c == mavlink.MAV_CMD_NAV_DELAY:
            done = self._nav_hold_until is not None and self.t >= self._nav_hold_until
        elif c in (mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, mavlink.MAV_CMD_NAV_LAND):
            done = not self.armed and self.landed
        elif c == mavlink.MAV_CMD_CONDITION_DELAY:
            done = self.t >= self._cond_delay_until
        else:
            done = True  # DO commands complete when started
        if done and item.command <= 95:
            self.outbox.append(("reached", index))
            if c == mavlink.MAV_CMD_NAV_WAYPOINT:
                self.say(SEV_INFO, f"Reached command #{index}")
        return done

    def _next_wp(self, index: int) -> tuple[float, float] | None:
        """ModeAuto::set_next_wp: the next NAV command, when it is a waypoint the copter need not stop at."""
        items = self.stores[MISSION]
        for item in items[index + 1:]:
            if item.command == mavlink.MAV_CMD_DO_JUMP:
                return None
            if item.command <= 95:
                ok = item.command in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_UNLIM,
                                      mavlink.MAV_CMD_NAV_LOITER_TIME) and item.has_location
                return self._ne_of(item) if ok else None
        return None

    def _nav_start(self, dest: tuple[float, float], after: tuple[float, float] | None) -> None:
        """Fly a waypoint leg with AC_WPNav's S-curves (from the last destination when still on the move)."""
        self.nav.configure(speed=self.speed_m_s, accel=self.p["WPNAV_ACCEL"] / 100.0,
                           radius=self.p["WPNAV_RADIUS"] / 100.0, jerk=self.p["WPNAV_JERK"],
                           accel_corner=self.p["WPNAV_ACCEL_C"] / 100.0)
        if not self._nav_on:
            self.nav.init((self.n, self.e))
        self.nav.set_destination(dest, (self.n, self.e))
        if after is not None:
            self.nav.set_destination_next(after)
        self._nav_on = True

    def _at_target(self) -> bool:
        if self.target is None or not self.flying:
            return False
        if self._nav_on:
            dz = abs((self.target_alt if self.target_alt is not None else self.alt) - self.alt)
            return self.nav.reached and dz <= 1.0
        radius = max(self.p["WPNAV_RADIUS"] / 100.0, 0.05)
        dh = math.hypot(self.target[0] - self.n, self.target[1] - self.e)
        dz = abs((self.target_alt if self.target_alt is not None else self.alt) - self.alt)
        return dh <= radius and dz <= max(1.0, radius)

    def _mission_complete(self) -> None:
        if self.landed and self.armed:
            self.disarm("Disarming motors")
        else:
            self._hold_here()
        self.outbox.append(("current",))

    def set_servo(self, channel: int, pwm: int) -> bool:
        if not 1 <= channel <= 16 or int(self.p[f"SERVO{channel}_FUNCTION"]) != 0:
            return False
        self.servo_override[channel] = pwm
        return True

    # ------------------------------------------------------------------ the tick
    def step(self, dt: float) -> None:
        for trigger in ("SIM_SPR_FILL", "SIM_BATT_SWAP"):  # one-shot "ground crew" parameters
            if self.p[trigger]:
                self.p.set(trigger, 0, notify=False)
        self.t += dt
        self._startup()
        self._faults_and_failsafes(dt)
        if self._rtl_phase:
            self._rtl_update()
        self._physics(dt)
        self._landing_and_disarm()
        if self.mode == M.AUTO:  # after the landing check, so a landed RTL item completes at once
            self.runner.update()
        self._spray(dt)
        power = power_needed(flying=self.flying, armed=self.armed, mass_kg=self.mass_kg(),
                             empty_mass_kg=self.cfg.empty_mass_kg, hover_power_w=self.cfg.hover_power_w,
                             airspeed_m_s=self.airspeed(),
                             climb_m_s=self.vz)
        self.battery.step(power, dt)

    def _startup(self) -> None:
        if not self.ekf_ok and self.t >= self.cfg.boot_delay_s:
            self.ekf_ok = True
            self.say(SEV_INFO, "EKF3 IMU0 is using GPS")
            if self.home is None:
                self.set_home_here()
        if not self._rc_mode_done and self.t >= self.cfg.rc_mode_delay_s:
            self._rc_mode_done = True
            if not self.armed and self.mode != M.STABILIZE:
                self.set_mode(M.STABILIZE)
        if not self.armed and self.t - self._last_prearm_report >= PREARM_REPORT_S:
            self._last_prearm_report = self.t
            reason = self.prearm_failure()
            if reason:
                self.say(SEV_CRITICAL, reason)

    def _faults_and_failsafes(self, dt: float) -> None:
        f = self.cfg.faults
        gps_disabled = bool(int(self.p["SIM_GPS_DISABLE"]))
        fault_window = f.gps_loss_at_s is not None and self.t >= f.gps_loss_at_s and (
            f.gps_loss_s == 0 or self.t < f.gps_loss_at_s + f.gps_loss_s)
        gps_ok = not (gps_disabled or fault_window)
        if gps_ok != self.gps_ok:
            self.gps_ok = gps_ok
            self.say(SEV_WARNING if not gps_ok else SEV_INFO, "GPS 1: lost fix" if not gps_ok else "GPS 1: fix restored")
            self._gps_lost_since = None if gps_ok else self.t
            if gps_ok:
                self._ekf_failsafe = False
        if (not self.gps_ok and not self._ekf_failsafe and self._gps_lost_since is not None
                and self.t - self._gps_lost_since > 1.0 and self.armed and self.flying
                and self.mode in M.REQUIRES_POSITION):
            self._ekf_failsafe = True
            if int(self.p["FS_EKF_ACTION"]) in (1, 3):
                self.set_mode(M.LAND, failsafe=True)
                self.say(SEV_CRITICAL, "EKF Failsafe: changed to LAND Mode")
        if f.battery_failure_at_s is not None and self.t >= f.battery_failure_at_s and not self.battery.failed_cell:
            self.battery.failed_cell = True
            self.say(SEV_CRITICAL, "Battery 1: cell failure")
        self._battery_failsafe()

    def _battery_failsafe(self) -> None:
        b = self.battery
        rest = b.resting_voltage()
        remaining = b.capacity_mah - b.used_mah
        timer = self.p["BATT_LOW_TIMER"]

        def level(volt_param: str, mah_param: str, since_attr: str) -> bool:
            v, mah = self.p[volt_param], self.p[mah_param]
            by_mah = mah > 0 and remaining < mah
            if v > 0 and rest < v:
                since = getattr(self, since_attr)
                if since is None:
                    setattr(self, since_attr, self.t)
                    since = self.t
                by_volt = self.t - since >= timer
            else:
                setattr(self, since_attr, None)
                by_volt = False
            return by_mah or by_volt

        if not self.batt_crit and level("BATT_CRT_VOLT", "BATT_CRT_MAH", "_batt_crit_since"):
            self.batt_crit = self.batt_low = True
            self.say(SEV_CRITICAL, f"Battery 1 is critical {rest:.2f}V used {b.used_mah:.0f} mAh")
            self._battery_action(int(self.p["BATT_FS_CRT_ACT"]))
        elif not self.batt_low and level("BATT_LOW_VOLT", "BATT_LOW_MAH", "_batt_low_since"):
            self.batt_low = True
            self.say(SEV_CRITICAL, f"Battery 1 is low {rest:.2f}V used {b.used_mah:.0f} mAh")
            self._battery_action(int(self.p["BATT_FS_LOW_ACT"]))

    def _battery_action(self, action: int) -> None:
        if action == 0 or not self.armed:
            return
        if self.landed:
            self.disarm("Disarming motors")
            return
        if action == 1:
            self.set_mode(M.LAND, failsafe=True)
        elif action in (2, 3, 4, 6):
            if self.mode not in (M.LAND,) and not (self.mode == M.RTL):
                if not self.set_mode(M.RTL, failsafe=True):
                    self.set_mode(M.LAND, failsafe=True)
        elif action == 5:
            self.disarm("Disarming motors", force=True)

    def _rtl_update(self) -> None:
        phase = self._rtl_phase
        if phase == "climb":
            if self.alt >= self._rtl_alt - 0.5:
                home = self.home or (0.0, 0.0, self.origin_alt)
                self._rtl_phase = "return"
                self.target = (home[0], home[1])
                self.target_alt = self._rtl_alt
                self._nav_on = False
                self._nav_start(self.target, None)
        elif phase == "return":
            if self.nav.reached or not self._nav_on:
                self._nav_on = False
                self._rtl_phase = "loiter"
                self._rtl_loiter_until = self.t + self.p["RTL_LOIT_TIME"] / 1000.0
        elif phase == "loiter":
            if self.t >= self._rtl_loiter_until:
                final = self.p["RTL_ALT_FINAL"] / 100.0
                if final > 0:
                    self._rtl_phase = "final"
                    self.target_alt = self.relative_to_ground(final)
                else:
                    self._rtl_phase = "land"
                    self.descending = True
                    self.target_alt = None
        elif phase == "land_approach":
            if self.target and math.hypot(self.target[0] - self.n, self.target[1] - self.e) < 1.0:
                self._rtl_phase = "land"
                self.descending = True
                self.target_alt = None

    def _physics(self, dt: float) -> None:
        # gusts: a seeded Ornstein-Uhlenbeck process per axis
        sigma = self.p["SIM_WIND_TURB"]
        if sigma > 0:
            tau = 3.0
            k = math.sqrt(2.0 * dt / tau) * sigma
            self.gust_n += -self.gust_n * dt / tau + k * self.rng.gauss(0.0, 1.0)
            self.gust_e += -self.gust_e * dt / tau + k * self.rng.gauss(0.0, 1.0)
        if self.landed:
            self.vn = self.ve = self.vz = self.an = self.ae = 0.0
            wants_up = (self.armed and self.target_alt is not None and self.target_alt > self.alt + 0.2
                        and (self.mode != M.AUTO or self.auto_armed))
            if not wants_up:
                return
            self.landed = False
        acc = max(self.p["WPNAV_ACCEL"] / 100.0, 0.1)
        # horizontal: fly to the target, braking to arrive (AC_WPNav-like speed profile)
        if self.armed and self._nav_on:  # AC_WPNav's target, followed by AC_PosControl
            target = self.nav.advance(dt, (self.n, self.e))
            self.an, self.ae = follow(target, (self.n, self.e), (self.vn, self.ve), (self.an, self.ae), dt)
            self.vn += self.an * dt
            self.ve += self.ae * dt
        else:
            if not self.armed:  # falling: no thrust
                vdn, vde = self.vn, self.ve
            elif self.target is not None:
                dn, de = self.target[0] - self.n, self.target[1] - self.e
                d = math.hypot(dn, de)
                if d > 1e-6:
                    v = min(self.speed_m_s, math.sqrt(2.0 * acc * d), 1.5 * d)
                    vdn, vde = dn / d * v, de / d * v
                else:
                    vdn = vde = 0.0
            else:
                vdn = vde = 0.0
            dvn, dve = vdn - self.vn, vde - self.ve
            dv = math.hypot(dvn, dve)
            lim = acc * dt
            if dv > lim:
                dvn, dve = dvn / dv * lim, dve / dv * lim
            self.an, self.ae = dvn / dt, dve / dt
            self.vn += dvn
            self.ve += dve
        gust_push = 0.15 * dt
        self.n += self.vn * dt + self.gust_n * gust_push
        self.e += self.ve * dt + self.gust_e * gust_push
        # vertical
        acc_z = max(self.p["WPNAV_ACCEL_Z"] / 100.0, 0.1)
        up = self.p["WPNAV_SPEED_UP"] / 100.0
        dn_speed = self.p["WPNAV_SPEED_DN"] / 100.0
        if not self.armed:
            vz_des = -8.0
            acc_z = G
        elif self.descending:
            high = self.p["LAND_SPEED_HIGH"] / 100.0 or dn_speed
            vz_des = -(high if self.alt > self.p["LAND_ALT_LOW"] / 100.0 else self.p["LAND_SPEED"] / 100.0)
        elif self.target_alt is not None:
            dz = self.target_alt - self.alt
            v = min(math.sqrt(2.0 * acc_z * abs(dz)), 1.5 * abs(dz))
            vz_des = min(v, up) if dz > 0 else -min(v, dn_speed)
        elif self.mode in (M.STABILIZE, M.ACRO):
            vz_des = -2.5  # throttle stick at the bottom: the copter sinks
        else:
            vz_des = 0.0
        dvz = vz_des - self.vz
        lim_z = acc_z * dt
        self.vz += max(-lim_z, min(lim_z, dvz))
        self.alt += self.vz * dt
        if self.alt <= 0.0 and self.vz <= 0.0:
            self.alt = 0.0
            self.vn = self.ve = self.vz = self.an = self.ae = 0.0
            self.landed = True
            self._armed_landed_since = self.t
        # heading follows the track
        gs = math.hypot(self.vn, self.ve)
        if gs > 0.5:
            want = math.atan2(self.ve, self.vn)
            err = (want - self.yaw + math.pi) % (2 * math.pi) - math.pi
            step = max(-math.radians(90) * dt, min(math.radians(90) * dt, err))
            self.yaw = (self.yaw + step) % (2 * math.pi)
            self.yaw_rate = step / dt
        else:
            self.yaw_rate = 0.0

    def _landing_and_disarm(self) -> None:
        if not self.armed:
            return
        if self.landed:
            # the land detector needs LAND_DETECTOR_TRIGGER_SEC (1 s) on the ground before it disarms
            if self.disarm_on_land and self._armed_landed_since is not None and self.descending \
                    and self.t - self._armed_landed_since >= LAND_DETECT_S:
                self.disarm("Disarming motors")
                self.descending = False
                if self._rtl_phase:
                    self._rtl_phase = "done"
                return
            taking_off = self.target_alt is not None and self.target_alt > 0.2 and (
                self.mode != M.AUTO or self.auto_armed)
            if taking_off:
                self._armed_landed_since = self.t
            elif self._armed_landed_since is not None:
                delay = self.p["DISARM_DELAY"]
                if delay > 0 and self.t - self._armed_landed_since >= delay:
                    self.disarm("Disarming motors")

    def _spray(self, dt: float) -> None:
        # AC_Sprayer does not look at the flight mode: after a failsafe RTL the pump goes on
        # following ground speed until DO_SPRAYER 0, SPRAY_ENABLE 0 or the disarm (as SITL does)
        allowed = bool(int(self.p["SPRAY_ENABLE"])) and self.armed and self.flying
        self.pump_demand = self.sprayer.update(
            self.t, allowed=allowed, ground_speed_m_s=self.ground_speed(),
            pump_rate_pct=self.p["SPRAY_PUMP_RATE"], speed_min_cm_s=self.p["SPRAY_SPEED_MIN"],
            pump_min_pct=self.p["SPRAY_PUMP_MIN"])
        self.flow_l_min = 0.0
        if int(self.p["SIM_SPR_ENABLE"]):
            ch = int(self.p["SIM_SPR_PUMP"])
            pwm = self.servo_pwm(ch) if 1 <= ch <= 16 else 0
            self.flow_l_min = self.tank.drain(pwm, self.p["SIM_SPR_QMAX"], dt)
            if self.tank.litres <= 0.0 and not self.tank_empty_reported:
                self.tank_empty_reported = True
                self.say(SEV_WARNING, "Sprayer: tank empty")

    # ------------------------------------------------------------------ outputs
    def servo_pwm(self, channel: int) -> int:
        function = int(self.p[f"SERVO{channel}_FUNCTION"])
        lo, hi = self.p[f"SERVO{channel}_MIN"], self.p[f"SERVO{channel}_MAX"]
        rev = bool(int(self.p[f"SERVO{channel}_REVERSED"]))
        if function == SPRAYER_PUMP_FUNCTION:
            return servo_pwm(self.pump_demand, lo, hi, rev)
        if function == SPRAYER_SPINNER_FUNCTION:
            if self.sprayer.spraying:
                return int(self.p["SPRAY_SPINNER"])
            return int(hi if rev else lo)
        if 33 <= function <= 40:
            if not self.armed:
                return 1000
            if self.landed:
                return 1100
            throttle = 0.5 + 0.1 * self.vz
            return int(1000 + 1000 * min(max(throttle, 0.15), 1.0))
        if function == 0:
            return self.servo_override.get(channel, 0)
        return int(self.p[f"SERVO{channel}_TRIM"])

    def attitude(self) -> tuple[float, float, float]:
        """(roll, pitch, yaw) in radians from the acceleration and wind the copter leans against."""
        wn, we = self.wind()
        drag = 0.05
        fn = self.an + drag * (self.vn - wn) * abs(self.vn - wn) * 0.3
        fe = self.ae + drag * (self.ve - we) * abs(self.ve - we) * 0.3
        if self.landed:
            return 0.0, 0.0, self.yaw
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        fwd = fn * cy + fe * sy
        right = -fn * sy + fe * cy
        return math.atan2(right, G), -math.atan2(fwd, G), self.yaw

    def throttle_pct(self) -> int:
        if not self.armed:
            return 0
        if self.landed:
            return 10
        return int(min(max(45 + 10 * self.vz, 15), 100))
