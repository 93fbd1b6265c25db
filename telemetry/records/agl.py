"""Height above ground of a terrain-following job: how high over the crop the drone really sprayed.

On a hill the target spray height (`params.height_m`) is kept over the ground, not over the
take-off point. The logged position gives the height above home (GLOBAL_POSITION_INT
relative_alt), and the plan's DEM gives the ground under the drone and under home, so

    agl = relative_alt - (dem(position) - dem(home))

where home is the vehicle's HOME_POSITION when it was logged, else the plan's reload point
(`terrain.reload_elev_m`, where a terrain plan takes off). Where the vehicle sent TERRAIN_REPORT
its own height above its terrain data (`current_height`) is kept as a second measure.

The pump-on time gives, per planned swath, the lowest, median and highest AGL and the largest
error against the target; for the whole job, the share of pump-on time within ±AGL_BAND_M of
the target and the largest error; and the lowest AGL while moving with the pump off (transits;
take-off and landing are vertical, so they do not count). Every sample stands for its hold
window (asapplied.hold_windows), so shares are shares of time, whatever the message rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
import sqlite_utils

from telemetry.records.asapplied import hold_windows
from telemetry.records.dosemap import plan_swaths

if TYPE_CHECKING:
    from fields.frame import LocalFrame
    from fields.terrain import Terrain
    from planner.document import PlanDocument
    from telemetry.ingest.flights import Flight

AGL_BAND_M = 1.0  # pump-on time within ± this of the target height counts as on height
MOVING_M_S = 1.0  # horizontal speed above which a pump-off sample is a transit
HOME_LOOKBACK_US = 600_000_000  # a HOME_POSITION this long before arming still names the flight's home
MAX_PROFILE_POINTS = 1500  # the stored AGL profile: one value per second of pump-on time, at most this many
REPORT_GAP_S = 2.0  # a TERRAIN_REPORT stands for the profile at most this far from it


@dataclass
class FlightHeights:
    """One flight's heights above ground on its vehicle clock (seconds)."""

    t: np.ndarray  # position times
    x: np.ndarray  # local metres
    y: np.ndarray
    agl: np.ndarray  # DEM measure, NaN where the DEM has no height
    speed: np.ndarray  # horizontal speed, m/s
    rep_t: np.ndarray  # TERRAIN_REPORT times (spacing > 0: the vehicle had terrain data there)
    rep_agl: np.ndarray  # its current_height
    intervals: list[tuple[float, float]]  # pump on (clipped to the flight)
    start_s: float
    end_s: float | None
    home_source: str  # "home" (HOME_POSITION) or "plan" (the reload point)
    home_elev_m: float


def _home_elev(db: sqlite_utils.Database, f: Flight, terrain: Terrain, reload_elev_m: float) -> tuple[str, float]:
    """Ground height AMSL under the flight's home: the DEM at its HOME_POSITION, else the plan's."""
    assert f.end_us is not None
    row = db.execute(
        "SELECT lon, lat FROM home WHERE sysid = ? AND t_us BETWEEN ? AND ? "
        "ORDER BY CASE WHEN t_us >= ? THEN 0 ELSE 1 END, CASE WHEN t_us >= ? THEN t_us ELSE -t_us END LIMIT 1",
        [f.sysid, f.start_us - HOME_LOOKBACK_US, f.end_us, f.start_us, f.start_us],
    ).fetchone()
    if row is not None and not (row[0] == 0 and row[1] == 0):
        elev = float(terrain.at_lonlat(row[0], row[1])[0])
        if np.isfinite(elev):
            return "home", elev
    return "plan", float(reload_elev_m)


def flight_heights(
    db: sqlite_utils.Database,
    f: Flight,
    terrain: Terrain,
    reload_elev_m: float,
    frame: LocalFrame,
    intervals: list[tuple[float, float]],
) -> FlightHeights:
    """The heights above ground of one closed flight; `intervals` are its pump-on intervals
    on the same clock as compute_record measures them (Flight.clock)."""
    assert f.end_us is not None
    clock = f.clock
    rows = np.array(
        db.execute(
            "SELECT t_us, time_boot_ms, lon, lat, relative_alt_m, vx_m_s, vy_m_s FROM positions "
            "WHERE sysid = ? AND t_us BETWEEN ? AND ? AND NOT (lat = 0 AND lon = 0) ORDER BY t_us",
            [f.sysid, f.start_us, f.end_us],
        ).fetchall(),
        dtype=float,
    ).reshape(-1, 7)
    if clock.vehicle:
        rows = rows[~np.isnan(rows[:, 1])]
        vt = rows[:, 1] / 1e3
    else:
        vt = rows[:, 0] / 1e6
    recv_us, recv_vt = rows[:, 0], vt  # receive order, for the reports' times
    order = np.argsort(vt, kind="stable")
    rows, vt = rows[order], vt[order]
    source, home_elev = _home_elev(db, f, terrain, reload_elev_m)
    ground = terrain.at_lonlat(rows[:, 2], rows[:, 3]) if len(rows) else np.zeros(0)
    agl = rows[:, 4] - (ground - home_elev)
    x, y = frame.to_local(rows[:, 2], rows[:, 3])
    rep = np.array(
        db.execute(
            "SELECT t_us, current_height_m FROM terrain WHERE sysid = ? AND t_us BETWEEN ? AND ? AND spacing > 0 "
            "ORDER BY t_us",
            [f.sysid, f.start_us, f.end_us],
        ).fetchall(),
        dtype=float,
    ).reshape(-1, 2)
    if clock.vehicle and len(recv_us):
        rep_t = np.interp(rep[:, 0], recv_us, recv_vt)
    else:
        rep_t = rep[:, 0] / 1e6
    ro = np.argsort(rep_t, kind="stable")
    return FlightHeights(
        t=vt,
        x=np.asarray(x, float),
        y=np.asarray(y, float),
        agl=agl,
        speed=np.hypot(np.nan_to_num(rows[:, 5]), np.nan_to_num(rows[:, 6])),
        rep_t=rep_t[ro],
        rep_agl=rep[ro, 1],
        intervals=intervals,
        start_s=clock.start_s,
        end_s=clock.end_s,
        home_source=source,
        home_elev_m=home_elev,
    )


def pump_weights(t: np.ndarray, intervals: list[tuple[float, float]]) -> np.ndarray:
    """Seconds of pump-on time each sample taken while the pump ran stands for (its hold window
    within the intervals); 0 for a sample taken with the pump off, however near (a 1 Hz report on
    the ground just before the pump starts says nothing about the spraying)."""
    lo, hi = hold_windows(t)
    w = np.zeros(len(t))
    for a, b in intervals:
        inside = (t >= a) & (t <= b)
        w[inside] += np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)[inside]
    return w


def _band(err: np.ndarray, w: np.ndarray) -> tuple[float | None, float | None]:
    """Share of the weighted time within the band (%) and the largest |error|, over finite errors."""
    ok = np.isfinite(err) & (w > 0)
    if not ok.any() or w[ok].sum() <= 0:
        return None, None
    within = float(w[ok & (np.abs(np.nan_to_num(err)) <= AGL_BAND_M + 1e-9)].sum() / w[ok].sum() * 100.0)
    return round(within, 2), round(float(np.abs(err[ok]).max()), 2)


def _nearest_swath(x: np.ndarray, y: np.ndarray, lines: list[Any], numbers: list[int], reach: float) -> np.ndarray:
    """Each point's planned swath number (the nearest swath line within `reach`), -1 for none."""
    out = np.full(len(x), -1)
    if not lines or not len(x):
        return out
    pts = shapely.points(x, y)
    dist = shapely.distance(pts[:, None], np.array(lines, dtype=object)[None, :])
    k = np.argmin(dist, axis=1)
    near = dist[np.arange(len(x)), k] <= reach
    out[near] = np.array(numbers)[k[near]]
    return out


def _gap(ts: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Distance from each of `ts` to the nearest of the sorted times `t`."""
    i = np.searchsorted(t, ts)
    before = np.abs(ts - t[np.clip(i - 1, 0, len(t) - 1)])
    after = np.abs(t[np.clip(i, 0, len(t) - 1)] - ts)
    return np.minimum(before, after)


def _profile(flights: list[FlightHeights]) -> dict | None:
    """AGL along the pump-on track, resampled on pump-on time (for the report's chart)."""
    total = sum(b - a for fh in flights for a, b in fh.intervals)
    if total <= 0:
        return None
    step = max(1.0, float(np.ceil(total / MAX_PROFILE_POINTS * 10) / 10))
    agl: list[float | None] = []
    reported: list[float | None] = []
    starts: list[int] = []
    any_reported = False
    for fh in flights:
        good = np.isfinite(fh.agl)
        for a, b in fh.intervals:
            # the middle of each step: the pump's switching instants are not sampled
            ts = np.arange(a + step / 2, b, step) if b - a >= step else np.array([(a + b) / 2])
            starts.append(len(agl))
            if good.sum() >= 1:
                v = np.interp(ts, fh.t[good], fh.agl[good])
                v = np.where(_gap(ts, fh.t[good]) <= REPORT_GAP_S, v, np.nan)  # no DEM value near: no point
            else:
                v = np.full(len(ts), np.nan)
            agl.extend(None if not np.isfinite(a_) else round(float(a_), 1) for a_ in v)
            on = pump_weights(fh.rep_t, fh.intervals) > 0  # reports sent while spraying only
            if on.any():
                r = np.interp(ts, fh.rep_t[on], fh.rep_agl[on])
                near = _gap(ts, fh.rep_t[on]) <= REPORT_GAP_S
                reported.extend(round(float(r_), 1) if n else None for r_, n in zip(r, near))
                any_reported = any_reported or bool(near.any())
            else:
                reported.extend([None] * len(ts))
    out: dict[str, Any] = {"step_s": step, "starts": starts, "agl_m": agl}
    if any_reported:
        out["reported_m"] = reported
    return out


def agl_columns(plan: PlanDocument, flights: list[FlightHeights]) -> dict[str, Any]:
    """The spray record's height-above-ground columns (telemetry/ingest/record_columns.py AGL_COLUMNS)."""
    target = float(plan.params.height_m)
    swath_m = float(plan.params.swath_m)
    lines_xy, numbers = plan_swaths(plan)
    lines = [shapely.LineString(c) for c in lines_xy]
    t_w, t_err, t_swath, t_agl = [], [], [], []
    r_w, r_err, r_swath, r_agl = [], [], [], []
    transit_min: float | None = None
    for fh in flights:
        w = pump_weights(fh.t, fh.intervals)
        on = w > 0
        t_w.append(w[on])
        t_agl.append(fh.agl[on])
        t_err.append(fh.agl[on] - target)
        t_swath.append(_nearest_swath(fh.x[on], fh.y[on], lines, numbers, swath_m))
        end = np.inf if fh.end_s is None else fh.end_s
        transit = ~on & (fh.speed > MOVING_M_S) & np.isfinite(fh.agl) & (fh.t >= fh.start_s) & (fh.t <= end)
        if transit.any():
            m = float(fh.agl[transit].min())
            transit_min = m if transit_min is None else min(transit_min, m)
        if len(fh.rep_t):
            rw = pump_weights(fh.rep_t, fh.intervals)
            ron = rw > 0
            r_w.append(rw[ron])
            r_agl.append(fh.rep_agl[ron])
            r_err.append(fh.rep_agl[ron] - target)
            rx = np.interp(fh.rep_t[ron], fh.t, fh.x) if len(fh.t) else np.zeros(int(ron.sum()))
            ry = np.interp(fh.rep_t[ron], fh.t, fh.y) if len(fh.t) else np.zeros(int(ron.sum()))
            r_swath.append(_nearest_swath(rx, ry, lines, numbers, swath_m))
    w, err, sw, agl = (np.concatenate(p) if p else np.zeros(0) for p in (t_w, t_err, t_swath, t_agl))
    within, max_err = _band(err, w)
    rw, rerr, rsw, ragl = (np.concatenate(p) if p else np.zeros(0) for p in (r_w, r_err, r_swath, r_agl))
    r_within, r_max = _band(rerr, rw)
    swaths = []
    for n in sorted({int(v) for v in sw if v >= 0}):
        a = agl[(sw == n) & np.isfinite(agl)]
        if not len(a):
            continue
        entry: dict[str, Any] = {
            "swath": n,
            "min_m": round(float(a.min()), 2),
            "median_m": round(float(np.median(a)), 2),
            "max_m": round(float(a.max()), 2),
            "max_error_m": round(float(np.abs(a - target).max()), 2),
        }
        ra = ragl[(rsw == n) & np.isfinite(ragl)] if len(ragl) else ragl
        if len(ra):
            entry["reported_median_m"] = round(float(np.median(ra)), 2)
        swaths.append(entry)
    sources = sorted({fh.home_source for fh in flights})
    profile = _profile(flights)
    return {
        "agl_target_m": target,
        "agl_home_source": ",".join(sources) if sources else None,
        "agl_home_elev_m": round(flights[0].home_elev_m, 2) if flights else None,
        "agl_within_pct": within,
        "agl_max_error_m": max_err,
        "agl_transit_min_m": None if transit_min is None else round(transit_min, 2),
        "agl_reported_within_pct": r_within,
        "agl_reported_max_error_m": r_max,
        "agl_swaths_json": json.dumps(swaths, separators=(",", ":")),
        "agl_profile_json": None if profile is None else json.dumps(profile, separators=(",", ":")),
    }


def read_agl(record: dict) -> dict | None:
    """A record's height-above-ground section (None for a flat job or a record made before it):
    the scalar columns, `swaths` (list) and `profile` (dict or None)."""
    if record.get("agl_target_m") is None:
        return None
    out = {k: record.get(k) for k in record if k.startswith("agl_") and not k.endswith("_json")}
    out["swaths"] = json.loads(record["agl_swaths_json"]) if record.get("agl_swaths_json") else []
    out["profile"] = json.loads(record["agl_profile_json"]) if record.get("agl_profile_json") else None
    return out
