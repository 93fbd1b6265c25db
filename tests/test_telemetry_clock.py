"""One clock in every spray record (telemetry/ingest/clock.py).

ArduCopter SITL at speed-up 10 gave a record whose pump started 4 minutes before the flight
and ran 523 s in a 54 s flight: flights were cut on receive time, spray on vehicle time.
Here a small field is flown for real on the embedded simulator at speed-up 40 (its vehicle
clock runs 40 times faster than the wall, as SITL's does), logged live on its own
connection, and turned into a record: its times must be ordered, its durations must be what
the simulated copter really did (sim.Truth, in vehicle seconds), and the session's tlog
imported into another database must give the same times. Real sockets, the real simulator,
real SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from synthetic import write_flights
from telemetry_support import LAT0, LON0, T0_US, pwm_for, rect_plan

import missions
import sim
from missions.connection import LinkKeeper
from telemetry import SCHEMA_VERSION, Recorder, create_record, import_tlog, list_flights, open_db, rebuild_flights

SPEEDUP = 40
SWATH = 5.0
# The record sees the arm and the disarm in the next heartbeat (1 vehicle second apart), and
# a busy machine can let the simulator run up to 2 vehicle seconds between two sends.
HEARTBEAT_SLACK_S = 3.0
TIMES = (
    "start_utc",
    "end_utc",
    "start_local",
    "end_local",
    "spray_start_utc",
    "spray_end_utc",
    "flight_time_s",
    "spray_time_s",
    "volume_l",
    "area_m2",
)


@dataclass
class Flown:
    db_path: Path
    tlog: Path
    plan: dict
    truth: sim.Truth
    record: dict
    wall_s: float  # wall seconds from arming to the disarm reaching the logger


def _plan() -> dict:
    """An 80 x 20 m field (4 swaths) next to the simulator's home, the reload point at home."""
    plan, _ = rect_plan(w=80, h=20, swath=SWATH, dose=15, lon0=LON0 + 0.0002, lat0=LAT0 + 0.0002)
    plan["reload"] = {"lon": LON0, "lat": LAT0}
    plan["sorties"][0]["legs"][0]["coords"][0] = [LON0, LAT0]
    plan["sorties"][0]["legs"][-1]["coords"][-1] = [LON0, LAT0]
    return plan


@pytest.fixture(scope="module")
def flown(tmp_path_factory) -> Flown:
    tmp = tmp_path_factory.mktemp("clock")
    plan = _plan()
    handle = sim.start_sim(speedup=SPEEDUP, home=(LAT0, LON0, 0.0), boot_delay_s=2, truth_hz=25)
    rec = Recorder(tmp / "live.db", tlog_path=tmp / "live.tlog", cooperative="htx-t", drone="d1")
    stop = threading.Event()
    logger = threading.Thread(
        target=LinkKeeper.for_url(handle.url, [rec.handle], streams=True).hold, args=(stop,), daemon=True
    )
    logger.start()
    try:
        ms = missions.build_mission(plan, 1)
        v = missions.Vehicle.connect(handle.url, timeout=60)
        try:
            v.wait_heartbeat()
            v.wait_position(timeout=120)
            v.set_params({k: val for k, val in ms.params.items() if not k.startswith("FENCE_")})
            v.upload(ms.mission)
            # generous confirmations: at the end of a long run on a busy machine a 6 s wait once ran out
            v.set_mode("GUIDED", timeout=30)
            t_arm = time.monotonic()
            v.arm(timeout=30)
            v.mission_start()
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not (v.armed is False and handle.truth().sprayed_l > 0):
                time.sleep(0.2)
            wall_s = time.monotonic() - t_arm
            time.sleep(1.0)  # the disarm heartbeat reaches the logger
        finally:
            v.close()
        truth = handle.truth()
    finally:
        stop.set()
        logger.join(10)
        rec.close()
        handle.stop()
    assert truth.sprayed_l > 0, "the simulated copter never sprayed"
    db = open_db(tmp / "live.db")
    try:
        record = create_record(db, plan)
    finally:
        db.conn.close()
    return Flown(tmp / "live.db", tmp / "live.tlog", plan, truth, record, wall_s)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _armed_span(truth: sim.Truth) -> tuple[float, float]:
    """Vehicle seconds of the arm and of the disarm after it: the first samples that saw each."""
    s = truth.samples
    i = next(k for k, x in enumerate(s) if x.armed)
    j = next(k for k in range(i, len(s)) if not s[k].armed)
    return s[i].t, s[j].t


@pytest.mark.slow
def test_record_at_speedup_is_on_the_vehicle_clock(flown):
    r, truth = flown.record, flown.truth
    start, spray_start, spray_end, end = (
        _utc(r[k]) for k in ("start_utc", "spray_start_utc", "spray_end_utc", "end_utc")
    )
    assert start <= spray_start <= spray_end <= end
    assert 0 < r["spray_time_s"] <= r["flight_time_s"]
    # one flight: its UTC span is its duration (to the second the ISO strings keep)
    assert abs((end - start).total_seconds() - r["flight_time_s"]) <= 1.0
    assert (spray_end - spray_start).total_seconds() >= r["spray_time_s"] - 1.0
    # the durations are the copter's, not the wall's: the wall saw the flight 40 times faster
    arm, disarm = _armed_span(truth)
    print(
        f"record: flight {r['flight_time_s']} s, spray {r['spray_time_s']} s, {r['start_utc']} .. {r['end_utc']}; "
        f"truth: flight {disarm - arm:.2f} s, pump {truth.pump_on_s:.2f} s; wall {flown.wall_s:.1f} s"
    )
    assert flown.wall_s < (disarm - arm) / 4
    assert r["flight_time_s"] == pytest.approx(disarm - arm, abs=HEARTBEAT_SLACK_S)
    # pump on/off seen in SERVO_OUTPUT_RAW samples, at most 0.8 vehicle s apart at this speed-up
    assert r["spray_time_s"] == pytest.approx(truth.pump_on_s, abs=max(2.0, 0.03 * truth.pump_on_s))
    # the flight is cut where the copter armed and disarmed, on its own clock
    db = open_db(flown.db_path)
    try:
        (f,) = list_flights(db)
        row = db.execute("SELECT start_utc, end_utc, duration_s FROM flights").fetchone()
    finally:
        db.conn.close()
    assert arm - 0.05 <= f.start_boot_ms / 1e3 <= arm + HEARTBEAT_SLACK_S
    assert disarm - 0.05 <= f.end_boot_ms / 1e3 <= disarm + HEARTBEAT_SLACK_S
    assert row == (r["start_utc"], r["end_utc"], pytest.approx(r["flight_time_s"], abs=0.05))


@pytest.mark.slow
def test_tlog_of_the_session_imports_with_the_same_times(flown, tmp_path):
    db = open_db(tmp_path / "imported.db")
    rep = import_tlog(flown.tlog, db)
    assert rep.stored > 0 and rep.flights == 1
    again = create_record(db, flown.plan)
    assert {k: again[k] for k in TIMES} == {k: flown.record[k] for k in TIMES}
    live = sqlite3.connect(flown.db_path)
    try:
        clock_cols = "start_us, end_us, start_boot_ms, end_boot_ms, clock_offset_us, start_utc, end_utc, duration_s"
        assert (
            db.execute(f"SELECT {clock_cols} FROM flights").fetchall()
            == live.execute(f"SELECT {clock_cols} FROM flights").fetchall()
        )
    finally:
        live.close()


def test_reboots_anchor_anew_and_old_databases_migrate(tmp_path):
    """Each synthetic sortie boots the vehicle again (time_boot_ms restarts at 60 s): one anchor each.
    A database from schema 2 gets the same anchors from its stored rows, and its flights move to
    the vehicle clock at the next rebuild."""
    plan, swaths = rect_plan(w=60, h=20)
    tlog = tmp_path / "a.tlog"
    truths = write_flights(tlog, [swaths[:2], swaths[2:]], start_us=T0_US, pump_pwm=pwm_for(15, 5), gap_s=240)
    path = tmp_path / "t.db"
    db = open_db(path)
    import_tlog(tlog, db)
    clocks = db.execute("SELECT source_id, sysid, t_us, time_boot_ms, offset_us FROM clocks ORDER BY t_us").fetchall()
    assert [c[3] for c in clocks] == [60_000, 60_000]
    assert [c[2] - c[4] for c in clocks] == [60_000_000, 60_000_000]
    stamped = db.execute(
        "SELECT start_boot_ms, end_boot_ms, clock_offset_us, start_utc, end_utc, duration_s "
        "FROM flights ORDER BY start_us"
    ).fetchall()
    with db.conn:  # back to schema 2: no clocks, flights without their vehicle times
        db.execute("DROP TABLE clocks")
        for col in ("start_boot_ms", "end_boot_ms", "clock_offset_us"):
            db.execute(f"ALTER TABLE flights DROP COLUMN {col}")
        db.execute("DELETE FROM schema_version WHERE version > 2")
    db.conn.close()
    db = open_db(path)
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION  # 3, then 4
    assert (
        db.execute("SELECT source_id, sysid, t_us, time_boot_ms, offset_us FROM clocks ORDER BY t_us").fetchall()
        == clocks
    )
    assert db.execute("SELECT COUNT(*) FROM flights WHERE start_boot_ms IS NULL").fetchone()[0] == 2
    rebuild_flights(db)
    assert (
        db.execute(
            "SELECT start_boot_ms, end_boot_ms, clock_offset_us, start_utc, end_utc, duration_s "
            "FROM flights ORDER BY start_us"
        ).fetchall()
        == stamped
    )
    rec = create_record(db, plan)
    assert rec["start_utc"] == "2025-06-15T15:06:40Z" and rec["flights"] == 2
    assert rec["spray_time_s"] == pytest.approx(sum(t.spray_time_s for t in truths), abs=0.2)
    assert rec["start_utc"] <= rec["spray_start_utc"] <= rec["spray_end_utc"] <= rec["end_utc"]


def test_servo_time_usec_wrapping_mid_flight(tmp_path):
    """SERVO_OUTPUT_RAW.time_usec is 32-bit microseconds: on a vehicle up for 71.6 minutes it wraps,
    while time_boot_ms goes on. The pump must still be timed on one clock."""
    plan, swaths = rect_plan(w=120, h=20, swath=5)
    tlog = tmp_path / "wrap.tlog"
    (truth,) = write_flights(
        tlog, [swaths], start_us=T0_US, pump_pwm=pwm_for(15, 5), boot_us=2**32 - 30_000_000
    )  # wraps 30 s after arming
    db = open_db(tmp_path / "t.db")
    import_tlog(tlog, db)
    assert db.execute("SELECT MIN(time_usec) < 1000000 FROM servo").fetchone()[0] == 1  # it did wrap
    rec = create_record(db, plan)
    assert rec["spray_time_s"] == pytest.approx(truth.spray_time_s, abs=0.2)
    assert rec["volume_l"] == pytest.approx(truth.volume_l, rel=0.01)
    assert rec["spray_time_s"] <= rec["flight_time_s"]
