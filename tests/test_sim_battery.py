"""The plan and the simulator agree on the battery.

Both take the drone from planner/drones.json: the planner budgets each sortie in seconds of
hover at the rated take-off mass (planner/energy.py), and `agrodrone sim --plan` calibrates
the simulator's hover power so that the same drone hovers exactly that long on its battery
(sim/battery.py). The fast tests check the two halves use one model; the slow ones fly the
fullest battery-limited sortie of every preset in the simulator from a full battery.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest
from cli_support import run_cli
from missions_plans import make_plan

import fields
import missions
import planner
import sim
from planner.energy import EnergyModel
from planner.estimates import LAND_ALT_LOW_M, LAND_SPEED_M_S, RTL_ALT_M, RTL_LOITER_S, TURN_MAX_M, segment_times
from sim import plan_settings
from sim.battery import AVIONICS_W, hover_power_for, hover_time_s, power_needed
from sim.config import DEFAULT_HOVER_POWER_W, SimConfig
from sim.params import default_params

AGRODRONE = [sys.executable, "-m", "agrodrone"]
SPEEDUP = 150  # a 600 s sortie in a few wall seconds; a slower machine only stretches wall time
# The simulator's mAh over the planner's estimate for a battery-limited sortie. At most 1: the
# planner is conservative (every leg at the mass it starts with, a full stop at each waypoint,
# `turn_s` to yaw round at each turn, mAh at the pack's mean voltage though a sortie draws from
# the top of the charge). At least 0.7: those allowances cost the 10-25 % measured on the sample
# fields; much less used would mean sorties cut short for a battery they still have.
MAH_RATIO = (0.7, 1.0)


def _rated_power_w(settings: dict, plan: dict) -> float:
    """The simulator's power hovering at the drone's rated take-off mass."""
    return (
        AVIONICS_W + settings["hover_power_w"] * (plan["drone"]["endurance_mass_kg"] / settings["empty_mass_kg"]) ** 1.5
    )


# ---------------------------------------------------------------------------- one model


def test_default_simulator_is_the_default_preset():
    pre = planner.presets()[planner.default_preset()]
    cfg = SimConfig()
    assert (pre["empty_mass_kg"], pre["battery_mah"], pre["battery_cells"], pre["tank_l"]) == (
        cfg.empty_mass_kg,
        cfg.battery_mah,
        cfg.battery_cells,
        cfg.tank_l,
    )
    calibrated = hover_power_for(
        endurance_s=pre["endurance_s"],
        mass_kg=pre["empty_mass_kg"] + pre["tank_l"],
        empty_mass_kg=pre["empty_mass_kg"],
        capacity_mah=pre["battery_mah"],
        cells=pre["battery_cells"],
    )
    assert DEFAULT_HOVER_POWER_W == pytest.approx(calibrated, abs=0.1)


@pytest.mark.parametrize("preset", sorted(planner.presets()))
def test_sim_settings_give_the_preset_endurance_at_full_take_off_mass(preset):
    p = planner.params_for(preset)
    plan = {
        **make_plan(),
        "reload": {"lon": 105.73, "lat": 21.70},  # a whole plan.json with this drone
        "sprayer": {"pump_max_l_min": p.pump_max_l_min},
        "drone": {
            "endurance_s": p.endurance_s,
            "endurance_mass_kg": p.endurance_mass_kg,
            "empty_mass_kg": p.empty_mass_kg,
            "battery_mah": p.battery_mah,
            "battery_cells": p.battery_cells,
        },
    }
    plan["params"]["tank_l"] = p.tank_l
    settings = plan_settings(plan)
    assert p.endurance_mass_kg == pytest.approx(p.empty_mass_kg + p.tank_l)
    full_hover = hover_time_s(_rated_power_w(settings, plan), settings["battery_mah"], settings["battery_cells"])
    assert full_hover == pytest.approx(p.endurance_s, rel=0.002)
    # the hover time is to the simulator's own low-battery failsafe
    params = default_params(
        battery_mah=p.battery_mah,
        battery_cells=p.battery_cells,
        tank_l=p.tank_l,
        pump_max_l_min=p.pump_max_l_min,
        wind_m_s=0,
        wind_dir_deg=0,
        gust_m_s=0,
        speedup=1,
    )
    assert params["BATT_LOW_VOLT"][0] == pytest.approx(3.6 * p.battery_cells)


@pytest.mark.parametrize("preset", sorted(planner.presets()))
def test_planner_power_model_is_the_simulators(preset):
    p = planner.params_for(preset)
    model = EnergyModel(p)
    hover_w = hover_power_for(
        endurance_s=p.endurance_s,
        mass_kg=p.endurance_mass_kg,
        empty_mass_kg=p.empty_mass_kg,
        capacity_mah=p.battery_mah,
        cells=p.battery_cells,
    )

    def sim_w(mass: float, speed: float, climb: float = 0.0) -> float:
        return power_needed(
            flying=True,
            armed=True,
            mass_kg=mass,
            empty_mass_kg=p.empty_mass_kg,
            hover_power_w=hover_w,
            airspeed_m_s=speed,
            climb_m_s=climb,
        )

    rated = sim_w(p.endurance_mass_kg, 0.0)
    for litres in (0.0, p.tank_l / 2, p.tank_l, 1.5 * p.tank_l):
        mass = p.empty_mass_kg + litres
        for speed in (0.0, p.speed_m_s, p.transit_speed_m_s):
            assert model.rate(mass, speed) == pytest.approx(sim_w(mass, speed) / rated, rel=0.002)
    # climbs and avionics: the planner's rated power is a little low, so they count a little heavy
    assert 0.9 * rated <= model.rated_w <= 1.01 * rated


def test_planner_flies_the_mission_as_built_and_arducopters_default_rtl():
    params = default_params(
        battery_mah=1, battery_cells=1, tank_l=1, pump_max_l_min=1, wind_m_s=0, wind_dir_deg=0, gust_m_s=0, speedup=1
    )
    assert params["RTL_ALT"][0] == RTL_ALT_M * 100 and params["RTL_LOIT_TIME"][0] == RTL_LOITER_S * 1000
    assert params["LAND_ALT_LOW"][0] == LAND_ALT_LOW_M * 100 and params["LAND_SPEED"][0] == LAND_SPEED_M_S * 100
    assert missions.BuildOptions().turn_max_m == TURN_MAX_M


# Legs of planned missions flown on ArduCopter 4.7 SITL (WPNAV_JERK 1, WPNAV_ACCEL 2.5, fast
# waypoints blended): length m, speed m/s, the preset's acceleration, seconds between the
# MISSION_ITEM_REACHED of its two ends.
SITL_LEGS = [
    (40.8, 5, 2.5, 10.5),
    (4.0, 5, 2.5, 2.75),
    (261.8, 5, 2.5, 54.75),
    (19.0, 7, 3.0, 6.25),
    (9.0, 7, 3.0, 4.25),
    (6.0, 7, 3.0, 3.25),
    (32.6, 7, 3.0, 7.75),
    (4.3, 7, 3.0, 2.75),
]


@pytest.mark.parametrize("length, speed, accel, sitl_s", SITL_LEGS)
def test_planner_leg_times_are_arducopters_or_a_little_longer(length, speed, accel, sitl_s):
    planned = float(segment_times(np.array([length]), speed, accel)[0])
    assert sitl_s <= planned <= sitl_s + 1.0


def test_a_heavier_tank_shortens_the_sortie(samples):
    field = fields.load(samples / "dai-tu-paddies.geojson")[0]
    rated = planner.plan(field, planner.params_for("generic-10l-hex", tank_l=10)).sorties[0]
    heavy = planner.plan(field, planner.params_for("generic-10l-hex", tank_l=20)).sorties[0]
    assert heavy.battery_s <= 540.0 + 1e-6 and rated.battery_s <= 540.0 + 1e-6
    assert heavy.battery_s > 0.95 * 540.0, "20 L on a 10 L drone: the battery ends the sortie"
    assert heavy.flight_time_s < 0.8 * rated.flight_time_s


# ---------------------------------------------------------------------------- flown


def _fly(plan: dict, sortie: dict, url: str) -> None:
    """Upload the sortie, fly it in AUTO and wait until the copter has landed and disarmed."""
    ms = missions.build_mission(plan, sortie["index"])
    landed = threading.Event()
    flew: list[bool] = []

    def on_message(m) -> None:
        if m.get_type() == "GLOBAL_POSITION_INT" and m.relative_alt > 1000:
            flew.append(True)
        if m.get_type() == "HEARTBEAT" and m.get_srcSystem() == 1 and flew and not m.base_mode & 128:
            landed.set()

    v = missions.Vehicle.connect(url, timeout=30)
    try:
        v.add_listener(on_message)
        v.wait_position(timeout=60)
        v.set_params(ms.params)
        v.upload_verified(ms.mission)
        v.set_mode("GUIDED")
        v.arm()
        v.mission_start()
        assert landed.wait(sortie["flight_time_s"] * 3 / SPEEDUP + 60), "the sortie never ended"
    finally:
        v.close()


def _check_battery(plan: dict, sortie: dict, settings: dict, truth: sim.Truth) -> float:
    """No failsafe, the planned reserve left, mAh within MAH_RATIO of the plan; returns the ratio."""
    texts = [text for _, text in truth.events]
    assert not [t for t in texts if t.startswith("Battery 1 is") or t == "mode RTL" or t == "mode LAND"], texts
    assert truth.sprayed_l == pytest.approx(sortie["volume_l"], rel=0.05), "the whole sortie was flown"
    used = truth.samples[-1].battery_used_mah
    ratio = used / sortie["battery_mah"]
    assert MAH_RATIO[0] <= ratio <= MAH_RATIO[1], (used, sortie["battery_mah"])
    # landed with at least the reserve: that long hovering at the rated mass before the failsafe
    left_s = hover_time_s(
        _rated_power_w(settings, plan), settings["battery_mah"], settings["battery_cells"], used_mah=used
    )
    assert left_s >= plan["params"]["battery_reserve_s"], left_s
    return ratio


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(planner.presets()))
def test_fullest_battery_limited_sortie_lands_with_its_reserve(preset, samples):
    """A tank half as big again as the preset's: the battery, not the tank, ends every sortie."""
    field = fields.load(samples / "phu-binh-maize.geojson")[0]
    p = planner.params_for(preset, tank_l=1.5 * planner.presets()[preset]["tank_l"])
    plan = planner.plan(field, p).to_dict()
    assert all(s["volume_l"] < p.tank_l - p.tank_reserve_l - 0.1 for s in plan["sorties"]), "battery-limited"
    sortie = max(plan["sorties"], key=lambda s: s["battery_s"])
    assert sortie["battery_s"] == pytest.approx(p.endurance_s - p.battery_reserve_s, abs=2.0)
    settings = plan_settings(plan)
    with sim.start_sim(**settings, speedup=SPEEDUP, boot_delay_s=3) as s:
        _fly(plan, sortie, s.url)
        truth = s.truth()
    _check_battery(plan, sortie, settings, truth)


@pytest.mark.slow
def test_reported_case_through_the_command_line(samples, tmp_path, capsys):
    """`agrodrone plan ... --tank 20` then `agrodrone sim --plan`: sortie 1 used to end in a
    low-battery RTL after about 360 s; now it lands with its reserve."""
    out = tmp_path / "p"
    code, _, err = run_cli(
        [
            "plan",
            str(samples / "dai-tu-paddies.geojson"),
            "--drone",
            "generic-10l-hex",
            "--dose",
            "15",
            "--tank",
            "20",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    sortie = plan["sorties"][0]
    truth_file = tmp_path / "truth.jsonl"
    proc = subprocess.Popen(
        [
            *AGRODRONE,
            "sim",
            "--plan",
            str(out),
            "--listen",
            "tcp:127.0.0.1:0",
            "--speedup",
            str(SPEEDUP),
            "--boot-delay",
            "3",
            "--truth",
            str(truth_file),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"listening on (tcp:127\.0\.0\.1:\d+)", line)
        assert match, line
        _fly(plan, sortie, match.group(1))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    _check_battery(plan, sortie, plan_settings(plan), sim.read_truth(str(truth_file)))


@pytest.mark.sitl
@pytest.mark.slow
def test_arducopter_sitl_flies_the_reported_sortie_within_the_planned_time(samples):
    """The planner's clock against ArduPilot's own AC_WPNav: the battery budget is only as good
    as the flight time it is built on. SITL's quad is not our drone (its battery is made large
    here), so only the time is compared; the energy per second is the embedded simulator's."""
    field = fields.load(samples / "dai-tu-paddies.geojson")[0]
    plan = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15, tank_l=20)).to_dict()
    sortie = plan["sorties"][0]
    ms = missions.build_mission(plan, sortie["index"])
    r = plan["reload"]
    clock, armed_at, flew = [0.0], [], []
    landed = threading.Event()

    def on_message(m) -> None:
        if hasattr(m, "time_boot_ms"):
            clock[0] = m.time_boot_ms / 1000.0
        if m.get_type() == "GLOBAL_POSITION_INT" and m.relative_alt > 1000:
            flew.append(True)
        if m.get_type() == "HEARTBEAT" and m.get_srcSystem() == 1:
            if m.base_mode & 128 and not armed_at:
                armed_at.append(clock[0])
            elif flew and not m.base_mode & 128 and not landed.is_set():
                armed_at.append(clock[0])
                landed.set()

    with sim.start_sitl(
        speedup=20, home=(r["lat"], r["lon"], 30.0), params={"BATT_CAPACITY": 1_000_000, "BATT_LOW_MAH": 0}
    ) as sitl:
        v = missions.Vehicle.connect(sitl.url, timeout=30)
        try:
            v.add_listener(on_message)
            v.wait_position(timeout=120)
            v.set_params(ms.params)
            v.upload_verified(ms.mission)
            v.set_mode("GUIDED")
            v.arm()
            v.mission_start()
            assert landed.wait(sortie["flight_time_s"] * 3 / 20 + 120), "the sortie never ended"
        finally:
            v.close()
    flown_s = armed_at[-1] - armed_at[0]
    # measured 295 s against 336 s planned: the planner's turn allowance is most of the difference
    assert 0.75 * sortie["flight_time_s"] <= flown_s <= sortie["flight_time_s"], flown_s
