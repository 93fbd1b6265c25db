"""The planner on real shapes: coverage, holes, keep-out zones, gaps, sorties, breakpoints."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

import fields
import planner
from fields import Field, LocalFrame, Zone
from planner.geometry import holes_of

X0, Y0 = 576_000.0, 2_400_000.0  # somewhere in Thai Nguyen, UTM 48N


def l_field_with_hole(house: bool = False) -> Field:
    """An L-shaped field (0.7 ha) with a pond in it, and optionally a buffered house."""
    l_shape = shapely.union(box(0, 0, 120, 40), box(0, 40, 40, 100))
    pond = box(60, 12, 76, 27)
    boundary = shapely.affinity.translate(l_shape.difference(pond), X0, Y0)
    zones = [Zone(id="house", kind="no_spray", geometry=Point(X0 + 20, Y0 + 75).buffer(3), buffer_m=4)] if house else []
    return Field(id="l-field", name="L", boundary=boundary, frame=LocalFrame(32648), zones=zones)


def footprint(legs, w):
    lines = np.array([shapely.LineString(l.coords) for l in legs], dtype=object)
    return shapely.union_all(shapely.buffer(lines, w / 2, cap_style="flat", join_style="mitre"))


@pytest.fixture(scope="module")
def l_plan():
    return planner.plan(l_field_with_hole(), planner.params_for(None, swath_m=5.0))


@pytest.fixture(scope="module")
def l_house_plan():
    return planner.plan(l_field_with_hole(house=True), planner.params_for(None, swath_m=5.0))


def test_l_shaped_field_with_hole_is_fully_covered(l_plan):
    f = l_plan.field
    sprayed = footprint(l_plan.swath_legs, 5.0)
    area = f.sprayable.area
    covered = sprayed.intersection(f.sprayable).area / area
    outside = sprayed.difference(f.sprayable).area / area
    assert covered >= 0.995, covered
    assert outside <= 0.015, outside
    m = l_plan.metrics()
    assert m["coverage_pct"] == pytest.approx(100 * covered, abs=0.01)
    assert m["no_spray_m2"] == 0


def test_no_pump_on_segment_crosses_a_hole_or_a_no_spray_buffer(l_house_plan):
    f = l_house_plan.field
    hole = holes_of(f.boundary)
    assert hole.area == pytest.approx(16 * 15)
    assert f.keepout.area > 100
    for leg in l_house_plan.swath_legs:
        line = shapely.LineString(leg.coords)
        assert line.intersection(hole.buffer(-1e-6)).length == 0.0
        foot = line.buffer(2.5, cap_style="flat")
        assert foot.intersection(f.keepout).area < 1e-6
    # the swaths do reach both sides of the pond
    pond_x = [leg for leg in l_house_plan.swath_legs if 60 < leg.coords[:, 0].mean() - X0 < 76]
    pond_y = [leg for leg in l_house_plan.swath_legs if 12 < leg.coords[:, 1].mean() - Y0 < 27]
    assert pond_x or pond_y
    m = l_house_plan.metrics()
    assert m["no_spray_m2"] == 0
    assert m["coverage_pct"] >= 97.0  # flat-ended swaths leave wedges beside the round buffer


def test_transits_go_round_keepouts_on_the_tea_hill(samples):
    (f,) = fields.load(samples / "tan-cuong-tea.geojson")
    p = planner.plan(f, planner.params_for(None, swath_m=5.0))
    keep = f.keepout.buffer(-0.01)
    hole = holes_of(f.boundary).buffer(-0.01)
    transits = [l for s in p.sorties for l in s.legs if l.kind == "transit"]
    assert transits
    for leg in transits:
        line = shapely.LineString(leg.coords)
        assert not line.intersects(keep), leg.coords
        assert not line.intersects(hole), leg.coords
    # the stream cuts the hill in two, so some transit has to fly round it (more than 2 points)
    assert any(len(l.coords) > 2 for l in transits)
    assert footprint(p.swath_legs, 5.0).intersection(f.keepout).area < 1e-6
    assert p.metrics()["no_spray_m2"] == 0


def test_breakpoints_are_continuous_across_sorties():
    f = l_field_with_hole(house=True)
    params = planner.params_for(None, swath_m=5.0, tank_l=2.0, tank_reserve_l=0.0)
    p = planner.plan(f, params)
    assert len(p.sorties) >= 4
    unsplit = sum(l.length for l in p.route if l.kind == "swath")
    split = sum(l.length for l in p.swath_legs)
    assert split == pytest.approx(unsplit, abs=1e-6)
    mid_swath = 0
    for prev, nxt in zip(p.sorties, p.sorties[1:]):
        last = [l for l in prev.legs if l.kind == "swath"][-1]
        first = [l for l in nxt.legs if l.kind == "swath"][0]
        assert np.allclose(last.end, prev.end.xy)
        if first.swath == last.swath:
            mid_swath += 1
            # the next sortie starts spraying exactly where the previous one stopped
            assert np.allclose(first.start, last.end, atol=1e-9)
            assert first.offset == pytest.approx(last.offset + last.length)
        # each sortie's spray fits the tank
        assert prev.volume_l <= 2.0 + 1e-9
        # legs are contiguous and start / end at the reload point
        for a, b in zip(nxt.legs, nxt.legs[1:]):
            assert np.allclose(a.end, b.start)
        assert np.allclose(nxt.legs[0].start, p.reload_xy) and np.allclose(nxt.legs[-1].end, p.reload_xy)
    assert mid_swath >= 1
    # the split does not change what is sprayed: same coverage as one big tank (and a battery
    # that lifts it for as long as it takes)
    one = planner.plan(f, planner.params_for(None, swath_m=5.0, tank_l=200.0, endurance_s=1e6))
    assert p.metrics()["coverage_pct"] == pytest.approx(one.metrics()["coverage_pct"], abs=0.01)
    assert p.metrics()["overlap_pct"] == pytest.approx(one.metrics()["overlap_pct"], abs=0.01)


def test_paddies_multipolygon_no_swath_jumps_a_gap(samples):
    (f,) = fields.load(samples / "dai-tu-paddies.geojson")
    assert f.boundary.geom_type == "MultiPolygon"
    p = planner.plan(f, planner.params_for(None, swath_m=5.0))
    paddies = list(shapely.get_parts(f.boundary))
    for leg in p.swath_legs:
        line = shapely.LineString(leg.coords)
        touched = [q for q in paddies if line.intersection(q).length > 0.01]
        # a swath line never runs from one paddy across a bund into the next with the pump on
        # (a line may run along a bund between two paddies: its footprint covers both edges)
        assert len(touched) <= 1
    m = p.metrics()
    assert m["coverage_pct"] >= 99.0
    assert m["no_spray_m2"] == 0


def test_fixed_angle_and_edge_passes():
    f = l_field_with_hole()
    p = planner.plan(f, planner.params_for(None, swath_m=5.0, angle_deg=0.0, edge_passes=1))
    assert p.angle_deg == 0.0 and p.angle_mode == "fixed"
    straight = [l for l in p.route if l.kind == "swath" and len(l.coords) == 2]
    d = np.array([l.end - l.start for l in straight])
    assert np.allclose(d[:, 0], 0.0, atol=1e-6)  # heading 0 = grid north: swaths run north-south
    laps = [l for l in p.route if l.kind == "swath" and len(l.coords) > 2]
    assert len(laps) >= 2  # the outer edge and the edge round the pond
    assert all(np.allclose(l.coords[0], l.coords[-1]) for l in laps)  # closed, flown once round
    assert p.metrics()["coverage_pct"] >= 99.0
    assert p.metrics()["no_spray_m2"] == 0
