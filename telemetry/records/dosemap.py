"""The dose as flown, cell by cell: how much landed where, against the target.

The as-applied map (asapplied.py) says *where* the pump ran; deposits.py spreads the litres
it let out over a fine grid. Over cells of about one swath by 10 m laid along the swaths
this gives the dose in L/ha that an agronomist compares with the target: a cell at +30 %
was sprayed twice, one at -40 % was half missed. Where parts of the field are flown at
headings of their own (planner/part_headings.py), each part gets its own grid of cells
along its swaths, and so does each stack of plots whose swath lines start at its own edge
(planner/anchoring.py). Every swath of the plan gets its own mean dose too.

Each band's sprayable run (from the field's edge, a hole or a bund to the next) is cut into
cells of equal length, as near 10 m as a whole number of them allows (7.5-12.5 m; a run
shorter than 15 m is one cell). A fixed 10 m lattice would cut the runs wherever it happens to fall:
its last cell before an edge could hold 5 m of a swath or 10, and the first and last metres of
a swath are where the dose moves most (AC_Sprayer sets the pump from the speed three times a
second, and the copter speeds up out of a turn and slows into the next: measured, the first
5 m of a swath 5-20 % under the dose and the last 6 m 5-13 % over, on SITL and the simulator
alike), so whether a cell there was off by more than 15 % depended on where the lattice fell.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame
from telemetry.records.deposits import Deposits, Grid, rasterise
from telemetry.records.dose_grids import direction, swath_groups
from telemetry.records.dose_reasons import REASONS, explain

if TYPE_CHECKING:
    from planner.document import PlanDocument

CELL_LENGTH_M = 10.0  # along the swath
MIN_CELL_SHARE = 0.5  # a cell counts when at least this share of it is sprayable
RUN_GAP_PIXELS = 1.5  # a band's sprayable ground broken for more than this many pixels is two runs
DOSE_BAND_PCT = 15.0  # cells further off the target than this are flagged


def deviation_pct(dose_l_ha: Any, target_l_ha: float) -> Any:
    """How far a dose is off the target, in % (to a millionth of a point: a cell stored at 12.75
    L/ha against 15 is 15 % under, not a float's 15.000000000000002, which would put it off the band)."""
    return np.round((np.asarray(dose_l_ha, float) - target_l_ha) / target_l_ha * 100.0, 6)


@dataclass(frozen=True)
class Cell:
    band: int  # across the swaths, counted from the grid's origin
    index: int  # along the swaths
    dose_l_ha: float
    sprayable_m2: float
    along: tuple[float, float]  # from, to along its grid's `u`
    grid: int = 0  # which of the map's grids (one per heading the swaths are flown at)
    run: int = 0  # which of its band's runs of sprayable ground the cell is on


@dataclass(frozen=True)
class Axes:
    """A grid of cells along one heading's swaths: `u` along them, `n` across, from `origin`."""

    u: tuple[float, float] = (1.0, 0.0)
    n: tuple[float, float] = (0.0, 1.0)
    origin: tuple[float, float] = (0.0, 0.0)

    def point(self, along: float, across: float) -> tuple[float, float]:
        (ux, uy), (nx, ny), (ox, oy) = self.u, self.n, self.origin
        return ox + along * ux + across * nx, oy + along * uy + across * ny


@dataclass(frozen=True)
class DoseMap:
    """Cells of grids laid along the swaths: cell (band, index) of grid g is the rectangle over its
    `along` along the grid's `u` and from band * width_m to (band + 1) * width_m across it (along
    `n`), counted from its `origin` (local metres)."""

    cells: list[Cell]
    swaths: list[tuple[int, float]]  # (swath number, mean dose L/ha over its strip)
    target_l_ha: float
    grids: tuple[Axes, ...] = (Axes(),)
    width_m: float = 0.0
    why: dict[tuple[int, int, int], str] = field(default_factory=dict)  # (grid, band, index): dose_reasons.py
    widths: tuple[float, ...] = ()  # each grid's cell width where they differ (a job of several plots)

    def width_of(self, grid: int) -> float:
        """Grid `grid`'s cell width across the swaths: its lines' spacing."""
        return self.widths[grid] if self.widths else self.width_m

    def ring(self, cell: Cell) -> np.ndarray:
        """The cell's corners (local metres), closed."""
        a0, a1 = cell.along
        w = self.width_of(cell.grid)
        b0, b1 = cell.band * w, (cell.band + 1) * w
        corners = [(a0, b0), (a1, b0), (a1, b1), (a0, b1), (a0, b0)]
        axes = self.grids[cell.grid]
        return np.array([axes.point(a, b) for a, b in corners])

    def deviations_pct(self) -> np.ndarray:
        return deviation_pct(np.array([c.dose_l_ha for c in self.cells]), self.target_l_ha)

    def off_band(self, band_pct: float = DOSE_BAND_PCT) -> tuple[int, int]:
        """Cells below -band and above +band."""
        dev = self.deviations_pct()
        return int((dev < -band_pct).sum()), int((dev > band_pct).sum())

    def columns(self, frame: LocalFrame) -> dict[str, Any]:
        """The spray record's dose-map columns (telemetry/ingest/schema.py DOSE_COLUMNS).

        The map is GeoJSON, one feature per run of cells along a band: the band's centre line from
        the run's first cell to its last (WGS84), the length of its cells, and their doses in order
        (null where a cell has too little sprayable ground), and for a run with a cell off the
        target for a known reason, the cells' reasons in the same order (`why`: dose_reasons.py).
        A few bytes a cell, where a polygon each took 300."""
        low, high = self.off_band()
        runs: dict[tuple[int, int, int], dict[int, Cell]] = {}
        for cell in self.cells:
            runs.setdefault((cell.grid, cell.band, cell.run), {})[cell.index] = cell
        features = []
        for grid, band, run in sorted(runs):
            cells = runs[(grid, band, run)]
            first, last = min(cells), max(cells)
            (start, first_end), end = cells[first].along, cells[last].along[1]
            mid = (band + 0.5) * self.width_of(grid)
            axes = self.grids[grid]
            x, y = zip(axes.point(start, mid), axes.point(end, mid))
            lon, lat = frame.to_wgs84(np.array(x), np.array(y))
            props: dict[str, Any] = {
                "width_m": round(self.width_of(grid), 3),
                "cell_m": round(first_end - start, 4),
                "dose_l_ha": [round(cells[j].dose_l_ha, 2) if j in cells else None for j in range(first, last + 1)],
            }
            why = [self.why.get((grid, band, j)) for j in range(first, last + 1)]
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
        if abs(deviation_pct(dose, target_l_ha)) > band_pct:
            out[why or "none"] += 1
    return out


def _runs(along: np.ndarray, gap_m: float, min_m: float) -> list[tuple[float, float]]:
    """The stretches (from, to) of a band's pixel centres `along` it, broken where none lies for
    more than `gap_m` (a hole, a bund, a buffer across the band); a stretch shorter than `min_m`
    (a corner's few pixels past a gap) joins the nearer of its neighbours."""
    u = np.unique(along)
    breaks = np.flatnonzero(np.diff(u) > gap_m)
    runs = [list(r) for r in zip(np.r_[u[0], u[breaks + 1]].tolist(), np.r_[u[breaks], u[-1]].tolist())]
    while len(runs) > 1:
        k = min(range(len(runs)), key=lambda i: runs[i][1] - runs[i][0])
        if runs[k][1] - runs[k][0] >= min_m:
            break
        before = runs[k][0] - runs[k - 1][1] if k > 0 else np.inf
        after = runs[k + 1][0] - runs[k][1] if k + 1 < len(runs) else np.inf
        j = k - 1 if before <= after else k + 1
        lo, hi = min(k, j), max(k, j)
        runs[lo : hi + 1] = [[runs[lo][0], runs[hi][1]]]
    return [(a, b) for a, b in runs]


def _band_cells(
    along: np.ndarray, across: np.ndarray, swath_m: float, cell_m: float, pixel_m: float
) -> list[tuple[int, int, float, float, np.ndarray]]:
    """One band's cells: (run, index, from, to, which of its pixels) for each, the runs' cells of
    equal length, as near `cell_m` as a whole number of them allows. A run is measured along the
    band's middle half, so a slanted edge starts it halfway across its wedge: the wedge's tip
    before it, a quarter of the band wide, is in no cell (as the ground of a cell under half
    sprayable is in none)."""
    middle = np.abs(across - swath_m / 2) <= swath_m / 4
    runs = _runs(along[middle] if middle.any() else along, RUN_GAP_PIXELS * pixel_m, cell_m / 2)
    out = []
    base = 0
    for r, (a, b) in enumerate(runs):
        a, b = a - pixel_m / 2, b + pixel_m / 2
        n = max(1, int(round((b - a) / cell_m)))
        step = (b - a) / n
        j = np.floor((along - a) / step).astype(int)
        for c in range(n):
            sel = j == c
            if sel.any():
                out.append((r, base + c, a + c * step, a + (c + 1) * step, sel))
        base += n
    return out


def _grid_cells(
    px: np.ndarray, py: np.ndarray, dose: np.ndarray, lines: list[np.ndarray], swath_m: float, cell_m: float,
    pixel_m: float, grid: int,
) -> tuple[list[Cell], Axes]:  # fmt: skip
    """The cells the pixels (centres px, py; their doses) fall in, on a grid along `lines`."""
    u, v_line = direction(lines)
    n = np.array([-u[1], u[0]])
    across = px * n[0] + py * n[1] - (v_line - swath_m / 2)
    ci = np.floor(across / swath_m).astype(int)
    along = px * u[0] + py * u[1]
    origin = (v_line - swath_m / 2) * n
    axes = Axes((float(u[0]), float(u[1])), (float(n[0]), float(n[1])), (float(origin[0]), float(origin[1])))
    cells: list[Cell] = []
    for band in np.unique(ci):
        mine = ci == band
        b_along, b_dose = along[mine], dose[mine]
        for run, index, a0, a1, sel in _band_cells(b_along, across[mine] - band * swath_m, swath_m, cell_m, pixel_m):
            sprayable = float(sel.sum()) * pixel_m**2
            # at least half sprayable, and never less ground than half a swath by half a cell
            if sprayable >= MIN_CELL_SHARE * swath_m * max(a1 - a0, cell_m / 2):
                # the dose as the record stores it: its count of cells off the target and their reasons agree
                dose_l_ha = round(float(b_dose[sel].mean()), 2)
                cells.append(Cell(int(band), index, dose_l_ha, sprayable, (a0, a1), grid, run))
    return cells, axes


def dose_map(
    grid: Grid,
    sprayable: BaseGeometry,
    swath_lines: list[np.ndarray],
    swath_numbers: list[int],
    swath_m: float,
    target_l_ha: float,
    cell_length_m: float = CELL_LENGTH_M,
    plots: tuple[BaseGeometry, ...] = (),
) -> DoseMap:
    """Cells of one swath by about `cell_length_m` laid along the plan's swaths (a band edge on a
    band edge; along a band, each run of sprayable ground cut evenly), each with the mean dose over
    its sprayable part; and each swath's mean dose. Where parts are flown at headings of their own or
    on lines of their own, each part's ground (the pixels nearest its swaths) gets its own grid."""
    if not swath_lines:  # a plan without swaths has no cells to lay out
        return DoseMap([], [], float(target_l_ha))
    px, py = np.meshgrid(grid.x, grid.y)
    inside = shapely.contains_xy(sprayable, px, py)
    dose = grid.dose_l_ha()
    groups = swath_groups(swath_lines, swath_m, plots)
    ix, iy, idose = px[inside], py[inside], dose[inside]
    owner = np.zeros(len(ix), int)
    if len(groups) > 1 and len(ix):
        lines = [shapely.LineString(c) for g, _ in groups for c in g]
        group_of = np.repeat(np.arange(len(groups)), [len(g) for g, _ in groups])
        _, nearest = shapely.STRtree(lines).query_nearest(shapely.points(ix, iy), all_matches=False)
        owner = group_of[nearest]
    cells: list[Cell] = []
    grids: list[Axes] = []
    for g, (lines_g, width_g) in enumerate(groups):
        mine = owner == g
        c, axes = _grid_cells(ix[mine], iy[mine], idose[mine], lines_g, width_g, cell_length_m, grid.pixel_m, g)
        cells.extend(c)
        grids.append(axes)
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
    widths = tuple(w for _, w in groups)
    uneven = any(abs(w - swath_m) > 1e-9 for w in widths)
    return DoseMap(cells, swaths, float(target_l_ha), tuple(grids), width_m=swath_m, widths=widths if uneven else ())


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
    grid = rasterise(dep, float(plan.params.swath_m), sprayable.bounds)
    lines, numbers = plan_swaths(plan)
    # a cell is as wide as the strip each line sprays for: the line spacing, not the wider swath
    # whose margins the neighbours share (planner/params.py TRACK_MARGIN_M)
    spacing = float(plan.params.line_spacing_m)
    plots = tuple(shapely.get_parts(plan.field.boundary_local))
    dmap = dose_map(grid, sprayable, lines, numbers, spacing, float(plan.params.dose_l_ha), plots=plots)
    if not dmap.cells:
        return dmap
    at = np.zeros((0, 2)) if switches is None else switches
    why = explain(dmap, lines, numbers, at, DOSE_BAND_PCT, sprayable, float(plan.params.swath_m))
    return replace(dmap, why=why)
