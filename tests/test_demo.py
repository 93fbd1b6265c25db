"""`make demo`'s path end to end: check, plan, fly every sortie in the simulator, record, report."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from sim import read_truth


def test_demo_flies_the_rice_block_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    proc = subprocess.run(
        [sys.executable, "-m", "agrodrone", "demo", "--out", str(out), "--speedup", "60"],
        capture_output=True,
        text=True,
        timeout=600,
        env={"COLUMNS": "120", "PATH": ""},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    for name in (
        "plan/plan.png",
        "plan/plan.json",
        "plan/mission.plan",
        "plan/mission.waypoints",
        "agrodrone.db",
        "report/report.html",
    ):
        assert (out / name).is_file(), name
    assert list(out.glob("agrodrone-*.tlog"))
    plan = json.loads((out / "plan" / "plan.json").read_text(encoding="utf-8"))
    with sqlite3.connect(out / "agrodrone.db") as db:
        sorties, volume, coverage, no_spray, area_m2, dose = db.execute(
            "SELECT sorties, volume_l, coverage_pct, no_spray_m2, area_m2, achieved_dose_l_ha FROM spray_records"
        ).fetchone()
    assert sorties == len(plan["sorties"]) > 1, "every sortie flown, with reloads between"
    truth = read_truth(str(out / "truth.jsonl"))
    sprayed = truth.sprayed_l
    assert abs(volume - sprayed) <= 0.02 * sprayed
    # the area the simulator really sprayed: its own track while the pump ran, buffered by
    # half the swath (independent of the MAVLink telemetry the record was built from)
    true_area = truth.sprayed_area_m2(plan["params"]["swath_m"])
    assert abs(area_m2 - true_area) <= 0.02 * true_area
    true_dose = sprayed / (true_area / 10_000)
    assert abs(dose - true_dose) <= 0.03 * true_dose
    assert coverage > 95.0
    assert no_spray < 0.01 * plan["field"]["sprayable_ha"] * 10_000
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Nhật ký phun" in html and "Cánh đồng lớn Cổ Lũng" in html
    # the closing lines tell the operator where everything is
    for label in ("plan picture", "mission files", "database", "raw telemetry", "report"):
        assert label in proc.stdout
