"""Where each litre the pump let out came down: the flown track rasterised.

Each stretch between two logged positions carries the litres the pump delivered in that
time (the flow step function of the servo output, integrated), spread evenly over the
ground its footprint covers (the stretch buffered by half the swath, flat ends; a disc
where the drone hovered). Summed on a fine grid this gives litres per pixel, which
dosemap.py turns into the dose of each cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fields.frame import LocalFrame
from fields.model import HA_M2
from telemetry.records.asapplied import hold_windows

if TYPE_CHECKING:
    from telemetry.records.asapplied import Track

PIXEL_M = 0.5  # grid resolution of the deposit
CHUNK_M = 2.0  # the track is rasterised in stretches of about this length


@dataclass(frozen=True)
class Deposits:
    """Straight stretches of the flown track (local metres) and the litres let out on each."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    litres: np.ndarray

    @staticmethod
    def concat(parts: list[Deposits]) -> Deposits:
        if not parts:
            z = np.zeros(0)
            return Deposits(z, z, z, z, z)
        return Deposits(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("x0", "y0", "x1", "y1", "litres")))


def cumulative_litres(servo_t: np.ndarray, flow_l_min: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """Breakpoints (t, litres so far) of the pumped volume: flow is constant over each servo
    sample's hold window [lo, hi] and zero between windows, so the volume is piecewise linear."""
    order = np.argsort(servo_t, kind="stable")
    lo, hi, flow = lo[order], hi[order], flow_l_min[order]
    per = flow * np.maximum(hi - lo, 0.0) / 60.0
    t = np.column_stack([lo, hi]).ravel()
    v = np.column_stack([np.concatenate([[0.0], np.cumsum(per)[:-1]]), np.cumsum(per)]).ravel()
    return t, v


def deposits(pos_t: np.ndarray, x: np.ndarray, y: np.ndarray, vol_t: np.ndarray, vol: np.ndarray) -> Deposits:
    """The litres let out between positions (the volume curve read at each position), in stretches
    of about CHUNK_M: consecutive positions are merged while the pump stays on, so a long job
    rasterises in a second or two without changing what a 10 m cell receives."""
    if len(pos_t) < 2 or len(vol_t) == 0:
        z = np.zeros(0)
        return Deposits(z, z, z, z, z)
    litres = np.diff(np.interp(pos_t, vol_t, vol))
    on = litres > 1e-9
    length = np.hypot(np.diff(x), np.diff(y))
    # a new stretch where the pump switches, and every CHUNK_M of track
    key = np.cumsum(np.concatenate([[0], on[1:] != on[:-1]])) * 1_000_000 + np.floor(
        (np.cumsum(length) - length) / CHUNK_M
    ).astype(np.int64)
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    ends = np.concatenate([starts[1:], [len(key)]]) - 1
    total = np.add.reduceat(litres, starts)
    keep = on[starts] & (total > 1e-9)
    s, e = starts[keep], ends[keep]
    return Deposits(x[s], y[s], x[e + 1], y[e + 1], total[keep])


@dataclass(frozen=True)
class Grid:
    """Litres per pixel over the field's bounds."""

    x: np.ndarray  # pixel centres, 1-D
    y: np.ndarray
    litres: np.ndarray  # (len(y), len(x))
    pixel_m: float

    def dose_l_ha(self) -> np.ndarray:
        return self.litres / (self.pixel_m**2) * HA_M2


def rasterise(
    dep: Deposits, swath_m: float, bounds: tuple[float, float, float, float], pixel_m: float = PIXEL_M
) -> Grid:
    """Spread each stretch's litres evenly over the pixel centres its footprint covers."""
    pad = swath_m
    xmin, ymin, xmax, ymax = bounds
    xs = np.arange(xmin - pad, xmax + pad, pixel_m) + pixel_m / 2
    ys = np.arange(ymin - pad, ymax + pad, pixel_m) + pixel_m / 2
    grid = np.zeros((len(ys), len(xs)))
    half = swath_m / 2
    for x0, y0, x1, y1, litres in zip(dep.x0, dep.y0, dep.x1, dep.y1, dep.litres):
        i0 = max(int(np.searchsorted(xs, min(x0, x1) - half - pixel_m)), 0)
        i1 = min(int(np.searchsorted(xs, max(x0, x1) + half + pixel_m)), len(xs))
        j0 = max(int(np.searchsorted(ys, min(y0, y1) - half - pixel_m)), 0)
        j1 = min(int(np.searchsorted(ys, max(y0, y1) + half + pixel_m)), len(ys))
        if i1 <= i0 or j1 <= j0:
            continue
        px, py = np.meshgrid(xs[i0:i1] - x0, ys[j0:j1] - y0)
        dx, dy = x1 - x0, y1 - y0
        length = float(np.hypot(dx, dy))
        if length < pixel_m:  # hovering or creeping: a disc round the middle
            mx, my = dx / 2, dy / 2
            weight = ((px - mx) ** 2 + (py - my) ** 2 <= half**2).astype(float)
        else:
            ux, uy = dx / length, dy / length
            along = px * ux + py * uy
            # across the stretch, each pixel takes the share of its width the footprint covers: a
            # footprint whose edge falls on a row of pixel centres is not a row wider (lines laid
            # 3.95 m apart fall on the 0.5 m pixels each their own way, and a whole row more or less
            # moved a tenth of a line's litres between neighbouring dose-map cells)
            inside = half + pixel_m / 2 - np.abs(py * ux - px * uy)
            weight = np.where((along >= 0) & (along < length), np.clip(inside / pixel_m, 0.0, 1.0), 0.0)
        total = float(weight.sum())
        if total <= 0:  # thinner than a pixel: the nearest pixel takes it
            jj = min(max(int(np.searchsorted(ys, (y0 + y1) / 2)), 0), len(ys) - 1)
            ii = min(max(int(np.searchsorted(xs, (x0 + x1) / 2)), 0), len(xs) - 1)
            grid[jj, ii] += litres
            continue
        grid[j0:j1, i0:i1] += litres * weight / total
    return Grid(xs, ys, grid, pixel_m)


def flight_deposits(track: Track, flow_l_min: np.ndarray, frame: LocalFrame) -> Deposits:
    """Deposits of one flight's track (asapplied.Track) with the pump flow of each servo sample."""
    if len(track.pos_t) < 2 or len(track.servo_t) == 0:
        return Deposits.concat([])
    lo, hi = hold_windows(track.servo_t)
    vol_t, vol = cumulative_litres(track.servo_t, flow_l_min, lo, hi)
    x, y = frame.to_local(track.lon, track.lat)
    return deposits(track.pos_t, np.asarray(x, float), np.asarray(y, float), vol_t, vol)
