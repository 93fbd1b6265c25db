"""The dose map's cells: each run of sprayable ground along a band cut evenly, wherever it lies.

The first and last metres of a swath are where the flown dose moves most (AC_Sprayer sets the
pump from the speed three times a second while the copter speeds up out of a turn: the first
5 m come out 5-20 % under). A fixed 10 m lattice cut a field's edge wherever it fell, so the
same flight's edge cell held 5 m of swath or 10 and was off the band or not by where the
lattice lay. These deposits are made up (a pixel grid of doses), so that the edge's dip is
exactly known.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

import fields
from fields.model import HA_M2
from telemetry.records.deposits import PIXEL_M, Grid
from telemetry.records.dosemap import DOSE_BAND_PCT, deviation_pct, dose_map, read_dose_map

SWATH_M = 4.0
TARGET = 15.0


def _grid(x0: float, x1: float, dose) -> Grid:
    """Deposits over [x0, x1] x [0, 4] (one band) at `dose(x)` L/ha, on the record's pixel grid."""
    xs = np.arange(x0 - SWATH_M, x1 + SWATH_M, PIXEL_M) + PIXEL_M / 2
    ys = np.arange(-SWATH_M, 2 * SWATH_M, PIXEL_M) + PIXEL_M / 2
    px, _ = np.meshgrid(xs, ys)
    return Grid(xs, ys, dose(px) * PIXEL_M**2 / HA_M2, PIXEL_M)


def _cells(plots: list[tuple[float, float]], dose):
    """The dose map of plots [a, b] x [0, 4] flown by one swath along y = 2 each."""
    sprayable = shapely.union_all([shapely.box(a, 0, b, SWATH_M) for a, b in plots])
    lines = [np.array([[a, 2.0], [b, 2.0]]) for a, b in plots]
    grid = _grid(plots[0][0], plots[-1][1], dose)
    return dose_map(grid, sprayable, lines, list(range(len(lines))), SWATH_M, TARGET)


@pytest.mark.parametrize("start", [0.0, 2.5, 5.0, 7.5])
def test_a_run_is_cut_into_even_cells_from_its_edge_wherever_the_field_lies(start):
    """A 37 m run is four cells of 9.25 m from its edge, and its edge cell holds the first 4 m's
    dip (30 % under) in 9.25 m: 13 % under, inside the band, wherever the field lies. (A lattice
    with a line 5 m past the edge made that cell 5 m long and 24 % under.)"""
    dmap = _cells([(start, start + 37.0)], lambda x: np.where(x < start + 4.0, 0.7 * TARGET, TARGET))
    spans = sorted((float(r[:, 0].min()), float(r[:, 0].max())) for r in map(dmap.ring, dmap.cells))
    assert len(spans) == 4
    assert [a - start for a, _ in spans] == pytest.approx([0.0, 9.25, 18.5, 27.75], abs=1e-6)
    assert [b - a for a, b in spans] == pytest.approx([9.25] * 4, abs=1e-6)
    dev = dmap.deviations_pct()
    assert dev.min() == pytest.approx(-30 * 4 / 9.25, abs=0.5)
    assert dmap.off_band() == (0, 0)


def test_a_bund_across_the_band_ends_one_run_and_starts_the_next():
    """Two paddies either side of a 1 m bund: each has its own cells, none reaches over the bund,
    and the map reads back as laid."""
    dmap = _cells([(0.0, 17.0), (18.0, 37.0)], lambda x: np.full_like(x, TARGET))
    bund = shapely.box(17.0, 0, 18.0, SWATH_M)
    rings = [shapely.Polygon(dmap.ring(c)) for c in dmap.cells]
    assert len(rings) == 4
    assert max(shapely.intersection(r, bund).area for r in rings) == pytest.approx(0.0, abs=0.01)
    assert sorted(round(r.length / 2 - SWATH_M, 3) for r in rings) == [8.5, 8.5, 9.5, 9.5]
    frame = fields.LocalFrame.for_lonlat(105.73, 21.70)
    text = dmap.columns(frame)["dose_map_geojson"]
    assert len(json.loads(text)["features"]) == 2  # one a run
    back, doses = read_dose_map(text, frame)
    by_start = sorted(back, key=lambda r: r[:, 0].min())
    laid = sorted((dmap.ring(c) for c in dmap.cells), key=lambda r: r[:, 0].min())
    for a, b in zip(by_start, laid):
        assert a[:4] == pytest.approx(b[:4], abs=0.01)
    assert doses == pytest.approx([TARGET] * 4, abs=0.01)


def test_a_cell_exactly_on_the_band_is_not_off_it():
    """12.75 L/ha against 15 is 15 % under, as stored, not over the band by a float's error."""
    assert float(deviation_pct(12.75, TARGET)) == -DOSE_BAND_PCT
    dmap = _cells([(0.0, 10.0)], lambda x: np.full_like(x, 12.75))
    assert dmap.off_band() == (0, 0)
