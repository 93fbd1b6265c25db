"""The simulator's AC_Sprayer against what ArduCopter's scheduler does with it.

Copter runs AC_Sprayer::update at 3 Hz on its own beat; DO_SPRAYER 1 only sets a flag
(AC_Sprayer::run), and the pump starts at the second beat after it that finds the copter above
SPRAY_SPEED_MIN (the 0.1 s on-delay is checked one beat later). So the pump starts 1/3 to 2/3 s
after the command, depending on where in the beat the command falls. Measured on ArduCopter 4.7
SITL (Cổ Lũng, 95 swath starts): 0.28 to 0.82 s after the waypoint was reached, 0.51 s on average.
"""

from __future__ import annotations

import numpy as np

from sim.sprayer import Sprayer

TICK_S = 0.0025  # finer than the simulator's 25 Hz tick, so the delays show the beat alone


def _start_delay(command_at: float) -> float:
    """Seconds from DO_SPRAYER 1 at `command_at` to the first pump output, at a steady 5 m/s."""
    sprayer = Sprayer()
    for k in range(int(20.0 / TICK_S)):
        t = k * TICK_S
        sprayer.running = t >= command_at
        out = sprayer.update(
            t, allowed=True, ground_speed_m_s=5.0, pump_rate_pct=15.0, speed_min_cm_s=34.0, pump_min_pct=0.0
        )
        if out > 0:
            return t - command_at
    raise AssertionError("the pump never started")


def test_the_pump_starts_a_third_to_two_thirds_of_a_second_after_do_sprayer_wherever_it_falls_in_the_beat():
    delays = np.array([_start_delay(10.0 + f) for f in np.linspace(0.0, 1.0, 25, endpoint=False)])
    assert delays.min() >= 1 / 3 - TICK_S and delays.max() <= 2 / 3 + TICK_S
    assert delays.max() - delays.min() > 0.25  # the beat, not the command, sets the moment
    assert abs(delays.mean() - 0.5) < 0.05


def test_the_pump_output_follows_ground_speed_on_the_beat():
    sprayer = Sprayer()
    sprayer.running = True
    outs = []
    for k in range(int(3.0 / TICK_S)):
        t = k * TICK_S
        speed = 5.0 - t  # braking at 1 m/s²
        outs.append(
            (
                t,
                sprayer.update(
                    t, allowed=True, ground_speed_m_s=speed, pump_rate_pct=15.0, speed_min_cm_s=34.0, pump_min_pct=0.0
                ),
            )
        )
    t, out = np.array(outs).T
    changes = t[1:][np.diff(out) != 0]
    assert len(changes) >= 5 and np.allclose((changes * 3) % 1.0, 0.0, atol=3 * TICK_S * 3)  # steps on the beat only
    assert out[-1] == 15.0 * 100 * (5.0 - changes[-1])  # demand: SPRAY_PUMP_RATE % per m/s, in 0..10000
