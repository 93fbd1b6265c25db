"""Every vehicle-facing command on ArduPilot's own Copter SITL (tests marked `sitl`).

The Đại Từ paddies planned for a 10 L hexacopter with 5 L in the tank: three sorties with
reloads between them. SITL runs at the plan's reload point at speed-up 20, with a battery
sized from the plan's drone (tests/sitl_support.py); nothing here is simulated by us.
Skipped, with the reason, when ARDUPILOT_SITL does not name an arducopter binary.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cli_support import AGRODRONE, db_rows, run_agrodrone
from fly_support import fly_and_record
from signing_support import stranger_attempts
from sim_groundstation import GroundStation
from sitl_support import Observer, Relay, load_plan, mavlink, start_for

from missions.keystore import KeyStore
from missions.link import STREAM_RATES

pytestmark = [pytest.mark.sitl, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
PADDIES = ROOT / "fields" / "samples" / "dai-tu-paddies.geojson"
RTL = 6


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("paddies") / "plan"
    run_agrodrone(
        "plan",
        str(PADDIES),
        "--drone",
        "generic-10l-hex",
        "--dose",
        "15",
        "--tank",
        "5",
        "--out",
        str(out),
        cwd=out.parent,
    )
    assert len(load_plan(out)["sorties"]) == 3
    return out


def _planned_litres(plan_dir: Path) -> float:
    return sum(s["volume_l"] for s in load_plan(plan_dir)["sorties"])


def test_upload_puts_mission_fence_rally_and_sprayer_on_sitl(plan_dir: Path, tmp_path: Path) -> None:
    with start_for(plan_dir) as sitl:
        proc = run_agrodrone("upload", str(plan_dir), "--connect", sitl.url, "--json", cwd=tmp_path)
        with Observer(sitl) as obs:
            rate = obs.get_param("SPRAY_PUMP_RATE")
    steps = {s["step"]: s for s in json.loads(proc.stdout)["steps"]}
    assert {"params", "mission", "fence", "rally"} <= set(steps)
    assert all(s["verified"] for s in steps.values()), steps
    assert steps["mission"]["count"] == len(_waypoints(plan_dir / "mission.waypoints"))
    # set to 3 decimals (missions/sprayer.py), stored as a float32
    assert rate == pytest.approx(round(load_plan(plan_dir)["sprayer"]["pump_rate_pct"], 3), abs=1e-4)


def test_fly_three_sorties_signed_with_reloads_and_the_record(
    plan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed end to end: the key goes on over SERIAL0 (ArduPilot's USB channel, which takes
    anything), the job flies over SERIAL1 (a telemetry radio, where ArduPilot drops what is
    not signed with its key); a wrong key is a no-go, and a stranger on SERIAL2 gets nothing."""
    monkeypatch.setenv("AGRODRONE_KEYS", str(tmp_path / "keys"))
    db = tmp_path / "job.db"
    with start_for(plan_dir) as sitl:
        radio, stranger = (f"tcp:127.0.0.1:{sitl.port + k}" for k in (2, 3))
        made = run_agrodrone("--lang", "en", "key", "create", "hex-1", "--connect", sitl.url, cwd=tmp_path)
        assert "installed on the vehicle" in made.stdout
        run_agrodrone("key", "create", "hex-2", cwd=tmp_path)
        wrong = run_agrodrone(
            "fly", str(plan_dir), "--connect", radio, "--db", str(tmp_path / "no.db"), "--drone", "hex-2", "--yes",
            cwd=tmp_path, check=False,
        )  # fmt: skip
        assert wrong.returncode == 2 and "no-go: signing" in wrong.stderr, wrong.stderr
        proc = run_agrodrone(
            "fly",
            str(plan_dir),
            "--connect",
            radio,
            "--drone",
            "hex-1",
            "--db",
            str(db),
            "--yes",
            "--operator",
            "Nguyễn Văn An",
            "--product",
            "Validan 5SL",
            "--registration",
            "VN-0001",
            cwd=tmp_path,
        )
        attempts = stranger_attempts(stranger)
        with Observer(sitl) as obs:  # SERIAL1 again, signed: the stranger changed nothing
            obs.link.setup_signing(KeyStore(tmp_path / "keys").load("hex-1").secret)
            rate = obs.get_param("SPRAY_PUMP_RATE")
    assert attempts == {"mode": None, "arm": None, "param": None, "upload": None}
    # set to 3 decimals (missions/sprayer.py), stored as a float32
    assert rate == pytest.approx(round(load_plan(plan_dir)["sprayer"]["pump_rate_pct"], 3), abs=1e-4)
    assert proc.stdout.count("pre-flight checks") == 3, proc.stdout
    assert proc.stdout.count("signed both ways") == 3, proc.stdout
    (rec,) = db_rows(
        db,
        "SELECT sorties, volume_l, achieved_dose_l_ha, coverage_pct, start_utc, end_utc, "
        "spray_start_utc, spray_end_utc, spray_time_s, flight_time_s FROM spray_records",
    )
    sorties, volume, dose, coverage, start, end, spray_start, spray_end, spray_s, flight_s = rec
    assert sorties == 3
    assert volume == pytest.approx(_planned_litres(plan_dir), rel=0.1)
    assert dose == pytest.approx(15.0, rel=0.1)
    assert coverage > 90.0
    # one clock: vehicle time mapped to UTC the same way for the flight and the spraying
    assert start <= spray_start <= spray_end <= end
    assert 0 < spray_s <= flight_s
    assert db_rows(db, "SELECT COUNT(*) FROM flights WHERE job_id IS NOT NULL AND end_us IS NOT NULL")[0][0] == 3
    assert run_agrodrone("records", "verify", "--db", str(db), cwd=tmp_path).returncode == 0
    # the pump's output logged at the rate asked in every sortie: no pre-flight check set it back
    stamps = np.array([r[0] for r in db_rows(db, "SELECT time_usec FROM servo ORDER BY t_us")], dtype=float)
    gaps = np.diff(stamps) / 1e6
    assert np.median(gaps[(gaps > 0) & (gaps < 1)]) <= 1.5 / STREAM_RATES["SERVO_OUTPUT_RAW"]


def test_failsafe_rtl_mid_sortie_resumes_at_the_breakpoint(plan_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    # at half the usual speed-up: the failsafe set from here, a few tenths of a wall second after
    # the pump went on, must still land inside that swath (it is 8 s long)
    with start_for(plan_dir, speedup=10.0) as sitl, Observer(sitl) as obs:
        forcer = threading.Thread(target=obs.force_battery_failsafe, args=(30,), daemon=True)
        forcer.start()
        outcome = fly_and_record(plan_dir, sitl.url, db, first_sortie=3)
        forcer.join(5)
    assert outcome.finished, outcome.stopped
    cut, resumed = outcome.sorties
    assert not cut.complete and "RTL" in cut.reason
    assert cut.breakpoint is not None, "it stopped inside a swath"
    assert resumed.complete
    rec = outcome.record
    assert rec is not None and rec["sorties"] == 2
    sortie3 = load_plan(plan_dir)["sorties"][2]["volume_l"]
    # resumed where the pump stopped: the sortie's volume, not more (nothing sprayed twice)
    assert rec["volume_l"] == pytest.approx(sortie3, rel=0.1)


def test_ctrl_c_sends_the_copter_home_and_keeps_the_record(plan_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with start_for(plan_dir) as sitl, Observer(sitl) as obs:
        proc = subprocess.Popen(
            [*AGRODRONE, "fly", str(plan_dir), "--connect", sitl.url, "--db", str(db), "--yes"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            obs.wait_spraying(min_seq=10)
        except AssertionError:
            proc.kill()
            raise
        proc.send_signal(signal.SIGINT)
        obs.wait(lambda: obs.mode == RTL, 30, "RTL after Ctrl-C")
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, out + err
    assert "error: stopped by the operator during sortie 1" in err
    assert db_rows(db, "SELECT armed FROM heartbeats WHERE type != 6 ORDER BY id DESC LIMIT 1")[0][0] == 0
    (notes,) = db_rows(db, "SELECT notes FROM spray_records")[0]
    assert "stopped by the operator" in notes


def test_a_link_cut_mid_sortie_is_survived_without_rearming(plan_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with start_for(plan_dir) as sitl, Observer(sitl) as obs, Relay(sitl.port) as relay:

        def cut_when_spraying() -> None:
            obs.wait_spraying(min_seq=10)
            relay.silence(3.0)  # a minute of vehicle time at x20

        cutter = threading.Thread(target=cut_when_spraying, daemon=True)
        cutter.start()
        outcome = fly_and_record(plan_dir, relay.url, db, first_sortie=3, link_timeout_s=1.0)
        cutter.join(5)
    (only,) = outcome.sorties
    assert only.link_lost
    assert only.complete and outcome.finished, outcome.stopped
    gap = db_rows(
        db,
        "SELECT MAX(b.time_boot_ms - a.time_boot_ms) FROM positions a "
        "JOIN positions b ON b.id = (SELECT MIN(id) FROM positions WHERE id > a.id)",
    )[0][0]
    assert gap >= 20_000, "the cut shows as a gap in the log"
    assert db_rows(db, "SELECT COUNT(*) FROM flights")[0][0] == 1, "nothing was re-armed"


def test_log_records_a_flight_flown_by_another_ground_station(plan_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    plan = load_plan(plan_dir)
    items = _waypoints(plan_dir / "mission-s3.waypoints")
    with start_for(plan_dir) as sitl:
        logger = subprocess.Popen(
            [*AGRODRONE, "log", "--connect", sitl.url, "--db", str(db), "--quiet"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_logging(db, logger)  # the other ground station flies once the logger hears the copter
        gcs = GroundStation(f"tcp:127.0.0.1:{sitl.port + 2}", speedup=20.0, source_system=200)
        try:
            gcs.request_streams(5.0)
            assert gcs.wait_position(60) is not None
            sprayer = {
                "SPRAY_ENABLE": 1,
                "SPRAY_PUMP_RATE": plan["sprayer"]["pump_rate_pct"],
                "SPRAY_SPEED_MIN": plan["sprayer"]["speed_min_cm_s"],
                "SPRAY_PUMP_MIN": 0,
                "SERVO9_FUNCTION": 22,
                "WPNAV_SPEED": plan["params"]["speed_m_s"] * 100,
                "WPNAV_RADIUS": 50,
            }
            for name, value in sprayer.items():
                assert gcs.set_param(name, value) == pytest.approx(value), name
            assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
            assert gcs.set_mode("GUIDED") == mavlink.MAV_RESULT_ACCEPTED
            assert gcs.arm(), gcs.texts[-5:]
            assert gcs.command(mavlink.MAV_CMD_MISSION_START, 0, 0) == mavlink.MAV_RESULT_ACCEPTED
            gcs.watch(9, until_disarmed=True, sim_timeout=900)
        finally:
            gcs.close()
            time.sleep(1.0)
            logger.send_signal(signal.SIGINT)
            logger.communicate(timeout=60)
    assert logger.returncode == 0
    proc = run_agrodrone("records", "create", "--db", str(db), "--plan", str(plan_dir), "--json", cwd=tmp_path)
    rec = json.loads(proc.stdout)
    assert rec["sorties"] == 1
    assert rec["volume_l"] == pytest.approx(plan["sorties"][2]["volume_l"], rel=0.1)
    assert rec["start_utc"] <= rec["spray_start_utc"] <= rec["spray_end_utc"] <= rec["end_utc"]


def _wait_logging(db: Path, logger: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert logger.poll() is None, logger.communicate()
        try:
            if db.exists() and db_rows(db, "SELECT COUNT(*) FROM positions")[0][0] > 0:
                return
        except sqlite3.Error:
            pass  # the logger is still creating the database
        time.sleep(0.2)
    raise AssertionError("the logger never logged a position")


def _waypoints(path: Path) -> list[tuple]:
    """A QGC WPL 110 file as (command, frame, p1..p4, lat, lon, alt) tuples, as any script reads it."""
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    int_frame = {3: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, 0: mavlink.MAV_FRAME_GLOBAL_INT}
    out = []
    for r in rows:
        frame, command = int(r[2]), int(r[3])
        p = [float(x) for x in r[4:11]]
        out.append((command, int_frame.get(frame, frame) if command < 100 else frame, *p))
    return out
