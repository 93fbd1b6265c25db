"""`agrodrone fields check` and `agrodrone fields export` on the bundled samples."""

from __future__ import annotations

import json

import pytest
import shapely
from cli_support import run_cli as _run

import fields

REQUIRED = {"id", "name", "area_ha", "sprayable_ha", "area_sao", "crs", "utm_epsg", "vertices", "warnings"}


def test_check_json(samples, capsys):
    code, out, err = _run(["fields", "check", str(samples / "co-lung-rice-block.geojson"), "--json"], capsys)
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert list(doc) == ["fields"]
    (row,) = doc["fields"]
    assert REQUIRED <= set(row)
    assert row["id"] == "co-lung-rice-block"
    assert row["area_ha"] == pytest.approx(7.9, abs=0.05)
    assert row["sprayable_ha"] < row["area_ha"]
    assert row["area_sao"] == pytest.approx(row["area_ha"] * 10_000 / 360, abs=0.1)
    assert (row["crs"], row["utm_epsg"]) == ("EPSG:4326", 32648)
    assert row["vertices"] == 83
    assert row["properties"]["cooperative"] == "htx-co-lung"
    assert row["zones"][0]["id"] == "co-lung-canal"


def test_check_table(samples, capsys):
    code, out, err = _run(["fields", "check", str(samples / "tan-cuong-tea.geojson")], capsys)
    assert code == 0 and err == ""
    assert "tan-cuong-tea" in out and "Đồi chè Tân Cương" in out
    (f,) = fields.load(samples / "tan-cuong-tea.geojson")
    assert f"{f.area_ha:.4f}" in out and f"{f.sprayable_ha:.4f}" in out and f"{f.area_sao:.1f}" in out
    assert "EPSG:32648" in out
    assert "warning tan-cuong-tea: ring orientation corrected" in out


def test_check_selects_one_field(tmp_path, samples, capsys):
    code, out, _ = _run(
        ["fields", "check", str(samples / "public" / "nl_field_188.wkt"), "--field", "nl_field_188-1", "--json"], capsys
    )
    assert code == 0
    assert [r["id"] for r in json.loads(out)["fields"]] == ["nl_field_188-1"]


def test_export_writes_wgs84_geojson_that_loads_back(tmp_path, samples, capsys):
    out_path = tmp_path / "out" / "tea.geojson"
    code, out, err = _run(["fields", "export", str(samples / "tan-cuong-tea.geojson"), "--out", str(out_path)], capsys)
    assert code == 0 and err == "" and "1 field(s)" in out
    doc = json.loads(out_path.read_text(encoding="utf-8"))
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert 105.7 < lon < 105.8 and 21.5 < lat < 21.6
    (again,) = fields.load(out_path)
    (orig,) = fields.load(samples / "tan-cuong-tea.geojson")
    assert again.sprayable_ha == pytest.approx(orig.sprayable_ha, rel=1e-3)


@pytest.mark.parametrize("target", ["folder", "missing-parent"])
def test_export_to_an_unwritable_place_is_one_error_line(tmp_path, samples, capsys, target):
    out_path = tmp_path if target == "folder" else tmp_path / "file.txt" / "tea.geojson"
    if target == "missing-parent":
        (tmp_path / "file.txt").write_text("a file, not a folder")
    code, out, err = _run(["fields", "export", str(samples / "tan-cuong-tea.geojson"), "--out", str(out_path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ([] if target == "folder" else ["file.txt"])


def test_export_writes_a_zone_shared_by_two_fields_once(tmp_path, capsys):
    """A pole between two plots belongs to both; exported and loaded back, each plot has it once."""
    frame = fields.LocalFrame(32648)
    x0, y0 = frame.to_local(105.7312, 21.7046)

    def feature(geom, **props):
        wgs = frame.geom_to_wgs84(shapely.affinity.translate(geom, x0, y0))
        return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(wgs)}

    src = tmp_path / "two.geojson"
    src.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(shapely.box(0, 0, 100, 100), id="a"),
                    feature(shapely.box(110, 0, 200, 100), id="b"),
                    feature(shapely.Point(105, 50), id="pole", kind="obstacle", radius_m=8),
                ],
            }
        ),
        encoding="utf-8",
    )
    a, b = fields.load(src)
    assert [z.id for z in a.zones] == [z.id for z in b.zones] == ["pole"]
    out_path = tmp_path / "out.geojson"
    code, _, err = _run(["fields", "export", str(src), "--out", str(out_path)], capsys)
    assert code == 0, err
    doc = json.loads(out_path.read_text(encoding="utf-8"))
    assert [f["properties"]["id"] for f in doc["features"] if f["properties"]["kind"] == "obstacle"] == ["pole"]
    a2, b2 = fields.load(out_path)
    assert [z.id for z in a2.zones] == [z.id for z in b2.zones] == ["pole"]
    assert (a2.sprayable_ha, b2.sprayable_ha) == pytest.approx((a.sprayable_ha, b.sprayable_ha), rel=1e-3)
