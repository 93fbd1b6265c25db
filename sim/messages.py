"""MAVLink messages built from the copter's state, as ArduCopter fills them in."""

from __future__ import annotations

import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import modes as M
from sim.mission import MISSION, MissionRunner
from sim.vehicle import Copter

_B = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)  # encoder used only to build message objects

# MAV_SYS_STATUS_SENSOR bits a GPS copter reports
_SENSORS = (
    mavlink.MAV_SYS_STATUS_SENSOR_3D_GYRO
    | mavlink.MAV_SYS_STATUS_SENSOR_3D_ACCEL
    | mavlink.MAV_SYS_STATUS_SENSOR_3D_MAG
    | mavlink.MAV_SYS_STATUS_SENSOR_ABSOLUTE_PRESSURE
    | mavlink.MAV_SYS_STATUS_SENSOR_GPS
    | mavlink.MAV_SYS_STATUS_SENSOR_ANGULAR_RATE_CONTROL
    | mavlink.MAV_SYS_STATUS_SENSOR_ATTITUDE_STABILIZATION
    | mavlink.MAV_SYS_STATUS_SENSOR_YAW_POSITION
    | mavlink.MAV_SYS_STATUS_SENSOR_Z_ALTITUDE_CONTROL
    | mavlink.MAV_SYS_STATUS_SENSOR_XY_POSITION_CONTROL
    | mavlink.MAV_SYS_STATUS_SENSOR_MOTOR_OUTPUTS
    | mavlink.MAV_SYS_STATUS_AHRS
    | mavlink.MAV_SYS_STATUS_SENSOR_BATTERY
    | mavlink.MAV_SYS_STATUS_PREARM_CHECK
)
FLIGHT_SW_VERSION = (4 << 24) | (7 << 16) | (0 << 8) | mavlink.FIRMWARE_VERSION_TYPE_OFFICIAL
CAPABILITIES = (
    mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT
    | mavlink.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_COMMAND_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT
    | mavlink.MAV_PROTOCOL_CAPABILITY_MAVLINK2
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE
    | mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY
)


def _ms(c: Copter) -> int:
    return int(c.t * 1000) & 0xFFFFFFFF


def heartbeat(c: Copter):
    base = (
        mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED
        | mavlink.MAV_MODE_FLAG_STABILIZE_ENABLED
        | mavlink.MAV_MODE_FLAG_MANUAL_INPUT_ENABLED
    )
    if c.mode in (M.AUTO, M.GUIDED, M.RTL, M.LOITER, M.BRAKE, M.LAND, M.CIRCLE):
        base |= mavlink.MAV_MODE_FLAG_GUIDED_ENABLED
    if c.armed:
        base |= mavlink.MAV_MODE_FLAG_SAFETY_ARMED
    if not c.ekf_ok and c.t < c.cfg.boot_delay_s:
        status = mavlink.MAV_STATE_BOOT if c.t < 1.0 else mavlink.MAV_STATE_STANDBY
    elif c.failsafes.batt_crit or c.failsafes.ekf_failsafe:
        status = mavlink.MAV_STATE_CRITICAL
    else:
        status = mavlink.MAV_STATE_ACTIVE if c.armed else mavlink.MAV_STATE_STANDBY
    return _B.heartbeat_encode(mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, base, c.mode, status, 3)


def global_position_int(c: Copter):
    if not c.ekf_ok:  # no position estimate yet: ArduPilot sends zeros
        return _B.global_position_int_encode(_ms(c), 0, 0, 0, 0, 0, 0, 0, 65535)
    lat, lon = c.latlon()
    m = c.motion
    hdg = int(round(math.degrees(m.yaw) * 100)) % 36000
    return _B.global_position_int_encode(
        _ms(c),
        int(round(lat * 1e7)),
        int(round(lon * 1e7)),
        int(round(c.alt_amsl() * 1000)),
        int(round(c.relative_alt() * 1000)),
        int(round(m.vn * 100)),
        int(round(m.ve * 100)),
        int(round(-m.vz * 100)),
        hdg,
    )


def gps_raw_int(c: Copter):
    usec = int(c.t * 1e6)
    m = c.motion
    if not c.failsafes.gps_ok or c.t < 2.0:
        return _B.gps_raw_int_encode(usec, mavlink.GPS_FIX_TYPE_NO_FIX, 0, 0, 0, 65535, 65535, 0, 65535, 0)
    lat, lon = c.latlon()
    cog = int(round(math.degrees(math.atan2(m.ve, m.vn)) * 100)) % 36000 if m.ground_speed() > 0.2 else 0
    return _B.gps_raw_int_encode(
        usec,
        mavlink.GPS_FIX_TYPE_3D_FIX,
        int(round(lat * 1e7)),
        int(round(lon * 1e7)),
        int(round(c.alt_amsl() * 1000)),
        121,
        200,
        int(round(m.ground_speed() * 100)),
        cog,
        10,
        int(round(c.alt_amsl() * 1000)),
        300,
        500,
        40,
        0,
    )


def attitude(c: Copter):
    roll, pitch, yaw = c.motion.attitude()
    yaw_wrapped = (yaw + math.pi) % (2 * math.pi) - math.pi
    return _B.attitude_encode(_ms(c), roll, pitch, yaw_wrapped, 0.0, 0.0, c.motion.yaw_rate)


def vfr_hud(c: Copter):
    m = c.motion
    heading = int(round(math.degrees(m.yaw))) % 360
    return _B.vfr_hud_encode(m.airspeed(), m.ground_speed(), heading, c.servos.throttle_pct(), c.alt_amsl(), m.vz)


def _centiamps(current_a: float) -> int:
    """Current in cA for an int16 field, clamped as ArduPilot does (a 40 L drone can draw > 327 A)."""
    return max(-32767, min(32767, int(round(current_a * 100))))


def sys_status(c: Copter):
    b = c.battery
    health = _SENSORS
    if not c.failsafes.gps_ok:
        health &= ~mavlink.MAV_SYS_STATUS_SENSOR_GPS
    if c.arming.prearm_failure() is not None:
        health &= ~mavlink.MAV_SYS_STATUS_PREARM_CHECK
    if c.failsafes.batt_low:
        health &= ~mavlink.MAV_SYS_STATUS_SENSOR_BATTERY
    return _B.sys_status_encode(
        _SENSORS,
        _SENSORS,
        health,
        150,
        int(b.voltage * 1000),
        _centiamps(b.current_a),
        int(b.remaining_pct),
        0,
        0,
        0,
        0,
        0,
        0,
    )


def battery_status(c: Copter):
    b = c.battery
    mv = int(b.voltage * 1000)
    # ArduPilot puts the pack voltage in cells[0] when it has no per-cell readings; >65534 mV is split
    cells = [min(mv, 65534), max(mv - 65534, 0) if mv > 65534 else 65535] + [65535] * 8
    state = mavlink.MAV_BATTERY_CHARGE_STATE_OK
    if b.failed_cell:
        state = mavlink.MAV_BATTERY_CHARGE_STATE_FAILED
    elif c.failsafes.batt_crit:
        state = mavlink.MAV_BATTERY_CHARGE_STATE_CRITICAL
    elif c.failsafes.batt_low:
        state = mavlink.MAV_BATTERY_CHARGE_STATE_LOW
    remaining_s = 0
    if b.current_a > 1.0:
        remaining_s = int(max(b.capacity_mah - b.used_mah, 0) / 1000.0 / b.current_a * 3600)
    return _B.battery_status_encode(
        0,
        mavlink.MAV_BATTERY_FUNCTION_ALL,
        mavlink.MAV_BATTERY_TYPE_LION,
        32767,
        cells,
        _centiamps(b.current_a),
        int(b.used_mah),
        int(b.energy_j / 100.0),
        int(b.remaining_pct),
        remaining_s,
        state,
        (0, 0, 0, 0),
        0,
        0,
    )


def mission_state(c: Copter) -> int:
    items = len(c.stores[MISSION])
    if items <= 1:
        return mavlink.MISSION_STATE_NO_MISSION
    r = c.mode_auto.mission
    if r.state == MissionRunner.RUNNING:
        return mavlink.MISSION_STATE_ACTIVE
    if r.state == MissionRunner.COMPLETE:
        return mavlink.MISSION_STATE_COMPLETE
    return mavlink.MISSION_STATE_PAUSED if r.nav_index else mavlink.MISSION_STATE_NOT_STARTED


def mission_current(c: Copter):
    seq = c.nav_index or 0
    return _B.mission_current_encode(seq, len(c.stores[MISSION]), mission_state(c), 1 if c.mode == M.AUTO else 0)


def mission_item_reached(seq: int):
    return _B.mission_item_reached_encode(seq)


def servo_output_raw(c: Copter):
    pwm = [c.servos.pwm(n) for n in range(1, 17)]
    return _B.servo_output_raw_encode(int(c.t * 1e6) & 0xFFFFFFFF, 0, *pwm)


def home_position(c: Copter):
    loc = c.home_location()
    if loc is None:
        return None
    lat, lon, alt = loc
    return _B.home_position_encode(
        int(round(lat * 1e7)),
        int(round(lon * 1e7)),
        int(round(alt * 1000)),
        0.0,
        0.0,
        0.0,
        [1.0, 0.0, 0.0, 0.0],
        0.0,
        0.0,
        0.0,
        int(c.t * 1e6),
    )


def wind(c: Copter):
    wn, we = c.motion.wind()
    speed = math.hypot(wn, we)
    direction = math.degrees(math.atan2(-we, -wn)) % 360.0 if speed > 0 else 0.0  # where it comes from
    return _B.wind_encode(direction, speed, 0.0)


TERRAIN_SPACING_M = 100  # TERRAIN_SPACING's default: what the report says of the grid


def terrain_report(c: Copter):
    """AP_Terrain::send_terrain_report, sent only when the simulator has a DEM: the ground's
    height AMSL under the copter and the copter's height above it (relative altitude plus the
    ground at home minus the ground here; 0 before home is set)."""
    terrain = c.terrain_amsl()
    if terrain is None or not c.ekf_ok:  # no terrain data, or no location to report for
        return None
    lat, lon = c.latlon()
    current = 0.0
    if c.home is not None:
        home_terrain = c.terrain_amsl(c.home[0], c.home[1])
        assert home_terrain is not None  # a DEM is there
        current = c.relative_alt() + home_terrain - terrain
    loaded = c.ground.tiles_loaded if c.ground is not None else 0
    return _B.terrain_report_encode(
        int(round(lat * 1e7)), int(round(lon * 1e7)), TERRAIN_SPACING_M, terrain, current, 0, loaded
    )


def statustext(severity: int, text: str):
    return _B.statustext_encode(severity, text.encode("ascii", "replace")[:50])


def command_ack(command: int, result: int, target_system: int = 0, target_component: int = 0):
    return _B.command_ack_encode(command, result, 0, 0, target_system, target_component)


def autopilot_version():
    return _B.autopilot_version_encode(
        CAPABILITIES, FLIGHT_SW_VERSION, 0, 0, 0, [0] * 8, [0] * 8, [0] * 8, 0, 0, 0x53494D
    )


STREAM_BUILDERS = {
    "HEARTBEAT": heartbeat,
    "GLOBAL_POSITION_INT": global_position_int,
    "GPS_RAW_INT": gps_raw_int,
    "ATTITUDE": attitude,
    "VFR_HUD": vfr_hud,
    "SYS_STATUS": sys_status,
    "BATTERY_STATUS": battery_status,
    "MISSION_CURRENT": mission_current,
    "SERVO_OUTPUT_RAW": servo_output_raw,
    "HOME_POSITION": home_position,
    "WIND": wind,
    "TERRAIN_REPORT": terrain_report,
}
MSG_IDS = {name: getattr(mavlink, f"MAVLINK_MSG_ID_{name}") for name in STREAM_BUILDERS}
NAMES_BY_ID = {v: k for k, v in MSG_IDS.items()}

# REQUEST_DATA_STREAM groups (GCS_MAVLink's ap_message groups, the streamed subset)
DATA_STREAM_GROUPS = {
    mavlink.MAV_DATA_STREAM_EXTENDED_STATUS: ("SYS_STATUS", "GPS_RAW_INT", "MISSION_CURRENT", "BATTERY_STATUS"),
    mavlink.MAV_DATA_STREAM_RC_CHANNELS: ("SERVO_OUTPUT_RAW",),
    mavlink.MAV_DATA_STREAM_POSITION: ("GLOBAL_POSITION_INT",),
    mavlink.MAV_DATA_STREAM_EXTRA1: ("ATTITUDE",),
    mavlink.MAV_DATA_STREAM_EXTRA2: ("VFR_HUD",),
    mavlink.MAV_DATA_STREAM_EXTRA3: ("WIND", "BATTERY_STATUS", "TERRAIN_REPORT"),
}
