"""planner/document.py: plan.json read, checked and written back by one module."""

from __future__ import annotations

import copy
import json

import pytest
from missions_plans import make_plan

import fields
import planner
from planner import PlanDocument, PlanError, load_plan, migrate
from planner.document import validate
from sim import plan_settings
from sim.config import SimConfig

BATTERY_KEYS = ("endurance_mass_kg", "empty_mass_kg", "battery_mah", "battery_cells")


@pytest.fixture(scope="module")
def tea(request) -> planner.Plan:
    samples = request.config.rootpath / "fields" / "samples"
    field = fields.load(samples / "tan-cuong-tea.geojson")[0]
    return planner.plan(field, planner.params_for("spray-20l", edge_passes=1))


def test_the_written_plan_reads_back_to_the_same_file(tea, tmp_path):
    doc = tea.to_document(created_by="agrodrone test")
    path = doc.write(tmp_path)
    assert path == tmp_path / "plan.json"
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(tea.to_dict(created_by="agrodrone test"), ensure_ascii=False, indent=1) + "\n"
    again = load_plan(tmp_path)
    assert again.to_json() == text and again.to_dict() == json.loads(text)
    assert again.digest() == doc.digest()
    assert again.sortie_numbers() == [s.index for s in tea.sorties]
    assert again.field.frame.utm_epsg == tea.field.utm_epsg
    assert again.field.sprayable_local.area == pytest.approx(tea.sprayable.area, rel=1e-4)
    assert again.spray_speed_m_s == tea.sprayer.speed_m_s and again.pump_max_l_min == tea.params.pump_max_l_min


def test_a_plan_written_before_the_energy_budget_still_loads(tea):
    old = tea.to_dict()
    for key in BATTERY_KEYS:
        del old["drone"][key]
    for s in old["sorties"]:
        del s["battery_s"], s["battery_mah"]
    doc = PlanDocument.from_dict(old)
    assert doc.drone.battery_mah is None and doc.sorties[0].battery_s is None and not doc.drone.has_battery
    assert doc.to_dict() == old, "nothing is added on the way back"
    settings = plan_settings(doc)
    assert settings["tank_l"] == tea.params.tank_l and "battery_mah" not in settings
    assert SimConfig().battery_mah  # the simulator keeps its default battery


def test_versions(tea):
    plan = tea.to_dict()
    assert migrate(plan) is plan
    for version, words in (
        (4, "newer than this agrodrone"),  # 2 is a terrain plan, 3 a fleet plan (test_planner_fleet.py)
        (0, "not a plan.json version"),
        ("one", "version is not a number"),
    ):
        with pytest.raises(PlanError, match=words):
            validate({**plan, "version": version})
    with pytest.raises(PlanError, match="plan has no 'version'"):
        validate({k: v for k, v in plan.items() if k != "version"})


@pytest.mark.parametrize(
    "breakage, words",
    [
        (lambda p: p["params"].update(dose_l_ha=-1), r"params.dose_l_ha must be > 0, got -1"),
        (
            lambda p: p["sorties"][1]["legs"][0].update(length_m=-2),
            r"sorties\[1\].legs\[0\].length_m must not be negative",
        ),
        (lambda p: p["sorties"][0]["legs"][0].update(coords="x"), r"sorties\[0\].legs\[0\].coords is not a list"),
        (lambda p: p["sorties"][0].update(legs=[]), r"sorties\[0\] has no legs"),
        (lambda p: p["sorties"][1].update(index=1), "two sorties have the index 1"),
        (lambda p: p["field"]["keepout"][0].pop("geometry"), r"field.keepout\[0\] has no 'geometry'"),
        (
            lambda p: p["field"].update(boundary={"type": "Polygon", "coordinates": "x"}),
            "field.boundary is not a GeoJSON geometry",
        ),
        (lambda p: p["field"].update(properties=[]), "field.properties is not an object"),
        (lambda p: p.update(warnings="x"), "warnings is not a list of texts"),
        (lambda p: p["sprayer"].update(speed_capped="no"), "sprayer.speed_capped is not true or false"),
        (lambda p: p["drone"].update(battery_cells=12.5), "drone.battery_cells is not a whole number"),
        (lambda p: p.pop("reload"), "plan has no 'reload'"),
    ],
)
def test_every_wrong_key_is_named(breakage, words):
    plan = copy.deepcopy(make_plan())
    breakage(plan)
    with pytest.raises(PlanError, match=words):
        PlanDocument.from_dict(plan)


def test_a_hand_made_plan_round_trips_as_it_was():
    plan = make_plan()
    expected = copy.deepcopy(plan)
    for zone in expected["field"]["keepout"]:
        zone["height_m"] = None  # the one key written even when null (as the planner does)
    assert PlanDocument.from_dict(plan).to_dict() == expected


def test_load_says_what_is_wrong_with_the_file(tmp_path):
    with pytest.raises(PlanError, match="no such plan file"):
        load_plan(tmp_path)
    (tmp_path / "plan.json").write_text("{", encoding="utf-8")
    with pytest.raises(PlanError, match="not a readable plan.json"):
        load_plan(tmp_path)
    (tmp_path / "plan.json").write_text('{"fileType": "Plan"}', encoding="utf-8")
    with pytest.raises(PlanError, match="not an agrodrone plan.json"):
        load_plan(tmp_path / "plan.json")
