"""Swath lines laid a little closer than the swath, with the flow set for the line spacing.

ArduCopter flies each swath up to 2 cm to one side of its line (SITL), so neighbours flown in
opposite directions left a seam of up to 4 cm along their whole length; lines 5 cm closer close
it, and the pump sprays each line's own strip, so the dose stays the target's."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

import fields
import planner
from fields import Field, LocalFrame
from planner.dose import litres
from planner.export import metrics_of, plan_document
from planner.metrics import footprints
from planner.swaths import band_layout
from telemetry.records.deposits import Deposits, rasterise

X0, Y0 = 576_000.0, 2_400_000.0
TARGET_L_HA = 15.0


def _rectangle(height: float = 41.0) -> Field:
    return Field(id="rect", name="rect", boundary=box(X0, Y0, X0 + 100.0, Y0 + height), frame=LocalFrame(32648))


def _lines(p: planner.Plan) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(straight swaths, laps) of a plan's route, local metres."""
    legs = [np.asarray(l.coords, float) for l in p.route if l.kind == "swath"]
    return [c for c in legs if len(c) == 2], [c for c in legs if len(c) > 2]


@pytest.mark.parametrize("passes", [0, 1])
def test_lines_lie_a_spacing_apart_and_the_outer_footprint_ends_at_the_edge(passes):
    f = _rectangle(4.0 + 9 * 3.95)  # ten lines fit exactly, none folded back
    p = planner.plan(f, planner.params_for(None, swath_m=4.0, edge_passes=passes, angle_deg=90.0))
    assert p.params.line_spacing_m == pytest.approx(3.95)
    swaths, laps = _lines(p)
    assert len(laps) == passes
    ys = np.unique(np.round([c[0, 1] - Y0 for c in swaths], 6))
    first = 2.0 + 3.95 * passes  # the lap's footprint, then the swaths', from the bottom edge on
    assert ys[0] == pytest.approx(first, abs=1e-6)
    assert np.allclose(np.diff(ys), 3.95, atol=1e-6)  # every line 3.95 m above the one below
    assert ys[-1] == pytest.approx(4.0 + 9 * 3.95 - 2.0 - 3.95 * passes, abs=1e-6)
    feet = shapely.union_all(footprints([*swaths, *laps], 4.0))
    assert feet.difference(f.boundary).area < 0.01  # nothing past the edge: the outer lap is at 2 m
    # and no seam anywhere: only the lap's four round-cornered turns leave the field's corners
    # (2 m by 2 m less a quarter circle, 0.86 m², a little more on a polygonal arc)
    assert f.boundary.difference(feet).area < 0.01 + passes * 4 * 0.9
    # the pump is set for the spacing: each line sprays its own 3.95 m strip at the dose
    assert p.sprayer.pump_rate_pct == pytest.approx(100 * 15 * 3.95 * 0.006 / 2.4)
    assert p.sprayer.flow_l_min == pytest.approx(15 * 3.95 * 5 * 0.006)
    total = sum(s.spray_length_m for s in p.sorties)
    assert metrics_of(p)["volume_l"] == pytest.approx(litres(total, 3.95, 15), abs=0.01)


def test_a_spacing_of_the_swath_lays_the_lines_as_before():
    p = planner.plan(_rectangle(), planner.params_for(None, swath_m=4.0, spacing_m=4.0, edge_passes=0, angle_deg=90.0))
    ys = np.unique(np.round([c[0, 1] - Y0 for c in _lines(p)[0]], 6))
    assert np.allclose(ys, [2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 39])  # the last folded back 3 m
    assert p.sprayer.pump_rate_pct == pytest.approx(15.0)


def test_the_plan_document_keeps_the_spacing_and_older_plans_read_as_the_swath(tmp_path):
    p = planner.plan(_rectangle(), planner.params_for(None, swath_m=4.0, edge_passes=0, angle_deg=90.0))
    doc = plan_document(p, "test")
    assert doc.params.spacing_m == pytest.approx(3.95) and doc.params.line_spacing_m == pytest.approx(3.95)
    older = doc.to_dict()
    del older["params"]["spacing_m"]
    assert planner.PlanDocument.from_dict(older).params.line_spacing_m == 4.0


@pytest.mark.parametrize("offset", [0.0, 0.05, 0.125, 0.25, 0.3])
def test_the_deposit_of_lines_a_spacing_apart_is_even_wherever_they_fall_on_the_pixels(offset):
    """Each line's litres spread over its 4 m footprint; lines 3.95 m apart share 5 cm margins, so
    the ground between them gets the dose all across. On the 0.5 m pixels, a footprint whose edge
    fell on a row of pixel centres took a whole row more: a tenth of its litres moved into its
    neighbour's strip, and dose-map cells along it came out 10 % over or under."""
    spacing, length = 3.95, 60.0
    litres_per_m = TARGET_L_HA * spacing / 10_000.0
    ys = offset + spacing * np.arange(12)
    x = np.arange(0.0, length, 2.0)
    segs = [(x0, y, x0 + 2.0, y) for y in ys for x0 in x]
    dep = Deposits(*(np.array(c, float) for c in zip(*segs)), np.full(len(segs), 2.0 * litres_per_m))
    grid = rasterise(dep, 4.0, (0.0, -2.0, length, float(ys[-1]) + 2.0))
    dose = grid.dose_l_ha()
    px, py = np.meshgrid(grid.x, grid.y)
    middle = (px > 10) & (px < length - 10)
    for y in ys[1:-1]:  # each inner line's own strip, as a dose-map cell takes it
        strip = middle & (np.abs(py - y) < spacing / 2)
        assert dose[strip].mean() == pytest.approx(TARGET_L_HA, rel=0.015)  # 8 rows of pixels for 7.9


@pytest.mark.parametrize(
    "height, lines, spacing",
    [
        (50.0, 10, 5.0),  # ten 5 m swaths fit exactly: spread to 5 m rather than an eleventh line 89 % twice
        (5.0 + 32 * 4.95 + 0.6, 33, (32 * 4.95 + 0.6) / 32),  # 0.6 m short: half of each margin kept
        (5.0 + 32 * 4.95 + 2.0, 34, 4.95),  # 2 m short: one line more, folded back, margins kept
    ],
)
def test_lines_are_spread_rather_than_one_more_flown_nearly_all_twice(height, lines, spacing):
    tiles, line, step = band_layout(0.0, height, 5.0, 1.0, 4.95)
    assert len(line) == lines and step == pytest.approx(spacing)
    assert np.diff(line)[:-1] == pytest.approx(np.full(lines - 2, spacing))
    assert line[0] == pytest.approx(2.5) and line[-1] + 2.5 == pytest.approx(height)  # edge to edge
    assert tiles[0, 0] == 0.0 and tiles[-1, 1] == height


def test_swaths_may_draw_back_from_an_edge_lap_by_the_margin_they_share():
    # between two laps, a region 10 swaths and two margins high: ten lines, each footprint 5 cm into
    # the lap's, not an eleventh
    tiles, line, _ = band_layout(0.0, 50.1, 5.0, 1.0, 4.95, slack=0.05)
    assert len(line) == 10 and line[0] == pytest.approx(2.55) and line[-1] == pytest.approx(47.55)


@pytest.mark.parametrize("name", ["tan-cuong-tea.geojson", "dai-tu-paddies.geojson"])
def test_the_plans_dose_is_what_its_legs_lay_over_their_footprints(name, request):
    """metrics.dose_dev_pct against an outside recomputation from the document's legs
    (tests/spray_check.py): on the SITL bench the flights came out within 0.4 point of it."""
    from spray_check import planned_dose_pct

    field = fields.load(request.config.rootpath / "fields" / "samples" / name)[0]
    doc = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15)).to_document()
    assert doc.metrics is not None and doc.metrics.dose_dev_pct is not None
    assert doc.metrics.dose_dev_pct == pytest.approx(planned_dose_pct(doc), abs=0.05)
    # the margins do not count: each line lays its spacing's litres
    assert doc.metrics.dose_dev_pct < doc.metrics.overlap_pct - 0.5
