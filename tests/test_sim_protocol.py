"""The embedded simulator's MAVLink protocols over real TCP sockets with raw pymavlink."""

from __future__ import annotations

import os
import socket
import struct
import time

import pytest
from sim_groundstation import GroundStation, mavlink, offset

import sim

SPEEDUP = 50
REL = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT


@pytest.fixture
def copter():
    handle = sim.start_sim(
        speedup=SPEEDUP, boot_delay_s=4, rc_mode_delay_s=2, upload_timeout_s=1.5, request_resend_s=0.3
    )
    yield handle
    handle.stop()


def _simple_mission(lat, lon, n=3):
    items = [
        (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_INT, 0, 0, 0, 0, lat, lon, 0),
        (mavlink.MAV_CMD_NAV_TAKEOFF, REL, 0, 0, 0, 0, 0, 0, 5),
    ]
    for k in range(n):
        p = offset(lat, lon, 10.0 * (k + 1), 0)
        items.append((mavlink.MAV_CMD_NAV_WAYPOINT, REL, 0, 0, 0, 0, p[0], p[1], 5))
    return items


def test_boot_prearm_refusal_then_position_and_arming(copter):
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        first = gcs.recv({"GLOBAL_POSITION_INT"}, 5)
        assert first is not None and first.lat == 0 and first.lon == 0  # no position estimate yet
        # arming during boot: refused with the reason as STATUSTEXT
        assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_FAILED
        assert any("PreArm: Need Position Estimate" in t for t in gcs.texts)
        # modes that need a position are refused too
        pos = gcs.wait_position(gcs.wall(30))
        assert pos is not None and pos.relative_alt == 0
        # the simulated RC has selected STABILIZE after boot even if GUIDED was asked for early
        hb = gcs.recv({"HEARTBEAT"}, 3)
        assert hb.custom_mode == 0
        assert gcs.set_mode("GUIDED") == mavlink.MAV_RESULT_ACCEPTED
        assert gcs.arm(tries=1)
        armed_at = gcs.recv({"GLOBAL_POSITION_INT"}, 3).time_boot_ms
        hb = gcs.recv({"HEARTBEAT"}, 3)
        assert hb.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED and hb.custom_mode == 4
        home = gcs.recv({"HOME_POSITION"}, gcs.wall(10))
        assert home is not None and home.latitude == pytest.approx(pos.lat, abs=2)
        # armed but never taking off: the copter disarms itself after DISARM_DELAY (10 s)
        while True:
            hb = gcs.recv({"HEARTBEAT"}, gcs.wall(30))
            assert hb is not None
            if not hb.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED:
                break
        disarmed_at = gcs.recv({"GLOBAL_POSITION_INT"}, 3).time_boot_ms
        assert 8_000 <= disarmed_at - armed_at <= 14_000
        # AUTO is not an armable mode and LAND is not either
        assert gcs.set_mode("LAND") == mavlink.MAV_RESULT_ACCEPTED
        assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_FAILED
        assert any("Mode not armable" in t for t in gcs.texts)
    finally:
        gcs.close()


def test_upload_download_clear_and_errors(copter):
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        pos = gcs.wait_position(gcs.wall(30))
        lat, lon = pos.lat * 1e-7, pos.lon * 1e-7
        items = _simple_mission(lat, lon)
        assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
        back = gcs.download()
        assert [m.command for m in back] == [i[0] for i in items]
        assert back[0].x == pos.lat and back[0].y == pos.lon  # item 0 is home
        # a command ArduPilot does not know is refused and the stored mission stays
        bad = items[:2] + [(31999, REL, 0, 0, 0, 0, lat, lon, 5)]
        assert gcs.upload(bad) == mavlink.MAV_MISSION_UNSUPPORTED
        assert len(gcs.download()) == len(items)
        # latitude out of range
        bad = items[:2] + [(mavlink.MAV_CMD_NAV_WAYPOINT, REL, 0, 0, 0, 0, 95.0, lon, 5)]
        assert gcs.upload(bad) == mavlink.MAV_MISSION_INVALID_PARAM5_X
        # fence and rally have their own stores
        fence = [
            (
                mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                mavlink.MAV_FRAME_GLOBAL,
                4,
                0,
                0,
                0,
                *offset(lat, lon, dn, de),
                0,
            )
            for dn, de in ((-50, -50), (-50, 50), (50, 50), (50, -50))
        ]
        assert gcs.upload(fence, mission_type=mavlink.MAV_MISSION_TYPE_FENCE) == mavlink.MAV_MISSION_ACCEPTED
        rally = [(mavlink.MAV_CMD_NAV_RALLY_POINT, REL, 0, 0, 0, 0, *offset(lat, lon, 20, 20), 10)]
        assert gcs.upload(rally, mission_type=mavlink.MAV_MISSION_TYPE_RALLY) == mavlink.MAV_MISSION_ACCEPTED
        assert [m.command for m in gcs.download(mavlink.MAV_MISSION_TYPE_FENCE)] == [5001] * 4
        assert len(gcs.download(mavlink.MAV_MISSION_TYPE_RALLY)) == 1
        assert len(gcs.download()) == len(items)
        # a waypoint in the fence store is refused
        assert gcs.upload(items[2:3], mission_type=mavlink.MAV_MISSION_TYPE_FENCE) == mavlink.MAV_MISSION_UNSUPPORTED
        # clear the mission: only home is left, the fence stays
        gcs.link.mav.mission_clear_all_send(gcs.sysid, gcs.compid, 0)
        ack = gcs.recv({"MISSION_ACK"}, 3)
        assert ack.type == mavlink.MAV_MISSION_ACCEPTED
        assert len(gcs.download()) == 1
        assert len(gcs.download(mavlink.MAV_MISSION_TYPE_FENCE)) == 4
        # AUTO without a mission is refused
        assert gcs.set_mode("AUTO") == mavlink.MAV_RESULT_FAILED
    finally:
        gcs.close()


def test_stalled_upload_times_out_and_partial_upload_never_replaces(copter):
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        pos = gcs.wait_position(gcs.wall(30))
        lat, lon = pos.lat * 1e-7, pos.lon * 1e-7
        good = _simple_mission(lat, lon, 2)
        assert gcs.upload(good) == mavlink.MAV_MISSION_ACCEPTED
        longer = _simple_mission(lat, lon, 5)
        gcs.link.mav.mission_count_send(gcs.sysid, gcs.compid, len(longer), 0)
        asked = []
        ack = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            msg = gcs.recv({"MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"}, 1)
            if msg is None:
                continue
            if msg.get_type() == "MISSION_ACK":
                ack = msg
                break
            # like ArduCopter 4.7 the vehicle pulls with MISSION_REQUEST (not _INT)
            assert msg.get_type() == "MISSION_REQUEST"
            asked.append(msg.seq)
            if msg.seq < 2 and asked.count(msg.seq) == 1:  # answer two items, then go silent
                cmd, frame, p1, p2, p3, p4, la, lo, alt = longer[msg.seq]
                gcs.link.mav.mission_item_int_send(
                    gcs.sysid,
                    gcs.compid,
                    msg.seq,
                    frame,
                    cmd,
                    0,
                    1,
                    p1,
                    p2,
                    p3,
                    p4,
                    int(la * 1e7),
                    int(lo * 1e7),
                    alt,
                    0,
                )
        assert ack is not None and ack.type == mavlink.MAV_MISSION_OPERATION_CANCELLED
        assert asked.count(2) >= 2  # the unanswered request was sent again before giving up
        assert len(gcs.download()) == len(good)  # the partial upload did not replace the mission
        # an item out of order is answered with INVALID_SEQUENCE
        gcs.link.mav.mission_count_send(gcs.sysid, gcs.compid, 3, 0)
        assert gcs.recv({"MISSION_REQUEST"}, 3).seq == 0
        gcs.link.mav.mission_item_int_send(
            gcs.sysid, gcs.compid, 2, REL, 16, 0, 1, 0, 0, 0, 0, int(lat * 1e7), int(lon * 1e7), 5, 0
        )
        assert gcs.recv({"MISSION_ACK"}, 3).type == mavlink.MAV_MISSION_INVALID_SEQUENCE
    finally:
        gcs.close()


def test_second_client_sees_same_telemetry_and_upload_lock(copter):
    a = GroundStation(copter.url, speedup=SPEEDUP)
    b = GroundStation(copter.url, speedup=SPEEDUP, source_system=254)
    try:
        pos = a.wait_position(a.wall(30))
        assert b.wait_position(b.wall(30)) is not None
        # both see the same STATUSTEXT and the same parameter echo
        assert a.set_param("WPNAV_SPEED", 650) == 650
        echo = b.recv({"PARAM_VALUE"}, 3)
        assert echo is not None and echo.param_id == "WPNAV_SPEED" and echo.param_value == 650
        # position streams agree: the same boot times carry the same positions
        seen_a = {m.time_boot_ms: (m.lat, m.lon) for m in (a.recv({"GLOBAL_POSITION_INT"}, 2) for _ in range(8)) if m}
        seen_b = {m.time_boot_ms: (m.lat, m.lon) for m in (b.recv({"GLOBAL_POSITION_INT"}, 2) for _ in range(8)) if m}
        common = set(seen_a) & set(seen_b)
        assert common and all(seen_a[t] == seen_b[t] for t in common)
        # while A uploads, B is told the vehicle is busy
        lat, lon = pos.lat * 1e-7, pos.lon * 1e-7
        a.link.mav.mission_count_send(a.sysid, a.compid, 3, 0)
        assert a.recv({"MISSION_REQUEST"}, 3) is not None
        b.link.mav.mission_count_send(b.sysid, b.compid, 2, 0)
        assert b.recv({"MISSION_ACK"}, 3).type == mavlink.MAV_MISSION_DENIED
        assert a.upload(_simple_mission(lat, lon, 1)) == mavlink.MAV_MISSION_ACCEPTED
        # B downloads what A uploaded
        assert len(b.download()) == 3
    finally:
        a.close()
        b.close()


def _v2_frame(msgid: int, payload: bytes, seq: int = 0) -> bytes:
    """A well-framed MAVLink 2 packet for a message id the dialect does not have (bad CRC on purpose)."""
    header = struct.pack("<BBBBBBBHB", 0xFD, len(payload), 0, 0, seq, 255, 190, msgid & 0xFFFF, msgid >> 16)
    return header + payload + b"\x00\x00"


def test_survives_garbage_unknown_messages_and_disconnects(copter):
    host, port = "127.0.0.1", copter.port
    rnd = os.urandom(4096)
    # 1) a client that sends garbage and frames of unknown ids, then vanishes
    s = socket.create_connection((host, port))
    s.sendall(rnd + _v2_frame(42424, b"hello") + b"\xfe\x05\x00\xff\xbe\xee" + rnd[:100])
    s.close()
    # 2) a client that disconnects in the middle of an upload
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    pos = gcs.wait_position(gcs.wall(30))
    gcs.link.mav.mission_count_send(gcs.sysid, gcs.compid, 5, 0)
    assert gcs.recv({"MISSION_REQUEST"}, 3) is not None
    gcs.close()
    # 3) a client that resets the connection while data is queued for it
    s = socket.create_connection((host, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    time.sleep(0.2)
    s.close()
    # 4) a client sending a known message with a nonsense target and an unknown command
    other = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        other.link.write(rnd[:333])
        # ten tries: the random bytes may open a frame that swallows the first few (280 bytes at most)
        assert other.command(31000, 1, 2, 3, timeout=1.0, retries=10) == mavlink.MAV_RESULT_UNSUPPORTED
        # the vehicle still answers everything, and the upload lock of the vanished client is gone
        assert other.get_param("SPRAY_ENABLE") == 1
        lat, lon = pos.lat * 1e-7, pos.lon * 1e-7
        assert other.upload(_simple_mission(lat, lon, 1)) == mavlink.MAV_MISSION_ACCEPTED
        hb = other.recv({"HEARTBEAT"}, 3)
        assert hb is not None
    finally:
        other.close()


def test_parameters_list_read_set(copter):
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        gcs.link.mav.param_request_list_send(gcs.sysid, gcs.compid)
        got = {}
        count = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (count is None or len(got) < count):
            msg = gcs.recv({"PARAM_VALUE"}, 2)
            if msg is None:
                break
            count = msg.param_count
            got[msg.param_index] = msg.param_id
        assert count and len(got) == count
        names = set(got.values())
        for must in (
            "SPRAY_ENABLE",
            "SPRAY_PUMP_RATE",
            "SPRAY_SPEED_MIN",
            "SPRAY_PUMP_MIN",
            "SERVO9_FUNCTION",
            "WPNAV_SPEED",
            "WPNAV_RADIUS",
            "WP_RADIUS",
            "RTL_ALT",
            "BATT_CAPACITY",
            "BATT_LOW_VOLT",
            "BATT_FS_LOW_ACT",
            "SIM_SPR_ENABLE",
            "SIM_SPR_PUMP",
            "SIM_WIND_SPD",
        ):
            assert must in names
        # integer parameters round like AP_Param; WP_RADIUS (m) and WPNAV_RADIUS (cm) stay in step
        assert gcs.set_param("SPRAY_SPEED_MIN", 120.6) == 121
        assert gcs.set_param("WP_RADIUS", 3.0) == 3.0
        assert gcs.get_param("WPNAV_RADIUS") == 300
        gcs.link.mav.param_request_read_send(gcs.sysid, gcs.compid, b"", 0)
        by_index = [gcs.recv({"PARAM_VALUE"}, 3) for _ in range(2)]
        assert any(m is not None and m.param_index == 0 for m in by_index)
        # an unknown name is not answered
        gcs.link.mav.param_set_send(gcs.sysid, gcs.compid, b"NO_SUCH_PARAM", 1, 9)
        assert gcs.get_param("NO_SUCH_PARAM", timeout=0.5) is None
    finally:
        gcs.close()


def test_message_interval_and_request_message(copter):
    gcs = GroundStation(copter.url, speedup=SPEEDUP)
    try:
        gcs.wait_position(gcs.wall(30))
        assert gcs.set_interval(mavlink.MAVLINK_MSG_ID_WIND, 0.5) == mavlink.MAV_RESULT_ACCEPTED
        # WIND every 2 s of simulated time now (ATTITUDE times give the simulated clock)
        times = []
        while len(times) < 3:
            msg = gcs.recv({"WIND"}, gcs.wall(10))
            assert msg is not None
            att = gcs.recv({"ATTITUDE"}, 2)
            times.append(att.time_boot_ms)
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(1500 <= g <= 2600 for g in gaps), gaps
        assert gcs.command(mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, mavlink.MAVLINK_MSG_ID_WIND, -1) == 0
        assert gcs.command(mavlink.MAV_CMD_REQUEST_MESSAGE, mavlink.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == 0
        ver = gcs.recv({"AUTOPILOT_VERSION"}, 3)
        assert ver.capabilities & mavlink.MAV_PROTOCOL_CAPABILITY_MISSION_INT
        assert gcs.command(mavlink.MAV_CMD_REQUEST_MESSAGE, mavlink.MAVLINK_MSG_ID_HOME_POSITION) == 0
        assert gcs.recv({"HOME_POSITION"}, 3) is not None
    finally:
        gcs.close()
