"""The command line in Vietnamese first (gettext catalogs), English kept.

The rest of the suite runs in English (conftest.py sets AGRODRONE_LANG=en); these tests
ask for Vietnamese the ways a user would: AGRODRONE_LANG, --lang, or the locale.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from cli_support import run_cli

from agrodrone.catalog import problems
from agrodrone.i18n import choose_language
from telemetry import open_db

SQUARE = [[105.73, 21.70], [105.731, 21.70], [105.731, 21.701], [105.73, 21.701]]


@pytest.fixture
def vi(monkeypatch):
    monkeypatch.setenv("AGRODRONE_LANG", "vi")


def _field(path: Path, ring, **doc) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                **doc,
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kind": "field", "id": "f1"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def _error(code: int, err: str) -> str:
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "argv, env, expected",
    [
        ([], {}, "vi"),
        ([], {"LANG": "C.UTF-8"}, "vi"),
        ([], {"LANG": "en_US.UTF-8"}, "en"),
        ([], {"LANG": "vi_VN.UTF-8"}, "vi"),
        ([], {"LANG": "en_US.UTF-8", "AGRODRONE_LANG": "vi"}, "vi"),
        (["--lang", "en", "plan"], {"AGRODRONE_LANG": "vi"}, "en"),
        (["report", "--lang=vi"], {"LANG": "en_GB.UTF-8"}, "vi"),
    ],
)
def test_the_language_is_chosen_as_documented(argv, env, expected) -> None:
    assert choose_language(argv, env) == expected


def test_help_is_vietnamese_and_explains_the_jargon(vi, capsys) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    out = " ".join(out.split())
    assert code == 0
    assert "Cách dùng:" in out and "Lệnh:" in out
    assert "vệt phun (swath)" in out and "chuyến bay (sortie)" in out and "điểm dừng (breakpoint)" in out
    code, out, _ = run_cli(["plan", "--help"], capsys)
    assert "Liều lượng dung dịch phun, lít/ha." in out


def test_english_stays_available(vi, capsys) -> None:
    code, out, _ = run_cli(["--lang", "en", "plan", "--help"], capsys)
    assert code == 0 and "Application rate of tank mix, L/ha." in out and "Usage:" in out


def test_the_careless_input_errors_read_in_vietnamese(vi, tmp_path: Path, capsys) -> None:
    bad_crs = _field(
        tmp_path / "crs.geojson", SQUARE + [SQUARE[0]], crs={"type": "name", "properties": {"name": "EPSG:999999"}}
    )
    assert "không phải hệ tọa độ đã biết" in _error(*run_cli(["fields", "check", str(bad_crs)], capsys)[::2])
    two = _field(tmp_path / "two.geojson", SQUARE[:2])
    assert "không khép kín" in _error(*run_cli(["fields", "check", str(two)], capsys)[::2])
    text = _field(tmp_path / "text.geojson", [["105.73", "21.70"]] * 4)
    assert "không phải số" in _error(*run_cli(["fields", "check", str(text)], capsys)[::2])
    code, out, err = run_cli(["fields", "check", str(_field(tmp_path / "open.geojson", SQUARE))], capsys)
    assert code == 0 and "đã khép lại" in out + err
    wp = tmp_path / "m.waypoints"
    wp.write_text("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21.7\t105.7\t0\t1\n", encoding="utf-8")
    line = _error(*run_cli(["upload", str(wp), "--connect", f"tcp:127.0.0.1:{_refused_port()}"], capsys)[::2])
    assert "bị từ chối" in line
    line = _error(
        *run_cli(
            [
                "log",
                "--connect",
                f"tcp:127.0.0.1:{_refused_port()}",
                "--db",
                str(tmp_path / "x.db"),
                "--duration",
                "1",
                "--quiet",
            ],
            capsys,
        )[::2]
    )
    assert "không ghi được gì" in line
    open_db(tmp_path / "empty.db").conn.close()
    line = _error(
        *run_cli(
            ["report", "--db", str(tmp_path / "empty.db"), "--out", str(tmp_path / "r"), "--from", "31/02/2026"], capsys
        )[::2]
    )
    assert "'31/02/2026' không hợp lệ: không có ngày này" in line
    line = _error(*run_cli(["plan", str(bad_crs), "--dose", "abc"], capsys)[::2])
    assert "không phải là số" in line


def test_a_decimal_comma_is_a_number(tmp_path: Path, capsys) -> None:
    field = _field(tmp_path / "f.geojson", SQUARE + [SQUARE[0]])
    code, out, err = run_cli(["plan", str(field), "--dose", "15,5", "--out", str(tmp_path / "p"), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["dose_l_ha"] == 15.5


def test_every_message_has_its_translation_and_the_catalogs_are_compiled() -> None:
    assert problems() == [], "run `make translations` and translate the new entries"


@pytest.mark.parametrize("sao, header", [("bac", "sào (360 m²)"), ("trung", "sào (500 m²)"), ("nam", "công (1000 m²)")])
def test_the_local_area_unit_is_said_and_can_be_chosen(tmp_path: Path, capsys, sao: str, header: str) -> None:
    field = _field(tmp_path / "f.geojson", SQUARE + [SQUARE[0]])
    code, out, err = run_cli(["fields", "check", str(field), "--sao", sao], capsys)
    assert code == 0, err
    assert header in out
    ha = 1.145
    assert f"{ha * 10_000 / {'bac': 360, 'trung': 500, 'nam': 1000}[sao]:.1f}"[:3] in out
