"""The separation monitor's rules (missions/separation.py), fed real MAVLink messages, and
MAV_CMD_DO_PAUSE_CONTINUE on the embedded simulator as ArduCopter answers it.

The messages are built with pymavlink exactly as a vehicle sends them (HEARTBEAT and
GLOBAL_POSITION_INT with its own system id); no link is needed to test who holds.
"""

from __future__ import annotations

import math
import threading
import time

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink

import sim
from missions.items import MissionItem
from missions.link import Vehicle
from missions.separation import Separation, wait_for_take_off

LAT0, LON0 = 21.7046, 105.7312
AUTO, RTL, GUIDED = 3, 6, 4


def _msg(sysid: int, build):
    mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=1)
    m = build(mav)
    m.pack(mav)  # sets the header: the source system the listener checks
    return m


def heartbeat(sysid: int, mode: int, armed: bool = True):
    flags = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if armed else 0)
    return _msg(
        sysid,
        lambda mav: mav.heartbeat_encode(
            mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, flags, mode, mavlink.MAV_STATE_ACTIVE
        ),
    )


def position(sysid: int, north_m: float, east_m: float, alt_m: float = 3.0, vn: float = 0.0, ve: float = 0.0):
    lat = LAT0 + math.degrees(north_m / 6378137.0)
    lon = LON0 + math.degrees(east_m / (6378137.0 * math.cos(math.radians(LAT0))))
    return _msg(
        sysid,
        lambda mav: mav.global_position_int_encode(
            0,
            round(lat * 1e7),
            round(lon * 1e7),
            round(alt_m * 1000),
            round(alt_m * 1000),
            round(vn * 100),
            round(ve * 100),
            0,
            0,
        ),
    )


def fleet(*drones: tuple[int, int, float, float, float, float], min_m: float = 15.0) -> Separation:
    """A monitor fed one heartbeat and one position per drone: (drone, mode, north, east, vn, ve)."""
    sep = Separation([d[0] for d in drones], min_m=min_m)
    for d, mode, n, e, vn, ve in drones:
        hear = sep.listener(d)
        hear(heartbeat(d, mode))
        hear(position(d, n, e, vn=vn, ve=ve))
    return sep


def test_drones_far_apart_fly_on_and_the_smallest_distance_is_kept():
    sep = fleet((1, AUTO, 0, 0, 5, 0), (2, AUTO, 0, 60, 5, 0))
    assert sep.hold(1) is None and sep.hold(2) is None
    assert sep.smallest_m == pytest.approx(60, abs=0.1)


def test_of_two_drones_in_auto_the_one_behind_in_the_sweep_holds_and_is_released_once_apart():
    # drone 1 flies east towards drone 2, which flies north (the plan's sweep, away from drone 1's
    # strip), 25 m apart: within 4 s they would meet; drone 1, the one behind, waits
    sep = fleet((1, AUTO, 0, 0, 0, 5), (2, AUTO, 0, 25, 3, 0))
    assert sep.hold(2) is None
    why = sep.hold(1)
    assert why is not None and "drone 2" in why
    # held, drone 1 stops; drone 2 flies on north and away
    sep.listener(1)(position(1, 0, 0))
    sep.listener(2)(position(2, 5, 25, vn=3))
    assert sep.hold(1) is not None  # flying on east it would pass close behind drone 2: not clear yet
    sep.listener(2)(position(2, 40, 25, vn=3))
    assert sep.hold(1) is None
    assert [(e.drone, e.held) for e in sep.events] == [(1, True), (1, False)]


def test_a_drone_flying_its_failsafe_is_never_held_the_other_waits():
    # drone 1 returns home (RTL) across drone 2, which sprays in AUTO and is not even closing in
    sep = fleet((1, RTL, 0, 0, 0, 5), (2, AUTO, 0, 20, 0, 0))
    assert sep.hold(1) is None
    assert sep.hold(2) is not None


def test_the_separation_is_measured_in_3d():
    sep = Separation([1, 2], min_m=15.0)
    for d, alt in ((1, 3.0), (2, 25.0)):
        sep.listener(d)(heartbeat(d, AUTO))
        sep.listener(d)(position(d, 0, 5, alt_m=alt))
    assert sep.hold(1) is None and sep.hold(2) is None
    assert sep.smallest_m == pytest.approx(math.hypot(0, 22), abs=0.1)


def test_a_drone_on_the_ground_waits_to_take_off_while_another_flies_close():
    sep = Separation([1, 2], min_m=15.0)
    sep.listener(1)(heartbeat(1, AUTO))
    sep.listener(1)(position(1, 0, 8))
    sep.listener(2)(heartbeat(2, GUIDED, armed=False))
    sep.listener(2)(position(2, 0, 0, alt_m=0.0))
    said: list[str] = []
    waited = threading.Event()

    def ground() -> None:
        wait_for_take_off(lambda: sep.hold(2), threading.Event(), said.append, poll_s=0.01)
        waited.set()

    t = threading.Thread(target=ground, daemon=True)
    t.start()
    time.sleep(0.2)
    assert not waited.is_set() and said and "drone 1" in said[0]
    sep.listener(1)(position(1, 0, 40))  # drone 1 moves away
    t.join(5)
    assert waited.is_set()
    assert len(said) == 1  # told once, not at every poll


def test_messages_from_another_system_on_the_link_are_not_this_drones():
    sep = Separation([1, 2], min_m=15.0)
    sep.listener(1)(heartbeat(1, AUTO))
    sep.listener(1)(position(1, 0, 0))
    sep.listener(1)(position(7, 0, 500))  # a second vehicle heard on drone 1's radio
    sep.listener(2)(heartbeat(2, AUTO))
    sep.listener(2)(position(2, 0, 100))
    assert sep.smallest_m == pytest.approx(100, abs=0.1)


def test_pause_and_continue_on_the_simulator_as_on_arducopter():
    """MAV_CMD_DO_PAUSE_CONTINUE in AUTO: the copter brakes along its leg and stays in AUTO;
    continue flies on; a second pause while paused is refused (FAILED), as ArduCopter 4.7 SITL
    answers (measured: stopped from 6 m/s within about 5 s of vehicle time)."""
    s = sim.Simulator(sim.make_config(listen="tcp:127.0.0.1:0", speedup=10, params={"MAV_SYSID": 3})).start()
    try:
        v = Vehicle.connect(s.url)
        assert v.target_system == 3
        speed = [0.0]
        v.add_listener(
            lambda m: (
                speed.__setitem__(0, math.hypot(m.vx, m.vy) / 100) if m.get_type() == "GLOBAL_POSITION_INT" else None
            )
        )
        v.request_streams()
        v.wait_position()
        items = [
            MissionItem.at(0, mavlink.MAV_CMD_NAV_WAYPOINT, LAT0, LON0, 0),
            MissionItem.at(1, mavlink.MAV_CMD_NAV_TAKEOFF, LAT0, LON0, 5),
            MissionItem.at(2, mavlink.MAV_CMD_NAV_WAYPOINT, LAT0 + 0.003, LON0, 5),
            MissionItem.at(3, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, 0, 0, 0),
        ]
        v.upload_verified(items)
        v.set_mode("GUIDED")
        v.arm()
        v.mission_start()
        deadline = time.monotonic() + 60
        while speed[0] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0)
        deadline = time.monotonic() + 30
        while speed[0] > 0.05 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert speed[0] <= 0.05 and v.mode == "AUTO"
        with pytest.raises(Exception, match="FAILED"):
            v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0)
        v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 1)
        deadline = time.monotonic() + 30
        while speed[0] < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert speed[0] >= 4
        v.close()
    finally:
        s.stop()
