"""Careless input, answered through the command line: one `error:` line (exit 2) or a
warning that says what was done, never a traceback and never a silently wrong field.

Property tests (Hypothesis, a fixed example budget) feed random rings, random CRS
declarations and junk bytes to the field loader and to `agrodrone fields check`.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from cli_support import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fields import load

SQUARE = [[105.73, 21.70], [105.731, 21.70], [105.731, 21.701], [105.73, 21.701]]
BUDGET = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _geojson(path: Path, ring, *, crs=None, props=None) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props or {"kind": "field", "id": "f1"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    if crs is not None:
        doc["crs"] = crs
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _one_error(code: int, err: str) -> str:
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


def test_shapefile_without_its_dbf_is_refused(tmp_path: Path, capsys) -> None:
    # a paddy and its pond: without the .dbf the pond would be read as a second field
    paddy = shapely.Polygon([(0, 0), (100, 0), (100, 80), (0, 80)])
    pond = shapely.Point(50, 40).buffer(10)
    pyogrio.raw.write(
        str(tmp_path / "rice.shp"),
        np.array([shapely.to_wkb(paddy), shapely.to_wkb(pond)], dtype=object),
        [np.array(["field", "no_spray"], dtype=object)],
        ["kind"],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:32648",
    )
    code, _, err = run_cli(["fields", "check", str(tmp_path / "rice.shp")], capsys)
    assert code == 0, err
    (tmp_path / "rice.dbf").unlink()
    line = _one_error(*run_cli(["fields", "check", str(tmp_path / "rice.shp")], capsys)[::2])
    assert "rice.dbf" in line and "is missing" in line
    shutil.make_archive(str(tmp_path / "rice"), "zip", tmp_path, ".")
    line = _one_error(*run_cli(["fields", "check", str(tmp_path / "rice.zip")], capsys)[::2])
    assert "rice.dbf" in line


def test_an_open_ring_is_closed_with_a_warning(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["fields", "check", str(_geojson(tmp_path / "open.geojson", SQUARE))], capsys)
    assert code == 0, err
    assert "a ring was not closed" in out + err
    (f,) = load(tmp_path / "open.geojson")
    assert f.area_ha == pytest.approx(1.145, abs=0.01)


def test_a_two_point_ring_is_refused(tmp_path: Path, capsys) -> None:
    path = _geojson(tmp_path / "two.geojson", SQUARE[:2])
    line = _one_error(*run_cli(["fields", "check", str(path)], capsys)[::2])
    assert "not closed and has fewer than three corners" in line


@pytest.mark.parametrize(
    "name, words",
    [("EPSG:999999", "'EPSG:999999', which is not a known"), ("VN-2000 TM3", "'VN-2000 TM3', which is not a known")],
)
def test_an_unknown_declared_crs_is_refused(tmp_path: Path, capsys, name: str, words: str) -> None:
    ring = SQUARE + [SQUARE[0]]
    path = _geojson(tmp_path / "crs.geojson", ring, crs={"type": "name", "properties": {"name": name}})
    assert words in _one_error(*run_cli(["fields", "check", str(path)], capsys)[::2])


def test_a_known_declared_crs_is_used(tmp_path: Path) -> None:
    ring = [
        [588000.0, 2400000.0],
        [588100.0, 2400000.0],
        [588100.0, 2400100.0],
        [588000.0, 2400100.0],
        [588000.0, 2400000.0],
    ]
    path = _geojson(tmp_path / "vn2000.geojson", ring, crs={"type": "name", "properties": {"name": "EPSG:3405"}})
    (f,) = load(path)
    assert f.area_ha == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize(
    "bad, words", [("105.731", "is the text '105.731', not a number"), (float("nan"), "a coordinate is nan")]
)
def test_coordinates_that_are_not_numbers(tmp_path: Path, capsys, bad, words: str) -> None:
    ring = [list(p) for p in SQUARE + [SQUARE[0]]]
    ring[1][0] = bad
    path = _geojson(tmp_path / "bad.geojson", ring)
    code, _, err = run_cli(["fields", "check", str(path)], capsys)
    assert words in _one_error(code, err)
    assert "RuntimeWarning" not in err


def test_a_field_across_the_antimeridian_gets_its_own_utm_zone(tmp_path: Path) -> None:
    ring = [[179.999, 16.0], [-179.999, 16.0], [-179.999, 16.001], [179.999, 16.001], [179.999, 16.0]]
    (f,) = load(_geojson(tmp_path / "am.geojson", ring))
    assert f.frame.utm_epsg in (32601, 32660), "northern hemisphere, zone 1 or 60"
    assert f.area_ha == pytest.approx(0.002 * 111_320 * math.cos(math.radians(16)) * 110.6 / 10_000, rel=0.02)


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_upload_to_a_port_where_nothing_listens_fails_at_once(tmp_path: Path, capsys) -> None:
    wp = tmp_path / "m.waypoints"
    wp.write_text(
        "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.7\t105.7\t0\t1\n1\t0\t3\t22\t0\t0\t0\t0\t21.7\t105.7\t5\t1\n",
        encoding="utf-8",
    )
    t0 = time.monotonic()
    code, _, err = run_cli(["upload", str(wp), "--connect", f"tcp:127.0.0.1:{_refused_port()}"], capsys)
    assert "connection refused (nothing listens there" in _one_error(code, err)
    assert time.monotonic() - t0 < 10, "a refused connection is not waited on"


def test_log_to_a_dead_link_is_an_error(tmp_path: Path, capsys) -> None:
    db = tmp_path / "x.db"
    code, _, err = run_cli(
        ["log", "--connect", f"tcp:127.0.0.1:{_refused_port()}", "--db", str(db), "--duration", "1.5", "--quiet"],
        capsys,
    )
    assert "nothing was logged" in _one_error(code, err)
    assert not db.exists() and not list(tmp_path.glob("*.tlog")), "no empty files left behind"


# ---------------------------------------------------------------- property tests

coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.floats(min_value=-200, max_value=200),
    st.text(max_size=4),
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
)
point = st.lists(coordinate, min_size=0, max_size=3)
ring = st.lists(point, min_size=0, max_size=8)
near = st.tuples(st.floats(105.6, 105.8), st.floats(21.6, 21.8))
lonlat_ring = st.lists(near, min_size=0, max_size=7).map(lambda pts: [list(p) for p in pts])
crs_member = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        [
            "EPSG:4326",
            "EPSG:3405",
            "EPSG:32648",
            "urn:ogc:def:crs:OGC:1.3:CRS84",
            "EPSG:0",
            "EPSG:999999",
            "WGS 84",
            "+proj=longlat",
            "",
        ]
    ),
)


def _check_never_crashes(path: Path, capsys) -> tuple[int, str, str]:
    code, out, err = run_cli(["fields", "check", str(path), "--json"], capsys)
    assert "Traceback" not in err
    assert code in (0, 2), err
    if code == 2:
        _one_error(code, err)
    return code, out, err


@BUDGET
@given(ring=ring)
def test_random_rings_never_crash(tmp_path: Path, capsys, ring) -> None:
    _check_never_crashes(_geojson(tmp_path / "r.geojson", ring), capsys)


@BUDGET
@given(ring=lonlat_ring)
def test_random_lonlat_rings_load_as_what_they_are(tmp_path: Path, capsys, ring) -> None:
    """A field that loads has the area of its (closed, repaired) ring: nothing silently wrong."""
    code, out, _ = _check_never_crashes(_geojson(tmp_path / "r.geojson", ring), capsys)
    if code == 0:
        (f,) = json.loads(out)["fields"]
        assert f["area_ha"] > 0
        assert len({tuple(p) for p in ring}) >= 3


@BUDGET
@given(name=crs_member)
def test_random_crs_declarations_never_crash(tmp_path: Path, capsys, name) -> None:
    crs = None if name is None else {"type": "name", "properties": {"name": name}}
    code, out, err = _check_never_crashes(_geojson(tmp_path / "c.geojson", SQUARE + [SQUARE[0]], crs=crs), capsys)
    if code == 0 and name not in (None, "EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "WGS 84", "+proj=longlat"):
        pytest.fail(f"declared {name!r} but lon/lat degrees were accepted silently: {out}")


@BUDGET
@given(
    data=st.binary(max_size=300), suffix=st.sampled_from([".geojson", ".kml", ".kmz", ".shp", ".zip", ".gpkg", ".wkt"])
)
def test_junk_bytes_never_crash(tmp_path: Path, capsys, data: bytes, suffix: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(data)
    code, _, _ = _check_never_crashes(path, capsys)
    assert code == 2, "junk is never a field"


def test_fly_checks_the_cooperative_before_anything_flies(tmp_path: Path, capsys) -> None:
    field = _geojson(tmp_path / "nocoop.geojson", SQUARE + [SQUARE[0]], props={"kind": "field", "id": "p"})
    code, _, err = run_cli(["plan", str(field), "--out", str(tmp_path / "plan")], capsys)
    assert code == 0, err
    db = tmp_path / "job.db"
    # a port where nothing listens: the refusal must come before any connection is tried
    code, _, err = run_cli(
        ["fly", str(tmp_path / "plan"), "--connect", f"tcp:127.0.0.1:{_refused_port()}", "--db", str(db), "--yes"],
        capsys,
    )
    assert "no cooperative for the spray record" in _one_error(code, err)
    assert not db.exists()


def _strip(path: Path, width_m: float, length_m: float = 200.0) -> Path:
    dlat, dlon = width_m / 110_574, length_m / (111_320 * math.cos(math.radians(21.7)))
    ring = [
        [105.73, 21.70],
        [105.73 + dlon, 21.70],
        [105.73 + dlon, 21.70 + dlat],
        [105.73, 21.70 + dlat],
        [105.73, 21.70],
    ]
    return _geojson(path, ring, props={"kind": "field", "id": "strip", "cooperative": "htx-x"})


def test_a_narrow_field_sprayed_twice_is_said(tmp_path: Path, capsys) -> None:
    """An edge lap inside the first swath of a strip a few swaths wide doubles the dose there."""
    field = _strip(tmp_path / "strip.geojson", 14.0)
    code, out, err = run_cli(
        ["plan", str(field), "--angle", "90", "--edge-passes", "1", "--out", str(tmp_path / "p"), "--json"], capsys
    )
    assert code == 0, err
    plan = json.loads((tmp_path / "p" / "plan.json").read_text(encoding="utf-8"))
    (warning,) = [w for w in plan["warnings"] if "sprayed twice" in w]
    assert "double dose" in warning and json.loads(out)["overlap_pct"] > 5


@pytest.mark.parametrize(
    "speed, words",
    [("1000", "1000 m/s is not a spraying speed"), ("9", "speed lowered from 9 to the drone's maximum 7 m/s")],
)
def test_a_speed_the_drone_cannot_fly_is_never_taken_silently(tmp_path: Path, capsys, speed, words) -> None:
    field = _geojson(tmp_path / "f.geojson", SQUARE + [SQUARE[0]], props={"kind": "field", "id": "f"})
    code, out, err = run_cli(["plan", str(field), "--speed", speed, "--out", str(tmp_path / "p")], capsys)
    if speed == "1000":
        assert words in _one_error(code, err)
    else:
        assert code == 0 and words in " ".join((out + err).split())


def test_a_vehicle_that_does_not_answer_yet_is_waited_for_and_said(tmp_path: Path, capsys) -> None:
    """A link that is up but silent (an autopilot still booting) is not a refused one."""
    wp = tmp_path / "m.waypoints"
    wp.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.7\t105.7\t0\t1\n", encoding="utf-8")
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks MAVLink
        port = silent.getsockname()[1]
        code, _, err = run_cli(["upload", str(wp), "--connect", f"tcp:127.0.0.1:{port}", "--timeout", "3"], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2, err
    assert "waiting up to" in lines[0] and "still booting" in lines[0]
    assert lines[1].startswith("error: no heartbeat from a vehicle")
