"""The simulated copter: its parts, its tick, and the interface ground-station handlers use.

Like ArduCopter's Copter class, this holds the parts and runs them in order each tick; what they
do lives in their own modules: the flight modes (sim/mode_*.py, base class in sim/modes.py),
the airframe and position controller (sim/motion.py), failsafes (sim/failsafes.py), arming
checks and auto-disarm (sim/arming.py), the spray payload (sim/payload.py), the servo outputs
(sim/servos.py) and the battery (sim/battery.py).

Everything runs in simulated time from one thread (the simulator loop). What a ground station
should hear about is appended to the outbox as events (sim/events.py), which the simulator
takes with take_events(). Command handlers (sim/commands.py, sim/transfer.py) use only the
methods under "interface" below and the read-only state above them, never the parts.
"""

from __future__ import annotations

from typing import Protocol

from sim import modes as M
from sim.arming import Arming
from sim.battery import Battery, power_needed
from sim.config import SimConfig
from sim.events import SEV_CRITICAL, SEV_INFO, SEV_WARNING, Event, HomeChanged, ModeChanged, ParamChanged, StatusText
from sim.failsafes import Failsafes
from sim.geo import LocalGrid
from sim.ground import Ground
from sim.mission import HOME_PLACEHOLDER, MISSION, Item
from sim.mode_auto import ModeAuto
from sim.mode_guided import ModeGuided
from sim.mode_land import ModeLand
from sim.mode_loiter import ModeAltHold, ModeBrake, ModeCircle, ModeLoiter
from sim.mode_rtl import ModeRTL
from sim.mode_stabilize import ModeAcro, ModeStabilize
from sim.motion import Motion
from sim.params import ParamStore
from sim.payload import Payload
from sim.servos import Servos

FORCE_ARM = 2989  # COMPONENT_ARM_DISARM param2: arm without the pre-arm checks
FORCE_DISARM = 21196  # ... disarm even in the air


class Sequence(Protocol):
    """A multi-phase manoeuvre a mode started (RTL's return, a landing approach), updated each tick."""

    phase: str

    def update(self) -> None: ...

    def finish(self) -> None: ...


class Copter:
    """State and behaviour of one ArduCopter-like quad; step(dt) advances it by dt sim seconds."""

    def __init__(self, cfg: SimConfig, params: ParamStore, stores: dict[int, list[Item]]) -> None:
        self.cfg = cfg
        self.p = params
        self.stores = stores  # mission type -> items (mission: home placeholder at index 0)
        lat, lon, alt = cfg.home
        self.grid = LocalGrid(lat, lon)
        # the ground: a DEM (the origin's altitude is then the DEM's there) or flat at the origin
        self.ground = Ground(cfg.terrain, self.grid) if cfg.terrain is not None else None
        self.origin_alt = self.ground.origin_amsl if self.ground is not None else alt
        self.outbox: list[Event] = []
        self.t = 0.0
        self.ekf_ok = False  # a position estimate (after cfg.boot_delay_s)
        self._rc_mode_done = False
        self.home: tuple[float, float, float] | None = None  # (n, e, alt AMSL)
        self.home_locked = False  # a ground station set home: arming no longer moves it
        self.armed = False
        self.auto_armed = False
        self.disarm_on_land = False  # the land detector disarms (LAND, RTL)
        self.sequence: Sequence | None = None  # RTL's phases or a landing approach, while one runs
        # parts
        self.motion = Motion(params, cfg.seed, self.ground.height if self.ground is not None else None)
        self.payload = Payload(self, cfg)
        self.servos = Servos(self)
        self.battery = Battery(self.p["BATT_CAPACITY"], int(self.p["SIM_BATT_CELLS"]))
        self.failsafes = Failsafes(self)
        self.arming = Arming(self)
        # flight modes, one instance each (as copter.mode_auto, ... in ArduCopter)
        self.mode_auto = ModeAuto(self)
        self.mode_guided = ModeGuided(self)
        self.mode_rtl = ModeRTL(self)
        self.mode_land = ModeLand(self)
        self.modes: dict[int, M.Mode] = {
            m.number: m
            for m in (
                ModeStabilize(self),
                ModeAcro(self),
                ModeAltHold(self),
                self.mode_auto,
                self.mode_guided,
                ModeLoiter(self),
                self.mode_rtl,
                ModeCircle(self),
                self.mode_land,
                ModeBrake(self),
            )
        }
        self.flightmode: M.Mode = self.modes[M.STABILIZE]
        self.p.on_change(self._param_changed)

    # ------------------------------------------------------------------ events
    def emit(self, event: Event) -> None:
        self.outbox.append(event)

    def say(self, severity: int, text: str) -> None:
        self.emit(StatusText(severity, text))

    def take_events(self) -> list[Event]:
        """What happened since the last call, oldest first (the simulator sends it)."""
        box, self.outbox = self.outbox, []
        return box

    # ------------------------------------------------------------------ state, read-only
    @property
    def mode(self) -> int:
        """The flight mode's custom_mode number."""
        return self.flightmode.number

    @property
    def flying(self) -> bool:
        return not self.motion.landed

    @property
    def nav_index(self) -> int | None:
        """The mission item AP_Mission is at (None before a mission ran)."""
        return self.mode_auto.mission.nav_index

    def latlon(self) -> tuple[float, float]:
        return self.grid.to_latlon(self.motion.n, self.motion.e)

    def alt_amsl(self) -> float:
        return self.origin_alt + self.motion.alt

    def relative_alt(self) -> float:
        return self.alt_amsl() - (self.home[2] if self.home else self.origin_alt)

    def relative_to_ground(self, alt_rel: float) -> float:
        """The altitude above the origin's ground (Motion's frame) of an altitude above home."""
        home_alt = self.home[2] if self.home else self.origin_alt
        return alt_rel + home_alt - self.origin_alt

    def terrain_amsl(self, n: float | None = None, e: float | None = None) -> float | None:
        """The DEM's ground height AMSL under the copter (or at north/east n, e); None without a DEM."""
        if self.ground is None:
            return None
        if n is None or e is None:
            return self.origin_alt + self.motion.ground
        return self.ground.amsl(n, e)

    def height_above_ground(self) -> float:
        """Metres between the copter and the ground under it (the DEM's, or flat at the origin)."""
        return self.motion.height_above_ground()

    def home_location(self) -> tuple[float, float, float] | None:
        """Home as (lat, lon, alt AMSL), or None before it is set."""
        if self.home is None:
            return None
        lat, lon = self.grid.to_latlon(self.home[0], self.home[1])
        return lat, lon, self.home[2]

    def mass_kg(self) -> float:
        return self.cfg.empty_mass_kg + self.payload.tank.litres  # tank mix ~1 kg/L

    # ------------------------------------------------------------------ interface
    def arm(self, force: bool = False) -> bool:
        """COMPONENT_ARM_DISARM 1; home is set where the copter arms."""
        if self.armed:
            return True
        reason = self.arming.arm_failure(force)
        if reason:
            self.say(SEV_CRITICAL, reason)
            return False
        self.armed = True
        self.auto_armed = self.mode == M.AUTO and bool(int(self.p["AUTO_OPTIONS"]) & 2)
        self.arming.landed_since = self.t
        if not self.home_locked:  # AP_Arming_Copter::arm: home moves here unless a ground station locked it
            self.set_home_here()
        return True

    def disarm(self, reason: str = "Disarming motors", force: bool = False) -> bool:
        """Refused in the air unless forced; a forced disarm in the air makes the copter fall."""
        if not self.armed:
            return True
        if self.flying and not force:
            return False
        self.armed = False
        self.auto_armed = False
        self.payload.sprayer.running = False  # AP_Arming_Copter::disarm turns the sprayer off
        self.arming.landed_since = None
        if self.flying:
            self.motion.release()
        self.say(SEV_INFO, reason)
        return True

    def set_mode(self, mode: int, *, failsafe: bool = False) -> bool:
        """Copter::set_mode: a failsafe may enter a position mode without GPS (on the EKF's dead reckoning)."""
        new = self.modes.get(mode)
        if new is None:
            return False
        if new is self.flightmode:
            return True
        if new.requires_position and not (self.ekf_ok and (self.failsafes.gps_ok or failsafe)):
            self.say(SEV_WARNING, f"Mode change failed: {new.name} requires position")
            return False
        if not new.can_enter():
            return False
        self.flightmode.exit()
        self.motion.nav_on = False
        self.flightmode = new
        self.sequence = None
        self.motion.descending = False
        self.disarm_on_land = False
        new.enter()
        self.emit(ModeChanged(mode))
        return True

    def takeoff(self, alt_rel: float) -> bool:
        """MAV_CMD_NAV_TAKEOFF (GUIDED, armed, on the ground): climb to alt_rel metres above home."""
        return self.flightmode.do_user_takeoff(alt_rel)

    def goto(self, lat: float, lon: float, alt_rel: float | None) -> bool:
        """Fly to a point (GUIDED, flying); alt_rel None keeps the altitude."""
        return self.flightmode.goto(lat, lon, alt_rel)

    def set_speed(self, speed_m_s: float) -> None:
        """DO_CHANGE_SPEED / DO_REPOSITION's speed: at once towards a GUIDED or LOITER target, and
        for the next waypoint leg (a leg being flown keeps its S-curve; the mission item re-plans it)."""
        self.motion.speed_m_s = speed_m_s

    def set_sprayer(self, on: bool) -> None:
        """DO_SPRAYER: the pump follows ground speed while on (and the copter armed and flying)."""
        self.payload.sprayer.running = on

    def set_servo(self, channel: int, pwm: int) -> bool:
        """DO_SET_SERVO, on a channel without a SERVOn_FUNCTION."""
        return self.servos.set(channel, pwm)

    def mission_start(self) -> bool:
        """MISSION_START: switch to AUTO and run the mission (auto-armed: it may take off)."""
        if not self.set_mode(M.AUTO):
            return False
        self.auto_armed = True
        self.mode_auto.start_mission()
        return True

    def set_mission_current(self, seq: int, *, reset: bool = False) -> bool:
        """DO_SET_MISSION_CURRENT / MISSION_SET_CURRENT; reset also rewinds the DO_JUMP counters."""
        runner = self.mode_auto.mission
        if reset:
            runner.reset()
        return runner.set_current(seq)

    def store_mission(self, items: list[Item]) -> None:
        """A mission upload completed: keep it (item 0 is home, so what came there is dropped).
        A mission that runs goes on at its item if the new mission still has it."""
        stored = [HOME_PLACEHOLDER] + items[1:]
        runner = self.mode_auto.mission
        running = runner.state == runner.RUNNING
        self.stores[MISSION][:] = stored
        if not running:
            runner.reset()
        elif runner.nav_index is not None and runner.nav_index >= len(stored):
            runner.reset()
        self.p.set("MIS_TOTAL", len(stored) - 1)

    def clear_mission(self) -> None:
        """MISSION_CLEAR_ALL: no mission, and AP_Mission forgets where it was."""
        self.mode_auto.mission.reset()
        self.store_mission([HOME_PLACEHOLDER])

    def set_home_here(self, lock: bool = False) -> None:
        """Home where the copter is; `lock` (a ground station's DO_SET_HOME) keeps it there when arming."""
        self.home = (self.motion.n, self.motion.e, self.alt_amsl())
        self.home_locked = self.home_locked or lock
        self.emit(HomeChanged())

    def set_home(self, lat: float, lon: float, alt_amsl: float, lock: bool = False) -> None:
        n, e = self.grid.to_ne(lat, lon)
        self.home = (n, e, alt_amsl)
        self.home_locked = self.home_locked or lock
        self.emit(HomeChanged())

    def refill(self, capacity_l: float | None = None) -> None:
        """The operator fills the tank at the reload point."""
        self.payload.refill(capacity_l)
        self.say(SEV_INFO, f"Sprayer tank refilled: {self.payload.tank.litres:.1f} L")

    def swap_battery(self) -> None:
        """The ground crew fits a charged pack."""
        self.battery.swap()
        self.failsafes.clear_battery()
        self.say(SEV_INFO, "Battery replaced")

    def reset_battery(self, pct: float) -> None:
        """MAV_CMD_BATTERY_RESET: the monitor counts the pack as `pct` % full again."""
        self.battery.used_mah = self.battery.capacity_mah * (1.0 - pct / 100.0)
        self.failsafes.clear_battery()

    # ------------------------------------------------------------------ parameters
    def _param_changed(self, name: str, value: float) -> None:
        """Parameters that act at once (and the simulator's ground-crew triggers)."""
        if name == "WP_RADIUS":
            self.p.set("WPNAV_RADIUS", value * 100.0, notify=False)
            self.emit(ParamChanged("WPNAV_RADIUS"))
        elif name == "WPNAV_RADIUS":
            self.p.set("WP_RADIUS", value / 100.0, notify=False)
            self.emit(ParamChanged("WP_RADIUS"))
        elif name == "WPNAV_SPEED" and self.mode != M.AUTO:
            self.motion.speed_m_s = value / 100.0
        elif name == "SIM_SPR_FILL" and value:
            # every write of 1 refills, and it reads back as written: a PARAM_SET resent on a slow
            # link is confirmed, not answered with a trigger already set back to 0
            self.refill()
        elif name == "SIM_SPR_TANK":
            self.payload.tank.capacity_l = max(value, 0.0)
        elif name == "SIM_BATT_SWAP" and value:
            self.swap_battery()
        elif name == "BATT_CAPACITY" and value > 0:
            self.battery.capacity_mah = value
        elif name == "SIM_BATT_FAIL":
            self.battery.failed_cell = bool(value)

    # ------------------------------------------------------------------ the tick
    def step(self, dt: float) -> None:
        """One tick, in ArduCopter's order: failsafes, the mode's manoeuvre, physics, the land
        detector, AP_Mission (after it, so a landed RTL item completes at once), sprayer, battery."""
        self.t += dt
        self._startup()
        self.failsafes.update()
        if self.sequence is not None:
            self.sequence.update()
        if self.motion.step(
            dt,
            armed=self.armed,
            may_take_off=self.flightmode.may_take_off(),
            throttle_low=self.flightmode.throttle_low(),
        ):
            self.arming.landed_since = self.t
            if self.motion.crashed and self.armed:  # flew into the ground (a slope): crash_check disarms
                self.motion.crashed = False
                self.disarm("Crash: Disarming", force=True)
        self.arming.auto_disarm()
        self.flightmode.run()
        self.payload.update(dt)
        m = self.motion
        power = power_needed(
            flying=self.flying,
            armed=self.armed,
            mass_kg=self.mass_kg(),
            empty_mass_kg=self.cfg.empty_mass_kg,
            hover_power_w=self.cfg.hover_power_w,
            airspeed_m_s=m.airspeed(),
            climb_m_s=m.vz,
        )
        self.battery.step(power, dt)

    def _startup(self) -> None:
        """The boot: the position estimate after boot_delay_s, the RC selecting STABILIZE, the
        pre-arm report every PREARM_REPORT_S while disarmed."""
        if not self.ekf_ok and self.t >= self.cfg.boot_delay_s:
            self.ekf_ok = True
            self.say(SEV_INFO, "EKF3 IMU0 is using GPS")
            if self.home is None:
                self.set_home_here()
        # the RC's boot-time mode comes before the position estimate at the latest (ArduPilot reads
        # the mode switch at boot): a ground station that waits for a position, then sets a mode,
        # must never see it undone by the boot switch (a race on a busy machine, seen in CI)
        if not self._rc_mode_done and (self.t >= self.cfg.rc_mode_delay_s or self.ekf_ok):
            self._rc_mode_done = True
            if not self.armed and self.mode != M.STABILIZE:
                self.set_mode(M.STABILIZE)
        reason = self.arming.report_prearm()
        if reason:
            self.say(SEV_CRITICAL, reason)
