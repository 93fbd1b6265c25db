"""Which MAVLink messages are logged, into which table, and how a message becomes a row.

One table per message type keeps the SQL for indicators and records plain
(`SELECT lat, lon FROM positions ...`). Values are stored in SI units and degrees,
next to the vehicle's own clock (`time_boot_ms` / `time_usec`) and the receive time
`t_us` (microseconds since the Unix epoch, UTC; for a tlog the record's timestamp).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Copter flight modes (custom_mode) as ArduPilot names them.
COPTER_MODES = {
    0: "STABILIZE",
    1: "ACRO",
    2: "ALT_HOLD",
    3: "AUTO",
    4: "GUIDED",
    5: "LOITER",
    6: "RTL",
    7: "CIRCLE",
    9: "LAND",
    11: "DRIFT",
    13: "SPORT",
    14: "FLIP",
    15: "AUTOTUNE",
    16: "POSHOLD",
    17: "BRAKE",
    18: "THROW",
    19: "AVOID_ADSB",
    20: "GUIDED_NOGPS",
    21: "SMART_RTL",
    22: "FLOWHOLD",
    23: "FOLLOW",
    24: "ZIGZAG",
    25: "SYSTEMID",
    26: "AUTOROTATE",
    27: "AUTO_RTL",
}
ARMED_FLAG = 128  # MAV_MODE_FLAG_SAFETY_ARMED
MAV_TYPE_GCS = 6
MAV_AUTOPILOT_INVALID = 8

# Columns every message table starts with (besides its integer primary key `id`).
COMMON_COLUMNS: dict[str, type] = {"source_id": int, "t_us": int, "sysid": int, "compid": int, "seq": int}


@dataclass(frozen=True)
class MessageSpec:
    """A logged message type: its table, its columns and the function that fills them."""

    name: str  # MAVLink message name
    msgid: int
    table: str
    columns: dict[str, type]
    row: Callable[[Any], tuple]
    doc: str
    since: int = 1  # the schema version (telemetry/ingest/schema.py) that made its table


def _heartbeat(m) -> tuple:
    armed = 1 if m.base_mode & ARMED_FLAG else 0
    mode = COPTER_MODES.get(m.custom_mode, str(m.custom_mode)) if m.autopilot != MAV_AUTOPILOT_INVALID else None
    return (m.type, m.autopilot, m.base_mode, m.custom_mode, m.system_status, armed, mode)


def _position(m) -> tuple:
    return (
        m.time_boot_ms,
        m.lat * 1e-7,
        m.lon * 1e-7,
        m.alt * 1e-3,
        m.relative_alt * 1e-3,
        m.vx * 0.01,
        m.vy * 0.01,
        m.vz * 0.01,
        None if m.hdg == 65535 else m.hdg * 0.01,
    )


def _gps(m) -> tuple:
    return (
        m.time_usec,
        m.fix_type,
        m.lat * 1e-7,
        m.lon * 1e-7,
        m.alt * 1e-3,
        None if m.eph == 65535 else m.eph * 0.01,
        None if m.epv == 65535 else m.epv * 0.01,
        None if m.vel == 65535 else m.vel * 0.01,
        None if m.cog == 65535 else m.cog * 0.01,
        m.satellites_visible,
    )


def _vfr(m) -> tuple:
    return (m.airspeed, m.groundspeed, m.heading, m.throttle, m.alt, m.climb)


def _attitude(m) -> tuple:
    return (m.time_boot_ms, m.roll, m.pitch, m.yaw, m.rollspeed, m.pitchspeed, m.yawspeed)


def _sys_status(m) -> tuple:
    return (
        m.voltage_battery * 1e-3,
        None if m.current_battery == -1 else m.current_battery * 0.01,
        None if m.battery_remaining == -1 else m.battery_remaining,
        m.load * 0.1,
        m.drop_rate_comm * 0.01,
        m.errors_comm,
    )


def _battery(m) -> tuple:
    cells = [v for v in m.voltages if v != 65535]
    volts = sum(cells) * 1e-3 if cells else None
    return (
        m.id,
        m.battery_function,
        None if m.temperature == 32767 else m.temperature * 0.01,
        volts,
        None if m.current_battery == -1 else m.current_battery * 0.01,
        None if m.current_consumed == -1 else m.current_consumed,
        None if m.energy_consumed == -1 else m.energy_consumed,
        None if m.battery_remaining == -1 else m.battery_remaining,
    )


def _mission_current(m) -> tuple:
    return (m.seq, getattr(m, "total", None), getattr(m, "mission_state", None))


def _mission_reached(m) -> tuple:
    return (m.seq,)


def _servo(m) -> tuple:
    return (
        m.time_usec,
        m.port,
        m.servo1_raw,
        m.servo2_raw,
        m.servo3_raw,
        m.servo4_raw,
        m.servo5_raw,
        m.servo6_raw,
        m.servo7_raw,
        m.servo8_raw,
        m.servo9_raw,
        m.servo10_raw,
        m.servo11_raw,
        m.servo12_raw,
        m.servo13_raw,
        m.servo14_raw,
        m.servo15_raw,
        m.servo16_raw,
    )


def _wind(m) -> tuple:
    return (m.direction, m.speed, m.speed_z)


def _text(s) -> str:
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    return s.rstrip("\x00")


def _statustext(m) -> tuple:
    return (m.severity, _text(m.text))


def _home(m) -> tuple:
    return (getattr(m, "time_usec", None), m.latitude * 1e-7, m.longitude * 1e-7, m.altitude * 1e-3)


def _terrain(m) -> tuple:
    return (
        m.lat * 1e-7,
        m.lon * 1e-7,
        m.spacing,
        float(m.terrain_height),
        float(m.current_height),
        m.pending,
        m.loaded,
    )


def _param(m) -> tuple:
    return (_text(m.param_id), float(m.param_value), m.param_type)


SPECS: tuple[MessageSpec, ...] = (
    MessageSpec(
        "HEARTBEAT",
        0,
        "heartbeats",
        {
            "type": int,
            "autopilot": int,
            "base_mode": int,
            "custom_mode": int,
            "system_status": int,
            "armed": int,
            "mode": str,
        },
        _heartbeat,
        "mode and arming state; flights are cut at arm/disarm",
    ),
    MessageSpec(
        "GLOBAL_POSITION_INT",
        33,
        "positions",
        {
            "time_boot_ms": int,
            "lat": float,
            "lon": float,
            "alt_m": float,
            "relative_alt_m": float,
            "vx_m_s": float,
            "vy_m_s": float,
            "vz_m_s": float,
            "hdg_deg": float,
        },
        _position,
        "fused position (EKF); the as-applied map is built from it",
    ),
    MessageSpec(
        "GPS_RAW_INT",
        24,
        "gps",
        {
            "time_usec": int,
            "fix_type": int,
            "lat": float,
            "lon": float,
            "alt_m": float,
            "eph_m": float,
            "epv_m": float,
            "vel_m_s": float,
            "cog_deg": float,
            "satellites": int,
        },
        _gps,
        "raw GNSS fix (quality evidence for the record)",
    ),
    MessageSpec(
        "VFR_HUD",
        74,
        "vfr_hud",
        {
            "airspeed_m_s": float,
            "groundspeed_m_s": float,
            "heading_deg": int,
            "throttle_pct": int,
            "alt_m": float,
            "climb_m_s": float,
        },
        _vfr,
        "ground speed, throttle",
    ),
    MessageSpec(
        "ATTITUDE",
        30,
        "attitude",
        {
            "time_boot_ms": int,
            "roll": float,
            "pitch": float,
            "yaw": float,
            "rollspeed": float,
            "pitchspeed": float,
            "yawspeed": float,
        },
        _attitude,
        "attitude in radians",
    ),
    MessageSpec(
        "SYS_STATUS",
        1,
        "sys_status",
        {
            "voltage_v": float,
            "current_a": float,
            "battery_pct": int,
            "load_pct": float,
            "drop_rate_pct": float,
            "errors_comm": int,
        },
        _sys_status,
        "battery and link health",
    ),
    MessageSpec(
        "BATTERY_STATUS",
        147,
        "battery",
        {
            "battery_id": int,
            "battery_function": int,
            "temperature_c": float,
            "voltage_v": float,
            "current_a": float,
            "consumed_mah": int,
            "consumed_hj": int,
            "battery_pct": int,
        },
        _battery,
        "per-battery state",
    ),
    MessageSpec(
        "MISSION_CURRENT",
        42,
        "mission_current",
        {"mission_seq": int, "total": int, "mission_state": int},
        _mission_current,
        "the mission item being flown",
    ),
    MessageSpec(
        "MISSION_ITEM_REACHED", 46, "mission_reached", {"mission_seq": int}, _mission_reached, "mission items reached"
    ),
    MessageSpec(
        "SERVO_OUTPUT_RAW",
        36,
        "servo",
        {"time_usec": int, "port": int, **{f"servo{i}": int for i in range(1, 17)}},
        _servo,
        "servo PWM; the sprayer pump channel gives flow",
    ),
    MessageSpec(
        "WIND",
        168,
        "wind",
        {"direction_deg": float, "speed_m_s": float, "speed_z_m_s": float},
        _wind,
        "wind estimate (ArduPilot dialect)",
    ),
    MessageSpec(
        "STATUSTEXT",
        253,
        "statustext",
        {"severity": int, "text": str},
        _statustext,
        "messages from the autopilot (pre-arm failures, sprayer, mission)",
    ),
    MessageSpec(
        "HOME_POSITION",
        242,
        "home",
        {"time_usec": int, "lat": float, "lon": float, "alt_m": float},
        _home,
        "home / take-off point",
    ),
    MessageSpec(
        "PARAM_VALUE",
        22,
        "params",
        {"param_id": str, "value": float, "param_type": int},
        _param,
        "parameters seen on the link (SERVOn_FUNCTION=22 names the pump channel, SPRAY_*)",
    ),
    MessageSpec(
        "TERRAIN_REPORT",
        136,
        "terrain",
        {
            "lat": float,
            "lon": float,
            "spacing": int,
            "terrain_height_m": float,
            "current_height_m": float,
            "pending": int,
            "loaded": int,
        },
        _terrain,
        "the vehicle's own height above its terrain data (spacing 0: no data there); terrain jobs' records",
        since=5,
    ),
)

BY_ID: dict[int, MessageSpec] = {s.msgid: s for s in SPECS}
BY_NAME: dict[str, MessageSpec] = {s.name: s for s in SPECS}
BY_TABLE: dict[str, MessageSpec] = {s.table: s for s in SPECS}


def insert_sql(spec: MessageSpec) -> str:
    """`INSERT OR IGNORE`: the unique key (sysid, compid, t_us, seq) makes re-imports no-ops."""
    cols = list(COMMON_COLUMNS) + list(spec.columns)
    return f"INSERT OR IGNORE INTO {spec.table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
