"""Synthetic tlogs written the way MAVProxy, QGroundControl and Mission Planner write them.

For tests, benchmarks and demos: a copter flies given swaths at constant speed with the
pump on along each swath, and the log carries what ArduPilot streams (heartbeat, fused
and raw position, servo outputs, wind, battery, mission progress), interleaved with the
ground station's own heartbeats as each tool writes them. The function returns the
ground truth (litres pumped, spray time) so tests can check the records against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from fields.frame import LocalFrame
from telemetry.ingest.tlog import TlogWriter

# (gcs sysid, gcs compid, MAVLink 1 frames?, signed?) per tool
STYLES = {
    "mavproxy": (255, 230, False, False),
    "qgc": (255, 190, False, False),
    "missionplanner": (255, 190, True, False),
    "signed": (255, 190, False, True),
}


@dataclass
class FlightTruth:
    volume_l: float = 0.0
    spray_time_s: float = 0.0
    spray_length_m: float = 0.0
    messages: int = 0  # records this flight added to the log
    end_us: int = 0


class Composer:
    """Packs messages for one vehicle and one ground station into a TlogWriter."""

    def __init__(self, writer: TlogWriter, style: str = "mavproxy", sysid: int = 1) -> None:
        gcs_sys, gcs_comp, self.v1, signed = STYLES[style]
        self.writer = writer
        self.vehicle = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
        self.gcs = mavlink.MAVLink(None, srcSystem=gcs_sys, srcComponent=gcs_comp)
        if signed:
            self.vehicle.signing.secret_key = bytes(range(32))
            self.vehicle.signing.sign_outgoing = True
        self.count = 0

    def put(self, t_us: int, msg, *, gcs: bool = False) -> None:
        frame = msg.pack(self.gcs if gcs else self.vehicle, force_mavlink1=self.v1)
        self.writer.write(t_us, bytes(frame))
        self.count += 1


def _heartbeat(armed: bool, mode: int):
    base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
    return mavlink.MAVLink_heartbeat_message(
        mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, base, mode, mavlink.MAV_STATE_ACTIVE, 3
    )


def _servo(t_boot_us: int, pump_servo: int, pwm: int):
    pwms = [1500, 1500, 1500, 1500] + [0] * 12
    pwms[pump_servo - 1] = pwm
    return mavlink.MAVLink_servo_output_raw_message(t_boot_us & 0xFFFFFFFF, 0, *pwms)


def fly_swaths(
    comp: Composer,
    swaths_lonlat: list[tuple[tuple[float, float], tuple[float, float]]],
    *,
    start_us: int,
    boot_us: int = 60_000_000,
    speed_m_s: float = 5.0,
    rate_hz: float = 10.0,
    pump_servo: int = 9,
    pump_pwm: int = 1750,
    pump_max_l_min: float = 2.4,
    height_m: float = 3.0,
    wind: tuple[float, float] = (90.0, 2.0),
    ground_s: float = 3.0,
    home: tuple[float, float] | None = None,
) -> FlightTruth:
    """Arm, fly the swaths in order (pump on along each, off between), disarm; returns the truth.
    With `home` (lon, lat) the flight takes off there and lands there again, pump off on the way,
    as from a reload point; else it takes off and lands at the ends of the swaths."""
    lon0, lat0 = swaths_lonlat[0][0]
    frame = LocalFrame.for_lonlat(lon0, lat0)
    # The path: list of (x, y, pump_on) segments.
    pts = []
    for a, b in swaths_lonlat:
        pts.append((frame.to_local(*a), frame.to_local(*b)))
    legs: list[tuple[tuple[float, float], tuple[float, float], bool]] = []
    for k, (a, b) in enumerate(pts):
        if k:
            legs.append((pts[k - 1][1], a, False))
        legs.append((a, b, True))
    if home is not None:
        h = frame.to_local(*home)
        legs = [(h, pts[0][0], False), *legs, (pts[-1][1], h, False)]
    dt = 1.0 / rate_hz
    truth = FlightTruth()
    first_count = comp.count
    t = 0.0  # seconds since arming
    hb_next = 0.0
    slow_next = 0.0

    def emit(t: float, x: float, y: float, vx: float, vy: float, alt: float, pwm: int, armed: bool) -> None:
        nonlocal hb_next, slow_next
        t_us = start_us + int(round(t * 1e6))
        boot = boot_us + int(round(t * 1e6))
        if t >= hb_next:
            comp.put(t_us, _heartbeat(armed, 3 if armed else 4))
            comp.put(
                t_us + 150,
                mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0, 3),
                gcs=True,
            )
            hb_next += 1.0
        lon, lat = frame.to_wgs84(x, y)
        comp.put(
            t_us + 200,
            mavlink.MAVLink_global_position_int_message(
                boot // 1000,
                int(round(lat * 1e7)),
                int(round(lon * 1e7)),
                int(alt * 1000) + 30_000,
                int(alt * 1000),
                int(vy * 100),
                int(vx * 100),
                0,
                0,
            ),
        )
        comp.put(t_us + 400, _servo(boot, pump_servo, pwm))
        if t >= slow_next:
            comp.put(
                t_us + 600,
                mavlink.MAVLink_gps_raw_int_message(
                    boot,
                    3,
                    int(round(lat * 1e7)),
                    int(round(lon * 1e7)),
                    30_000,
                    80,
                    120,
                    int(math.hypot(vx, vy) * 100),
                    0,
                    14,
                ),
            )
            comp.put(t_us + 700, mavlink.MAVLink_vfr_hud_message(0, math.hypot(vx, vy), 90, 40, alt, 0))
            comp.put(t_us + 800, mavlink.MAVLink_wind_message(wind[0], wind[1], 0))
            comp.put(t_us + 900, mavlink.MAVLink_sys_status_message(0, 0, 0, 300, 22_800, 2500, 80, 0, 0, 0, 0, 0, 0))
            comp.put(t_us + 950, mavlink.MAVLink_attitude_message(boot // 1000, 0.01, -0.02, 1.5, 0, 0, 0))
            slow_next += 0.5

    x, y = legs[0][0]
    while t < ground_s:  # armed on the ground, pump off
        emit(t, x, y, 0, 0, 0.0, 1000, True)
        t += dt
    for a, b, on in legs:
        length = math.dist(a, b)
        if length < 1e-9:  # e.g. home at the first swath's start
            continue
        steps = max(1, int(round(length / speed_m_s / dt)))
        ux, uy = (b[0] - a[0]) / length, (b[1] - a[1]) / length
        for s in range(steps):
            f = s / steps
            px, py = a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
            emit(t, px, py, ux * speed_m_s, uy * speed_m_s, height_m, pump_pwm if on else 1000, True)
            t += dt
        if on:
            secs = steps * dt
            truth.spray_time_s += secs
            truth.spray_length_m += length
            truth.volume_l += (pump_pwm - 1000) / 1000 * pump_max_l_min * secs / 60.0
    x, y = legs[-1][1]
    end = t + ground_s
    while t < end:
        emit(t, x, y, 0, 0, 0.0, 1000, True)
        t += dt
    t_us = start_us + int(round(t * 1e6))
    comp.put(t_us, _heartbeat(False, 4))
    comp.put(t_us + 1_000_000, _heartbeat(False, 4))
    truth.messages = comp.count - first_count
    truth.end_us = t_us + 1_000_000
    return truth


def write_flights(
    path: str | Path,
    sorties: list[list[tuple[tuple[float, float], tuple[float, float]]]],
    *,
    start_us: int,
    style: str = "mavproxy",
    gap_s: float = 300.0,
    **kw,
) -> list[FlightTruth]:
    """One tlog with one flight per sortie, `gap_s` on the ground (reload) between them."""
    writer = TlogWriter(path)
    comp = Composer(writer, style)
    truths = []
    t = start_us
    try:
        for swaths in sorties:
            truth = fly_swaths(comp, swaths, start_us=t, **kw)
            truths.append(truth)
            t = truth.end_us + int(gap_s * 1e6)
    finally:
        writer.close()
    return truths
