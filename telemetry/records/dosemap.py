"""The dose as flown, cell by cell: where each litre the pump let out came down.

The as-applied map (asapplied.py) says *where* the pump ran; this says *how much* landed
there. Each stretch between two logged positions carries the litres the pump delivered
in that time (the flow step function of the servo output, integrated), spread evenly over
the ground its footprint covers (the stretch buffered by half the swath, flat ends; a
disc where the drone hovered). Summed on a fine grid this gives litres per pixel, and
over cells of about one swath by 10 m laid along the swaths the dose in L/ha that an
agronomist compares with the target: a cell at +30 % was sprayed twice, one at -40 %
was half missed. Every swath of the plan gets its own mean dose too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame
from fields.model import HA_M2
from telemetry.records.asapplied import hold_windows
from telemetry.records.dose_reasons import REASONS, explain

if TYPE_CHECKING:
    from planner.document import PlanDocument
    from telemetry.records.asapplied import Track

PIXEL_M = 0.5  # grid resolution of the deposit
CELL_LENGTH_M = 10.0  # along the swath
CHUNK_M = 2.0  # the track is rasterised in stretches of about this length
MIN_CELL_SHARE = 0.5  # a cell counts when at least this share of it is sprayable
DOSE_BAND_PCT = 15.0  # cells further off the target than this are flagged


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
            hit = (px - mx) ** 2 + (py - my) ** 2 <= half**2
        else:
            ux, uy = dx / length, dy / length
            along = px * ux + py * uy
            hit = (along >= 0) & (along < length) & (np.abs(py * ux - px * uy) <= half)
        n = int(hit.sum())
        if n == 0:  # thinner than a pixel: the nearest pixel takes it
            jj = min(max(int(np.searchsorted(ys, (y0 + y1) / 2)), 0), len(ys) - 1)
            ii = min(max(int(np.searchsorted(xs, (x0 + x1) / 2)), 0), len(xs) - 1)
            grid[jj, ii] += litres
            continue
        grid[j0:j1, i0:i1][hit] += litres / n
    return Grid(xs, ys, grid, pixel_m)


@dataclass(frozen=True)
class Cell:
    band: int  # across the swaths, counted from the grid's origin
    index: int  # along the swaths
    dose_l_ha: float
    sprayable_m2: float


@dataclass(frozen=True)
class DoseMap:
    """Cells of a grid laid along the swaths: cell (band, index) is the rectangle from
    index * cell_m to (index + 1) * cell_m along `u` and band * width_m to (band + 1) *
    width_m across it (along `n`), counted from `origin` (local metres)."""

    cells: list[Cell]
    swaths: list[tuple[int, float]]  # (swath number, mean dose L/ha over its strip)
    target_l_ha: float
    u: tuple[float, float] = (1.0, 0.0)
    n: tuple[float, float] = (0.0, 1.0)
    origin: tuple[float, float] = (0.0, 0.0)
    width_m: float = 0.0
    cell_m: float = CELL_LENGTH_M
    why: dict[tuple[int, int], str] = field(default_factory=dict)  # off cells' reasons (dose_reasons.py)

    def ring(self, cell: Cell) -> np.ndarray:
        """The cell's corners (local metres), closed."""
        a0, a1 = cell.index * self.cell_m, (cell.index + 1) * self.cell_m
        b0, b1 = cell.band * self.width_m, (cell.band + 1) * self.width_m
        corners = [(a0, b0), (a1, b0), (a1, b1), (a0, b1), (a0, b0)]
        return np.array([self.point(a, b) for a, b in corners])

    def deviations_pct(self) -> np.ndarray:
        d = np.array([c.dose_l_ha for c in self.cells])
        return (d - self.target_l_ha) / self.target_l_ha * 100.0 if len(d) else d

    def off_band(self, band_pct: float = DOSE_BAND_PCT) -> tuple[int, int]:
        """Cells below -band and above +band."""
        dev = self.deviations_pct()
        return int((dev < -band_pct).sum()), int((dev > band_pct).sum())

    def point(self, along: float, across: float) -> tuple[float, float]:
        (ux, uy), (nx, ny), (ox, oy) = self.u, self.n, self.origin
        return ox + along * ux + across * nx, oy + along * uy + across * ny

    def columns(self, frame: LocalFrame) -> dict[str, Any]:
        """The spray record's dose-map columns (telemetry/ingest/schema.py DOSE_COLUMNS).

        The map is GeoJSON, one feature per band of cells: the band's centre line from its first
        cell to its last (WGS84) and the cells' doses in order along it (null where a cell has
        too little sprayable ground), and for a band with a cell off the target for a known reason,
        the cells' reasons in the same order (`why`: dose_reasons.py). A few bytes a cell, where a
        polygon each took 300."""
        low, high = self.off_band()
        bands: dict[int, dict[int, float]] = {}
        for cell in self.cells:
            bands.setdefault(cell.band, {})[cell.index] = cell.dose_l_ha
        features = []
        for band in sorted(bands):
            doses = bands[band]
            first, last = min(doses), max(doses)
            mid = (band + 0.5) * self.width_m
            x, y = zip(self.point(first * self.cell_m, mid), self.point((last + 1) * self.cell_m, mid))
            lon, lat = frame.to_wgs84(np.array(x), np.array(y))
            props: dict[str, Any] = {
                "width_m": round(self.width_m, 3),
                "cell_m": self.cell_m,
                "dose_l_ha": [round(doses[j], 2) if j in doses else None for j in range(first, last + 1)],
            }
            why = [self.why.get((band, j)) for j in range(first, last + 1)]
            if any(why):
                props["why"] = why
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)],
                    },
                    "properties": props,
                }
            )
        doses_json = [{"swath": n, "dose_l_ha": round(d, 2)} for n, d in self.swaths]
        return {
            "dose_cells": len(self.cells),
            "dose_cells_low": low,
            "dose_cells_high": high,
            "dose_map_geojson": json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")),
            "swath_doses_json": json.dumps(doses_json, separators=(",", ":")),
        }


def read_dose_map(text: str, frame: LocalFrame) -> tuple[list[np.ndarray], np.ndarray]:
    """The cells of a record's dose map as rings in `frame` and their doses (L/ha): bands of
    cells (DoseMap.columns) or, in records made before, one polygon per cell."""
    rings: list[np.ndarray] = []
    doses: list[float] = []
    for f in json.loads(text)["features"]:
        geom, props = f["geometry"], f["properties"]
        coords = np.array(geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"], float)
        x, y = frame.to_local(coords[:, 0], coords[:, 1])
        pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
        if geom["type"] == "Polygon":
            rings.append(pts)
            doses.append(float(props["dose_l_ha"]))
            continue
        along = pts[1] - pts[0]
        u = along / max(float(np.hypot(*along)), 1e-9)
        half = np.array([-u[1], u[0]]) * float(props["width_m"]) / 2.0
        step = u * float(props["cell_m"])
        for k, dose in enumerate(props["dose_l_ha"]):
            if dose is None:
                continue
            a, b = pts[0] + k * step, pts[0] + (k + 1) * step
            rings.append(np.array([a - half, b - half, b + half, a + half, a - half]))
            doses.append(float(dose))
    return rings, np.array(doses, float)


def _cells_why(text: str) -> list[tuple[float, str | None]]:
    """(dose, reason) of every cell of a record's dose map, in `read_dose_map`'s order."""
    out: list[tuple[float, str | None]] = []
    for f in json.loads(text)["features"]:
        props = f["properties"]
        if f["geometry"]["type"] == "Polygon":  # a map made before reasons: one polygon a cell
            out.append((float(props["dose_l_ha"]), None))
            continue
        why = props.get("why") or [None] * len(props["dose_l_ha"])
        out.extend((float(dose), r) for dose, r in zip(props["dose_l_ha"], why) if dose is not None)
    return out


def read_dose_reasons(text: str) -> list[str | None]:
    """The reason each cell of `read_dose_map` is off the target, in the same order (None: on the
    target, or off for no reason the record knows; every cell of a map made before reasons)."""
    return [why for _, why in _cells_why(text)]


def off_cells_by_reason(text: str, target_l_ha: float, band_pct: float = DOSE_BAND_PCT) -> dict[str, int]:
    """How many cells of a record's dose map are more than `band_pct` off the target, by reason
    (dose_reasons.REASONS), and "none" for those the record gives no reason for."""
    out = dict.fromkeys((*REASONS, "none"), 0)
    if target_l_ha <= 0:
        return out
    for dose, why in _cells_why(text):
        if abs(dose / target_l_ha - 1) * 100 > band_pct:
            out[why or "none"] += 1
    return out


def _direction(swath_lines: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Unit vector along the longest straight swath and the offset of a band edge across it."""
    straight = [c for c in swath_lines if len(c) == 2] or swath_lines
    best = max(straight, key=lambda c: float(np.hypot(*(c[-1] - c[0]))))
    d = best[-1] - best[0]
    u = d / max(float(np.hypot(*d)), 1e-9)
    n = np.array([-u[1], u[0]])
    return u, float(best[0] @ n)


def dose_map(
    grid: Grid,
    sprayable: BaseGeometry,
    swath_lines: list[np.ndarray],
    swath_numbers: list[int],
    swath_m: float,
    target_l_ha: float,
    cell_length_m: float = CELL_LENGTH_M,
) -> DoseMap:
    """Cells of one swath by `cell_length_m` laid along the plan's swaths (a band edge on a band
    edge), each with the mean dose over its sprayable part; and each swath's mean dose."""
    if not swath_lines:  # a plan without swaths has no cells to lay out
        return DoseMap([], [], float(target_l_ha))
    px, py = np.meshgrid(grid.x, grid.y)
    inside = shapely.contains_xy(sprayable, px, py)
    dose = grid.dose_l_ha()
    u, v_line = _direction(swath_lines)
    n = np.array([-u[1], u[0]])
    a = px * u[0] + py * u[1]
    b = px * n[0] + py * n[1] - (v_line - swath_m / 2)
    ci = np.floor(b / swath_m).astype(int)
    cj = np.floor(a / cell_length_m).astype(int)
    cells: list[Cell] = []
    origin = (v_line - swath_m / 2) * n
    pix_area = grid.pixel_m**2
    if inside.any():
        keys = np.stack([ci[inside], cj[inside]], axis=1)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = inv.ravel()
        count = np.bincount(inv, minlength=len(uniq))
        total = np.bincount(inv, weights=dose[inside], minlength=len(uniq))
        full = swath_m * cell_length_m
        for (i, j), k, s in zip(uniq, count, total):
            if k * pix_area < MIN_CELL_SHARE * full:
                continue
            cells.append(Cell(int(i), int(j), float(s / k), float(k * pix_area)))
    swaths: list[tuple[int, float]] = []
    for number, coords in zip(swath_numbers, swath_lines):
        strip = shapely.buffer(shapely.LineString(coords), swath_m / 2, cap_style="flat")
        x0, y0, x1, y1 = strip.bounds
        i0, i1 = np.searchsorted(grid.x, [x0, x1])
        j0, j1 = np.searchsorted(grid.y, [y0, y1])
        box = (slice(j0, j1), slice(i0, i1))
        sel = inside[box].copy()
        if not sel.any():
            continue
        sel[sel] = shapely.contains_xy(strip, px[box][sel], py[box][sel])
        if sel.any():
            swaths.append((int(number), float(dose[box][sel].mean())))
    return DoseMap(
        cells, swaths, float(target_l_ha), u=(float(u[0]), float(u[1])), n=(float(n[0]), float(n[1])),
        origin=(float(origin[0]), float(origin[1])), width_m=swath_m, cell_m=cell_length_m,
    )  # fmt: skip


def plan_swaths(plan: PlanDocument) -> tuple[list[np.ndarray], list[int]]:
    """Every swath leg of the plan in local metres, with its swath number."""
    frame = plan.field.frame
    lines, numbers = [], []
    for s in plan.sorties:
        for k, leg in enumerate(s.swath_legs):
            lon, lat = np.array(leg.coords, float).T
            x, y = frame.to_local(lon, lat)
            lines.append(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
            numbers.append(k if leg.swath is None else int(leg.swath))
    return lines, numbers


def plan_dose_map(plan: PlanDocument, dep: Deposits, switches: np.ndarray | None = None) -> DoseMap:
    """The dose map of deposits over the plan's sprayable area, cells laid along its swaths, with
    the reason of each cell off the target that has one (`switches`: where the pump switched on
    or off, local metres; dose_reasons.py)."""
    sprayable = plan.field.sprayable_local
    w = float(plan.params.swath_m)
    grid = rasterise(dep, w, sprayable.bounds)
    lines, numbers = plan_swaths(plan)
    dmap = dose_map(grid, sprayable, lines, numbers, w, float(plan.params.dose_l_ha))
    if not dmap.cells:
        return dmap
    at = np.zeros((0, 2)) if switches is None else switches
    return replace(dmap, why=explain(dmap, lines, numbers, at, DOSE_BAND_PCT))


def flight_deposits(track: Track, flow_l_min: np.ndarray, frame: LocalFrame) -> Deposits:
    """Deposits of one flight's track (asapplied.Track) with the pump flow of each servo sample."""
    if len(track.pos_t) < 2 or len(track.servo_t) == 0:
        return Deposits.concat([])
    lo, hi = hold_windows(track.servo_t)
    vol_t, vol = cumulative_litres(track.servo_t, flow_l_min, lo, hi)
    x, y = frame.to_local(track.lon, track.lat)
    return deposits(track.pos_t, np.asarray(x, float), np.asarray(y, float), vol_t, vol)
