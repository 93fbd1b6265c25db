"""COMMAND_LONG / COMMAND_INT and the legacy mode and stream requests, answered as ArduCopter does.

The handlers act on the copter only through its public interface (sim/vehicle.py: arm, disarm,
set_mode, takeoff, goto, mission_start, set_mission_current, set_home, set_servo, ...) and read
only its public state (mode, flying, ekf_ok), so what the vehicle does stays inside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import messages
from sim import modes as M
from sim.events import SEV_INFO
from sim.vehicle import FORCE_ARM, FORCE_DISARM

if TYPE_CHECKING:
    from sim.link import Peer
    from sim.simulator import Simulator

ACCEPTED = mavlink.MAV_RESULT_ACCEPTED
FAILED = mavlink.MAV_RESULT_FAILED
DENIED = mavlink.MAV_RESULT_DENIED
UNSUPPORTED = mavlink.MAV_RESULT_UNSUPPORTED
_B = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)


class CommandHandler:
    """Dispatches commands by id; each handler returns a MAV_RESULT (None: no ACK)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._after: list = []  # messages a command asked for: ArduPilot sends them after the ACK
        c = mavlink
        self._long = {
            c.MAV_CMD_COMPONENT_ARM_DISARM: self._arm_disarm,
            c.MAV_CMD_DO_SET_MODE: self._set_mode,
            c.MAV_CMD_NAV_TAKEOFF: self._takeoff,
            c.MAV_CMD_MISSION_START: self._mission_start,
            c.MAV_CMD_DO_SET_MISSION_CURRENT: self._set_current,
            c.MAV_CMD_DO_SPRAYER: self._sprayer,
            c.MAV_CMD_DO_CHANGE_SPEED: self._change_speed,
            c.MAV_CMD_NAV_RETURN_TO_LAUNCH: lambda p, m: self._mode_result(M.RTL),
            c.MAV_CMD_NAV_LAND: lambda p, m: self._mode_result(M.LAND),
            c.MAV_CMD_REQUEST_MESSAGE: self._request_message,
            c.MAV_CMD_SET_MESSAGE_INTERVAL: self._set_interval,
            c.MAV_CMD_GET_MESSAGE_INTERVAL: self._get_interval,
            c.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES: self._capabilities,
            c.MAV_CMD_GET_HOME_POSITION: self._home,
            c.MAV_CMD_DO_SET_HOME: self._set_home,
            c.MAV_CMD_DO_SET_SERVO: self._set_servo,
            c.MAV_CMD_DO_REPOSITION: self._reposition,
            c.MAV_CMD_BATTERY_RESET: self._battery_reset,
            c.MAV_CMD_DO_PAUSE_CONTINUE: self._pause_continue,
        }

    # ------------------------------------------------------------------ entry points
    def command(self, peer: Peer, msg, *, is_int: bool = False) -> None:
        if msg.target_system not in (0, self.sim.sysid):
            return
        fn = self._long.get(msg.command)
        if fn is None:
            result = UNSUPPORTED
        else:
            if is_int:  # COMMAND_INT carries x/y as 1e-7 degrees
                msg.param5, msg.param6, msg.param7 = msg.x * 1e-7, msg.y * 1e-7, msg.z
            result = fn(peer, msg)
        self.sim.drain_outbox()  # STATUSTEXT reasons go out before the ACK, as ArduPilot sends them
        if result is not None:
            self.sim.send(peer, messages.command_ack(msg.command, result, msg.get_srcSystem(), msg.get_srcComponent()))
        after, self._after = self._after, []
        for reply in after:
            self.sim.send(peer, reply)

    def set_mode_message(self, peer: Peer, msg) -> None:
        """Legacy SET_MODE: ArduPilot answers it with a COMMAND_ACK for DO_SET_MODE."""
        if msg.target_system not in (0, self.sim.sysid):
            return
        if not msg.base_mode & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
            result = FAILED
        else:
            result = self._mode_result(int(msg.custom_mode))
        self.sim.drain_outbox()
        self.sim.send(
            peer, messages.command_ack(mavlink.MAV_CMD_DO_SET_MODE, result, msg.get_srcSystem(), msg.get_srcComponent())
        )

    def request_data_stream(self, peer: Peer, msg) -> None:
        if msg.target_system not in (0, self.sim.sysid):
            return
        rate = float(msg.req_message_rate) if msg.start_stop else 0.0
        if msg.req_stream_id == mavlink.MAV_DATA_STREAM_ALL:
            groups = list(messages.DATA_STREAM_GROUPS.values())
        else:
            groups = [messages.DATA_STREAM_GROUPS.get(msg.req_stream_id, ())]
        for names in groups:
            for name in names:
                self.sim.set_rate(peer, name, rate)

    def position_target(self, peer: Peer, msg) -> None:
        """SET_POSITION_TARGET_GLOBAL_INT in GUIDED: fly there (position part only)."""
        if msg.target_system not in (0, self.sim.sysid):
            return
        ignore_pos = msg.type_mask & 0b111 == 0b111
        if ignore_pos:
            return
        alt = None if msg.type_mask & 0b100 else float(msg.alt)
        self.sim.copter.goto(msg.lat_int * 1e-7, msg.lon_int * 1e-7, alt)

    # ------------------------------------------------------------------ commands
    def _mode_result(self, mode: int) -> int:
        if mode not in M.NAMES:
            return FAILED
        return ACCEPTED if self.sim.copter.set_mode(mode) else FAILED

    def _arm_disarm(self, peer, m) -> int:
        c = self.sim.copter
        if m.param1 == 1:
            return ACCEPTED if c.arm(force=int(m.param2) == FORCE_ARM) else FAILED
        if m.param1 == 0:
            force = int(m.param2) == FORCE_DISARM
            if c.flying and not force:
                return FAILED
            c.disarm("Disarming motors", force=force)
            return ACCEPTED
        return DENIED

    def _set_mode(self, peer, m) -> int:
        if not int(m.param1) & mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED:
            return FAILED
        return self._mode_result(int(m.param2))

    def _takeoff(self, peer, m) -> int:
        return ACCEPTED if self.sim.copter.takeoff(float(m.param7)) else FAILED

    def _mission_start(self, peer, m) -> int:
        ok = self.sim.copter.mission_start()
        self.sim.mission_current_changed()
        return ACCEPTED if ok else FAILED

    def _set_current(self, peer, m) -> int:
        seq = int(m.param1)
        if seq < 0:
            return FAILED
        # param2 1: reset the mission (jump counters) as well
        if not self.sim.copter.set_mission_current(seq, reset=int(m.param2) == 1):
            return FAILED
        self.sim.mission_current_changed()
        return ACCEPTED

    def _sprayer(self, peer, m) -> int:
        self.sim.copter.set_sprayer(m.param1 == 1)
        return ACCEPTED

    def _change_speed(self, peer, m) -> int:
        if m.param2 > 0:
            self.sim.copter.set_speed(float(m.param2))
            return ACCEPTED
        return FAILED

    def _request_message(self, peer, m) -> int:
        msg_id = int(m.param1)
        if msg_id == mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
            self._after.append(messages.autopilot_version())
            return ACCEPTED
        name = messages.NAMES_BY_ID.get(msg_id)
        if name is None:
            return UNSUPPORTED
        built = messages.STREAM_BUILDERS[name](self.sim.copter)
        if built is None:
            return FAILED
        self._after.append(built)
        return ACCEPTED

    def _set_interval(self, peer, m) -> int:
        name = messages.NAMES_BY_ID.get(int(m.param1))
        if name is None:
            return UNSUPPORTED
        interval_us = m.param2
        if interval_us == -1:
            hz = 0.0
        elif interval_us == 0:
            hz = self.sim.cfg.stream_rates()[name]
        elif interval_us > 0:
            hz = 1e6 / interval_us
        else:
            return DENIED
        self.sim.set_rate(peer, name, hz)
        return ACCEPTED

    def _get_interval(self, peer, m) -> int:
        msg_id = int(m.param1)
        name = messages.NAMES_BY_ID.get(msg_id)
        if name is None:
            return UNSUPPORTED
        interval = peer.intervals.get(name, 0.0)
        self._after.append(_B.message_interval_encode(msg_id, int(interval * 1e6) if interval > 0 else -1))
        return ACCEPTED

    def _capabilities(self, peer, m) -> int:
        self._after.append(messages.autopilot_version())
        return ACCEPTED

    def _home(self, peer, m) -> int:
        built = messages.home_position(self.sim.copter)
        if built is None:
            return FAILED
        self._after.append(built)
        return ACCEPTED

    def _set_home(self, peer, m) -> int:
        c = self.sim.copter
        if not c.ekf_ok:
            return FAILED
        if m.param1 == 1:
            c.set_home_here(lock=True)
        else:
            if not (-90 <= m.param5 <= 90 and -180 <= m.param6 <= 180) or (m.param5 == 0 and m.param6 == 0):
                return DENIED
            c.set_home(m.param5, m.param6, m.param7, lock=True)
        return ACCEPTED

    def _set_servo(self, peer, m) -> int:
        return ACCEPTED if self.sim.copter.set_servo(int(m.param1), int(m.param2)) else FAILED

    def _reposition(self, peer, m) -> int:
        c = self.sim.copter
        if int(m.param2) & 1 and c.mode != M.GUIDED:  # MAV_DO_REPOSITION_FLAGS_CHANGE_MODE
            if not c.set_mode(M.GUIDED):
                return FAILED
        if m.param1 > 0:
            c.set_speed(float(m.param1))
        return ACCEPTED if c.goto(m.param5, m.param6, m.param7) else FAILED

    def _battery_reset(self, peer, m) -> int:
        """MAV_CMD_BATTERY_RESET (param1 battery mask, param2 charge %), as AP_BattMonitor's
        reset_remaining: the charge is set and the battery failsafe cleared. A rehearsal's
        "ground crew" fits a charged battery with it, on this simulator as on SITL."""
        if not int(m.param1) & 1 or not 0 <= m.param2 <= 100:
            return FAILED
        self.sim.copter.reset_battery(float(m.param2))
        return ACCEPTED

    def _pause_continue(self, peer, m) -> int:
        """MAV_CMD_DO_PAUSE_CONTINUE as ArduCopter's handle_command_pause_continue: param1 0
        pauses, 1 continues, through the flight mode (only AUTO's waypoint legs can); anything
        else is denied."""
        mode = self.sim.copter.flightmode
        if int(m.param1) == 0:
            ok = mode.pause()
        elif int(m.param1) == 1:
            ok = mode.resume()
        else:
            return mavlink.MAV_RESULT_DENIED
        if not ok:
            self.sim.copter.say(SEV_INFO, "Failed to pause" if int(m.param1) == 0 else "Failed to resume")
        return ACCEPTED if ok else FAILED
