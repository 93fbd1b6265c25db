"""Accuracy against the simulator's ground truth: a small field flown for real (mission built by
missions.build_mission, flown through missions.Vehicle), logged by `telemetry` on its own
connection, turned into a spray record: area within 2 %, volume within 2 %, dose within 3 %."""

from __future__ import annotations

import threading
import time

import pytest
from telemetry_support import LAT0, LON0, rect_plan

import missions
import sim
from missions.connection import LinkKeeper
from telemetry import Recorder, create_record, open_db

SPEEDUP = 20
SWATH = 5.0


@pytest.mark.slow
def test_flown_field_matches_simulator_truth(tmp_path):
    plan, _ = rect_plan(w=80, h=20, swath=SWATH, dose=15, lon0=LON0 + 0.0002, lat0=LAT0 + 0.0002)
    plan["reload"] = {"lon": LON0, "lat": LAT0}
    plan["sorties"][0]["legs"][0]["coords"][0] = [LON0, LAT0]
    plan["sorties"][0]["legs"][-1]["coords"][-1] = [LON0, LAT0]
    handle = sim.start_sim(speedup=SPEEDUP, home=(LAT0, LON0, 0.0), boot_delay_s=2, wind_m_s=1.5, truth_hz=20)
    rec = Recorder(tmp_path / "t.db", cooperative="htx-t", drone="d1")
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
            # the sim does not know FENCE_* yet (reported to the lead); the fence is not what is measured here
            v.set_params({k: val for k, val in ms.params.items() if not k.startswith("FENCE_")})
            v.upload(ms.mission)
            v.set_mode("GUIDED")
            v.arm()
            v.mission_start()

            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and not (v.armed is False and handle.truth().sprayed_l > 0):
                time.sleep(0.2)
            time.sleep(1.0)  # the disarm heartbeat reaches the logger
        finally:
            v.close()
        truth = handle.truth()
    finally:
        stop.set()
        logger.join(10)
        rec.close()
        handle.stop()
    assert truth.sprayed_l > 0
    db = open_db(tmp_path / "t.db")
    record = create_record(db, plan)
    area_truth = truth.sprayed_area_m2(SWATH)
    print(
        f"record: {record['area_m2']} m2, {record['volume_l']} L, {record['achieved_dose_l_ha']} L/ha, "
        f"coverage {record['coverage_pct']} %; truth: {area_truth:.1f} m2, {truth.sprayed_l:.3f} L"
    )
    assert area_truth == pytest.approx(4 * 80 * SWATH, rel=0.1)  # the whole field was flown
    # swath ends stay dry while the copter accelerates past SPRAY_SPEED_MIN (as on ArduPilot)
    assert record["coverage_pct"] > 80 and record["wind_max_m_s"] is not None
    assert record["volume_l"] == pytest.approx(truth.sprayed_l, rel=0.02)
    assert record["area_m2"] == pytest.approx(area_truth, rel=0.02)
    assert record["achieved_dose_l_ha"] == pytest.approx(truth.sprayed_l / (area_truth / 1e4), rel=0.03)


def test_sigkill_while_logging_the_simulator(tmp_path):
    """`agrodrone log` against the simulator, SIGKILLed twice at random moments: the DB is sound and
    holds messages up to the last second before each kill (received times checked)."""
    import os
    import random
    import signal
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    db = tmp_path / "t.db"
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    handle = sim.start_sim(speedup=5, home=(LAT0, LON0, 0.0), boot_delay_s=1)
    try:
        for round_ in range(2):
            proc = subprocess.Popen(
                [sys.executable, "-m", "agrodrone", "log", "--connect", handle.url, "--db", str(db), "--quiet"],
                cwd=root,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:

                def rows() -> int:
                    try:
                        with sqlite3.connect(db) as c:
                            return c.execute(
                                "SELECT COUNT(*) FROM positions WHERE source_id = ?", [round_ + 1]
                            ).fetchone()[0]
                    except sqlite3.OperationalError:
                        return 0

                deadline = time.monotonic() + 60
                while rows() == 0 and time.monotonic() < deadline:
                    time.sleep(0.1)
                time.sleep(2.1 + rng.uniform(0, 2))
                t_kill = time.time()
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
            finally:
                if proc.poll() is None:
                    proc.kill()
            conn = sqlite3.connect(db)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            last = conn.execute("SELECT MAX(t_us) FROM positions WHERE source_id = ?", [round_ + 1]).fetchone()[0]
            conn.close()
            # positions stream at >= 4 Hz: the newest stored one is at most ~1 s (+ slack for a busy machine)
            assert last is not None and last / 1e6 >= t_kill - 2.0
    finally:
        handle.stop()
