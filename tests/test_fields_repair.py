"""Validation and repair of boundaries (local metres), and the rule for refusing one."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon, box

import fields
from fields import RepairError, repair_boundary

SQUARE = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]


def test_valid_square_needs_no_repair():
    geom, warnings = repair_boundary(Polygon(SQUARE))
    assert warnings == [] and geom.area == pytest.approx(10_000)


def test_small_crossing_loop_is_dropped_and_reported():
    # the last edge crosses the first near (95, 2): a 4.8 m² loop on a 1904 m² field
    ring = [(0, 0), (100, 2), (100, 0), (0, 40), (0, 0)]
    geom, warnings = repair_boundary(Polygon(ring))
    assert geom.is_valid and geom.geom_type == "Polygon"
    assert geom.area == pytest.approx(0.5 * 40 * (40 / 0.42), rel=1e-6)
    (w,) = warnings
    assert "boundary crossed itself (Self-intersection)" in w
    assert "1 small loop(s) of 0.0005 ha dropped" in w
    assert "area 0.1900 ha -> 0.1905 ha" in w


def test_bowtie_with_two_real_lobes_is_refused():
    # lobes of 800 m² and 1800 m²: as drawn 1000 m², untangled 2600 m²; which is the field?
    with pytest.raises(RepairError) as exc:
        repair_boundary(Polygon([(0, 0), (100, 60), (100, 0), (0, 40), (0, 0)]))
    msg = str(exc.value)
    assert "boundary crosses itself" in msg and "cannot be repaired unambiguously" in msg
    assert "0.1000 ha as drawn but 0.2600 ha in 2 part(s)" in msg


def test_hole_crossing_the_boundary_is_cut_out():
    hole = [(80, 40), (120, 40), (120, 60), (80, 60), (80, 40)]
    geom, warnings = repair_boundary(Polygon(SQUARE, [hole]))
    assert geom.is_valid and geom.area == pytest.approx(10_000 - 400)
    assert warnings == [
        "hole 1 touches or crosses the boundary; the field is cut along it: area 0.9200 ha -> 0.9600 ha"
    ]


def test_hole_touching_along_an_edge_becomes_a_notch():
    hole = [(80, 40), (100, 40), (100, 60), (80, 60), (80, 40)]
    assert not Polygon(SQUARE, [hole]).is_valid
    geom, warnings = repair_boundary(Polygon(SQUARE, [hole]))
    assert geom.is_valid and not list(geom.interiors) and geom.area == pytest.approx(9600)
    assert len(warnings) == 1 and "hole 1 touches or crosses the boundary" in warnings[0]


def test_hole_touching_at_one_point_is_valid_and_silent():
    hole = [(90, 40), (100, 50), (90, 60), (90, 40)]
    geom, warnings = repair_boundary(Polygon(SQUARE, [hole]))
    assert warnings == [] and geom.area == pytest.approx(10_000 - 100)


def test_hole_outside_the_boundary_is_ignored():
    geom, warnings = repair_boundary(Polygon(SQUARE, [[(200, 0), (210, 0), (210, 10), (200, 0)]]))
    assert geom.area == pytest.approx(10_000)
    assert warnings == ["hole 1 lies outside the boundary; ignored"]


def test_self_crossing_hole_is_refused():
    hole = [(10, 10), (50, 40), (50, 10), (10, 30), (10, 10)]
    with pytest.raises(RepairError, match="hole 1 crosses itself"):
        repair_boundary(Polygon(SQUARE, [hole]))


def test_duplicate_vertices_are_removed():
    ring = [(0, 0), (0, 0), (100, 0), (100, 0.0004), (100, 100), (0, 100), (0, 100), (0, 0)]
    geom, warnings = repair_boundary(Polygon(ring))
    assert len(geom.exterior.coords) == 5
    assert warnings == ["3 duplicate vertice(s) removed; area unchanged"]


def test_orientation_is_normalised_and_warned_only_under_rfc7946():
    cw = Polygon(SQUARE[::-1], [[(10, 10), (20, 10), (20, 20), (10, 20), (10, 10)]])  # hole CCW too
    geom, warnings = repair_boundary(cw, ccw_convention=True)
    assert geom.exterior.is_ccw and not geom.interiors[0].is_ccw
    assert len(warnings) == 1
    assert "1 clockwise exterior(s), 1 counter-clockwise hole(s)" in warnings[0]
    assert "area unchanged" in warnings[0]
    geom2, warnings2 = repair_boundary(cw, ccw_convention=False)
    assert warnings2 == [] and shapely.equals(geom, geom2)


def test_overlapping_parts_are_merged():
    geom, warnings = repair_boundary(MultiPolygon([box(0, 0, 100, 100), box(50, 0, 150, 100)]))
    assert geom.geom_type == "Polygon" and geom.area == pytest.approx(15_000)
    assert warnings == ["overlapping parts merged: area 2.0000 ha -> 1.5000 ha"]


def test_separate_parts_stay_a_multipolygon_without_warning():
    geom, warnings = repair_boundary(MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 10)]))
    assert geom.geom_type == "MultiPolygon" and warnings == []


def test_closed_line_is_read_as_a_polygon():
    geom, warnings = repair_boundary(LineString(SQUARE))
    assert geom.area == pytest.approx(10_000)
    assert warnings == ["boundary drawn as a closed line; read as a polygon"]


def test_size_limits():
    with pytest.raises(RepairError, match="less than 1 m²"):
        repair_boundary(box(0, 0, 0.5, 0.5))
    with pytest.raises(RepairError, match="more than 5,000 ha"):
        repair_boundary(box(0, 0, 8000, 8000))
    geom, _ = repair_boundary(box(0, 0, 7000, 7000))  # 4900 ha: large, still a field
    assert geom.area == pytest.approx(49e6)


def test_repairs_reach_the_field_through_a_file(tmp_path):
    """A GeoJSON with a pond drawn across the edge: loaded, cut, and the warning is kept."""
    frame = fields.LocalFrame(32648)
    origin = frame.to_local(105.7312, 21.7046)
    field = shapely.affinity.translate(Polygon(SQUARE, [[(80, 40), (120, 40), (120, 60), (80, 60), (80, 40)]]), *origin)
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "ao-bo", "name": "Ruộng ao bờ"},
                "geometry": shapely.geometry.mapping(frame.geom_to_wgs84(field)),
            }
        ],
    }
    path = tmp_path / "ao.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    (f,) = fields.load(path)
    assert f.boundary.is_valid
    assert f.area_m2 == pytest.approx(9600, rel=1e-4)
    assert any("hole 1 touches or crosses the boundary" in w and "-> 0.9600 ha" in w for w in f.warnings)
