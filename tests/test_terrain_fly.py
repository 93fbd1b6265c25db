"""The Tân Cương tea field over a synthetic 40 m hill, planned with `agrodrone plan --dem` and
flown by `agrodrone fly`: on the embedded simulator the whole job, on ArduPilot's own SITL the
first two sorties, with the terrain served to it and SITL's ground following it (SIM_TERRAIN).
The record's height above ground (the logged position against the plan folder's DEM) must stay
within ±1 m of the spray height on every swath, no transit may come lower than the spray height
above the ground (less 0.5 m of tracking: the turns between swaths are flown at spray height, as
planned), and the spray-quality targets hold as on flat fields.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import AGRODRONE, run_agrodrone
from spray_check import check_targets
from terrain_support import write_hill

import fields
import sim
from planner import load_plan, load_terrain
from telemetry import list_records, open_db

ROOT = Path(__file__).resolve().parent.parent
TEA = ROOT / "fields" / "samples" / "tan-cuong-tea.geojson"
AGL_TOLERANCE_M = 1.0  # the issue's ±1 m on every swath, as flown
TRANSIT_TRACKING_M = 0.5  # transits are planned never below spray height; this much for tracking

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hill_dir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("hill")
    dem = write_hill(work / "hill.tif", fields.load(TEA)[0])
    run_agrodrone("plan", str(TEA), "--dem", str(dem), "--out", str(work / "plan"), cwd=work)
    return work / "plan"


def _fly(plan_dir: Path, handle, db: Path) -> dict:
    with handle:
        done = subprocess.run(
            [*AGRODRONE, "fly", str(plan_dir), "--connect", handle.url, "--db", str(db), "--yes"],
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "terrain" in done.stdout  # the go/no-go list's terrain row
    return list_records(open_db(db))[-1]


def _check_agl(rec: dict, height: float) -> list[str]:
    missed = []
    swaths = json.loads(rec["agl_swaths_json"])
    assert swaths and rec["agl_target_m"] == height
    for s in swaths:
        if s["max_error_m"] > AGL_TOLERANCE_M:
            missed.append(f"swath {s['swath']}: {s['min_m']}-{s['max_m']} m above the ground (target {height} m)")
    if rec["agl_transit_min_m"] < height - TRANSIT_TRACKING_M:
        missed.append(f"a transit came down to {rec['agl_transit_min_m']} m above the ground")
    return missed


def test_tea_hill_flown_on_the_simulator(hill_dir: Path, tmp_path: Path) -> None:
    plan = load_plan(hill_dir)
    handle = sim.start_sim(
        **sim.plan_settings(plan),
        terrain=load_terrain(hill_dir, plan),
        speedup=60.0,
        boot_delay_s=3.0,
        max_wall_hz=400.0,
    )
    rec = _fly(hill_dir, handle, tmp_path / "sim.db")
    missed = _check_agl(rec, plan.params.height_m) + check_targets(rec, hill_dir)
    assert not missed, "\n".join(missed)
    assert rec["agl_within_pct"] >= 99.0


@pytest.mark.sitl
def test_tea_hill_first_sorties_flown_on_sitl(hill_dir: Path, tmp_path: Path) -> None:
    plan = load_plan(hill_dir)
    part = tmp_path / "plan"
    part.mkdir()
    (part / "dem.tif").write_bytes((hill_dir / "dem.tif").read_bytes())
    replace(plan, sorties=plan.sorties[:2]).write(part)  # CI time: two sorties up and down the hill
    assert plan.terrain is not None
    # SITL's ground is the terrain `fly` serves it (SIM_TERRAIN), on a 5 m grid
    handle = sim.start_sitl(speedup=20.0, **sim.sitl_for_plan(plan))
    rec = _fly(part, handle, tmp_path / "sitl.db")
    missed = _check_agl(rec, plan.params.height_m) + check_targets(rec, part, whole=False)
    assert not missed, "\n".join(missed)
