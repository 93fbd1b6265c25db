"""`agrodrone fly` against the embedded simulator: real TCP, real MAVLink, a real SQLite file.

Each test plans a small field, starts the simulator at the plan's reload point at high
speed-up, and flies it the way an operator would; the numbers are checked against the
simulator's ground truth and the database, not against what `fly` printed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cli_support import AGRODRONE, db_rows, run_agrodrone
from fly_support import fly_and_record

from sim import start_sim

ROOT = Path(__file__).resolve().parent.parent
SPEEDUP = 50.0

# A 100 m x 60 m paddy near Co Lung (WGS84), small enough to fly in a few wall seconds.
PADDY = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "id": "test-paddy",
                "name": "Ruộng thử",
                "crop": "rice",
                "eppo": "ORYSA",
                "cooperative": "htx-co-lung",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [105.73120, 21.70460],
                        [105.73216, 21.70460],
                        [105.73216, 21.70514],
                        [105.73120, 21.70514],
                        [105.73120, 21.70460],
                    ]
                ],
            },
        }
    ],
}


@pytest.fixture
def paddy_plan(tmp_path: Path) -> Path:
    """plan.json for the paddy: generic 10 L hexacopter at 20 L/ha, so two sorties."""
    field = tmp_path / "paddy.geojson"
    field.write_text(json.dumps(PADDY), encoding="utf-8")
    run_agrodrone("plan", str(field), "--dose", "20", "--out", "plan", cwd=tmp_path)
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["sorties"]) == 2
    return tmp_path / "plan"


def _sim_for(plan_dir: Path, **settings):
    plan = json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))
    settings.setdefault("boot_delay_s", 5.0)
    return start_sim(
        home=(plan["reload"]["lat"], plan["reload"]["lon"], 0.0),
        speedup=SPEEDUP,
        tank_l=float(plan["params"]["tank_l"]),
        pump_max_l_min=float(plan["sprayer"]["pump_max_l_min"]),
        **settings,
    )


def test_fly_cli_flies_every_sortie_and_writes_the_record(paddy_plan: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with _sim_for(paddy_plan) as sim:
        proc = run_agrodrone(
            "fly",
            str(paddy_plan),
            "--connect",
            sim.url,
            "--db",
            str(db),
            "--yes",
            "--operator",
            "Nguyễn Văn A",
            "--product",
            "Tilt 250EC",
            "--registration",
            "VN-123",
            cwd=tmp_path,
        )
        truth = sim.truth()
    assert "pre-flight checks" in proc.stdout and "Spray record" in proc.stdout
    (record,) = db_rows(
        db,
        "SELECT sorties, volume_l, achieved_dose_l_ha, target_dose_l_ha, coverage_pct, "
        "product, registration, operator_name FROM spray_records",
    )
    sorties, volume, dose, target, coverage, product, registration, operator = record
    assert sorties == 2
    assert volume == pytest.approx(truth.sprayed_l, rel=0.02)
    assert dose == pytest.approx(target, rel=0.06)
    assert coverage > 95.0
    assert (product, registration, operator) == ("Tilt 250EC", "VN-123", "Nguyễn Văn A")
    # both sorties took off and landed: two closed flights in the job
    assert db_rows(db, "SELECT COUNT(*) FROM flights WHERE job_id IS NOT NULL AND end_us IS NOT NULL")[0][0] == 2
    assert list(tmp_path.glob("job-*.tlog")), "the raw stream is kept as a tlog next to the database"
    assert run_agrodrone("records", "verify", "--db", str(db), cwd=tmp_path).returncode == 0


def test_failsafe_rtl_mid_sortie_resumes_after_a_battery_swap(paddy_plan: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    # A battery too small for one sortie: the low-battery failsafe sends the copter home.
    with _sim_for(paddy_plan, battery_mah=5000) as sim:
        outcome = fly_and_record(paddy_plan, sim.url, db, battery_min_pct=50)
        truth = sim.truth()
    assert outcome.finished, outcome.stopped
    cut = [r for r in outcome.sorties if not r.complete]
    assert cut and "RTL" in cut[0].reason
    assert cut[0].breakpoint is not None, "it stopped inside a swath"
    assert [r.sortie for r in outcome.sorties if r.complete] == [1, 2]
    rec = outcome.record
    assert rec is not None and rec["coverage_pct"] > 95.0
    assert rec["volume_l"] == pytest.approx(truth.sprayed_l, rel=0.02)
    # resumed where the pump stopped, not at the swath's start: nothing sprayed twice
    plan = json.loads((paddy_plan / "plan.json").read_text(encoding="utf-8"))
    assert truth.sprayed_l <= 1.02 * sum(s["volume_l"] for s in plan["sorties"])


def test_ctrl_c_sends_the_copter_home_and_keeps_the_log(paddy_plan: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with _sim_for(paddy_plan) as sim:
        proc = subprocess.Popen(
            [*AGRODRONE, "fly", str(paddy_plan), "--connect", sim.url, "--db", str(db), "--yes"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the copter is spraying
            if sim.truth().sprayed_l > 0.3:
                break
            time.sleep(0.05)
        else:
            proc.kill()
            pytest.fail("the copter never started spraying")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert "error: stopped by the operator during sortie 1" in err
    modes = {m for (m,) in db_rows(db, "SELECT DISTINCT mode FROM heartbeats WHERE type != 6")}
    assert "RTL" in modes, "Ctrl-C must switch the copter to RTL"
    assert db_rows(db, "SELECT armed FROM heartbeats WHERE type != 6 ORDER BY id DESC LIMIT 1")[0][0] == 0
    (notes,) = db_rows(db, "SELECT notes FROM spray_records")[0]
    assert "stopped by the operator" in notes


def test_no_go_when_the_wind_is_too_strong(paddy_plan: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with _sim_for(paddy_plan, wind_m_s=6.0, wind_dir_deg=90.0) as sim:
        proc = run_agrodrone(
            "fly", str(paddy_plan), "--connect", sim.url, "--db", str(db), "--yes", cwd=tmp_path, check=False
        )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: no-go: wind: 6.0 m/s (limit 3 m/s)")
    assert db_rows(db, "SELECT COUNT(*) FROM heartbeats WHERE type != 6 AND armed = 1")[0][0] == 0
    assert db_rows(db, "SELECT COUNT(*) FROM spray_records")[0][0] == 0


def test_a_link_cut_mid_sortie_is_survived_without_rearming(paddy_plan: Path, tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    with _sim_for(paddy_plan) as sim:

        def cut_when_spraying() -> None:
            deadline = time.monotonic() + 120
            while sim.truth().sprayed_l < 1.0 and time.monotonic() < deadline:
                time.sleep(0.02)
            sim.cut_link(150.0)  # 3 wall seconds of silence at x50

        cutter = threading.Thread(target=cut_when_spraying, daemon=True)
        cutter.start()
        outcome = fly_and_record(paddy_plan, sim.url, db, link_timeout_s=1.0)
        cutter.join()
    first = outcome.sorties[0]
    assert first.link_lost
    # the copter flew on by itself; when the link came back the logging went on, and a
    # sortie it finished counts, but nothing was re-armed while the link was down
    assert first.complete and outcome.finished, outcome.stopped
    assert outcome.record is not None and outcome.record["sorties"] == 2
    gap, last = db_rows(
        db,
        "SELECT MAX(b.time_boot_ms - a.time_boot_ms), MAX(b.time_boot_ms) FROM positions a "
        "JOIN positions b ON b.id = (SELECT MIN(id) FROM positions WHERE id > a.id)",
    )[0]
    assert gap >= 100_000, "the cut shows as a gap in the log"
    assert last > gap, "logging went on after the link came back"


def test_unknown_plan_folder_is_one_error_line(tmp_path: Path) -> None:
    proc = run_agrodrone(
        "fly",
        str(tmp_path / "nope"),
        "--connect",
        "tcp:127.0.0.1:9",
        "--db",
        str(tmp_path / "x.db"),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: ") and "no such plan file" in line
    assert not (tmp_path / "x.db").exists()
