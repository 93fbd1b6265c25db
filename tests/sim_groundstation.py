"""A small raw-pymavlink ground station for the simulator tests (works against SITL as well).

Written only from the MAVLink and ArduPilot documentation, not from the simulator's code, so
that a test passing here means a real ground station would work.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

os.environ.setdefault("MAVLINK20", "1")
from pymavlink import mavutil  # noqa: E402

mavlink = mavutil.mavlink
COPTER_MODES = {"STABILIZE": 0, "AUTO": 3, "GUIDED": 4, "LOITER": 5, "RTL": 6, "LAND": 9, "BRAKE": 17}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371008.8
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return r * math.hypot(dlat, dlon)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return (
        lat + math.degrees(north_m / 6378137.0),
        lon + math.degrees(east_m / (6378137.0 * math.cos(math.radians(lat)))),
    )


def point_segment_m(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(distance from p to segment a-b, position along it in metres), on a local flat plane."""
    lat0 = a[0]
    k = math.cos(math.radians(lat0))

    def xy(q):
        return math.radians(q[1] - a[1]) * 6378137.0 * k, math.radians(q[0] - a[0]) * 6378137.0

    px, py = xy(p)
    bx, by = xy(b)
    length2 = bx * bx + by * by
    s = max(0.0, min(1.0, (px * bx + py * by) / length2)) if length2 else 0.0
    return math.hypot(px - s * bx, py - s * by), s * math.sqrt(length2)


@dataclass
class Flight:
    """What the ground station saw during a flight."""

    positions: list = field(default_factory=list)  # (time_boot_ms, lat, lon, rel_alt_m, ground speed m/s)
    servo: list = field(default_factory=list)  # (time_usec, pwm of the pump servo)
    reached: list = field(default_factory=list)
    current: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    modes: list = field(default_factory=list)
    armed_seen: bool = False


class GroundStation:
    def __init__(self, url: str, *, speedup: float = 1.0, source_system: int = 255) -> None:
        self.speedup = speedup
        self.link = mavutil.mavlink_connection(
            url, source_system=source_system, source_component=190, autoreconnect=False
        )
        hb = self.link.wait_heartbeat(timeout=30)
        assert hb is not None, "no HEARTBEAT from the vehicle"
        self.sysid, self.compid = hb.get_srcSystem(), hb.get_srcComponent()
        self.texts: list[str] = []
        self.request_types: set[str] = set()  # how the vehicle asked for upload items

    def wall(self, sim_seconds: float, margin: float = 5.0) -> float:
        return sim_seconds / self.speedup + margin

    def close(self) -> None:
        self.link.close()

    def recv(self, types, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.link.recv_match(blocking=True, timeout=min(0.5, max(deadline - time.monotonic(), 0.01)))
            if msg is None:
                continue
            kind = msg.get_type()
            if kind == "STATUSTEXT":
                self.texts.append(msg.text)
            if kind in types and msg.get_srcSystem() == self.sysid:
                return msg
        return None

    # ------------------------------------------------------------------ commands
    def command(self, command: int, *params: float, timeout: float = 5.0, retries: int = 3):
        p = list(params) + [0.0] * (7 - len(params))
        for attempt in range(retries):
            self.link.mav.command_long_send(self.sysid, self.compid, command, attempt, *p)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                ack = self.recv({"COMMAND_ACK"}, deadline - time.monotonic())
                if ack is not None and ack.command == command:
                    return ack.result
        return None

    def set_mode(self, name: str) -> int | None:
        return self.command(mavlink.MAV_CMD_DO_SET_MODE, mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, COPTER_MODES[name])

    def arm(self, tries: int = 10) -> bool:
        for _ in range(tries):
            if self.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_ACCEPTED:
                return True
            time.sleep(self.wall(2.0, 0.2))
        return False

    def set_interval(self, msg_id: int, hz: float) -> int | None:
        return self.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, msg_id, 1e6 / hz)

    def request_streams(self, hz: float = 10.0) -> None:
        for msg_id in (
            mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT,
            mavlink.MAVLINK_MSG_ID_SERVO_OUTPUT_RAW,
            mavlink.MAVLINK_MSG_ID_MISSION_CURRENT,
            mavlink.MAVLINK_MSG_ID_VFR_HUD,
            mavlink.MAVLINK_MSG_ID_BATTERY_STATUS,
        ):
            assert self.set_interval(msg_id, hz) == mavlink.MAV_RESULT_ACCEPTED

    def wait_position(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv({"GLOBAL_POSITION_INT"}, deadline - time.monotonic())
            if msg is not None and (msg.lat != 0 or msg.lon != 0):
                return msg
        return None

    def set_param(self, name: str, value: float, timeout: float = 3.0, retries: int = 3) -> float | None:
        for _ in range(retries):
            self.link.mav.param_set_send(
                self.sysid, self.compid, name.encode(), float(value), mavlink.MAV_PARAM_TYPE_REAL32
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = self.recv({"PARAM_VALUE"}, deadline - time.monotonic())
                if msg is not None and msg.param_id == name:
                    return msg.param_value
        return None

    def get_param(self, name: str, timeout: float = 3.0) -> float | None:
        self.link.mav.param_request_read_send(self.sysid, self.compid, name.encode(), -1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.recv({"PARAM_VALUE"}, deadline - time.monotonic())
            if msg is not None and msg.param_id == name:
                return msg.param_value
        return None

    # ------------------------------------------------------------------ missions
    def upload(self, items: list[tuple], mission_type: int = 0, timeout: float = 30.0) -> int | None:
        """items: (command, frame, p1, p2, p3, p4, lat, lon, alt); returns the MISSION_ACK type."""
        self.link.mav.mission_count_send(self.sysid, self.compid, len(items), mission_type)
        deadline = time.monotonic() + timeout
        last_activity = time.monotonic()
        while time.monotonic() < deadline:
            msg = self.recv({"MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"}, 1.5)
            if msg is None:
                if time.monotonic() - last_activity > 1.5:  # resend the count; the vehicle restarts
                    self.link.mav.mission_count_send(self.sysid, self.compid, len(items), mission_type)
                    last_activity = time.monotonic()
                continue
            if getattr(msg, "mission_type", 0) != mission_type:
                continue
            last_activity = time.monotonic()
            if msg.get_type() == "MISSION_ACK":
                return msg.type
            self.request_types.add(msg.get_type())
            cmd, frame, p1, p2, p3, p4, lat, lon, alt = items[msg.seq]
            self.link.mav.mission_item_int_send(
                self.sysid,
                self.compid,
                msg.seq,
                frame,
                cmd,
                0,
                1,
                p1,
                p2,
                p3,
                p4,
                int(round(lat * 1e7)),
                int(round(lon * 1e7)),
                alt,
                mission_type,
            )
        return None

    def download(self, mission_type: int = 0, timeout: float = 30.0) -> list:
        self.link.mav.mission_request_list_send(self.sysid, self.compid, mission_type)
        count_msg = self.recv({"MISSION_COUNT"}, 5.0)
        assert count_msg is not None, "no MISSION_COUNT"
        items = []
        for seq in range(count_msg.count):
            for _ in range(4):
                self.link.mav.mission_request_int_send(self.sysid, self.compid, seq, mission_type)
                msg = self.recv({"MISSION_ITEM_INT"}, 2.0)
                if msg is not None and msg.seq == seq:
                    items.append(msg)
                    break
            else:
                raise AssertionError(f"item {seq} never came")
        self.link.mav.mission_ack_send(self.sysid, self.compid, mavlink.MAV_MISSION_ACCEPTED, mission_type)
        return items

    # ------------------------------------------------------------------ flying
    def watch(self, pump_servo: int, until_disarmed: bool, sim_timeout: float, stop=None) -> Flight:
        """Record positions and the pump output until the vehicle lands and disarms (or stop(flight))."""
        flight = Flight()
        deadline = time.monotonic() + self.wall(sim_timeout, 10.0)
        field_name = f"servo{pump_servo}_raw"
        while time.monotonic() < deadline:
            msg = self.recv(
                {
                    "GLOBAL_POSITION_INT",
                    "SERVO_OUTPUT_RAW",
                    "HEARTBEAT",
                    "MISSION_ITEM_REACHED",
                    "MISSION_CURRENT",
                    "STATUSTEXT",
                },
                1.0,
            )
            if msg is None:
                continue
            kind = msg.get_type()
            if kind == "GLOBAL_POSITION_INT":
                flight.positions.append(
                    (
                        msg.time_boot_ms,
                        msg.lat * 1e-7,
                        msg.lon * 1e-7,
                        msg.relative_alt / 1000.0,
                        math.hypot(msg.vx, msg.vy) / 100.0,
                    )
                )
            elif kind == "SERVO_OUTPUT_RAW":
                flight.servo.append((msg.time_usec, getattr(msg, field_name)))
            elif kind == "MISSION_ITEM_REACHED":
                flight.reached.append(msg.seq)
            elif kind == "MISSION_CURRENT":
                if not flight.current or flight.current[-1] != msg.seq:
                    flight.current.append(msg.seq)
            elif kind == "STATUSTEXT":
                flight.texts.append(msg.text)
            elif kind == "HEARTBEAT":
                armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
                if not flight.modes or flight.modes[-1] != msg.custom_mode:
                    flight.modes.append(msg.custom_mode)
                if armed:
                    flight.armed_seen = True
                elif until_disarmed and flight.armed_seen:
                    return flight
            if stop is not None and stop(flight):
                return flight
        raise AssertionError(f"flight did not end in time; last positions {flight.positions[-3:]}")


def pump_samples(flight: Flight) -> list[tuple[float, float, float, float, int]]:
    """Pair each SERVO_OUTPUT_RAW with the GLOBAL_POSITION_INT nearest in boot time.

    Returns (lat, lon, rel_alt, ground speed, pump pwm) tuples.
    """
    out = []
    pos = flight.positions
    if not pos:
        return out
    times = [p[0] for p in pos]
    import bisect

    for usec, pwm in flight.servo:
        ms = usec / 1000.0
        i = bisect.bisect_left(times, ms)
        best = min((j for j in (i - 1, i) if 0 <= j < len(pos)), key=lambda j: abs(times[j] - ms))
        if abs(times[best] - ms) > 500:  # no position close enough in time to say where this was
            continue
        _, lat, lon, alt, gs = pos[best]
        out.append((lat, lon, alt, gs, pwm))
    return out
