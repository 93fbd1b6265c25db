"""What was really sprayed: pump flow from the servo output, volume, and the as-applied map.

The pump PWM on the sprayer servo channel gives flow through the drone's pump
calibration, flow = (pwm - pwm_off) / (pwm_full - pwm_off) x pump_max (clamped). Each
servo sample holds from the midpoint with its previous sample to the midpoint with
its next one, so a switch on or off is placed half-way between the samples that saw
it; volume is that step function integrated, and the map is the track flown during
the pump-on intervals, buffered by half the swath (flat ends) and unioned, in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import sqlite_utils
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame
from planner.dose import pump_fraction

MAX_HOLD_S = 2.0  # a sample never stands for more than this (link loss is not spraying)


@dataclass(frozen=True)
class PumpCalibration:
    servo: int = 9
    pump_max_l_min: float = 2.4
    pwm_off: int = 1000
    pwm_full: int = 2000

    def flow(self, pwm: np.ndarray) -> np.ndarray:
        """L/min for each PWM value; 0 at or below the off value."""
        return pump_fraction(np.asarray(pwm, dtype=float), self.pwm_off, self.pwm_full) * self.pump_max_l_min


@dataclass
class Track:
    """One flight's samples on a common clock (seconds)."""

    pos_t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    servo_t: np.ndarray
    pwm: np.ndarray


def load_track(
    db: sqlite_utils.Database, sysid: int, start_us: int, end_us: int, servo: int, *, vehicle: bool = True
) -> Track:
    """Positions and pump PWM of the rows received in [start_us, end_us], in seconds on the
    vehicle clock (time_boot_ms; telemetry/ingest/clock.py), or on receive time with `vehicle=False`
    (a log without vehicle time)."""
    if not 1 <= servo <= 16:
        raise ValueError(f"servo channel {servo} is not 1..16")
    pos = np.array(
        db.execute(
            "SELECT t_us, time_boot_ms, lon, lat FROM positions WHERE sysid = ? AND t_us BETWEEN ? AND ? "
            "AND NOT (lat = 0 AND lon = 0) ORDER BY t_us",
            [sysid, start_us, end_us],
        ).fetchall(),
        dtype=float,
    ).reshape(-1, 4)
    srv = np.array(
        db.execute(
            f"SELECT t_us, time_usec, servo{servo} FROM servo WHERE sysid = ? AND port = 0 AND t_us BETWEEN ? AND ? "
            "ORDER BY t_us",
            [sysid, start_us, end_us],
        ).fetchall(),
        dtype=float,
    ).reshape(-1, 3)
    if not vehicle:
        return Track(pos[:, 0] / 1e6, pos[:, 2], pos[:, 3], srv[:, 0] / 1e6, np.nan_to_num(srv[:, 2]))
    pos = pos[~np.isnan(pos[:, 1])]
    srv_t = servo_vehicle_s(srv[:, 0], srv[:, 1], pos[:, 0], pos[:, 1] / 1e3)
    pos = pos[np.argsort(pos[:, 1], kind="stable")]  # two logs of one flight interleave: vehicle order
    order = np.argsort(srv_t, kind="stable")
    return Track(pos[:, 1] / 1e3, pos[:, 2], pos[:, 3], srv_t[order], np.nan_to_num(srv[order, 2]))


WRAP_US = 2**32  # SERVO_OUTPUT_RAW.time_usec is 32-bit micros: it wraps every 71.6 minutes
MAX_SERVO_SKEW_S = 60.0


def servo_vehicle_s(t_us: np.ndarray, time_usec: np.ndarray, pos_t_us: np.ndarray, pos_vt_s: np.ndarray) -> np.ndarray:
    """Vehicle seconds of servo samples: their own time_usec (a 32-bit one unwrapped against the
    position clock at their receive time), or that position clock when time_usec is missing or
    is not boot time (more than a minute off: some autopilots stamp UNIX time)."""
    if len(t_us) == 0 or len(pos_t_us) == 0:  # nothing to check against: the vehicle's own stamp
        return np.nan_to_num(time_usec) / 1e6
    ref = np.interp(t_us, pos_t_us, pos_vt_s)
    if np.isnan(time_usec).any():
        return ref
    wraps = np.where(time_usec < WRAP_US, np.round((ref * 1e6 - time_usec) / WRAP_US), 0.0)
    own = (time_usec + wraps * WRAP_US) / 1e6
    return own if np.all(np.abs(own - ref) < MAX_SERVO_SKEW_S) else ref


def hold_windows(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of the time each sample stands for (midpoints, capped at MAX_HOLD_S)."""
    if len(t) == 0:
        return t, t
    mid = (t[1:] + t[:-1]) / 2
    lo = np.concatenate([[t[0]], mid])
    hi = np.concatenate([mid, [t[-1]]])
    half = MAX_HOLD_S / 2
    return np.maximum(lo, t - half), np.minimum(hi, t + half)


def pump_volume(t: np.ndarray, flow_l_min: np.ndarray) -> float:
    """Litres pumped: the flow step function integrated over time."""
    lo, hi = hold_windows(t)
    return float(np.sum(flow_l_min * (hi - lo)) / 60.0)


def spray_intervals(t: np.ndarray, flow_l_min: np.ndarray) -> list[tuple[float, float]]:
    """Time intervals with the pump on (adjacent on-samples merged)."""
    lo, hi = hold_windows(t)
    out: list[tuple[float, float]] = []
    for a, b, on in zip(lo, hi, flow_l_min > 0):
        if not on:
            continue
        if out and a <= out[-1][1] + 1e-9:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def clip_intervals(intervals: list[tuple[float, float]], lo: float, hi: float | None) -> list[tuple[float, float]]:
    """The parts of `intervals` inside [lo, hi] (the pump runs only while the flight lasts)."""
    hi = float("inf") if hi is None else hi
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def spray_lines(track: Track, intervals: list[tuple[float, float]], frame: LocalFrame) -> list[BaseGeometry]:
    """The path flown during each pump-on interval, in the local frame (positions interpolated at the ends)."""
    if len(track.pos_t) == 0:
        return []
    x, y = frame.to_local(track.lon, track.lat)
    x, y, pt = np.asarray(x), np.asarray(y), track.pos_t
    lines = []
    for a, b in intervals:
        a, b = max(a, pt[0]), min(b, pt[-1])
        if b < a:
            continue
        inside = (pt > a) & (pt < b)
        ts = np.concatenate([[a], pt[inside], [b]])
        xs, ys = np.interp(ts, pt, x), np.interp(ts, pt, y)
        coords = np.column_stack([xs, ys])
        keep = np.concatenate([[True], np.any(np.diff(coords, axis=0) != 0, axis=1)])
        coords = coords[keep]
        lines.append(shapely.Point(coords[0]) if len(coords) == 1 else shapely.LineString(coords))
    return lines


def wgs84_geojson(geom: BaseGeometry | None, frame: LocalFrame) -> str | None:
    """A local-metre geometry as the records store it: GeoJSON in WGS84, 1e-7 degree steps (about 1 cm)."""
    if geom is None or geom.is_empty:
        return None
    g = shapely.transform(frame.geom_to_wgs84(geom), lambda c: np.round(c, 7))
    return shapely.to_geojson(g)
