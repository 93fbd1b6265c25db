"""The simulator's airframe flies as ArduCopter 4.7 SITL's does where the pump's switch points
depend on it: drag leans it at a steady speed, and braking into a swath end it runs ahead of
AC_WPNav's target, which is what reaches the waypoint and switches the pump off (sim/motion.py,
sim/wpnav.py). The figures compared against are measured on SITL (docs/sim.md)."""

from __future__ import annotations

import math

import pytest

from sim.motion import Motion
from sim.params import ParamStore, default_params

DT = 1.0 / 25.0  # the simulator's tick
ALT = 3.0


def airborne() -> Motion:
    """A copter hovering at 3 m over the origin, no wind, set to spray at 5 m/s."""
    params = ParamStore(
        default_params(
            battery_mah=16000,
            battery_cells=6,
            tank_l=10,
            pump_max_l_min=2,
            wind_m_s=0,
            wind_dir_deg=0,
            gust_m_s=0,
            speedup=1,
        )
    )
    m = Motion(params, seed=1)
    m.speed_m_s = 5.0  # the mission's DO_CHANGE_SPEED
    m.landed, m.alt, m.target_alt = False, ALT, ALT
    m.hold_here()
    return m


def fly(m: Motion, waypoints: list[tuple[float, float]], seconds: float = 120.0) -> list[tuple[float, float, float]]:
    """Fly the waypoints as ModeAuto does (each leg told the waypoint after it); where the copter
    was (north, east, ground speed) at the moment each waypoint was reached."""
    reached = []
    legs = [(n, e, ALT) for n, e in waypoints]
    m.fly_leg(legs[0], legs[1] if len(legs) > 1 else None)
    k, t = 0, 0.0
    while t < seconds:
        m.step(DT, armed=True, may_take_off=True, throttle_low=False)
        t += DT
        if m.at_target():
            reached.append((m.n, m.e, m.ground_speed()))
            k += 1
            if k == len(legs):
                break
            m.fly_leg(legs[k], legs[k + 1] if k + 1 < len(legs) else None)
    return reached


def test_drag_leans_the_copter_as_far_as_arducopter_leans_at_spray_speed():
    m = airborne()
    fly(m, [(0.0, 150.0)], seconds=20.0)  # well into the leg: 5 m/s east, steady
    assert m.ground_speed() == pytest.approx(5.0, abs=0.05)
    roll, pitch, _ = m.attitude()
    # SITL: 12.2 degrees of tilt at a steady 5 m/s (2.1 m/s/s of drag)
    assert math.degrees(math.hypot(roll, pitch)) == pytest.approx(12.2, abs=1.0)


@pytest.mark.parametrize(("swath_m", "low", "high"), [(90.0, 0.25, 0.40), (14.0, -0.05, 0.15)])
def test_braking_into_a_swath_end_the_copter_runs_ahead_of_its_target(swath_m, low, high):
    """A swath east, a 7 m run-out, a turn to the next swath 4 m north: when the swath's end is
    reached the copter is past it, 0.32 m after a long swath on SITL, 0.06 m after a 10-15 m one."""
    m = airborne()
    lead_in = (0.0, -7.0)
    fly(m, [lead_in])
    reached = fly(m, [(0.0, 0.0), (0.0, swath_m), (0.0, swath_m + 7.0), (4.0, swath_m + 7.0)])
    n, e, speed = reached[1]
    assert low <= e - swath_m <= high
    assert abs(n) < 0.05
    assert 1.8 <= speed <= 2.6  # SITL: 2.2 m/s at a swath end from 5 m/s
