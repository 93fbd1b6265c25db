"""Height above ground of terrain-following jobs: measured into the spray record, chained, reported.

Real parts throughout: a v2 plan folder with its DEM (a synthetic Gaussian hill under the Tân
Cương tea field, written as a GeoTIFF and read back with planner.load_terrain), synthetic tlogs
imported into a real SQLite file, records made by create_record and the CLI, and the HTML
cooperative report. The flights are the synthetic module's flat flights with their altitudes
rewritten over the hill (and HOME_POSITION / TERRAIN_REPORT added), frame by frame.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_support import run_cli
from province_support import pg, province, province_rows  # noqa: F401
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from synthetic import write_flights
from telemetry_support import T0_US, pwm_for, rect_plan
from terrain_support import write_hill

import fields
from planner import load_plan, load_terrain
from telemetry import build_report, create_record, get_record, import_tlog, open_db, verify_chain
from telemetry.ingest.schema import AGL_COLUMNS, DOSE_COLUMNS, RECORD_COLUMNS_V1
from telemetry.ingest.tlog import TlogWriter, scan
from telemetry.records.chain import canonical, record_hash

ROOT = Path(__file__).resolve().parent.parent
FIELD = fields.load(ROOT / "fields/samples/tan-cuong-tea.geojson")[0]
HEIGHT = 3.0  # params.height_m of rect_plan
COOP = "htx-tan-cuong"
DAY_US = 86_400_000_000


def hill_plan(tmp_path: Path) -> tuple[Path, list]:
    """A v2 plan folder: rect_plan's 120 x 40 m field on the hill's flank, its DEM, leg altitudes."""
    c = FIELD.boundary.centroid  # local metres, as terrain_support centres the hill
    lon0, lat0 = FIELD.frame.to_wgs84(c.x - 60.0, c.y - 20.0)
    plan, swaths = rect_plan(w=120, h=40, swath=5, dose=15, lon0=lon0, lat0=lat0, coop=COOP, field_id="hill")
    folder = tmp_path / "hill-plan"
    folder.mkdir()
    write_hill(folder / "hill.tif", FIELD)
    (folder / "plan.json").write_text(json.dumps(plan))
    terrain = load_terrain(folder, load_plan(folder))
    assert terrain is None  # still a flat plan: no terrain section
    plan["version"] = 2
    from fields.dem_files import load_dem

    dem = load_dem(folder / "hill.tif")
    reload_elev = float(dem.at_lonlat(lon0, lat0)[0])
    plan["terrain"] = {"dem": "hill.tif", "reload_elev_m": round(reload_elev, 3)}
    for s in plan["sorties"]:
        for leg in s["legs"]:
            lon, lat = np.array(leg["coords"], float).T
            leg["alts_m"] = [round(HEIGHT + float(g) - reload_elev, 2) for g in dem.at_lonlat(lon, lat)]
    (folder / "plan.json").write_text(json.dumps(plan))
    return folder, swaths


def hill_flight(
    path: Path,
    swaths: list,
    terrain,
    *,
    follow: bool,
    home_elev: float | None = None,
    send_home: bool = True,
    report_bias_m: float | None = None,
    start_us: int = T0_US,
) -> None:
    """The synthetic flat flight over `swaths`, its altitudes rewritten over the hill.

    follow: the height over the ground is the flat flight's (HEIGHT in the air); else the height
    over home is (constant relative altitude). Home is the take-off point (HOME_POSITION sent)
    or, with send_home=False, a point at `home_elev` AMSL. report_bias_m: TERRAIN_REPORT at 1 Hz
    with the true AGL plus this bias (the vehicle's own terrain data differs a little)."""
    flat = path.with_suffix(".flat.tlog")
    write_flights(flat, [swaths], start_us=start_us, pump_pwm=pwm_for(15, 5), height_m=HEIGHT)
    writer = TlogWriter(path)
    home_sent, next_report = False, 0
    try:
        msg: Any  # a decoded pymavlink message (scan() types it as object)
        for t_us, msg in scan(flat.read_bytes(), set(mavlink.mavlink_map)):
            if msg.get_type() != "GLOBAL_POSITION_INT":
                writer.write(t_us, bytes(msg.get_msgbuf()))
                continue
            lon, lat = msg.lon * 1e-7, msg.lat * 1e-7
            ground = float(terrain.at_lonlat(lon, lat)[0])
            if home_elev is None:
                home_elev = ground  # the first position is the take-off point
            air = msg.relative_alt / 1000.0  # 0 on the ground, HEIGHT in the air
            rel = air + ground - home_elev if follow or air == 0 else air
            msg.relative_alt = int(round(rel * 1000))
            msg.alt = int(round((home_elev + rel) * 1000))
            mav = mavlink.MAVLink(None, srcSystem=msg.get_srcSystem(), srcComponent=msg.get_srcComponent())
            mav.seq = msg.get_seq()
            writer.write(t_us, bytes(msg.pack(mav)))
            if send_home and not home_sent:
                home = mavlink.MAVLink_home_position_message(
                    msg.lat, msg.lon, int(round(ground * 1000)), 0, 0, 0, [1, 0, 0, 0], 0, 0, 0
                )
                writer.write(t_us + 300, bytes(home.pack(mav)))
                home_sent = True
            if report_bias_m is not None and t_us >= next_report:
                agl = rel - (ground - home_elev) + report_bias_m
                rep = mavlink.MAVLink_terrain_report_message(msg.lat, msg.lon, 30, ground, agl, 0, 64)
                writer.write(t_us + 350, bytes(rep.pack(mav)))
                next_report = t_us + 1_000_000
    finally:
        writer.close()


def _ground_along(terrain, swaths, n: int = 241) -> list[np.ndarray]:
    """The DEM under each swath (or any straight leg), at n points."""
    out = []
    for (lon_a, lat_a), (lon_b, lat_b) in swaths:
        f = np.linspace(0, 1, n)
        out.append(terrain.at_lonlat(lon_a + (lon_b - lon_a) * f, lat_a + (lat_b - lat_a) * f))
    return out


@pytest.fixture
def hill(tmp_path):
    folder, swaths = hill_plan(tmp_path)
    plan = load_plan(folder)
    terrain = load_terrain(folder, plan)
    assert plan.terrain is not None and terrain is not None
    return folder, plan, terrain, swaths


def test_flying_the_target_height_over_the_hill_gives_errors_near_zero(tmp_path, hill):
    folder, plan, terrain, swaths = hill
    relief = np.concatenate(_ground_along(terrain, swaths))
    assert np.ptp(relief) > 8.0  # the field really is on a slope
    tlog = tmp_path / "follow.tlog"
    hill_flight(tlog, swaths, terrain, follow=True, report_bias_m=0.3)
    db = open_db(tmp_path / "t.db")
    rep = import_tlog(tlog, db)
    assert rep.by_table["terrain"] > 30 and rep.by_table["home"] == 1
    rec = create_record(db, plan, terrain=terrain)
    assert rec["agl_target_m"] == HEIGHT
    assert rec["agl_home_source"] == "home"
    assert rec["agl_within_pct"] == pytest.approx(100.0)
    assert rec["agl_max_error_m"] < 0.05
    assert rec["agl_transit_min_m"] == pytest.approx(HEIGHT, abs=0.05)  # turns between swaths, at height
    # the vehicle's own measure: 0.3 m off everywhere, still inside the band; the reports sent on the
    # ground just before the synthetic copter's instant take-off do not count
    assert rec["agl_reported_within_pct"] == pytest.approx(100.0)
    assert rec["agl_reported_max_error_m"] == pytest.approx(0.3, abs=0.01)
    swath_rows = json.loads(rec["agl_swaths_json"])
    assert [s["swath"] for s in swath_rows] == list(range(len(swaths)))
    for s in swath_rows:
        assert s["min_m"] == pytest.approx(HEIGHT, abs=0.05) and s["max_m"] == pytest.approx(HEIGHT, abs=0.05)
        assert s["median_m"] == pytest.approx(HEIGHT, abs=0.02) and s["max_error_m"] < 0.05
        assert s["reported_median_m"] == pytest.approx(HEIGHT + 0.3, abs=0.02)
    profile = json.loads(rec["agl_profile_json"])
    values = np.array([v for v in profile["agl_m"] if v is not None])
    assert len(values) >= rec["spray_time_s"] / profile["step_s"] - len(swaths) - 1
    assert np.all(np.abs(values - HEIGHT) <= 0.1) and len(profile["starts"]) == len(swaths)
    assert np.all(np.abs(np.array(profile["reported_m"], float) - HEIGHT - 0.3) <= 0.05)
    # the record is chained and verifies; its hash covers the section
    assert verify_chain(db).ok
    stored = get_record(db, rec["id"])
    assert '"agl_within_pct":100.0' in canonical(stored)
    assert record_hash(stored, stored["prev_hash"]) == stored["hash"]
    db.conn.execute("UPDATE spray_records SET agl_max_error_m = 0.01 WHERE id = ?", [rec["id"]])
    assert any("edited" in p for p in verify_chain(db).problems)


def test_constant_relative_altitude_shows_the_hill_relief(tmp_path, hill):
    folder, plan, terrain, swaths = hill
    reload_elev = plan.terrain.reload_elev_m
    tlog = tmp_path / "flat.tlog"
    # no HOME_POSITION logged: home is the plan's reload point
    hill_flight(tlog, swaths, terrain, follow=False, home_elev=reload_elev, send_home=False)
    db = open_db(tmp_path / "t.db")
    import_tlog(tlog, db)
    rec = create_record(db, plan, terrain=terrain)
    assert rec["agl_home_source"] == "plan"
    assert rec["agl_home_elev_m"] == pytest.approx(reload_elev, abs=0.01)
    # AGL = HEIGHT - (ground - reload): the error is the ground's height over the reload point
    ground = _ground_along(terrain, swaths)
    relief = [g - reload_elev for g in ground]
    assert rec["agl_max_error_m"] == pytest.approx(max(float(np.abs(r).max()) for r in relief), abs=0.15)
    assert rec["agl_max_error_m"] > 5.0
    within = np.mean(np.abs(np.concatenate(relief)) <= 1.0) * 100
    assert rec["agl_within_pct"] == pytest.approx(within, abs=5.0)
    assert rec["agl_within_pct"] < 50.0
    assert rec["agl_reported_within_pct"] is None and rec["agl_reported_max_error_m"] is None
    for s, r in zip(json.loads(rec["agl_swaths_json"]), relief):
        assert s["min_m"] == pytest.approx(HEIGHT - float(r.max()), abs=0.15)
        assert s["max_m"] == pytest.approx(HEIGHT - float(r.min()), abs=0.15)
        assert s["max_error_m"] == pytest.approx(float(np.abs(r).max()), abs=0.15)
        assert "reported_median_m" not in s
    # the turns between swaths, at the same height over home: lowest where the ground there is highest
    turns = [(swaths[k][1], swaths[k + 1][0]) for k in range(len(swaths) - 1)]
    highest = max(float(np.nanmax(g)) for g in _ground_along(terrain, turns, n=11))
    assert rec["agl_transit_min_m"] == pytest.approx(HEIGHT - (highest - reload_elev), abs=0.15)
    assert rec["agl_transit_min_m"] < HEIGHT - 0.5
    assert verify_chain(db).ok


def test_flat_record_unchanged_and_old_records_still_verify(tmp_path, hill):
    folder, plan, terrain, swaths = hill
    db_path = tmp_path / "t.db"
    db = open_db(db_path)
    flat_plan, flat_swaths = rect_plan(w=120, h=40, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "flat.tlog", [flat_swaths], start_us=T0_US, pump_pwm=pwm_for(15, 5))
    import_tlog(tmp_path / "flat.tlog", db)
    flat = create_record(db, flat_plan, terrain=terrain)  # a DEM given for a flat plan: nothing to follow
    assert all(flat[c] is None for c in AGL_COLUMNS)
    assert "agl_" not in canonical(flat)
    # the record is hashed exactly as before the section existed (schema v4's columns)
    old_cols = [c for c in {**RECORD_COLUMNS_V1, **DOSE_COLUMNS} if c not in ("id", "hash", "prev_hash")]
    assert set(json.loads(canonical(flat))) == {c for c in old_cols if c not in DOSE_COLUMNS or flat[c] is not None}
    hill_flight(tmp_path / "hill.tlog", swaths, terrain, follow=True, start_us=T0_US + DAY_US)
    import_tlog(tmp_path / "hill.tlog", db)
    on_hill = create_record(db, plan, terrain=terrain)
    assert on_hill["chain_seq"] == 2 and on_hill["agl_within_pct"] == pytest.approx(100.0)
    db.conn.close()
    # a database from before schema v5: no AGL columns, no TERRAIN_REPORT table, its record made then
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DELETE FROM record_chain")
        conn.execute("DELETE FROM spray_records WHERE chain_seq = 2")
        conn.execute("UPDATE flights SET job_id = NULL, sortie = NULL WHERE job_id = ?", [on_hill["job_id"]])
        conn.execute("DELETE FROM jobs WHERE id = ?", [on_hill["job_id"]])
        conn.execute("INSERT INTO record_chain VALUES (?, 1, ?)", [COOP, flat["hash"]])
        for col in AGL_COLUMNS:
            conn.execute(f"ALTER TABLE spray_records DROP COLUMN {col}")
        conn.execute("DROP TABLE terrain")
        conn.execute("DELETE FROM schema_version WHERE version >= 5")  # a file from before v5 has no later ones
    conn.close()
    db = open_db(db_path)  # migrates to v5 (and on)
    assert {"terrain"} <= set(db.table_names()) and set(AGL_COLUMNS) <= set(db.table("spray_records").columns_dict)
    assert verify_chain(db).ok
    again = get_record(db, flat["id"])
    assert {k: again[k] for k in flat if k in again} == {k: v for k, v in flat.items() if k in again}
    # a hill record appended after the migration chains onto the old one
    on_hill = create_record(db, plan, terrain=terrain)
    assert on_hill["prev_hash"] == flat["hash"] and verify_chain(db).ok


def test_report_shows_height_above_ground_for_hill_jobs_only(tmp_path, hill, capsys):
    folder, plan, terrain, swaths = hill
    db_path = tmp_path / "t.db"
    flat_plan, flat_swaths = rect_plan(w=120, h=40, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "flat.tlog", [flat_swaths], start_us=T0_US, pump_pwm=pwm_for(15, 5))
    hill_flight(tmp_path / "hill.tlog", swaths, terrain, follow=True, report_bias_m=0.2, start_us=T0_US + DAY_US)
    db = open_db(db_path)
    for name in ("flat", "hill"):
        import_tlog(tmp_path / f"{name}.tlog", db)
    flat = create_record(db, flat_plan)
    db.conn.close()
    # the hill job through the command line: it loads the plan folder's DEM itself
    code, out, err = run_cli(["records", "create", "--db", str(db_path), "--plan", str(folder)], capsys)
    assert code == 0, err
    assert "height above ground: 100.0 % of spraying within ±1 m of 3.0 m" in out
    db = open_db(db_path, create=False)
    hill_rec = get_record(db, "hill-" + out.split("job hill-")[1].split(":")[0])
    assert hill_rec["agl_within_pct"] == pytest.approx(100.0)
    for lang, title in (("vi", "Độ cao bay so với mặt đất"), ("en", "Height above ground")):
        files = build_report(db, cooperative=COOP, period="2025-06", lang=lang, generated=date(2025, 7, 1))
        html = files["report.html"]
        assert html.count(f"<h4>{title}</h4>") == 1
        assert f'id="agl-{hill_rec["id"]}"' in html and f'id="agl-{flat["id"]}"' not in html
        assert f'id="agl-swaths-{hill_rec["id"]}"' in html and 'class="chart agl"' in html
        jobs = {j["id"]: j for j in json.loads(files["report.json"])["tables"]["jobs"]}
        assert jobs[hill_rec["id"]]["agl_within_pct"] == pytest.approx(100.0)
        assert jobs[flat["id"]]["agl_within_pct"] is None
    assert "Thời gian phun trong khoảng ±1 m" in build_report(db, cooperative=COOP, period="2025-06")["report.html"]


@pytest.mark.timeout(120)
def test_province_accepts_hill_records_and_their_terrain_reports(tmp_path, hill, province):
    """The province recomputes every hash it receives: the AGL section is hashed there the same
    way, and the raw TERRAIN_REPORT rows go with `sync --raw` (skipped without PostgreSQL)."""
    from telemetry.province import sync

    folder, plan, terrain, swaths = hill
    flat_plan, flat_swaths = rect_plan(w=120, h=40, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "flat.tlog", [flat_swaths], start_us=T0_US, pump_pwm=pwm_for(15, 5))
    hill_flight(tmp_path / "hill.tlog", swaths, terrain, follow=True, report_bias_m=0.2, start_us=T0_US + DAY_US)
    db = open_db(tmp_path / "t.db")
    import_tlog(tmp_path / "flat.tlog", db)
    create_record(db, flat_plan)
    n = import_tlog(tmp_path / "hill.tlog", db).by_table["terrain"]
    on_hill = create_record(db, plan, terrain=terrain)
    report = sync(db, province, raw=True)
    assert report.records[COOP] == (1, 2)
    assert province_rows(province, "SELECT chain_seq, agl_within_pct, hash FROM spray_records ORDER BY chain_seq") == [
        (1, None, report_hash(db, 1)),
        (2, on_hill["agl_within_pct"], on_hill["hash"]),
    ]
    assert province_rows(province, "SELECT COUNT(*) FROM terrain") == [(n,)]


def report_hash(db, seq: int) -> str:
    return db.execute("SELECT hash FROM spray_records WHERE chain_seq = ?", [seq]).fetchone()[0]
