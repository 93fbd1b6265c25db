"""The issue's ground-station script, run unchanged against the embedded simulator and (marked
`sitl`) against ArduPilot's own Copter SITL: sprayer parameters, upload, download, GUIDED, arm,
MISSION_START, and SERVO_OUTPUT_RAW watched against GLOBAL_POSITION_INT until it lands and disarms.
"""

from __future__ import annotations

import time

import pytest
from sim_groundstation import COPTER_MODES, GroundStation, mavlink, offset, point_segment_m, pump_samples

import sim

SPEEDUP = 20
HOME = (21.7046, 105.7312, 12.0)
PUMP_SERVO = 9
PUMP_RATE = 10.0  # % per m/s
SPEED = 5.0  # m/s
ALT = 10.0


@pytest.fixture(params=["sim", pytest.param("sitl", marks=pytest.mark.sitl)])
def vehicle(request, tmp_path):
    if request.param == "sim":
        handle = sim.start_sim(speedup=SPEEDUP, home=HOME, boot_delay_s=8, truth_path=str(tmp_path / "truth.jsonl"))
    else:
        handle = sim.start_sitl(speedup=SPEEDUP, home=HOME)
    try:
        yield handle
    finally:
        handle.stop()


def _mission(home_lat: float, home_lon: float):
    a = offset(home_lat, home_lon, 30.0, 0.0)
    b = offset(home_lat, home_lon, 30.0, 80.0)
    c = offset(home_lat, home_lon, 0.0, 80.0)
    rel = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
    items = [
        (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_INT, 0, 0, 0, 0, home_lat, home_lon, 0),
        (mavlink.MAV_CMD_NAV_TAKEOFF, rel, 0, 0, 0, 0, 0, 0, ALT),
        (mavlink.MAV_CMD_NAV_WAYPOINT, rel, 0, 0, 0, 0, a[0], a[1], ALT),
        (mavlink.MAV_CMD_DO_SPRAYER, mavlink.MAV_FRAME_MISSION, 1, 0, 0, 0, 0, 0, 0),
        (mavlink.MAV_CMD_NAV_WAYPOINT, rel, 0, 0, 0, 0, b[0], b[1], ALT),
        (mavlink.MAV_CMD_DO_SPRAYER, mavlink.MAV_FRAME_MISSION, 0, 0, 0, 0, 0, 0, 0),
        (mavlink.MAV_CMD_NAV_WAYPOINT, rel, 0, 0, 0, 0, c[0], c[1], ALT),
        (mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, rel, 0, 0, 0, 0, 0, 0, 0),
    ]
    return items, a, b


def test_spray_mission_ground_station_script(vehicle):
    gcs = GroundStation(vehicle.url, speedup=SPEEDUP)
    try:
        gcs.request_streams(10.0)
        pos = gcs.wait_position(gcs.wall(120))
        assert pos is not None, "no position estimate"
        home_lat, home_lon = pos.lat * 1e-7, pos.lon * 1e-7

        # sprayer parameters, each echoed back with PARAM_VALUE
        wanted = {
            "SPRAY_ENABLE": 1,
            f"SERVO{PUMP_SERVO}_FUNCTION": 22,
            f"SERVO{PUMP_SERVO}_MIN": 1000,
            f"SERVO{PUMP_SERVO}_MAX": 2000,
            "SPRAY_PUMP_RATE": PUMP_RATE,
            "SPRAY_SPEED_MIN": 100,
            "SPRAY_PUMP_MIN": 0,
            "WPNAV_SPEED": SPEED * 100,
        }
        for name, value in wanted.items():
            assert gcs.set_param(name, value) == pytest.approx(value), name

        items, a, b = _mission(home_lat, home_lon)
        assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
        back = gcs.download()
        assert len(back) == len(items)
        for sent, got in zip(items[1:], back[1:]):
            assert got.command == sent[0]
            if sent[0] == mavlink.MAV_CMD_NAV_WAYPOINT:
                assert got.x == pytest.approx(round(sent[6] * 1e7), abs=2)
                assert got.y == pytest.approx(round(sent[7] * 1e7), abs=2)
                assert got.z == pytest.approx(ALT, abs=0.01)
                assert got.frame in (mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT)
            if sent[0] == mavlink.MAV_CMD_DO_SPRAYER:
                assert got.param1 == sent[2]

        assert gcs.set_mode("GUIDED") == mavlink.MAV_RESULT_ACCEPTED
        assert gcs.arm(), f"arming refused: {gcs.texts[-5:]}"
        assert gcs.command(mavlink.MAV_CMD_MISSION_START, 0, 0) == mavlink.MAV_RESULT_ACCEPTED

        flight = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=400)
    finally:
        gcs.close()

    # AUTO all the way (the RTL item does not change the mode), every NAV item reached in order
    assert 3 in flight.modes
    assert 6 not in flight.modes
    assert [s for s in flight.reached if s in (1, 2, 4, 6, 7)] == [1, 2, 4, 6, 7]
    samples = pump_samples(flight)
    assert len(samples) > 50
    leg = 80.0
    on = [s for s in samples if s[4] > 1050]
    assert on, "the pump never ran"
    along = []
    for lat, lon, alt, gs, pwm in on:
        off_track, s = point_segment_m((lat, lon), a, b)
        assert off_track < 4.0, f"pump on {off_track:.1f} m away from the spray leg"
        assert alt == pytest.approx(ALT, abs=1.5)
        along.append(s)
        if gs > 2.0:  # AC_Sprayer: % = SPRAY_PUMP_RATE x ground speed; 1000..2000 us
            assert pwm == pytest.approx(1000 + 10 * PUMP_RATE * gs, abs=60)
    assert min(along) < 0.15 * leg and max(along) > 0.85 * leg, "the pump missed part of the swath"
    # off on the transits before and after the swath
    off_far = [s for s in samples if s[4] <= 1050 and point_segment_m((s[0], s[1]), a, b)[0] > 10]
    assert len(off_far) > 20
    # back home, on the ground
    last = flight.positions[-1]
    assert last[3] < 1.0
    assert point_segment_m((last[1], last[2]), (home_lat, home_lon), (home_lat, home_lon))[0] < 3.0

    truth = vehicle.truth()
    if truth is not None:  # the embedded simulator also says what really came out of the tank
        assert truth.sprayed_l > 0
        for smp in truth.spraying():
            assert point_segment_m((smp.lat, smp.lon), a, b)[0] < 3.0
        flow_time = truth.pump_on_s
        assert 80 / SPEED * 0.8 < flow_time < 80 / SPEED * 1.6


def test_vehicle_reports_what_it_stores_as_arducopter_does(vehicle):
    """What a ground station can tell apart, held to the same expectations on both vehicles
    (from ArduCopter 4.7 SITL): how uploads are pulled, what a read-back gives, the mode
    after boot, arming in GUIDED, and the ground crew's MAV_CMD_BATTERY_RESET."""
    gcs = GroundStation(vehicle.url, speedup=SPEEDUP)
    try:
        gcs.request_streams(10.0)
        pos = gcs.wait_position(gcs.wall(120))
        assert pos is not None, "no position estimate"
        home_lat, home_lon = pos.lat * 1e-7, pos.lon * 1e-7
        hb = gcs.recv({"HEARTBEAT"}, 5.0)
        assert hb is not None and hb.custom_mode == COPTER_MODES["STABILIZE"], "the RC selects STABILIZE"

        items, _, _ = _mission(home_lat, home_lon)
        assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
        assert gcs.request_types == {"MISSION_REQUEST"}, "ArduPilot pulls items with MISSION_REQUEST"
        back = gcs.download()
        home = back[0]
        assert home.frame == mavlink.MAV_FRAME_GLOBAL and home.z == pytest.approx(HOME[2], abs=1.0)
        assert abs(home.x - pos.lat) < 100 and abs(home.y - pos.lon) < 100, "item 0 is the vehicle's own home"
        for sent, got in zip(items[1:], back[1:]):
            command = sent[0]
            if command in (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_CMD_NAV_TAKEOFF):
                assert got.frame == mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT, "location frames come back without _INT"
            else:  # NAV_RETURN_TO_LAUNCH and the DO commands are stored without a frame
                assert (got.frame, got.x, got.y, got.z) == (mavlink.MAV_FRAME_GLOBAL, 0, 0, 0.0), command

        fence = [
            (
                mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                mavlink.MAV_FRAME_GLOBAL_INT,
                4,
                0,
                0,
                0,
                *offset(home_lat, home_lon, n, e),
                0,
            )
            for n, e in ((-50, -50), (-50, 150), (80, 150), (80, -50))
        ]
        assert gcs.upload(fence, mission_type=mavlink.MAV_MISSION_TYPE_FENCE) == mavlink.MAV_MISSION_ACCEPTED
        assert {m.frame for m in gcs.download(mavlink.MAV_MISSION_TYPE_FENCE)} == {mavlink.MAV_FRAME_GLOBAL}
        rally = [
            (
                mavlink.MAV_CMD_NAV_RALLY_POINT,
                mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                0,
                0,
                0,
                0,
                home_lat,
                home_lon,
                15.0,
            )
        ]
        assert gcs.upload(rally, mission_type=mavlink.MAV_MISSION_TYPE_RALLY) == mavlink.MAV_MISSION_ACCEPTED
        (point,) = gcs.download(mavlink.MAV_MISSION_TYPE_RALLY)
        assert point.frame == mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT and point.z == pytest.approx(15.0)

        # the ground crew: a battery counted as half full, then a charged one fitted
        for pct in (50, 100):
            assert gcs.command(mavlink.MAV_CMD_BATTERY_RESET, 1, pct) == mavlink.MAV_RESULT_ACCEPTED
            deadline = time.monotonic() + 10
            remaining = -1
            while time.monotonic() < deadline and not pct - 2 <= remaining <= pct:
                msg = gcs.recv({"BATTERY_STATUS"}, 2.0)
                remaining = -1 if msg is None else msg.battery_remaining
            assert pct - 2 <= remaining <= pct  # a disarmed copter still draws a little

        assert gcs.set_mode("GUIDED") == mavlink.MAV_RESULT_ACCEPTED
        assert gcs.arm(), f"arming refused: {gcs.texts[-5:]}"
        assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0) == mavlink.MAV_RESULT_ACCEPTED
    finally:
        gcs.close()
