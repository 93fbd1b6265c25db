"""`agrodrone plan` end to end: real sample files in, plan.json / plan.geojson / plan.png out."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import run_cli as run

from agrodrone.cli import main

SUMMARY_KEYS = {
    "field_id",
    "area_ha",
    "sprayable_ha",
    "coverage_pct",
    "overlap_pct",
    "dose_dev_pct",
    "outside_pct",
    "no_spray_m2",
    "spray_length_m",
    "transit_length_m",
    "total_length_m",
    "turns",
    "sorties",
    "volume_l",
    "flow_l_min",
    "speed_m_s",
    "pump_rate_pct",
    "flight_time_s",
    "angle_deg",
    "path_ratio",
    "plan_ms",
}


@pytest.fixture(scope="module")
def rice_plan(tmp_path_factory, samples_dir):
    out = tmp_path_factory.mktemp("rice")
    with pytest.raises(SystemExit) as exc:
        main(["plan", str(samples_dir / "co-lung-rice-block.geojson"), "--swath", "5", "--out", str(out), "--json"])
    assert exc.value.code == 0
    return out


@pytest.fixture(scope="module")
def samples_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "fields" / "samples"


def test_plan_writes_json_geojson_png_and_mission_files(rice_plan):
    names = sorted(p.name for p in rice_plan.iterdir())
    plan = json.loads((rice_plan / "plan.json").read_text(encoding="utf-8"))
    missions = ["mission.plan", "mission.waypoints"] + [
        f"mission-s{s['index']}.{ext}" for s in plan["sorties"][1:] for ext in ("plan", "waypoints")
    ]
    assert names == sorted(["plan.geojson", "plan.json", "plan.png", *missions])
    assert (rice_plan / "mission.waypoints").read_text().startswith("QGC WPL 110")
    assert (rice_plan / "plan.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plan_json_structure_and_leg_rules(rice_plan):
    d = json.loads((rice_plan / "plan.json").read_text(encoding="utf-8"))
    assert d["format"] == "agrodrone-plan" and d["version"] == 1
    assert d["field"]["id"] == "co-lung-rice-block"
    assert d["field"]["keepout"][0]["id"] == "co-lung-canal"
    assert d["params"]["swath_m"] == 5 and d["params"]["angle_mode"] == "auto"
    # the flow is for the lines' spacing, 5 cm less than the swath (planner/params.py TRACK_MARGIN_M)
    assert d["params"]["spacing_m"] == pytest.approx(4.95)
    assert d["sprayer"]["pump_rate_pct"] == pytest.approx(100 * 15 * 4.95 * 0.006 / 2.4)
    assert SUMMARY_KEYS <= set(d["metrics"])
    reload = [d["reload"]["lon"], d["reload"]["lat"]]
    total_volume = 0.0
    for so in d["sorties"]:
        legs = so["legs"]
        assert legs[0]["coords"][0] == reload and legs[-1]["coords"][-1] == reload
        assert legs[0]["kind"] == "transit" and legs[-1]["kind"] == "transit"
        for a, b in zip(legs, legs[1:]):
            assert a["coords"][-1] == b["coords"][0]
        swaths = [l for l in legs if l["kind"] == "swath"]
        assert swaths[0]["coords"][0] == [so["start"]["lon"], so["start"]["lat"]]
        assert swaths[-1]["coords"][-1] == [so["end"]["lon"], so["end"]["lat"]]
        assert so["volume_l"] <= d["params"]["tank_l"] - d["params"]["tank_reserve_l"] + 1e-6
        total_volume += so["volume_l"]
    assert total_volume == pytest.approx(d["metrics"]["volume_l"], abs=0.05)
    # 7.7 ha at 15 L/ha is about 116 L: several 10 L sorties
    assert d["metrics"]["sorties"] >= 11
    assert d["metrics"]["volume_l"] == pytest.approx(d["metrics"]["sprayable_ha"] * 15, rel=0.05)
    # breakpoints chain: each sortie resumes where the previous stopped (same swath, same offset)
    for a, b in zip(d["sorties"], d["sorties"][1:]):
        if a["end"]["swath"] == b["start"]["swath"]:
            assert b["start"]["offset_m"] == pytest.approx(a["end"]["offset_m"], abs=0.01)
            assert [b["start"]["lon"], b["start"]["lat"]] == [a["end"]["lon"], a["end"]["lat"]]


def test_plan_geojson_structure(rice_plan):
    g = json.loads((rice_plan / "plan.geojson").read_text(encoding="utf-8"))
    assert g["type"] == "FeatureCollection"
    kinds = [f["properties"]["kind"] for f in g["features"]]
    assert set(kinds) == {"swath", "transit", "reload", "breakpoint"}
    for f in g["features"]:
        assert {"kind", "sortie", "order"} <= set(f["properties"])
        lon, lat = np.asarray(f["geometry"]["coordinates"]).reshape(-1, 2)[0]
        assert 105.7 < lon < 105.74 and 21.70 < lat < 21.71  # WGS84, not UTM metres
    orders = [f["properties"]["order"] for f in g["features"] if f["properties"]["kind"] in ("swath", "transit")]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert kinds.count("breakpoint") == max(f["properties"]["sortie"] for f in g["features"]) - 1


def test_json_summary_and_human_summary(samples_dir, tmp_path, capsys):
    code, out, err = run(
        ["plan", str(samples_dir / "phu-binh-maize.geojson"), "--out", str(tmp_path / "a"), "--json"], capsys
    )
    assert code == 0, err
    m = json.loads(out)
    assert SUMMARY_KEYS <= set(m)
    assert m["field_id"] == "phu-binh-maize" and m["no_spray_m2"] == 0
    assert m["plan_ms"] > 0
    code, out, err = run(
        [
            "plan",
            str(samples_dir / "phu-binh-maize.geojson"),
            "--drone",
            "spray-20l",
            "--angle",
            "30",
            "--reload",
            "21.4921,105.9987",
            "--out",
            str(tmp_path / "b"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "SPRAY_PUMP_RATE" in out and "sorties" in out
    d = json.loads((tmp_path / "b" / "plan.json").read_text(encoding="utf-8"))
    assert d["params"]["angle_deg"] == 30 and d["drone"]["preset"] == "spray-20l"
    assert d["reload"] == {"lon": 105.9987, "lat": 21.4921}


def test_speed_cap_is_reported(samples_dir, tmp_path, capsys):
    code, out, err = run(
        [
            "plan",
            str(samples_dir / "dai-tu-paddies.geojson"),
            "--dose",
            "40",
            "--swath",
            "5",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    m = json.loads(out)
    d = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    # 40 L/ha * s (the line spacing: each paddy's lines fitted to it, 4.95 m at most) * 0.006 L/min
    # per m/s; a 2.4 L/min pump allows 2.4 / that (2.02 m/s at 4.95 m)
    s = d["params"]["spacing_m"]
    assert 4.95 * 0.9 <= s <= 4.95
    assert m["speed_m_s"] == pytest.approx(2.4 / (40 * s * 0.006), abs=0.01) and m["speed_capped"] is True
    assert m["flow_l_min"] == pytest.approx(40 * s * m["speed_m_s"] * 0.006, abs=1e-3) and m["flow_l_min"] <= 2.4
    assert "lowered" in d["sprayer"]["note"] and d["sprayer"]["note"] in d["warnings"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--swath", "0"], "error: swath must be greater than 0"),
        (["--swath", "0.001"], "error: swath 0.001 m is not a spray drone's: give 1 to 50 m"),
        (["--swath", "80"], "error: swath 80 m is not a spray drone's"),
        (["--speed", "0.5"], "error: speed 0.5 m/s is below the sprayer's minimum 1 m/s"),
        (["--dose", "-2"], "error: dose must be greater than 0"),
        (["--tank", "0.1"], "is smaller than one swath"),
        (["--drone", "crop-duster"], "error: unknown drone preset 'crop-duster'"),
        (["--reload", "21.49"], "is not LAT,LON"),
        (["--reload", "105.99,21.49"], "is not LAT,LON"),
        (["--reload", "21.0,105.0"], "km from field"),
        (["--angle", "north"], "neither degrees nor 'auto'"),
        (["--edge-passes", "two"], "neither a whole number nor 'auto'"),
        (["--edge-passes", "-1"], "edge passes must be a whole number from 0 to 10"),
        (["--spacing", "4.5"], "error: line spacing 4.5 m must be from half the swath to the swath (2 to 4 m)"),
    ],
)
def test_bad_parameters_give_one_error_line(samples_dir, tmp_path, capsys, args, message):
    out_dir = tmp_path / "out"
    code, out, err = run(["plan", str(samples_dir / "phu-binh-maize.geojson"), "--out", str(out_dir), *args], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    assert not out_dir.exists() or not any(out_dir.iterdir())  # nothing half-written


def test_field_smaller_than_a_swath(tmp_path, capsys):
    tiny = tmp_path / "tiny.geojson"
    ring = [[105.73, 21.70], [105.73003, 21.70], [105.73003, 21.70003], [105.73, 21.70003], [105.73, 21.70]]
    tiny.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kind": "field", "id": "tiny"},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    code, out, err = run(["plan", str(tiny), "--swath", "6", "--out", str(tmp_path / "o")], capsys)
    assert code == 2, err
    assert err.startswith("error: field tiny") and "smaller than one 6 m swath" in err
    assert err.count("\n") == 1


def test_several_fields_need_field_option(tmp_path, capsys, samples_dir):
    two = tmp_path / "two.geojson"
    a = json.loads((samples_dir / "phu-binh-maize.geojson").read_text(encoding="utf-8"))
    b = json.loads((samples_dir / "dai-tu-paddies.geojson").read_text(encoding="utf-8"))
    two.write_text(json.dumps({"type": "FeatureCollection", "features": a["features"] + b["features"]}))
    code, out, err = run(["plan", str(two), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "--field" in err and "phu-binh-maize" in err
    code, out, err = run(
        ["plan", str(two), "--field", "dai-tu-paddies", "--out", str(tmp_path / "o"), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["field_id"] == "dai-tu-paddies"


def test_edge_passes_option(samples_dir, tmp_path, capsys):
    code, out, err = run(
        [
            "plan",
            str(samples_dir / "tan-cuong-tea.geojson"),
            "--swath",
            "5",
            "--edge-passes",
            "1",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    m = json.loads(out)
    assert m["edge_passes"] == 1 and m["edge_laps"] >= 3 and m["no_spray_m2"] == 0
    d = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert d["params"]["edge_passes"] == 1 and d["params"]["edge_mode"] == "fixed"
    laps = [l for so in d["sorties"] for l in so["legs"] if l["kind"] == "swath" and len(l["coords"]) > 2]
    assert laps  # an edge lap is a swath leg with more than two coordinates
    g = json.loads((tmp_path / "plan.geojson").read_text(encoding="utf-8"))
    assert any(f["properties"]["kind"] == "swath" and len(f["geometry"]["coordinates"]) > 2 for f in g["features"])


def test_unwritable_out_folder_is_one_error_line(samples_dir, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    code, out, err = run(["plan", str(samples_dir / "phu-binh-maize.geojson"), "--out", str(blocker / "plan")], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {blocker / 'plan'}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_replanning_removes_mission_files_of_sorties_that_are_gone(samples_dir, tmp_path, capsys):
    field = str(samples_dir / "phu-binh-maize.geojson")
    code, _, err = run(["plan", field, "--tank", "5", "--out", str(tmp_path), "--json"], capsys)
    assert code == 0, err
    many = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["metrics"]["sorties"]
    (tmp_path / "mission-s2.plan.bak").write_text("the operator's own copy")
    # a bigger drone, not a bigger tank on the small one: 40 L would overload a 10 L hexacopter
    code, _, err = run(["plan", field, "--drone", "spray-40l", "--out", str(tmp_path), "--json"], capsys)
    assert code == 0, err
    few = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))["metrics"]["sorties"]
    assert few < many
    left = sorted(p.name for p in tmp_path.glob("mission*"))
    assert left == sorted(
        ["mission.plan", "mission.waypoints", "mission-s2.plan.bak"]
        + [f"mission-s{k}.{ext}" for k in range(2, few + 1) for ext in ("plan", "waypoints")]
    )
