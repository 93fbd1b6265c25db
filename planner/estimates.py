"""Flight-time estimates: a multirotor stops at every waypoint, accelerating in between.

Each straight segment is flown with a trapezoidal speed profile (accelerate at `a`,
cruise at `v`, brake at `a`; a triangle when the segment is too short to reach `v`).
Each turn adds the time to yaw round; each sortie adds take-off and landing.
"""

from __future__ import annotations

import numpy as np

from planner.params import PlanParams


def segment_times(lengths: np.ndarray, speed: float, accel: float) -> np.ndarray:
    lengths = np.asarray(lengths, dtype=float)
    ramp = speed * speed / accel  # distance to reach speed and brake again
    return np.where(lengths >= ramp, lengths / speed + speed / accel, 2.0 * np.sqrt(np.maximum(lengths, 0) / accel))


def polyline_time(coords: np.ndarray, speed: float, accel: float) -> float:
    seg = np.hypot(*np.diff(coords, axis=0).T)
    return float(segment_times(seg[seg > 1e-9], speed, accel).sum())


def straight_time(length: float, speed: float, accel: float) -> float:
    return float(segment_times(np.array([length]), speed, accel)[0])


def takeoff_time(p: PlanParams) -> float:
    return p.height_m / p.climb_m_s + 2.0


def landing_time(p: PlanParams) -> float:
    return p.height_m / p.descent_m_s + 2.0
