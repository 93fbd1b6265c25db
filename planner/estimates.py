"""Flight-time estimates: how long ArduCopter takes to fly a leg, a turn, a sortie.

AC_WPNav moves along each straight leg with a jerk-limited S-curve (jerk WPNAV_JERK,
acceleration up to `a`, speed up to `v`): from rest to 5 m/s takes about 4.5 s, most of a
short swath. It does not stop at a waypoint whose successor it knows: the next leg's
S-curve starts while this one brakes. Measured on ArduCopter 4.7 SITL, every leg of a spray
mission takes 2.4-2.7 s less than a rest-to-rest S-curve (41 m swath at 5 m/s: 10.5 s; 19 m
at 7 m/s: 6.25 s; 4 m turn: 2.75 s), so a leg here is a rest-to-rest S-curve less
CORNER_BLEND_S, and never less than a constant-acceleration trapezoid; each turn adds
`turn_s` on top. A sortie adds take-off and landing: its mission ends with
NAV_RETURN_TO_LAUNCH, flown as ArduCopter's RTL with its default parameters: climb to
RTL_ALT, fly home at WPNAV_SPEED (the spray speed the mission sets), loiter
RTL_LOIT_TIME, descend, the last LAND_ALT_LOW metres at LAND_SPEED.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.params import PlanParams

JERK_M_S3 = 1.0  # WPNAV_JERK
SNAP_S = 0.5  # the jerk itself ramps in (SCurve's raised cosine, ATC_INPUT_TC): 0.3-0.45 s a leg
CORNER_BLEND_S = 2.3  # what blending into the next leg saves, a little under the measured 2.4-2.7 s
RTL_ALT_M = 15.0  # RTL_ALT 1500 cm
RTL_LOITER_S = 5.0  # RTL_LOIT_TIME 5000 ms
LAND_ALT_LOW_M = 10.0  # LAND_ALT_LOW 1000 cm
LAND_SPEED_M_S = 0.5  # LAND_SPEED 50 cm/s
TURN_MAX_M = 30.0  # missions flies transits up to this long at the spray speed (BuildOptions.turn_max_m)


def leg_speed(kind: str, length_m: float, spray_m_s: float, transit_m_s: float) -> float:
    """The speed the mission flies a leg at (missions/build.py): transits longer than
    TURN_MAX_M at the transit speed, swaths and the turns between them at the spray speed."""
    return transit_m_s if kind == "transit" and length_m > TURN_MAX_M else spray_m_s


def _ramp_time(v: np.ndarray, accel: float) -> np.ndarray:
    """Seconds from rest to `v` with jerk JERK_M_S3 and acceleration at most `accel`."""
    j = JERK_M_S3
    return np.where(v >= accel * accel / j, v / accel + accel / j, 2.0 * np.sqrt(np.maximum(v, 0.0) / j))


def scurve_times(lengths: np.ndarray, speed: float, accel: float) -> np.ndarray:
    """Rest-to-rest S-curve time of each straight segment (constant jerk, plus SNAP_S)."""
    lengths = np.maximum(np.asarray(lengths, dtype=float), 0.0)
    j = JERK_M_S3
    ramp = float(_ramp_time(np.array(speed), accel))
    # too short to reach `speed`: the peak speed u covers the leg in two ramps (u * ramp(u) = L)
    jerk_only = lengths < 2.0 * accel**3 / (j * j)  # the acceleration limit is not reached either
    u = np.where(
        jerk_only,
        (lengths * np.sqrt(j) / 2.0) ** (2.0 / 3.0),
        accel / 2.0 * (-accel / j + np.sqrt(accel * accel / (j * j) + 4.0 * lengths / accel)),
    )
    t = np.where(lengths >= speed * ramp, lengths / speed + ramp, 2.0 * _ramp_time(u, accel))
    return t + np.where(lengths > 0, SNAP_S, 0.0)


def trapezoid_times(lengths: np.ndarray, speed: float, accel: float) -> np.ndarray:
    """Constant-acceleration time of each segment (a triangle when it never reaches `speed`)."""
    lengths = np.maximum(np.asarray(lengths, dtype=float), 0.0)
    ramp = speed * speed / accel  # distance to reach speed and brake again
    return np.where(lengths >= ramp, lengths / speed + speed / accel, 2.0 * np.sqrt(lengths / accel))


def segment_times(lengths: np.ndarray, speed: float, accel: float) -> np.ndarray:
    """Each segment as ArduCopter flies it inside a mission (see the module's note)."""
    return np.maximum(scurve_times(lengths, speed, accel) - CORNER_BLEND_S, trapezoid_times(lengths, speed, accel))


def polyline_time(coords: np.ndarray, speed: float, accel: float) -> float:
    seg = np.hypot(*np.diff(coords, axis=0).T)
    return float(segment_times(seg[seg > 1e-9], speed, accel).sum())


STRAIGHT_ON_DEG = 10.0  # a waypoint where the track turns less than this is flown through


def corners(coords: np.ndarray) -> np.ndarray:
    """The polyline without the waypoints it goes straight on through (in plan view).

    A terrain leg has a waypoint wherever the slope changes; ArduCopter (and the simulator)
    blend its S-curves through them at nearly full speed: the tea hill's 68 min estimated
    leg by leg were flown in 51 on ArduCopter 4.7 SITL. Only real corners cost a braking."""
    if len(coords) <= 2:
        return coords
    d = np.diff(coords, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi)
    keep = np.concatenate([[True], turn > np.radians(STRAIGHT_ON_DEG), [True]])
    return coords[keep]


@dataclass(frozen=True)
class Pace:
    """How the copter flies a layout's swaths, laps and turns, for comparing layouts by time:
    a field of short swaths is flown mostly slow (each one a whole S-curve), a lap mostly at
    spray speed, so metres of path alone favour the wrong one (the Hà Châu strip: 65 swaths
    across it take 30 s longer than a lap round it and 63 shorter swaths inside)."""

    speed_m_s: float
    accel_m_s2: float
    turn_s: float
    lead_m: float  # the lead-in and run-out of each turn (planner/leads.py)

    def seconds(self, swath_lengths: np.ndarray, lap_seconds: float, laps: int, width: float) -> float:
        """Swaths, laps (flown in `lap_seconds`) and a turn to each of them."""
        v, a = self.speed_m_s, self.accel_m_s2
        turn = float(segment_times(np.array([self.lead_m, width, self.lead_m]), v, a).sum()) + self.turn_s
        return float(segment_times(swath_lengths, v, a).sum()) + lap_seconds + (len(swath_lengths) + laps) * turn

    def lap_seconds(self, laps: list[np.ndarray]) -> float:
        return sum(polyline_time(corners(c), self.speed_m_s, self.accel_m_s2) for c in laps)


def straight_time(length: float, speed: float, accel: float) -> float:
    return float(segment_times(np.array([length]), speed, accel)[0])


def takeoff_time(p: PlanParams) -> float:
    return p.height_m / p.climb_m_s + 2.0


def rtl_climb_m(p: PlanParams) -> float:
    """How far the closing RTL climbs before it turns for home."""
    return max(RTL_ALT_M - p.height_m, 0.0)


def landing_time(p: PlanParams) -> float:
    """The RTL's climb, its loiter over home and the descent (the flight home is a leg)."""
    top = p.height_m + rtl_climb_m(p)
    descent = max(top - LAND_ALT_LOW_M, 0.0) / p.descent_m_s + min(top, LAND_ALT_LOW_M) / LAND_SPEED_M_S
    return rtl_climb_m(p) / p.climb_m_s + RTL_LOITER_S + descent + 2.0
