"""Spray records from logged flights and a plan: measures, grouping, export, hash chain."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from synthetic import write_flights
from telemetry_support import T0_US, pwm_for, rect_plan

from telemetry import (
    TelemetryError,
    create_record,
    export_records,
    get_record,
    import_tlog,
    list_flights,
    list_records,
    open_db,
    verify_chain,
)

ROOT = Path(__file__).resolve().parent.parent
DAY_US = 86_400_000_000


def _logged(tmp_path, sorties, *, pwm, start_us=T0_US, name="a", db=None):
    path = tmp_path / f"{name}.tlog"
    truths = write_flights(path, sorties, start_us=start_us, pump_pwm=pwm, gap_s=240)
    db = db or open_db(tmp_path / "t.db")
    import_tlog(path, db)
    return db, truths


def test_record_matches_the_flown_truth(tmp_path):
    plan, swaths = rect_plan(w=120, h=40, swath=5, dose=15)
    db, truths = _logged(tmp_path, [swaths[:4], swaths[4:]], pwm=pwm_for(15, 5))
    rec = create_record(
        db,
        plan,
        operator="op-1",
        product="Anvil 5SC",
        registration="VN-0123",
        tank_mix="0.3 L + 9.7 L water",
        growth_stage="BBCH 55",
    )
    volume = sum(t.volume_l for t in truths)
    area = sum(t.spray_length_m for t in truths) * 5
    assert rec["volume_l"] == pytest.approx(volume, rel=0.005)
    assert rec["area_m2"] == pytest.approx(area, rel=0.01)
    assert rec["achieved_dose_l_ha"] == pytest.approx(volume / (area / 1e4), rel=0.01)
    assert rec["achieved_dose_l_ha"] == pytest.approx(15, rel=0.02)
    assert rec["area_sao"] == pytest.approx(rec["area_m2"] / 360, rel=1e-3)
    assert rec["coverage_pct"] > 98 and rec["gaps_m2"] < 0.02 * 4800
    assert rec["flights"] == 2 and rec["sorties"] == 2
    assert rec["start_local"].startswith("2025-06-15T22:06:40+07:00") and rec["timezone"] == "Asia/Ho_Chi_Minh"
    assert rec["start_utc"] == "2025-06-15T15:06:40Z"
    assert rec["wind_max_m_s"] == pytest.approx(2.0) and rec["crop"] == "rice" and rec["eppo"] == "ORYSA"
    assert rec["cooperative_id"] == "htx-t" and rec["chain_seq"] == 1 and rec["prev_hash"] is None
    jobs = {f.job_id for f in list_flights(db)}
    assert jobs == {rec["job_id"]}
    # the as-applied map lies on the field
    applied = shape(json.loads(rec["as_applied_geojson"]))
    boundary = shape(plan["field"]["boundary"])
    assert applied.intersection(boundary).area / applied.area > 0.98


def test_gaps_outside_field_and_no_spray_zone(tmp_path):
    plan, swaths = rect_plan(w=120, h=40, swath=5, keepout=[(60, 20, 6)])
    flown = [swaths[i] for i in range(len(swaths)) if i != 3]  # one swath skipped: a 120 x 5 m gap
    lon0, lat0 = swaths[-1][0]
    lon1, lat1 = swaths[-1][1]
    flown.append(((lon0, lat0 + 0.0001), (lon1, lat1 + 0.0001)))  # a pass 11 m outside the field
    db, _ = _logged(tmp_path, [flown], pwm=pwm_for(15, 5))
    rec = create_record(db, plan)
    zone_area = shapely.Point(0, 0).buffer(6).area
    assert rec["gaps_m2"] == pytest.approx(600 - zone_area / 2, rel=0.05)  # the zone is not a gap
    # the outside pass, plus swath ends that overshoot the edge by up to half a sample
    assert 600 <= rec["outside_field_m2"] <= 680
    # the zone (centre y=20, r=6) was flown over by the swaths at y 10-15 and 20-30, pump on
    zone = shapely.Point(0, 20).buffer(6)
    sprayed = shapely.box(-10, 10, 10, 15).union(shapely.box(-10, 20, 10, 30))
    assert rec["no_spray_m2"] == pytest.approx(zone.intersection(sprayed).area, rel=0.05)
    gaps = shape(json.loads(rec["gaps_geojson"]))
    assert gaps.area > 0 and rec["coverage_pct"] < 90


def test_sorties_grouped_into_one_job_and_next_day_is_another(tmp_path):
    plan, swaths = rect_plan(w=60, h=20)
    db, _ = _logged(tmp_path, [swaths[:2], swaths[2:]], pwm=pwm_for(15, 5))
    _logged(tmp_path, [swaths], pwm=pwm_for(15, 5), start_us=T0_US + DAY_US, name="b", db=db)
    first = create_record(db, plan)
    second = create_record(db, plan)
    assert first["flights"] == 2 and second["flights"] == 1
    assert second["chain_seq"] == 2 and second["prev_hash"] == first["hash"]
    with pytest.raises(TelemetryError, match="no logged flight over field"):
        create_record(db, plan)
    other_plan, _ = rect_plan(field_id="far", lon0=105.80, lat0=21.60)
    with pytest.raises(TelemetryError):
        create_record(db, other_plan)


def test_explicit_flights_bad_plan_and_duplicate_job(tmp_path):
    plan, swaths = rect_plan(w=60, h=20)
    db, _ = _logged(tmp_path, [swaths, swaths], pwm=pwm_for(15, 5))
    ids = [f.id for f in list_flights(db)]
    rec = create_record(db, plan, flight_ids=[ids[1]], job_id="job-x")
    assert rec["flights"] == 1 and get_record(db, "job-x")["id"] == rec["id"]
    with pytest.raises(TelemetryError, match="already belongs"):
        create_record(db, plan, flight_ids=[ids[1]])
    with pytest.raises(TelemetryError, match="already exists"):
        create_record(db, plan, flight_ids=[ids[0]], job_id="job-x")
    with pytest.raises(TelemetryError, match="agrodrone-plan"):
        create_record(db, {"format": "x"})
    with pytest.raises(TelemetryError, match="no flight with id"):
        create_record(db, plan, flight_ids=[999])


def _two_records(tmp_path):
    plan, swaths = rect_plan(w=60, h=20)
    db, _ = _logged(tmp_path, [swaths], pwm=pwm_for(15, 5))
    for k in (1, 2):
        _logged(tmp_path, [swaths], pwm=pwm_for(15, 5), start_us=T0_US + k * DAY_US, name=f"d{k}", db=db)
    recs = [create_record(db, plan) for _ in range(3)]
    return db, recs


def test_chain_catches_edit_and_deletions(tmp_path):
    db, recs = _two_records(tmp_path)
    assert verify_chain(db).ok
    with db.conn:
        db.execute("UPDATE spray_records SET volume_l = volume_l * 0.5 WHERE id = ?", [recs[1]["id"]])
    rep = verify_chain(db)
    assert not rep.ok and any(f"record {recs[1]['id']} " in p and "edited" in p for p in rep.problems)
    with db.conn:
        db.execute("UPDATE spray_records SET volume_l = ? WHERE id = ?", [recs[1]["volume_l"], recs[1]["id"]])
    assert verify_chain(db).ok  # restoring the exact value restores the hash
    with db.conn:
        db.execute(
            "UPDATE spray_records SET as_applied_geojson = replace(as_applied_geojson, '105.7', '105.8') WHERE id = ?",
            [recs[0]["id"]],
        )
    assert not verify_chain(db).ok
    db2, recs2 = _two_records(tmp_path / "x")
    with db2.conn:
        db2.execute("DELETE FROM spray_records WHERE id = ?", [recs2[1]["id"]])
    assert any("missing" in p for p in verify_chain(db2).problems)
    db3, recs3 = _two_records(tmp_path / "y")
    with db3.conn:
        db3.execute("DELETE FROM spray_records WHERE id = ?", [recs3[2]["id"]])
    assert any("newest" in p for p in verify_chain(db3).problems)


def test_exports_carry_every_field(tmp_path):
    db, recs = _two_records(tmp_path)
    rows = list(csv.DictReader(io.StringIO(export_records(list_records(db), "csv"))))
    assert len(rows) == 3 and float(rows[0]["volume_l"]) == recs[0]["volume_l"]
    for col in (
        "cooperative_id",
        "field_id",
        "start_local",
        "area_ha",
        "area_sao",
        "volume_l",
        "coverage_pct",
        "achieved_dose_l_ha",
        "target_dose_l_ha",
        "eppo",
        "registration",
        "hash",
        "prev_hash",
        "gaps_m2",
        "overlap_m2",
        "outside_field_m2",
        "no_spray_m2",
        "wind_max_m_s",
        "sorties",
    ):
        assert col in rows[0]
    gj = json.loads(export_records(list_records(db), "geojson"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 3
    assert shape(gj["features"][0]["geometry"]).area > 0
    assert gj["features"][0]["properties"]["hash"] == recs[0]["hash"]
    js = json.loads(export_records(list_records(db), "json"))
    assert js["records"][2]["as_applied"]["type"] in ("Polygon", "MultiPolygon")


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "agrodrone", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_records_create_list_show_export_verify(tmp_path):
    plan, swaths = rect_plan(w=60, h=20)
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(plan))
    tlog = tmp_path / "a.tlog"
    write_flights(tlog, [swaths], start_us=T0_US, pump_pwm=pwm_for(15, 5))
    db = str(tmp_path / "t.db")
    assert _cli("import", str(tlog), "--db", db).returncode == 0
    r = _cli(
        "records",
        "create",
        "--db",
        db,
        "--plan",
        str(tmp_path / "plan"),
        "--operator",
        "op-1",
        "--product",
        "Anvil 5SC",
        "--registration",
        "VN-0123",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["product"] == "Anvil 5SC" and rec["volume_l"] > 0
    r = _cli("records", "list", "--db", db, "--json")
    assert json.loads(r.stdout)[0]["id"] == rec["id"]
    r = _cli("records", "show", str(rec["id"]), "--db", db)
    assert "registration" in r.stdout and "VN-0123" in r.stdout
    out = tmp_path / "r.geojson"
    r = _cli("records", "export", "--db", db, "--format", "geojson", "--out", str(out))
    assert r.returncode == 0 and json.loads(out.read_text())["features"][0]["properties"]["id"] == rec["id"]
    r = _cli("records", "verify", "--db", db)
    assert r.returncode == 0 and r.stdout.startswith("ok: 1 record")
    conn = open_db(db).conn
    with conn:
        conn.execute("UPDATE spray_records SET product = 'Other' WHERE id = ?", [rec["id"]])
    conn.close()
    r = _cli("records", "verify", "--db", db)
    assert r.returncode == 1 and "TAMPERED" in r.stdout and "edited" in r.stdout
    # user mistakes: one error line, exit 2, nothing written
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    blocked = tmp_path / "a.tlog" / "r.csv"  # its folder is a file
    for args, message in (
        (["records", "show", "999", "--db", db], "no spray record 999"),
        (["records", "list", "--db", str(tmp_path / "none.db")], "no such database"),
        (["records", "verify", "--db", str(empty)], "not an agrodrone telemetry database"),
        (["records", "export", "--db", db, "--out", str(blocked)], "cannot write"),
        (["records", "create", "--db", db, "--plan", str(tmp_path / "nowhere")], "no such plan"),
    ):
        r = _cli(*args)
        assert r.returncode == 2 and r.stderr.startswith("error:") and r.stderr.count("\n") == 1, r.stderr
        assert message in r.stderr, r.stderr
    assert empty.stat().st_size == 0 and not (tmp_path / "none.db").exists()


def test_a_whole_chain_deleted_shows_in_verify_and_against_a_receipt(tmp_path):
    """Issue: deleting a cooperative's whole chain (records and head) passed `records verify`."""
    db, recs = _two_records(tmp_path)
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    receipt = tmp_path / "receipt.json"
    proc = _cli("records", "receipt", "--db", path, "--out", str(receipt))
    assert proc.returncode == 0, proc.stderr
    assert _cli("records", "verify", "--db", path, "--receipt", str(receipt)).returncode == 0
    coop = recs[0]["cooperative_id"]
    with db.conn:
        db.execute("DELETE FROM spray_records WHERE cooperative_id = ?", [coop])
        db.execute("DELETE FROM record_chain WHERE cooperative_id = ?", [coop])
    proc = _cli("records", "verify", "--db", path)
    assert proc.returncode == 1
    assert f"job {recs[0]['job_id']} has no spray record" in proc.stdout
    # and a chain rewritten consistently (jobs, records and head), which the file alone cannot show
    with db.conn:
        db.execute("UPDATE flights SET job_id = NULL")
        db.execute("DELETE FROM jobs")
    assert _cli("records", "verify", "--db", path).returncode == 0
    proc = _cli("records", "verify", "--db", path, "--receipt", str(receipt))
    assert proc.returncode == 1 and f"{coop}: the receipt of" in proc.stdout and "is gone" in proc.stdout
    doc = json.loads(receipt.read_text(encoding="utf-8"))
    doc["chains"][coop]["length"] = 1
    receipt.write_text(json.dumps(doc), encoding="utf-8")
    proc = _cli("records", "verify", "--db", path, "--receipt", str(receipt))
    assert proc.returncode == 2 and "the receipt was edited" in proc.stderr
