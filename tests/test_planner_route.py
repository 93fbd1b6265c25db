"""Route order, safe transit lengths and the exact end-trim areas, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import shapely

import fields
import planner
from planner.decomposition import cells_of
from planner.geometry import Rotation, bearing_to_math, holes_of
from planner.headlands import edge_passes
from planner.leads import LEAD_M
from planner.route import _order_exact, build_route
from planner.swaths import area_right_of, edges_by_item, make_swaths
from planner.transit import TransitPlanner


def _tour(order, hop, first, nv=4):
    idx = [c * nv + v for c, v in order]
    return first[idx[0]] + sum(hop[a, b] for a, b in zip(idx, idx[1:]))


def test_cell_order_is_the_shortest_of_all_orders():
    rng = np.random.default_rng(3)
    n, nv = 5, 4
    entries = rng.uniform(0, 200, (n * nv, 2))
    exits = rng.uniform(0, 200, (n * nv, 2))
    hop = np.hypot(*(exits[:, None, :] - entries[None, :, :]).transpose(2, 0, 1))
    first = np.hypot(*(entries - [0.0, 0.0]).T)
    got = _order_exact(hop, first, n, nv)
    assert sorted(c for c, _ in got) == list(range(n))
    best = min(
        _tour(list(zip(perm, ways)), hop, first, nv)
        for perm in itertools.permutations(range(n))
        for ways in itertools.product(range(nv), repeat=n)
    )
    assert _tour(got, hop, first, nv) == pytest.approx(best)


@pytest.fixture(scope="module")
def tea():
    (f,) = fields.load(fields.__path__[0] + "/samples/tan-cuong-tea.geojson")
    return f


def test_transit_lengths_match_the_paths_flown(tea):
    forbidden = shapely.union_all([tea.keepout, holes_of(tea.boundary)])
    t = TransitPlanner(tea.boundary, forbidden, 3.0)
    x0, y0, x1, y1 = tea.sprayable.bounds
    rng = np.random.default_rng(5)
    pts = []
    while len(pts) < 12:  # points in the field on both sides of the stream
        p = rng.uniform([x0, y0], [x1, y1])
        if tea.sprayable.buffer(-1.0).contains(shapely.Point(p)):
            pts.append(p)
    a, b = np.array(pts[:6]), np.array(pts[6:])
    got = t.pair_lengths(a, b)
    blocked = 0
    for i in range(len(a)):
        path = t.path(a[i], b[i])
        assert got[i] == pytest.approx(shapely.LineString(path).length, rel=1e-9)
        assert not shapely.LineString(path).intersects(forbidden.buffer(-0.01))
        blocked += len(path) > 2
    assert blocked >= 1  # some pairs had to go round the stream's buffer
    m = t.lengths(a, b)
    assert np.allclose(np.diag(m), got)


def test_end_trim_areas_are_exact():
    rng = np.random.default_rng(1)
    geoms = np.array(
        [
            shapely.Polygon([(0, 0), (10, 2), (12, 8), (3, 9)]).difference(shapely.box(4, 3, 6, 5)),  # with a hole
            shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(3, 0, 5, 2)]),
            shapely.Polygon([(0, 0), (0, 4), (6, 4), (6, 0)][::-1]),  # clockwise on input
        ],
        dtype=object,
    )
    edges, owner = edges_by_item(geoms)
    cuts = rng.uniform(-2, 13, (3, 7))
    got = area_right_of(edges, owner, cuts)
    want = shapely.area(shapely.intersection(geoms[:, None], shapely.box(cuts, -100, 100, 100)))
    assert np.allclose(got, want, atol=1e-9)


def test_route_flies_every_swath_and_lap_once_cell_by_cell(tea):
    area = tea.sprayable
    forbidden = shapely.union_all([tea.keepout, holes_of(tea.boundary)])
    c = area.centroid
    swaths = make_swaths(area, tea.keepout, holes_of(tea.boundary), Rotation(bearing_to_math(30.0), (c.x, c.y)), 5.0)
    cells = cells_of(swaths)
    assert len(cells) >= 2  # the stream splits the hill
    laps = edge_passes(area, 5.0, 1).laps
    transit = TransitPlanner(tea.boundary, forbidden, 3.0)
    x0, y0, _, _ = tea.boundary.bounds
    route = build_route(swaths, cells, laps, transit, np.array([x0, y0]))
    flown = [l for l in route if l.kind == "swath"]
    assert [l.swath for l in flown] == list(range(len(flown)))
    for a, b in zip(route, route[1:]):
        assert np.allclose(a.end, b.start)

    def which(leg):
        """The swath index a straight leg flies, either way round (None: not a swath)."""
        ends = sorted(map(tuple, np.round(leg.coords[[0, -1]], 6)))
        hits = [i for i in range(len(swaths)) if sorted(map(tuple, np.round(swaths.world(i), 6))) == ends]
        return hits[0] if len(hits) == 1 else None

    straight = [which(l) for l in flown if len(l.coords) == 2]
    assert sorted(straight) == list(range(len(swaths)))  # every swath once, nothing else
    position = {i: k for k, i in enumerate(straight)}
    for cell in cells:  # a cell's swaths one after the other, boustrophedon
        order = sorted(position[i] for i in cell)
        assert order == list(range(order[0], order[0] + len(cell)))
    rings = [l.coords for l in flown if len(l.coords) > 2]
    assert len(rings) == len(laps)
    for ring in rings:  # each lap flown once round, from wherever it was entered
        assert np.allclose(ring[0], ring[-1])
        same = [shapely.Polygon(ring).symmetric_difference(shapely.Polygon(lap)).area < 1e-6 for lap in laps]
        assert sum(same) == 1


def test_plan_route_legs_connect(tea):
    p = planner.plan(tea, planner.params_for(None, swath_m=5.0))
    for a, b in zip(p.route, p.route[1:]):
        assert np.allclose(a.end, b.start)
    # nothing left between cells: no transit of the coverage route is longer than the field
    x0, y0, x1, y1 = tea.boundary.bounds
    assert max(l.length for l in p.route if l.kind == "transit") < 2 * np.hypot(x1 - x0, y1 - y0)


def test_each_sortie_flies_home_over_its_last_swaths_run_out(request):
    """Stopped at a swath's end before turning home, ArduCopter sprayed a swath-wide disc past the
    field's edge (SITL: 6 m² of the Đại Từ paddies' 51 m² outside); the way home starts straight on."""
    field = fields.load(request.config.rootpath / "fields" / "samples" / "dai-tu-paddies.geojson")[0]
    p = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15))
    assert len(p.sorties) >= 2
    full = max(s.battery_s for s in p.sorties)  # a sortie cut short by the battery has no time for it
    straight_on = 0
    for s in p.sorties:
        last, home = s.legs[-2], s.legs[-1]
        assert last.kind == "swath" and home.kind == "transit"
        assert np.allclose(home.coords[0], last.coords[-1])
        along = last.coords[-1] - last.coords[-2]
        out = home.coords[1] - home.coords[0]
        if np.hypot(*out) in (pytest.approx(LEAD_M), pytest.approx(LEAD_M / 2)):
            cross = along[0] * out[1] - along[1] * out[0]
            assert abs(cross) < 1e-6 * np.hypot(*along) * np.hypot(*out) and along @ out > 0
            straight_on += 1
        else:
            assert s.battery_s >= full - 1.0
    assert straight_on >= len(p.sorties) - 1
