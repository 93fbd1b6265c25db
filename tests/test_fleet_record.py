"""Several drones on one job (issue #18): ONE spray record with each drone's part.

Real parts throughout: a fleet plan from the planner (two drones of one preset over the Đại Từ
sample field, each with its own strip, sorties and reload point), synthetic flights of two
vehicles (two MAVLink system ids, each flying its own drone's sorties from its own reload point,
at the same time) written as real MAVLink frames, imported into (or fed live through
JobRecorder's per-link listeners into) a real SQLite file, records made by create_record and the
CLI, the cooperative report, and the province's PostgreSQL (skipped without it).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from cli_support import run_cli
from province_support import pg, province, province_rows  # noqa: F401
from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from synthetic import Composer, FlightTruth, fly_swaths, write_flights
from telemetry_support import pwm_for, rect_plan

import fields
import planner
from planner import PlanDocument, params_for
from telemetry import (
    JobRecorder,
    TelemetryError,
    build_report,
    create_record,
    get_record,
    import_tlog,
    list_flights,
    open_db,
    verify_chain,
)
from telemetry.ingest.record_columns import FLEET_COLUMNS
from telemetry.ingest.tlog import TlogWriter
from telemetry.records.chain import canonical

ROOT = Path(__file__).resolve().parent.parent
FIELD = fields.load(ROOT / "fields/samples/dai-tu-paddies.geojson")[0]
COOP = "htx-dai-tu"
T0_US = 1_790_000_000_000_000  # 2026-09-21T11:33:20Z
RATE_HZ = 2.0
NAMES = {1: "t10-an", 2: "t10-binh"}


@pytest.fixture(scope="module")
def fleet() -> PlanDocument:
    """Two drones of one preset, small tanks so each flies two sorties or more."""
    params = params_for(None, tank_l=4.0)
    doc = planner.plan(FIELD, params, fleet=[params, params]).to_document()
    assert doc.drone_numbers() == [1, 2]
    return doc


def part_swaths(part: PlanDocument) -> list[list[tuple[tuple[float, float], tuple[float, float]]]]:
    """Each sortie's swaths as flown: (start, end) lon/lat pairs, an edge lap one pair per stretch."""
    return [
        [(tuple(a), tuple(b)) for leg in sortie.swath_legs for a, b in zip(leg.coords, leg.coords[1:])]
        for sortie in part.sorties
    ]


def pump_pwm(part: PlanDocument) -> int:
    """The PWM that gives the planned flow through this drone's pump."""
    assert part.sprayer is not None and part.sprayer.flow_l_min and part.pump_max_l_min
    return int(round(1000 + part.sprayer.flow_l_min / part.pump_max_l_min * 1000))


def fly_part(
    path: Path,
    part: PlanDocument,
    sysid: int,
    start_us: int,
    *,
    home: tuple[float, float] | None = None,
    extra: list | None = None,
) -> list[FlightTruth]:
    """One vehicle's tlog: drone `part`'s sorties, each from its reload point (or `home`) and back,
    with 120 s on the ground between them; `extra` swaths are flown as one more sortie."""
    writer = TlogWriter(path)
    comp = Composer(writer, sysid=sysid)
    truths, t = [], start_us
    home = home or (part.reload.lon, part.reload.lat)
    try:
        for swaths in part_swaths(part) + ([extra] if extra else []):
            truth = fly_swaths(
                comp,
                swaths,
                start_us=t,
                home=home,
                speed_m_s=part.spray_speed_m_s,
                rate_hz=RATE_HZ,
                pump_pwm=pump_pwm(part),
                pump_max_l_min=float(part.pump_max_l_min or 0),
            )
            truths.append(truth)
            t = truth.end_us + 120_000_000
    finally:
        writer.close()
    return truths


def two_vehicles(tmp_path: Path, plan: PlanDocument, start_us: int = T0_US, **kw) -> dict[int, list[FlightTruth]]:
    """Drone 1 flown by system id 12 and drone 2 by 11 (the order of the ids says nothing), at the
    same time (drone 2 seven seconds later), into one tlog each: {drone: truths}."""
    out = {}
    for d, sysid in ((1, 12), (2, 11)):
        out[d] = fly_part(tmp_path / f"drone{d}.tlog", plan.for_drone(d), sysid, start_us + (d - 1) * 7_000_000, **kw)
    return out


def test_imported_fleet_job_is_one_record_with_each_drones_part(tmp_path, fleet, capsys):
    folder = tmp_path / "plan"
    folder.mkdir()
    fleet.write(folder)
    truths = two_vehicles(tmp_path, fleet)
    db_path = tmp_path / "farm.db"
    db = open_db(db_path)
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    db.conn.close()
    code, out, err = run_cli(
        ["records", "create", "--db", str(db_path), "--plan", str(folder), "--drone", NAMES[1], "--drone", NAMES[2]],
        capsys,
    )
    assert code == 0, err
    db = open_db(db_path, create=False)
    (rec,) = [get_record(db, r[0]) for r in db.execute("SELECT id FROM spray_records")]
    parts = json.loads(rec["drones_json"])
    # no link named the system ids: each vehicle is the drone whose reload point it took off from
    assert [(p["drone"], p["drone_id"], p["sysid"]) for p in parts] == [(1, NAMES[1], 12), (2, NAMES[2], 11)]
    assert rec["drone_id"] == NAMES[1] and rec["drone_sysid"] == 12
    for p in parts:
        part, truth = fleet.for_drone(p["drone"]), truths[p["drone"]]
        assert p["flights"] == p["sorties"] == p["planned_sorties"] == len(part.sorties) >= 1
        assert p["volume_l"] == pytest.approx(sum(t.volume_l for t in truth), rel=0.02)
        assert p["spray_time_s"] == pytest.approx(sum(t.spray_time_s for t in truth), rel=0.02)
        assert p["pump_max_l_min"] == part.pump_max_l_min and p["pump_servo"] == 9
        assert p["start_utc"] <= p["end_utc"] and rec["start_utc"] <= p["start_utc"] and p["end_utc"] <= rec["end_utc"]
        assert 0 < p["spray_time_s"] <= p["flight_time_s"]
    # the whole is the union of the parts: volumes add up, areas add up less what both sprayed
    assert rec["flights"] == rec["sorties"] == sum(p["flights"] for p in parts)
    assert rec["planned_sorties"] == len(fleet.sorties) == sum(p["planned_sorties"] for p in parts)
    assert rec["volume_l"] == pytest.approx(sum(p["volume_l"] for p in parts), abs=0.01)
    assert rec["area_m2"] == pytest.approx(sum(p["area_m2"] for p in parts) - rec["drone_overlap_m2"], abs=1.0)
    assert 0 <= rec["drone_overlap_m2"] <= rec["overlap_m2"]
    assert rec["coverage_pct"] > 90
    # each drone's area on the map
    feats = json.loads(rec["drones_geojson"])["features"]
    assert [f["properties"]["drone"] for f in feats] == [1, 2] and all(f["geometry"] for f in feats)
    # flights keep each its own drone, and the drones their system ids
    flights = [f for f in list_flights(db) if f.job_id == rec["job_id"]]
    assert {(f.sysid, f.drone_id) for f in flights} == {(12, NAMES[1]), (11, NAMES[2])}
    # hashed like the rest, and the chain verifies
    assert {"drones_json", "drone_overlap_m2", "drones_geojson"} <= set(json.loads(canonical(rec)))
    assert verify_chain(db).ok
    # one line per drone in the summary
    for p in parts:
        assert f"drone {p['drone']} ({p['drone_id']}, system id {p['sysid']}): {p['sorties']}/" in out
    assert f"sprayed by two drones or more: {rec['drone_overlap_m2']} m²" in out


def test_each_drone_is_read_with_its_own_pump(tmp_path):
    """Drone 2 has a bigger pump: the same flow is a lower PWM on it, read with its own calibration."""
    small, big = params_for(None, tank_l=4.0), params_for(None, tank_l=4.0, pump_max_l_min=4.0)
    mixed = planner.plan(FIELD, small, fleet=[small, big]).to_document()
    assert [mixed.for_drone(d).pump_max_l_min for d in (1, 2)] == [2.4, 4.0]
    truths = two_vehicles(tmp_path, mixed)
    db = open_db(tmp_path / "m.db")
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    rec = create_record(db, mixed, sysids={12: 1, 11: 2})
    parts = json.loads(rec["drones_json"])
    assert [p["pump_max_l_min"] for p in parts] == [2.4, 4.0] and rec["pump_max_l_min"] == 2.4
    for p in parts:
        assert p["volume_l"] == pytest.approx(sum(t.volume_l for t in truths[p["drone"]]), rel=0.02)
    assert rec["achieved_dose_l_ha"] == pytest.approx(mixed.params.dose_l_ha, rel=0.06)
    assert [p["drone_id"] for p in parts] == [None, None] and rec["drone_id"] is None


def test_live_fleet_job_learns_each_links_system_id(tmp_path, fleet):
    """Each link's listener, called from its own thread, learns its vehicle's system id: drone 2
    takes off at drone 1's reload point here, which the position alone could not attribute."""
    db_path = tmp_path / "live.db"
    with JobRecorder(db_path, fleet, drones=NAMES, job_id="dai-tu-fleet") as recorder:
        start = int(time.time() * 1e6) + 1_000_000
        r1 = fleet.for_drone(1).reload
        fly_part(tmp_path / "live1.tlog", fleet.for_drone(1), 21, start)
        fly_part(tmp_path / "live2.tlog", fleet.for_drone(2), 22, start + 3_000_000, home=(r1.lon, r1.lat))

        def feed(d: int) -> None:
            listener = recorder.handle_for(d)
            log = mavutil.mavlink_connection(str(tmp_path / f"live{d}.tlog"))
            while (msg := log.recv_match()) is not None:
                listener(msg)

        threads = [threading.Thread(target=feed, args=(d,)) for d in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert recorder.sysid_conflict() is None and recorder.sysids() == {21: 1, 22: 2}
        rec = recorder.record(operator="op-an", product="Anvil 5SC", registration="VN-0123/18")
    assert rec is not None and rec["job_id"] == "dai-tu-fleet"
    parts = json.loads(rec["drones_json"])
    assert [(p["drone"], p["drone_id"], p["sysid"]) for p in parts] == [(1, NAMES[1], 21), (2, NAMES[2], 22)]
    assert all(p["sorties"] == p["planned_sorties"] for p in parts)
    db = open_db(db_path, create=False)
    assert dict(db.execute("SELECT id, mav_sysid FROM drones").fetchall()) == {NAMES[1]: 21, NAMES[2]: 22}
    assert {(f.sysid, f.drone_id) for f in list_flights(db)} == {(21, NAMES[1]), (22, NAMES[2])}
    # one database and one tlog for the whole job
    assert db.execute("SELECT COUNT(*) FROM sources").fetchone()[0] == 1
    assert verify_chain(db).ok


def test_two_links_with_one_system_id_are_a_conflict(tmp_path, fleet):
    beat = mavlink.MAVLink_heartbeat_message(
        mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, mavlink.MAV_STATE_STANDBY, 3
    )
    mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
    station = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
    with JobRecorder(tmp_path / "c.db", fleet, drones=NAMES) as recorder:
        one, two = recorder.handle_for(1), recorder.handle_for(2)
        gcs = mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0, 3)
        two(station.decode(bytearray(gcs.pack(station))))  # a ground station's heartbeat: not the vehicle
        assert recorder.sysid_conflict() is None
        one(mav.decode(bytearray(beat.pack(mav))))
        assert recorder.sysid_conflict() is None
        two(mav.decode(bytearray(beat.pack(mav))))
        conflict = recorder.sysid_conflict()
        assert conflict and "system id 1" in conflict and NAMES[1] in conflict and NAMES[2] in conflict
        with pytest.raises(TelemetryError, match="system id 1"):
            recorder.record()
    with JobRecorder(tmp_path / "d.db", fleet) as recorder, pytest.raises(TelemetryError, match="has drones 1, 2"):
        recorder.handle_for(3)


def test_vehicles_nobody_named_that_start_at_one_reload_point_are_refused(tmp_path, fleet):
    r1 = fleet.for_drone(1).reload
    two_vehicles(tmp_path, fleet, home=(r1.lon, r1.lat))
    db = open_db(tmp_path / "x.db")
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    with pytest.raises(TelemetryError, match="system ids 11 and 12 both flew drone 1's part"):
        create_record(db, fleet)
    assert db.execute("SELECT COUNT(*) FROM spray_records").fetchone()[0] == 0


def test_a_swath_sprayed_by_both_drones_is_overlap_between_drones(tmp_path, fleet):
    part1 = fleet.for_drone(1)
    again = part_swaths(part1)[0][:1]  # drone 2 sprays drone 1's first swath once more
    db = open_db(tmp_path / "o.db")
    fly_part(tmp_path / "a.tlog", part1, 1, T0_US)
    fly_part(tmp_path / "b.tlog", fleet.for_drone(2), 2, T0_US + 5_000_000, extra=again)
    for name in ("a", "b"):
        import_tlog(tmp_path / f"{name}.tlog", db)
    rec = create_record(db, fleet, drones=NAMES, sysids={1: 1, 2: 2})
    (x0, y0), (x1, y1) = (FIELD.frame.to_local(*p) for p in again[0])
    expected = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 * float(fleet.params.swath_m)
    assert rec["drone_overlap_m2"] == pytest.approx(expected, rel=0.08)
    assert rec["overlap_m2"] >= rec["drone_overlap_m2"]
    parts = json.loads(rec["drones_json"])
    assert parts[1]["flights"] == parts[1]["planned_sorties"] + 1


def test_single_drone_records_keep_their_columns_and_old_chains_migrate(tmp_path, fleet):
    db_path = tmp_path / "t.db"
    db = open_db(db_path)
    plan, swaths = rect_plan(w=60, h=20, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "one.tlog", [swaths], start_us=T0_US - 86_400_000_000, pump_pwm=pwm_for(15, 5))
    import_tlog(tmp_path / "one.tlog", db)
    single = create_record(db, plan, drone="t10-one")
    assert all(single[c] is None for c in FLEET_COLUMNS)
    assert not set(FLEET_COLUMNS) & set(json.loads(canonical(single)))
    db.conn.close()
    # a database from before schema v6: no fleet columns, its record made then
    conn = sqlite3.connect(db_path)
    with conn:
        for col in FLEET_COLUMNS:
            conn.execute(f"ALTER TABLE spray_records DROP COLUMN {col}")
        conn.execute("DELETE FROM schema_version WHERE version >= 6")
    conn.close()
    db = open_db(db_path)  # migrates to v6
    assert set(FLEET_COLUMNS) <= set(db.table("spray_records").columns_dict)
    assert verify_chain(db).ok and get_record(db, single["id"])["hash"] == single["hash"]
    two_vehicles(tmp_path, fleet)
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    rec = create_record(db, fleet, drones=NAMES)
    assert rec["prev_hash"] == single["hash"] and verify_chain(db).ok


def test_report_shows_the_drones_parts_of_fleet_jobs_only(tmp_path, fleet):
    db = open_db(tmp_path / "r.db")
    plan, swaths = rect_plan(w=60, h=20, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "one.tlog", [swaths], start_us=T0_US - 86_400_000_000, pump_pwm=pwm_for(15, 5))
    import_tlog(tmp_path / "one.tlog", db)
    single = create_record(db, plan)
    two_vehicles(tmp_path, fleet)
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    rec = create_record(db, fleet, drones=NAMES)
    parts = json.loads(rec["drones_json"])
    for lang, title, drone in (
        ("vi", "Các thiết bị bay cùng phun lượt này", "Thiết bị bay"),
        ("en", "Drones on this job", "Drone"),
    ):
        files = build_report(db, cooperative=COOP, period="2026-09", lang=lang, generated=date(2026, 10, 1))
        html = files["report.html"]
        assert html.count(title) == 1
        assert f'id="fleet-{rec["id"]}"' in html and f'id="fleet-{single["id"]}"' not in html
        assert f"{drone} 1 ({NAMES[1]})" in html and f"{drone} 2 ({NAMES[2]})" in html
        assert f'id="fleet-overlap-{rec["id"]}"' in html
        jobs = {j["id"]: j for j in json.loads(files["report.json"])["tables"]["jobs"]}
        assert jobs[rec["id"]]["drones"] == parts and jobs[rec["id"]]["drone_overlap_m2"] == rec["drone_overlap_m2"]
        assert jobs[single["id"]]["drones"] is None


@pytest.mark.timeout(120)
def test_province_accepts_fleet_records(tmp_path, fleet, province):  # noqa: F811
    """The province recomputes each hash it receives: the drones' parts are hashed there the same way."""
    from telemetry.province import sync

    db = open_db(tmp_path / "p.db")
    plan, swaths = rect_plan(w=60, h=20, swath=5, dose=15, coop=COOP)
    write_flights(tmp_path / "one.tlog", [swaths], start_us=T0_US - 86_400_000_000, pump_pwm=pwm_for(15, 5))
    import_tlog(tmp_path / "one.tlog", db)
    create_record(db, plan)
    two_vehicles(tmp_path, fleet)
    for d in (1, 2):
        import_tlog(tmp_path / f"drone{d}.tlog", db)
    rec = create_record(db, fleet, drones=NAMES)
    report = sync(db, province)
    assert report.records[COOP] == (1, 2)
    assert province_rows(
        province, "SELECT chain_seq, drones_json, drone_overlap_m2, hash FROM spray_records ORDER BY chain_seq"
    ) == [
        (1, None, None, db.execute("SELECT hash FROM spray_records WHERE chain_seq = 1").fetchone()[0]),
        (2, rec["drones_json"], rec["drone_overlap_m2"], rec["hash"]),
    ]
    assert set(NAMES.values()) <= {r[0] for r in province_rows(province, "SELECT id FROM drones")}
