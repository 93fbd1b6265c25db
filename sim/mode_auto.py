"""AUTO (ArduCopter mode_auto.cpp): fly the stored mission with AP_Mission (sim/mission.py).

AP_Mission decides which item runs; this module is what each item does (start_command) and
when it is done (verify_command), as ModeAuto's start_command / verify_command are. Waypoints
fly AC_WPNav legs along the straight 3D line between them (a different altitude at each
waypoint is climbed or descended to on the way, as over a hill), with the next waypoint known,
so corners are blended; NAV_RETURN_TO_LAUNCH
runs RTL's sequence and NAV_LAND LAND's, inside AUTO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes as M
from sim.events import SEV_CRITICAL, SEV_INFO, SEV_WARNING, MissionCurrentChanged, MissionItemReached
from sim.mission import MAV_CMD_NAV_LAST, MISSION, Item, MissionRunner
from sim.mode_land import land_start
from sim.mode_rtl import RTLSequence

if TYPE_CHECKING:
    from sim.vehicle import Copter

_POSITION_NAV = (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_UNLIM, mavlink.MAV_CMD_NAV_LOITER_TIME)


class ModeAuto(M.Mode):
    number = M.AUTO

    def __init__(self, copter: Copter) -> None:
        super().__init__(copter)
        self.mission = MissionRunner(
            lambda: copter.stores[MISSION], self.start_command, self.verify_command, self.mission_complete
        )
        self._nav_hold_until: float | None = None  # a waypoint's hold time, NAV_DELAY
        self._cond_delay_until = 0.0  # CONDITION_DELAY

    # ------------------------------------------------------------------ the mode
    def allows_arming(self) -> bool:
        """AUTO_OPTIONS bit 0: arming in AUTO is allowed."""
        return bool(int(self.copter.p["AUTO_OPTIONS"]) & 1)

    def may_take_off(self) -> bool:
        """Armed in AUTO, the mission starts flying only once auto-armed (MISSION_START, or
        AUTO_OPTIONS bit 1 when arming)."""
        return self.copter.auto_armed

    def can_enter(self) -> bool:
        c = self.copter
        if len(c.stores[MISSION]) <= 1:
            c.say(SEV_WARNING, "Mode change failed: AUTO: no mission")
            return False
        if c.armed and c.motion.landed and not self.mission.starts_with_takeoff():
            c.say(SEV_CRITICAL, "Auto: Missing Takeoff Cmd")
            return False
        return True

    def enter(self) -> None:
        c = self.copter
        self._nav_hold_until = None
        c.motion.speed_m_s = c.p["WPNAV_SPEED"] / 100.0
        c.motion.hold_here()
        self.mission.start_or_resume(bool(int(c.p["MIS_RESTART"])))

    def exit(self) -> None:
        self.mission.stop()
        self._nav_hold_until = None

    def run(self) -> None:
        self.mission.update()

    def pause(self) -> bool:
        """ModeAuto::pause: a waypoint leg not yet reached brakes along its track and waits."""
        m = self.copter.motion
        return m.nav_on and self.copter.sequence is None and m.nav.pause()

    def resume(self) -> bool:
        return self.copter.motion.nav.resume()

    def start_mission(self) -> None:
        """MISSION_START once in AUTO: run the mission unless it already runs."""
        if self.mission.state != self.mission.RUNNING:
            self.mission.start_or_resume(bool(int(self.copter.p["MIS_RESTART"])))

    # ------------------------------------------------------------------ items
    def _ne_of(self, item: Item) -> tuple[float, float]:
        return self.copter.grid.to_ne(item.lat, item.lon)

    def _alt_of(self, item: Item) -> float:
        """Altitude above the ground for an item (relative frames are above home)."""
        c = self.copter
        home_alt = c.home[2] if c.home else c.origin_alt
        if item.alt_is_amsl:
            return item.z - c.origin_alt
        return item.z + home_alt - c.origin_alt

    def start_command(self, index: int, item: Item) -> None:
        """ModeAuto::start_command: set the copter flying (NAV) or do it (DO)."""
        c = self.copter
        m = c.motion
        cmd = item.command
        if cmd in _POSITION_NAV:
            c.sequence = None
            m.descending = False
            c.disarm_on_land = False
            m.target = self._ne_of(item) if item.has_location else (m.n, m.e)
            alt = self._alt_of(item) if (item.z or item.has_location) else m.alt
            if cmd == mavlink.MAV_CMD_NAV_WAYPOINT and c.flying:
                dest = (m.target[0], m.target[1], alt)
                m.fly_leg(dest, None if item.param1 > 0 else self._next_wp(index))
            else:
                m.nav_on = False
            m.target_alt = alt
            self._nav_hold_until = None
            c.emit(MissionCurrentChanged())
        elif cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            c.sequence = None
            m.nav_on = False
            m.target = (m.n, m.e)
            m.target_alt = max(self._alt_of(item), m.alt)
            c.emit(MissionCurrentChanged())
        elif cmd == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            c.sequence = RTLSequence.start(c)
            c.emit(MissionCurrentChanged())
        elif cmd == mavlink.MAV_CMD_NAV_LAND:
            land_start(c, self._ne_of(item) if item.has_location else None)
            c.emit(MissionCurrentChanged())
        elif cmd == mavlink.MAV_CMD_NAV_DELAY:
            self._nav_hold_until = c.t + max(item.param1, 0.0)
            m.hold_here()
            c.emit(MissionCurrentChanged())
        elif cmd == mavlink.MAV_CMD_DO_SPRAYER:
            c.set_sprayer(item.param1 == 1)
        elif cmd == mavlink.MAV_CMD_DO_CHANGE_SPEED:
            if item.param2 > 0:
                m.speed_m_s = item.param2
                m.nav.set_speed(item.param2)
        elif cmd == mavlink.MAV_CMD_DO_SET_HOME:
            if item.param1 == 1:
                c.set_home_here()
            elif item.has_location:
                c.set_home(item.lat, item.lon, item.z if item.alt_is_amsl else c.origin_alt + item.z)
        elif cmd == mavlink.MAV_CMD_DO_SET_SERVO:
            c.set_servo(int(item.param1), int(item.param2))
        elif cmd == mavlink.MAV_CMD_CONDITION_DELAY:
            self._cond_delay_until = c.t + max(item.param1, 0.0)

    def verify_command(self, index: int, item: Item) -> bool:
        """ModeAuto::verify_command: is the item done? (NAV items are then reported reached.)"""
        c = self.copter
        m = c.motion
        cmd = item.command
        done = False
        if cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            done = c.flying and m.target_alt is not None and m.alt >= m.target_alt - 0.3
        elif cmd in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_LOITER_TIME):
            if self._nav_hold_until is None and m.at_target():
                hold = item.param1 if item.param1 > 0 else 0.0
                self._nav_hold_until = c.t + hold
            done = self._nav_hold_until is not None and c.t >= self._nav_hold_until
        elif cmd == mavlink.MAV_CMD_NAV_LOITER_UNLIM:
            done = False
        elif cmd == mavlink.MAV_CMD_NAV_DELAY:
            done = self._nav_hold_until is not None and c.t >= self._nav_hold_until
        elif cmd in (mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, mavlink.MAV_CMD_NAV_LAND):
            done = not c.armed and m.landed
        elif cmd == mavlink.MAV_CMD_CONDITION_DELAY:
            done = c.t >= self._cond_delay_until
        else:
            done = True  # DO commands complete when started
        if done and item.command <= MAV_CMD_NAV_LAST:
            c.emit(MissionItemReached(index))
            if cmd == mavlink.MAV_CMD_NAV_WAYPOINT:
                c.say(SEV_INFO, f"Reached command #{index}")
        return done

    def _next_wp(self, index: int) -> tuple[float, float, float] | None:
        """ModeAuto::set_next_wp: the next NAV command, when it is a waypoint the copter need not stop at."""
        items = self.copter.stores[MISSION]
        for item in items[index + 1 :]:
            if item.command == mavlink.MAV_CMD_DO_JUMP:
                return None
            if item.command <= MAV_CMD_NAV_LAST:
                if item.command in _POSITION_NAV and item.has_location:
                    n, e = self._ne_of(item)
                    return n, e, self._alt_of(item)
                return None
        return None

    def mission_complete(self) -> None:
        """AP_Mission ran out of items: disarm if landed, else hold where it is."""
        c = self.copter
        if c.motion.landed and c.armed:
            c.disarm("Disarming motors")
        else:
            c.motion.hold_here()
        c.emit(MissionCurrentChanged())
