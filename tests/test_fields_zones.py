"""No-spray zones and obstacles: buffers, attachment to the fields they are near, defaults."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import Point, box, mapping

import fields

FRAME = fields.LocalFrame(32648)
X0, Y0 = FRAME.to_local(105.7312, 21.7046)


def _wgs(geom):
    """A geometry drawn in metres around (X0, Y0), as lon/lat."""
    return FRAME.geom_to_wgs84(shapely.affinity.translate(geom, X0, Y0))


def _write(tmp_path, features, name="htx.geojson"):
    path = tmp_path / name
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": mapping(geom)} for geom, props in features
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_buffers_and_nearness(tmp_path):
    path = _write(
        tmp_path,
        [
            (_wgs(box(0, 0, 200, 100)), {"id": "ruong"}),
            # a pond 40 m beyond the east edge, 5 m buffer: near enough to belong, no overlap
            (_wgs(Point(240, 50).buffer(10)), {"kind": "no_spray", "id": "ao", "buffer_m": 5}),
            # a canal across the field, 3 m each side
            (_wgs(shapely.LineString([(100, -20), (100, 120)])), {"kind": "no_spray", "id": "muong", "buffer_m": 3}),
            # a pole inside the field with no radius given
            (_wgs(Point(50, 50)), {"kind": "obstacle", "id": "cot", "height_m": 9}),
            # a school 300 m away
            (_wgs(box(500, 0, 520, 20)), {"kind": "no_spray", "id": "truong", "buffer_m": 20}),
        ],
    )
    (f,) = fields.load(path)
    assert [z.id for z in f.zones] == ["ao", "muong", "cot"]
    cot = f.zones[2]
    assert cot.buffer_m == fields.DEFAULT_OBSTACLE_RADIUS_M and cot.height_m == 9
    assert "obstacle 'cot' has no radius_m; 5 m assumed" in f.warnings
    assert "no_spray zone 'truong' is more than 50 m from this field; ignored" in f.warnings
    # field 2 ha, canal strip 6 m x 100 m, pole disc r = 5 m; the pond's buffer stays outside
    expected = 20_000 - 600 - 3.14159 * 25
    assert f.sprayable.area == pytest.approx(expected, rel=0.002)
    assert f.sprayable_ha < f.area_ha


def test_zone_attaches_only_to_the_field_it_is_near(tmp_path):
    path = _write(
        tmp_path,
        [
            (_wgs(box(0, 0, 100, 100)), {"id": "a"}),
            (_wgs(box(1000, 0, 1100, 100)), {"id": "b"}),
            (_wgs(Point(1050, 50)), {"kind": "obstacle", "id": "tree", "radius_m": 4, "height_m": 15}),
        ],
    )
    a, b = fields.load(path)
    assert a.zones == [] and a.sprayable_ha == a.area_ha
    assert [z.id for z in b.zones] == ["tree"]
    assert b.sprayable.area == pytest.approx(10_000 - b.zones[0].keepout.area, rel=1e-9)


def test_each_field_gets_its_own_utm_zone_and_zones_follow(tmp_path):
    west = box(107.90, 21.5, 107.902, 21.502)
    east = box(108.10, 21.5, 108.102, 21.502)
    pole = Point(108.101, 21.501)
    path = _write(
        tmp_path, [(west, {"id": "w"}), (east, {"id": "e"}), (pole, {"kind": "obstacle", "id": "p", "radius_m": 6})]
    )
    w, e = fields.load(path)
    assert (w.utm_epsg, e.utm_epsg) == (32648, 32649)
    (z,) = e.zones
    assert e.boundary.contains(z.geometry)  # transformed into the east field's frame
    lon, lat = e.frame.to_wgs84(z.geometry.x, z.geometry.y)
    assert (lon, lat) == pytest.approx((108.101, 21.501), abs=1e-9)


def test_default_ids_are_stem_and_position(tmp_path):
    path = _write(
        tmp_path,
        [
            (_wgs(Point(40, 40)), {"kind": "obstacle", "radius_m": 2}),
            (_wgs(box(0, 0, 100, 100)), {}),
            (_wgs(box(200, 0, 300, 100)), {"name": "Ruộng 2"}),
        ],
        name="hop-tac-xa.geojson",
    )
    a, b = fields.load(path)
    assert (a.id, a.name) == ("hop-tac-xa-2", "hop-tac-xa-2")
    assert (b.id, b.name) == ("hop-tac-xa-3", "Ruộng 2")
    assert [z.id for z in a.zones] == ["hop-tac-xa-1"]
    (only,) = fields.load(path, field_id="hop-tac-xa-3")
    assert only.name == "Ruộng 2"


def test_kind_spelling_is_forgiving(tmp_path):
    path = _write(
        tmp_path,
        [
            (_wgs(box(0, 0, 100, 100)), {"id": "a", "kind": "Field"}),
            (_wgs(Point(50, 50)), {"kind": "no-spray", "id": "nha", "buffer_m": "8"}),
        ],
    )
    (f,) = fields.load(path)
    assert (f.zones[0].kind, f.zones[0].buffer_m) == ("no_spray", 8.0)
