"""Several drones on one job (issue #18), flown by `agrodrone fly` with one --connect per drone:
three embedded simulators, and two ArduCopter SITL instances (tests marked `sitl`).

Each test plans the Đại Từ paddies for a fleet, forces ArduPilot's own low-battery failsafe on
the drone spraying the field's last band, in the middle of a swath (a second ground station
raises BATT_LOW_MAH, as in test_sitl_fly.py), and checks what a cooperative would: every drone
finished its part (the one that failed safe resumed at its breakpoint while the others flew
on), the whole field was
covered once to the spray-quality targets, one record holds every drone's part, and no two
flying drones came closer than the plan's minimum separation.

The paddies are planned with north-south swaths (--angle 0): split across the field's long side,
three strips are 43 m wide. Across its short side they would be 24 m, less than twice the 15 m
separation, and the planner says so (the drones would keep waiting for each other). The
simulators run at a speed-up of 20: a hold acts within the flying loop's poll (50 ms), which at
60 would be 3 s of flight.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from cli_support import AGRODRONE
from sitl_support import Observer
from spray_check import check_targets

import sim
from missions import FleetDrone, FlightLimits, JobSettings, Vehicle, fly_fleet
from planner import load_plan
from telemetry import list_records, open_db

ROOT = Path(__file__).resolve().parent.parent
PADDIES = ROOT / "fields" / "samples" / "dai-tu-paddies.geojson"
SEPARATION_M = 15.0


def _plan(out: Path, drones: int) -> Path:
    subprocess.run(
        [
            *AGRODRONE,
            "plan",
            str(PADDIES),
            "--drones",
            str(drones),
            "--separation",
            f"{SEPARATION_M:g}",
            "--angle",
            "0",
            # swaths only, in strips swept one way (planner/fleet.py): at --angle 0 the planner now
            # flies a lap round each plot, whose first transits bring drones 1 and 2 head on
            "--edge-passes",
            "0",
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


def _fly_fleet(
    plan_dir: Path, urls: list[str], db: Path, failing: Observer, min_seq: int
) -> subprocess.CompletedProcess:
    """`agrodrone fly` with one --connect per drone, while `failing`'s drone fails safe at the
    start of a swath past mission item `min_seq`."""
    forcer = threading.Thread(target=failing.force_battery_failsafe, args=(min_seq,), daemon=True)
    forcer.start()
    connects = [a for url in urls for a in ("--connect", url)]
    done = subprocess.run(
        [*AGRODRONE, "--lang", "en", "fly", str(plan_dir), *connects, "--db", str(db), "--yes"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},  # one line each, not wrapped at 80
    )
    forcer.join(5)
    return done


def _check_fleet_job(done: subprocess.CompletedProcess, plan_dir: Path, db: Path, failed: int) -> dict:
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    out = done.stdout
    plan = load_plan(plan_dir)
    drones = plan.drone_numbers()
    for d in drones:
        assert re.search(rf"drone {d}: \d+ sortie\(s\) complete, finished", out), out[-3000:]
    assert f"drone {failed}: sortie" in out and "resuming where spraying stopped" in out
    closest = re.search(r"smallest separation between two flying drones: ([\d.]+) m", out)
    assert closest is not None, out[-2000:]
    assert float(closest.group(1)) >= SEPARATION_M, out[-3000:]
    rec = list_records(open_db(db))[-1]
    missed = check_targets(rec, plan_dir)
    assert not missed, "\n".join(missed)
    parts = json.loads(rec["drones_json"])
    assert sorted(p["drone"] for p in parts) == drones
    assert all(p["sorties"] >= 1 and p["volume_l"] > 0 for p in parts)
    assert sum(p["volume_l"] for p in parts) == pytest.approx(rec["volume_l"], rel=1e-3)
    # each drone sprayed its own part: what two drones both sprayed is the seam between parts
    assert rec["drone_overlap_m2"] < 0.01 * rec["area_m2"]
    return rec


@pytest.mark.slow
def test_three_drones_on_the_simulator_cover_the_field_once_and_keep_apart(tmp_path: Path) -> None:
    plan_dir = _plan(tmp_path / "plan", 3)
    plan = load_plan(plan_dir)
    with ExitStack() as stack:
        handles = [
            stack.enter_context(
                sim.start_sim(**sim.drone_settings(plan, d), speedup=20.0, boot_delay_s=3.0, max_wall_hz=400.0)
            )
            for d in plan.drone_numbers()
        ]
        failing = stack.enter_context(Observer(url=handles[2].url))
        done = _fly_fleet(plan_dir, [h.url for h in handles], tmp_path / "job.db", failing, 12)
    _check_fleet_job(done, plan_dir, tmp_path / "job.db", failed=3)


@pytest.mark.sitl
@pytest.mark.slow
def test_two_drones_on_sitl_cover_the_paddies_once_and_keep_apart(tmp_path: Path) -> None:
    plan_dir = _plan(tmp_path / "plan", 2)
    plan = load_plan(plan_dir)
    with ExitStack() as stack, ThreadPoolExecutor() as pool:  # both boot at once: CI time
        started = [
            pool.submit(sim.start_sitl, speedup=20.0, **sim.sitl_for_plan(plan, drone=d)) for d in plan.drone_numbers()
        ]
        handles = [stack.enter_context(f.result()) for f in started]
        failing = stack.enter_context(Observer(handles[1]))
        done = _fly_fleet(plan_dir, [h.url for h in handles], tmp_path / "job.db", failing, 20)
    _check_fleet_job(done, plan_dir, tmp_path / "job.db", failed=2)


def test_sim_plays_one_drone_of_a_fleet_plan(tmp_path: Path) -> None:
    """`agrodrone sim --plan PLAN --plan-drone 2`: at drone 2's reload point, as MAVLink system 2."""
    plan_dir = _plan(tmp_path / "plan", 2)
    reload = load_plan(plan_dir).for_drone(2).reload
    proc = subprocess.Popen(
        [
            *AGRODRONE,
            "sim",
            "--plan",
            str(plan_dir),
            "--plan-drone",
            "2",
            "--listen",
            "tcp:127.0.0.1:0",
            "--speedup",
            "10",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = re.search(r"listening on (tcp:127\.0\.0\.1:\d+)", proc.stderr.readline())
        assert url is not None
        v = Vehicle.connect(url.group(1))
        try:
            assert v.target_system == 2
            lat, lon, _ = v.wait_position(60)
            assert abs(lat - reload.lat) < 1e-5 and abs(lon - reload.lon) < 1e-5
        finally:
            v.close()
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_one_drones_lost_link_stops_only_its_part(tmp_path: Path) -> None:
    """Drone 2's radio goes silent for good in the middle of its sortie: its part stops (not
    re-armed on our own: the vehicle's own failsafe flies it), drone 1 finishes its part."""
    plan_dir = _plan(tmp_path / "plan", 2)
    plan = load_plan(plan_dir)
    settings = JobSettings(rehearsal_crew=True, limits=FlightLimits(link_timeout_s=2.0, link_giveup_s=3.0))
    with ExitStack() as stack:
        handles = [
            stack.enter_context(
                sim.start_sim(
                    **sim.drone_settings(plan, d),
                    speedup=60.0,
                    boot_delay_s=3.0,
                    max_wall_hz=400.0,
                    **({"link_cut_at_s": 120.0, "link_cut_s": 1e6} if d == 2 else {}),
                )
            )
            for d in plan.drone_numbers()
        ]
        outcome = fly_fleet(plan, [FleetDrone(d, h.url, settings) for d, h in zip(plan.drone_numbers(), handles)])
    assert outcome.drones[1].finished, outcome.drones[1].stopped
    assert not outcome.drones[2].finished and "link was lost" in outcome.drones[2].stopped
    assert outcome.problems() == [f"drone 2: {outcome.drones[2].stopped}"]
