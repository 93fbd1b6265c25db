"""Which separate parts share their swath lines (planner/anchoring.py): stacks of plots lying across
each other's bands share them; plots side by side along the swaths, flown as cells of their own,
get lines from their own edge."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

import fields
from planner.anchoring import Anchoring, stacks
from planner.angle import Site
from planner.estimates import Pace
from planner.geometry import Rotation, bearing_to_math
from planner.metrics import footprints

SIX_PLOTS = tuple(box(x, y, x + 40, y + 36) for x in (0, 41, 82) for y in (0, 37))  # two rows of three


def _rotation(bearing: float) -> Rotation:
    return Rotation(bearing_to_math(bearing), (60.0, 36.0))


def test_plots_in_rows_stack_by_column_across_swaths_along_the_rows():
    columns = stacks(SIX_PLOTS, _rotation(90.0))  # swaths east-west, along the rows
    assert len(set(columns.tolist())) == 3
    assert all(columns[2 * k] == columns[2 * k + 1] for k in range(3))  # a column's two plots
    rows = stacks(SIX_PLOTS, _rotation(0.0))  # swaths north-south, along the columns
    assert len(set(rows.tolist())) == 2
    assert len({rows[k] for k in (0, 2, 4)}) == 1 and len({rows[k] for k in (1, 3, 5)}) == 1


def test_parts_that_overlap_through_a_third_are_one_stack():
    chain = (box(0, 0, 30, 10), box(25, 12, 55, 22), box(50, 24, 80, 34))
    assert set(stacks(chain, _rotation(90.0)).tolist()) == {0}
    anchor = Anchoring(chain, by_stack=True)
    assert not anchor.distinct(_rotation(90.0))  # the same as banding all as one
    assert len(anchor.pieces(_rotation(90.0))) == 1


@pytest.fixture(scope="module")
def paddies(request):
    return fields.load(request.config.rootpath / "fields" / "samples" / "dai-tu-paddies.geojson")[0]


def _past_edge_m2(field, lines, width: float) -> float:
    """What the footprints spray outside the plots and past the bunds between them."""
    sprayed = shapely.union_all(footprints(lines, width))
    ours = shapely.union_all([field.boundary, fields.between_plots(field.boundary)])
    return float(shapely.difference(sprayed, ours).area)


def test_the_paddies_columns_get_lines_of_their_own_and_spray_less_past_the_jobs_edge(paddies):
    """One set of lines for all six plots stuck out past the lower plots' outer edges (72 m²);
    each column's own lines, from its own lowest edge, leave the slant of the edges (32 m²). (The
    plan now fits each plot's lines to it, planner/swaths.py band_layout's `fit`, tests/test_plot_fit.py;
    stacks are what lines a spacing apart do best.)"""
    field = paddies
    w = 4.0
    site = Site(field.sprayable, shapely.Polygon(), shapely.Polygon(), w, 10.0, Pace(5.0, 2.0, 10.0, 3.0))
    parts = tuple(shapely.get_parts(field.sprayable))
    by_stack = site.lay_anchored(Anchoring(parts, by_stack=True), 90.0)
    shared = site.lay_anchored(Anchoring((site.area,)), 90.0)
    stacked_lines = [by_stack.world(i) for i in range(len(by_stack))]
    shared_lines = [shared.world(i) for i in range(len(shared))]
    assert len(stacked_lines) == len(shared_lines)  # as many swaths: no flight added
    assert _past_edge_m2(field, shared_lines, w) > 60.0
    assert _past_edge_m2(field, stacked_lines, w) < 40.0
