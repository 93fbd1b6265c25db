"""How fast the simulator really runs: simulated seconds per wall second and CPU per sim second.

Flies a GUIDED take-off and a hover with one ground station reading all streams, at several
speed-ups, and prints a table. Targets: 100x must keep up on one core of a busy machine.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from sim_groundstation import GroundStation, mavlink  # noqa: E402

import sim  # noqa: E402

WALL_S = 3.0


def run(speedup: float) -> tuple[float, float, int]:
    with sim.start_sim(speedup=speedup, boot_delay_s=2) as s:
        gcs = GroundStation(s.url, speedup=speedup)
        try:
            gcs.wait_position(gcs.wall(30))
            gcs.set_mode("GUIDED")
            gcs.arm()
            gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 20)
            t0, c0, s0 = time.monotonic(), time.process_time(), s.sim_time()
            received = 0
            while time.monotonic() - t0 < WALL_S:
                if gcs.link.recv_match(blocking=True, timeout=0.1) is not None:
                    received += 1
            wall, cpu, simulated = time.monotonic() - t0, time.process_time() - c0, s.sim_time() - s0
        finally:
            gcs.close()
    return simulated / wall, cpu / simulated, int(received / wall)


def main() -> None:
    print(f"{'speedup':>8} {'achieved x':>11} {'CPU ms / sim s*':>16} {'msgs/s to GCS':>14}")
    for speedup in (1, 10, 50, 100, 200):
        achieved, cpu_per_sim, rate = run(speedup)
        print(f"{speedup:>8} {achieved:>11.1f} {cpu_per_sim * 1000:>16.2f} {rate:>14}")
    print("* simulator thread and the pymavlink ground station together (one process)")


if __name__ == "__main__":
    main()
