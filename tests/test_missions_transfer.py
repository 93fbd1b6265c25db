"""Mission, parameter and command protocols over a real TCP socket speaking MAVLink 2.

The vehicle is tests/missions_peer.py (a scripted ArduPilot-like peer with seeded
faults); where sim.start_sim exists the same transfers also run against it.
"""

from __future__ import annotations

import time

import pytest
from missions_peer import Faults, ScriptedVehicle
from missions_plans import make_plan

import missions
from missions.dialect import mavlink
from missions.items import NAV_WAYPOINT, MissionItem
from missions.link import STREAM_RATES

FAST = missions.RetryPolicy(rto_min_s=0.01, rto_initial_s=0.2, step_timeout_s=6.0)  # loopback: resend early


def waypoints(n: int) -> list[MissionItem]:
    return [
        MissionItem.at(i, NAV_WAYPOINT, 21.7046 + i * 1e-6, 105.7312 + i * 1.3e-6, 3.0 + (i % 7) * 0.25)
        for i in range(n)
    ]


def stored_equals(peer: ScriptedVehicle, items: list[MissionItem], mt: int = 0) -> None:
    got = peer.stored(mt)
    assert len(got) == len(items)
    for a, b in zip(items, got):
        assert (b.seq, b.command, b.x, b.y, b.mission_type) == (a.seq, a.command, a.x, a.y, mt)
        assert b.z == pytest.approx(a.z, abs=1e-5)


def test_clean_upload_download_all_types():
    ms = missions.build_mission(make_plan(), 1)
    with ScriptedVehicle() as peer, missions.Vehicle.connect(peer.url, timeout=10) as v:
        assert (v.target_system, v.target_component) == (1, 1)
        for kind, mt in (("fence", 1), ("rally", 2), ("mission", 0)):
            rep = v.upload_verified(ms.items(kind), kind)
            assert rep.verified and rep.count == len(ms.items(kind))
            stored_equals(peer, ms.items(kind), mt)
        back = v.download("mission")
        assert missions.compare(ms.mission, back) == []
        assert back[0].x == int(21.7046 * 1e7)  # item 0 is the vehicle's own home
        # peer asked with MISSION_REQUEST (as ArduCopter 4.7 does), we answered with _INT
        assert "MISSION_ITEM_INT" in peer.received and "MISSION_ITEM" not in peer.received
        v.clear("rally")
        assert peer.stored(2) == []


def test_300_items_with_20_percent_loss_each_way():
    items = waypoints(300)
    with (
        ScriptedVehicle(faults=Faults(loss=0.2, seed=4)) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=FAST) as v,
    ):
        rep = v.upload_verified(items)
        assert rep.verified and rep.resends > 0
        stored_equals(peer, items)
        assert peer.counts["dropped_in"] > 20 and peer.counts["dropped_out"] > 20


def test_duplicated_delayed_reordered_messages():
    items = waypoints(120)
    faults = Faults(duplicate=0.2, reorder=0.2, delay_s=0.002, loss=0.05, seed=9)
    with ScriptedVehicle(faults=faults) as peer, missions.Vehicle.connect(peer.url, timeout=10, policy=FAST) as v:
        rep = v.upload_verified(items)
        assert rep.verified
        stored_equals(peer, items)


def test_answers_exactly_what_is_requested_out_of_order():
    items = waypoints(60)
    with (
        ScriptedVehicle(scramble=True, faults=Faults(seed=3)) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=FAST) as v,
    ):
        rep = v.upload(items)
        assert rep.duplicates > 0  # the peer asked for some items twice
        stored_equals(peer, items)


def test_silent_vehicle_fails_within_the_step_timeout_naming_the_step():
    policy = missions.RetryPolicy(step_timeout_s=1.5)
    with ScriptedVehicle(silent=True) as peer, missions.Vehicle.connect(peer.url, timeout=10, policy=policy) as v:
        t = time.monotonic()
        with pytest.raises(missions.MissionError) as err:
            v.upload_verified(waypoints(10))
        elapsed = time.monotonic() - t
        assert "MISSION_COUNT" in str(err.value) and "no MISSION_REQUEST" in str(err.value)
        assert "timed out after 1.5 s" in str(err.value)
        assert elapsed < policy.step_timeout_s + 5  # not retried for minutes
        with pytest.raises(missions.MissionError, match="MISSION_REQUEST_LIST: no MISSION_COUNT"):
            v.download()
        with pytest.raises(missions.MissionError, match="PARAM_SET SPRAY_ENABLE=1: no PARAM_VALUE"):
            v.set_params({"SPRAY_ENABLE": 1})
        with pytest.raises(missions.MissionError, match="ARM_DISARM: no COMMAND_ACK"):
            v.arm()
        assert peer.stored(0) == []


ACK_ERRORS = [
    r for r in range(1, 16) if r not in (mavlink.MAV_MISSION_INVALID_SEQUENCE, mavlink.MAV_MISSION_OPERATION_CANCELLED)
]


@pytest.mark.parametrize("result", ACK_ERRORS)
def test_every_mission_ack_error_is_explained(result):
    policy = missions.RetryPolicy(step_timeout_s=1.0)
    with (
        ScriptedVehicle(fail_count_with=result) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=policy) as v,
    ):
        with pytest.raises(missions.MissionError) as err:
            v.upload_verified(waypoints(5))
    name = mavlink.enums["MAV_MISSION_RESULT"][result].name
    assert name in str(err.value)
    assert missions.explain_ack(result).split(": ", 1)[1] in str(err.value)
    if result != mavlink.MAV_MISSION_ERROR:  # a generic ERROR is offered again until the step times out
        assert "mission upload refused" in str(err.value)


def test_repeated_sequence_errors_do_not_break_the_upload():
    """INVALID_SEQUENCE answers a repeated item; the transfer goes on (ArduPilot behaviour)."""
    with (
        ScriptedVehicle(faults=Faults(duplicate=0.5, seed=1)) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=FAST) as v,
    ):
        v.upload_verified(waypoints(40))
        stored_equals(peer, waypoints(40))


def test_cancelled_upload_is_retried_then_reported():
    policy = missions.RetryPolicy(step_timeout_s=2.0, attempts=2)
    cancelled = mavlink.MAV_MISSION_OPERATION_CANCELLED
    with (
        ScriptedVehicle(fail_count_with=cancelled) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=policy) as v,
    ):
        with pytest.raises(missions.MissionError, match="failed after 2 attempts.*OPERATION_CANCELLED"):
            v.upload_verified(waypoints(5))
        assert peer.received.count("MISSION_COUNT") >= 2


def test_no_space_from_storage_limit():
    with ScriptedVehicle(max_items=50) as peer, missions.Vehicle.connect(peer.url, timeout=10) as v:
        with pytest.raises(missions.MissionError, match="NO_SPACE: the items exceed the vehicle's storage"):
            v.upload(waypoints(51))


def test_works_right_after_boot():
    """During boot the peer ignores everything and reports position 0,0."""
    with ScriptedVehicle(boot_s=1.5) as peer, missions.Vehicle.connect(peer.url, timeout=10, policy=FAST) as v:
        # an upload issued at once is retried until the vehicle answers
        rep = v.upload_verified(waypoints(20))
        assert rep.verified and rep.resends >= 1
        lat, lon, _ = v.wait_position(10)
        assert (lat, lon) == (21.7046, 105.7312)


def test_wait_position_times_out_with_a_clear_message():
    with ScriptedVehicle(boot_s=60) as peer, missions.Vehicle.connect(peer.url, timeout=10) as v:
        with pytest.raises(missions.MissionError, match="no position estimate"):
            v.wait_position(1.0)


def test_params_commands_and_listeners():
    seen: list[str] = []
    policy = missions.RetryPolicy(rto_min_s=0.01, rto_initial_s=0.2, step_timeout_s=3.0)
    with (
        ScriptedVehicle(faults=Faults(loss=0.1, seed=2)) as peer,
        missions.Vehicle.connect(peer.url, timeout=10, policy=policy) as v,
    ):
        v.add_listener(lambda m: seen.append(m.get_type()))
        ms = missions.build_mission(make_plan(), 1)
        confirmed = v.set_params(ms.params)
        assert confirmed["SPRAY_PUMP_RATE"] == pytest.approx(18.75)
        assert peer.params["SERVO9_FUNCTION"] == 22 and peer.params["SPRAY_ENABLE"] == 1
        assert v.get_param("WPNAV_SPEED") == 500
        with pytest.raises(missions.MissionError, match="PARAM_SET NO_SUCH_PARAM=1"):
            v.set_params({"NO_SUCH_PARAM": 1})
        v.upload_verified(ms.mission)
        v.set_mode("GUIDED")
        assert v.mode == "GUIDED" and peer.custom_mode == 4
        v.arm()
        assert v.armed and peer.armed
        v.set_current(ms.resume_seq(ms.swaths[0].end_seq))
        assert peer.current_seq == ms.swaths[1].start_seq
        v.mission_start()
        assert peer.custom_mode == 3
        v.set_message_interval("GLOBAL_POSITION_INT", 4)
        v.disarm()
        assert not peer.armed
        with pytest.raises(missions.MissionError, match="unknown Copter mode"):
            v.set_mode("HOVER")
        with pytest.raises(missions.MissionError, match="UNSUPPORTED"):
            v.command(mavlink.MAV_CMD_DO_DIGICAM_CONTROL)
    assert "HEARTBEAT" in seen and "PARAM_VALUE" in seen and "COMMAND_ACK" in seen


def test_link_lost_mid_transfer():
    peer = ScriptedVehicle(rerequest_s=30)
    v = missions.Vehicle.connect(peer.url, timeout=10)
    try:
        peer.silent = True
        peer.stop()
        with pytest.raises(missions.MissionError):
            v.upload(waypoints(10))
    finally:
        v.close()


def test_connection_refused_is_one_clear_error():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(missions.MissionError, match=f"cannot connect to tcp:127.0.0.1:{port}"):
        missions.Vehicle.connect(f"tcp:127.0.0.1:{port}", timeout=0.5)


def test_against_the_simulator_when_present():
    import sim

    if not hasattr(sim, "start_sim"):
        pytest.skip("sim.start_sim not there yet")
    ms = missions.build_mission(make_plan(), 1)
    with sim.start_sim(speedup=20, boot_delay_s=0.5) as s, missions.Vehicle.connect(s.url, timeout=20) as v:
        v.wait_position(60)
        v.set_params(ms.params)
        for kind in ("fence", "rally", "mission"):
            assert v.upload_verified(ms.items(kind), kind).verified
        assert missions.compare(ms.mission, v.download()) == []


def test_wait_position_keeps_the_stream_rates_asked():
    """ArduPilot's REQUEST_DATA_STREAM sets every message of a stream back to one rate. Sent
    before every sortie while the position already flowed, it undid `request_streams`
    (SERVO_OUTPUT_RAW at 4 Hz, not the 5 asked, on ArduCopter 4.7 SITL) and the record lost
    the pump's switch points; the simulator answers it as ArduPilot does."""
    import sim

    with sim.start_sim(speedup=1, boot_delay_s=0.5) as s, missions.Vehicle.connect(s.url, timeout=20) as v:
        v.wait_position(60)
        v.request_streams()
        v.wait_position(60)  # as each sortie's pre-flight check asks
        stamps = []
        with v.inbox(["SERVO_OUTPUT_RAW"]) as box:
            end = time.monotonic() + 3.0
            while time.monotonic() < end:
                m = box.get(0.5)
                if m is not None:
                    stamps.append(m.time_usec / 1e6)
    assert len(stamps) > 10
    period = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    assert period == pytest.approx(1 / STREAM_RATES["SERVO_OUTPUT_RAW"], rel=0.3)


def test_lossy_simulator_when_present():
    import sim

    if not hasattr(sim, "start_sim"):
        pytest.skip("sim.start_sim not there yet")
    items = waypoints(300)
    # the simulator ignores a repeated old item (ArduPilot answers INVALID_SEQUENCE), so only
    # its own re-request recovers a lost request: shorten it from ArduPilot's 1 s for the test
    with (
        sim.start_sim(speedup=20, boot_delay_s=0.5, loss=0.2, seed=5, request_resend_s=0.05) as s,
        missions.Vehicle.connect(s.url, timeout=20, policy=FAST) as v,
    ):
        v.wait_position(60)
        assert v.upload_verified(items).verified
