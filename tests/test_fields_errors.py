"""Bad input of every kind: the Python API raises FieldError with a one-line message
naming the file, the feature and the reason; the CLI prints exactly that as one
`error:` line on stderr and exits 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from cli_support import run_cli as _cli

import fields

ROOT = Path(__file__).resolve().parent.parent
# a small square rice plot near Cổ Lũng, lon/lat
PLOT = [[105.7312, 21.7046], [105.7322, 21.7046], [105.7322, 21.7054], [105.7312, 21.7054], [105.7312, 21.7046]]


def _fc(*features, crs: str | None = None) -> str:
    doc: dict = {"type": "FeatureCollection", "features": list(features)}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc)


def _feat(coords, geom_type: str = "Polygon", **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": geom_type, "coordinates": coords}}


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _bowtie() -> list:
    # lobes of 60 % and 40 %: as drawn it encloses 20 %, untangled 100 %
    return [[[105.7312, 21.7046], [105.7324, 21.7054], [105.7324, 21.7046], [105.7312, 21.7054], [105.7312, 21.7046]]]


def _projected_square() -> list:
    # VN-2000 / UTM 48N metres of the same plot, written without a CRS
    return [[[575400, 2400400], [575500, 2400400], [575500, 2400490], [575400, 2400490], [575400, 2400400]]]


# (file name, content, expected fragments of the message)
CASES = {
    "missing": ("absent.geojson", None, ["absent.geojson", "no such file"]),
    "unknown_format": (
        "fields.txt",
        "POLYGON ((0 0, 1 0, 1 1, 0 0))",
        ["fields.txt", "unknown format '.txt'", ".geojson", ".wkt"],
    ),
    "empty_file": ("empty.geojson", "", ["empty.geojson", "the file is empty"]),
    "not_json": (
        "broken.geojson",
        '{"type": "FeatureCollection", "features": [',
        ["broken.geojson", "not valid JSON", "line 1"],
    ),
    "not_geojson": ("other.json", '{"hello": "world"}', ["other.json", "not a GeoJSON object"]),
    "no_features": ("none.geojson", _fc(), ["none.geojson", "has no features"]),
    "bad_shapefile": ("broken.shp", b"this is not a shapefile at all", ["broken.shp", "cannot read as Shapefile"]),
    "bad_zip": ("broken.zip", b"PK\x03\x04 truncated", ["broken.zip", "not a valid zip file"]),
    "bad_kmz": ("broken.kmz", b"not a zip", ["broken.kmz", "not a valid KMZ"]),
    "bad_kml": ("broken.kml", "<kml><Document><Placemark>", ["broken.kml", "cannot read as KML"]),
    "wkt_unbalanced": (
        "bad.wkt",
        "POLYGON ((0 0, 1 0, 1 1, 0 0)",
        ["bad.wkt", "not valid WKT", "unbalanced parentheses"],
    ),
    "wkt_garbage": ("bad2.wkt", "hello world", ["bad2.wkt", "not valid WKT", "line 1", "expected '('"]),
    "wkt_bad_coordinates": (
        "bad3.wkt",
        "POINT (1 2)\nPOLYGON ((0 0, 1 0, x y))",
        ["bad3.wkt", "feature 2 (line 2)", "not valid WKT"],
    ),
    "unknown_srid": (
        "srid.wkt",
        "SRID=999999;POLYGON ((0 0, 1 0, 1 1, 0 0))",
        ["srid.wkt", "feature 1", "the declared CRS is not understood: 'EPSG:999999'"],
    ),
    "wkt_no_geometry": ("comments.wkt", "# nothing here\n", ["comments.wkt", "holds no geometry"]),
    "projected_without_crs": (
        "utm.geojson",
        _fc(_feat(_projected_square(), id="ruong-1")),
        [
            "utm.geojson",
            "feature 1 (id 'ruong-1')",
            "not longitude/latitude",
            "declares no CRS",
            "projected",
            "swapped",
        ],
    ),
    "swapped_lat_lon": (
        "swapped.geojson",
        _fc(_feat([[[y, x] for x, y in PLOT]], name="Ruộng đảo")),
        ["swapped.geojson", "feature 1 (name 'Ruộng đảo')", "(21.7046, 105.7312)", "swapped (lat, lon"],
    ),
    "bowtie": (
        "bowtie.geojson",
        _fc(_feat(_bowtie(), id="no-tie")),
        ["bowtie.geojson", "feature 1 (id 'no-tie')", "crosses itself", "cannot be repaired unambiguously", "redraw"],
    ),
    "null_geometry": (
        "null.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "x"}, "geometry": null}]}',
        ["null.geojson", "feature 1 (id 'x')", "empty geometry"],
    ),
    "empty_wkt_polygon": ("empty.wkt", "POLYGON EMPTY", ["empty.wkt", "feature 1", "empty geometry"]),
    "zero_area": (
        "line.geojson",
        _fc(_feat([[[105.73, 21.70], [105.731, 21.70], [105.732, 21.70], [105.73, 21.70]]], id="flat")),
        ["line.geojson", "feature 1 (id 'flat')", "degenerate"],
    ),
    "absurd_size": (
        "huge.geojson",
        _fc(_feat([[[105.0, 21.0], [106.0, 21.0], [106.0, 22.0], [105.0, 22.0], [105.0, 21.0]]], id="province")),
        ["huge.geojson", "feature 1 (id 'province')", "more than 5,000 ha"],
    ),
    "point_as_field": (
        "point.geojson",
        _fc(_feat([105.73, 21.70], "Point", id="p")),
        ["point.geojson", "feature 1 (id 'p')", "a field must be a polygon, not a Point"],
    ),
    "open_line_as_field": (
        "path.geojson",
        _fc(_feat(PLOT[:3], "LineString", id="p")),
        ["path.geojson", "a field must be a polygon, not an open LineString"],
    ),
    "unknown_kind": (
        "kind.geojson",
        _fc(_feat([PLOT], id="a"), _feat([105.7315, 21.705], "Point", kind="tree", id="t1")),
        ["kind.geojson", "feature 2 (id 't1')", "unknown kind 'tree'", "field, no_spray, obstacle"],
    ),
    "negative_buffer": (
        "buf.geojson",
        _fc(_feat([PLOT], id="a"), _feat([105.7315, 21.705], "Point", kind="no_spray", id="ao", buffer_m=-5)),
        ["buf.geojson", "feature 2 (id 'ao')", "buffer_m must be zero or more metres"],
    ),
    "text_radius": (
        "rad.geojson",
        _fc(_feat([PLOT], id="a"), _feat([105.7315, 21.705], "Point", kind="obstacle", id="cot", radius_m="wide")),
        ["rad.geojson", "feature 2 (id 'cot')", "radius_m must be a number of metres, got 'wide'"],
    ),
    "only_zones": (
        "zones.geojson",
        _fc(_feat([105.7315, 21.705], "Point", kind="obstacle", radius_m=3)),
        ["zones.geojson", "no field in the file"],
    ),
    "duplicate_ids": (
        "dup.geojson",
        _fc(_feat([PLOT], id="a"), _feat([PLOT], id="a")),
        ["dup.geojson", "feature 2 (id 'a')", "duplicate field id 'a'", "also feature 1"],
    ),
    "degrees_in_projected_crs": (
        "deg.geojson",
        _fc(_feat([PLOT], id="a"), crs="urn:ogc:def:crs:EPSG::3405"),
        ["deg.geojson", "feature 1 (id 'a')", "degenerate", "look like degrees but the file declares EPSG:3405"],
    ),
}


def _make(tmp_path: Path, case: str) -> Path:
    name, content, _ = CASES[case]
    if content is None:
        return tmp_path / name
    return _write(tmp_path, name, content)


@pytest.mark.parametrize("case", sorted(CASES))
def test_api_refuses_with_a_message_naming_file_feature_reason(tmp_path, case):
    path = _make(tmp_path, case)
    with pytest.raises(fields.FieldError) as exc:
        fields.load(path)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    for fragment in CASES[case][2]:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_prints_one_error_line_and_exits_2(tmp_path, case, capsys):
    path = _make(tmp_path, case)
    code, out, err = _cli(["fields", "check", str(path)], capsys)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in CASES[case][2]:
        assert fragment in lines[0]


def test_unknown_field_id_lists_the_ids(samples, capsys):
    with pytest.raises(fields.FieldError, match=r"no field with id 'nope'; the file has: tan-cuong-tea"):
        fields.load(samples / "tan-cuong-tea.geojson", field_id="nope")
    code, out, err = _cli(["fields", "check", str(samples / "tan-cuong-tea.geojson"), "--field", "nope"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no field with id 'nope'" in err


def test_shapefile_missing_shx(tmp_path):
    path = tmp_path / "plot.shp"
    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(shapely.Polygon(PLOT))], dtype=object),
        [],
        [],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:4326",
    )
    path.with_suffix(".shx").unlink()
    with pytest.raises(fields.FieldError, match=r"plot\.shp: cannot read as Shapefile: .*plot\.shx"):
        fields.load(path)


def test_zip_without_a_boundary_file(tmp_path):
    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(fields.FieldError, match=r"docs\.zip: the zip holds no \.shp"):
        fields.load(path)


def test_folder_is_refused(tmp_path):
    with pytest.raises(fields.FieldError, match=r"is a folder"):
        fields.load(tmp_path)


def test_console_script_really_prints_one_line(tmp_path):
    """The installed `agrodrone` entry point, as an operator runs it."""
    path = _write(tmp_path, "bowtie.geojson", _fc(_feat(_bowtie(), id="no-tie")))
    exe = Path(sys.executable).with_name("agrodrone")
    proc = subprocess.run([str(exe), "fields", "check", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ")
    assert "Traceback" not in proc.stderr and "cannot be repaired unambiguously" in proc.stderr


def test_export_refusal_leaves_no_file(tmp_path, capsys):
    src = _write(tmp_path, "bowtie.geojson", _fc(_feat(_bowtie(), id="no-tie")))
    out = tmp_path / "out.geojson"
    code, _, err = _cli(["fields", "export", str(src), "--out", str(out)], capsys)
    assert code == 2 and err.startswith("error: ")
    assert not out.exists() and list(tmp_path.iterdir()) == [src]
