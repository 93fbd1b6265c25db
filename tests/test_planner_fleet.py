"""Several drones on one job (planner/fleet.py): parts, balance, reload points, plan.json v3."""

from __future__ import annotations

import copy
import json
from itertools import combinations

import numpy as np
import pytest
import shapely
from cli_support import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from terrain_support import hill_terrain

import fields
import planner
from missions import mission_files
from planner import PlanDocument, PlanError
from planner.balance import imbalance_pct
from planner.bands import cut_laps
from planner.geometry import Rotation, bearing_to_math, polyline_length
from planner.metrics import footprints


@pytest.fixture(scope="module")
def rice(request) -> fields.Field:
    return fields.load(request.config.rootpath / "fields" / "samples" / "co-lung-rice-block.geojson")[0]


@pytest.fixture(scope="module")
def hex10() -> planner.PlanParams:
    return planner.params_for(None)


@pytest.fixture(scope="module")
def one(rice, hex10) -> planner.Plan:
    return planner.plan(rice, hex10)


@pytest.fixture(scope="module")
def fleets(rice, hex10) -> dict[int, planner.Plan]:
    return {n: planner.plan(rice, hex10, fleet=[hex10] * n) for n in (2, 3)}


def _feet(sorties, width: float):
    lines = [leg.coords for s in sorties for leg in s.legs if leg.kind == "swath"]
    return shapely.union_all(footprints(lines, width))


@pytest.mark.parametrize("n", [2, 3])
def test_the_parts_are_disjoint_and_spray_what_one_drone_sprays(fleets, one, n):
    plan, w = fleets[n], one.params.swath_m
    parts = [_feet([s for s in plan.sorties if s.drone == d.number], w) for d in plan.fleet]
    alone = _feet(one.sorties, w)
    together = shapely.union_all(parts)
    assert together.area == pytest.approx(alone.area, rel=0.005)
    assert together.symmetric_difference(alone).area < 0.005 * alone.area
    for a, b in combinations(parts, 2):  # only where one drone's swath end meets the other's edge lap
        assert a.intersection(b).area < 0.001 * alone.area
    assert plan.metrics()["coverage_pct"] == pytest.approx(one.metrics()["coverage_pct"], abs=0.05)
    assert sum(d.area_m2 for d in plan.fleet) == pytest.approx(one.coverage.covered_m2, rel=0.005)


@pytest.mark.parametrize("n", [2, 3])
def test_the_drones_finish_at_about_the_same_time(fleets, one, n):
    plan = fleets[n]
    times = [d.job_time_s for d in plan.fleet]
    assert imbalance_pct(times) < 10.0, times  # measured: 3.2 % for 2 drones, 5.0 % for 3
    for d in plan.fleet:  # job time = its sorties' flight plus a reload between each two
        mine = [s for s in plan.sorties if s.drone == d.number]
        flight = sum(s.flight_time_s for s in mine)
        assert d.job_time_s == pytest.approx(flight + (len(mine) - 1) * d.params.reload_s)
    assert plan.metrics()["job_time_s"] == pytest.approx(max(times), abs=1)
    share = {2: 0.56, 3: 0.38}[n]  # of the job one drone flies alone; measured 0.52 and 0.34
    assert max(times) < share * one.metrics()["job_time_s"]


def test_sorties_are_numbered_drone_after_drone(fleets):
    plan = fleets[3]
    assert [s.index for s in plan.sorties] == list(range(1, len(plan.sorties) + 1))
    assert [s.drone for s in plan.sorties] == sorted(s.drone for s in plan.sorties)
    assert [i for d in plan.fleet for i in d.sorties] == [s.index for s in plan.sorties]
    swaths = [leg.swath for leg in plan.route if leg.kind == "swath"]
    assert len(swaths) == len(set(swaths)), "swath numbers are the job's, not each drone's"


def test_reload_points_keep_the_separation_and_the_parts_are_strips(fleets):
    for plan in fleets.values():
        assert plan.separation_m == 15.0
        for a, b in combinations(plan.fleet, 2):
            assert np.hypot(*(a.reload_xy - b.reload_xy)) >= 15.0
        for d in plan.fleet:  # on the field's edge
            assert plan.field.boundary.exterior.distance(shapely.Point(*d.reload_xy)) < 0.01
        cuts = [d.lines for d in plan.fleet]
        assert cuts[0][0] == 0 and all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))


def test_every_drone_sweeps_its_strip_upwards(fleets):
    """All drones sweep the same way across the swaths, so neighbours stay a strip apart."""
    plan = fleets[3]
    theta = bearing_to_math(plan.angle_deg)
    for d in plan.fleet:
        legs = [
            g for s in plan.sorties if s.drone == d.number for g in s.legs if g.kind == "swath" and len(g.coords) == 2
        ]
        y = np.array([-g.coords[:, 0].mean() * np.sin(theta) + g.coords[:, 1].mean() * np.cos(theta) for g in legs])
        rank = np.argsort(np.argsort(y))
        assert np.corrcoef(rank, np.arange(len(y)))[0, 1] > 0.85, d.number


def test_a_larger_separation_moves_reload_points_and_an_impossible_one_is_refused(rice, hex10):
    wide = planner.plan(rice, hex10, fleet=[hex10] * 3, separation_m=120.0)
    for a, b in combinations(wide.fleet, 2):
        assert np.hypot(*(a.reload_xy - b.reload_xy)) >= 120.0
    with pytest.raises(PlanError, match=r"keeps drone \d's reload point 5000 m from the others"):
        planner.plan(rice, hex10, fleet=[hex10] * 2, separation_m=5000.0)


def test_given_reload_points_choose_the_parts_and_must_keep_their_distance(rice, hex10):
    frame = rice.frame
    x0, y0, x1, y1 = rice.boundary.bounds
    north = frame.to_wgs84((x0 + x1) / 2, y1 + 5)  # (lon, lat) beyond the top of the field
    south = frame.to_wgs84((x0 + x1) / 2, y0 - 5)
    d1 = planner.params_for(None, reload=(float(north[0]), float(north[1])))
    d2 = planner.params_for(None, reload=(float(south[0]), float(south[1])))
    plan = planner.plan(rice, d1, fleet=[d1, d2])
    assert plan.fleet[0].reload_xy[1] > plan.fleet[1].reload_xy[1]
    assert plan.fleet[0].lines[0] > plan.fleet[1].lines[0], "drone 1, reloading in the north, sprays the north"
    near = frame.to_wgs84((x0 + x1) / 2 + 3, y1 + 5)
    d2 = planner.params_for(None, reload=(float(near[0]), float(near[1])))
    with pytest.raises(PlanError, match=r"reload points of drones 1 and 2 are 3.0 m apart"):
        planner.plan(rice, d1, fleet=[d1, d2])


def test_one_drone_in_the_fleet_is_the_single_drone_plan(rice, hex10, one):
    assert planner.plan(rice, hex10, fleet=[hex10]).to_document().to_json() == one.to_document().to_json()


def test_the_document_is_version_3_and_reads_back_the_same(fleets):
    doc = fleets[3].to_document(created_by="agrodrone test")
    d = json.loads(doc.to_json())
    assert d["version"] == 3 and [s["drone"] for s in d["sorties"]] == [s.drone for s in fleets[3].sorties]
    assert d["fleet"]["separation_m"] == 15.0 and doc.drone_numbers() == [1, 2, 3]
    entry = d["fleet"]["drones"][1]
    assert list(entry) == [
        "drone",
        "preset",
        "name",
        "reload",
        "sorties",
        "area_ha",
        "volume_l",
        "flight_time_s",
        "job_time_s",
        "spec",
        "params",
        "sprayer",
    ]
    assert "preset" not in entry["spec"] and entry["params"]["tank_l"] == 10
    again = PlanDocument.from_dict(json.loads(doc.to_json()))
    assert again.to_dict() == d and again.to_json() == doc.to_json() and again.digest() == doc.digest()
    assert again.sortie(7).drone == fleets[3].sorties[6].drone
    assert d["fleet"]["drones"][0]["reload"] == d["reload"], "the top-level sections are drone 1's"


def _break(d: dict, how: str) -> None:
    if how == "no drone":
        del d["sorties"][3]["drone"]
    elif how == "stranger":
        d["sorties"][3]["drone"] = 9
    elif how == "sorties":
        d["fleet"]["drones"][0]["sorties"].pop()
    elif how == "old version":
        d["version"] = 2
    elif how == "no params":
        del d["fleet"]["drones"][1]["params"]
    elif how == "twice":
        d["fleet"]["drones"][1]["drone"] = 1
    elif how == "one drone":
        d["fleet"]["drones"] = d["fleet"]["drones"][:1]
    elif how == "stray drone":
        del d["fleet"]
        d["version"] = 1
    elif how == "tank":
        d["fleet"]["drones"][2]["params"]["tank_l"] = 0


@pytest.mark.parametrize(
    "how, words",
    [
        ("no drone", r"plan: sorties\[3\] has no 'drone' in a plan for several drones"),
        ("stranger", r"plan: sorties\[3\].drone 9 is not a drone of the fleet \(1, 2, 3\)"),
        ("sorties", r"plan: fleet.drones\[0\].sorties \[.*\] are not the sorties of drone 1"),
        ("old version", r"plan: fleet is in a version 2 plan; a plan for several drones is version 3"),
        ("no params", r"plan: fleet.drones\[1\] has no 'params'"),
        ("twice", r"plan: fleet.drones\[1\].drone 1 is not a new drone number"),
        ("one drone", r"plan: fleet.drones is not a list of at least two drones"),
        ("tank", r"plan: fleet.drones\[2\].params.tank_l must be > 0"),
        ("stray drone", r"plan: sorties\[0\] has a 'drone' but the plan has no 'fleet'"),
    ],
)
def test_a_broken_fleet_section_is_refused_naming_the_key(fleets, how, words):
    d = copy.deepcopy(fleets[3].to_dict())
    _break(d, how)
    with pytest.raises(PlanError, match=words):
        PlanDocument.from_dict(d)


def test_each_drone_gets_a_single_drone_plan_it_can_fly(fleets):
    plan = fleets[3]
    doc = plan.to_document()
    for part, entry in zip(plan.fleet, doc.fleet.drones):
        own = doc.for_drone(part.number)
        d = json.loads(own.to_json())
        assert d["version"] == 1 and "fleet" not in d
        assert own.sortie_numbers() == part.sorties and {s.drone for s in own.sorties} == {None}
        assert own.reload == entry.reload and own.drone.preset == part.preset and own.sprayer == entry.sprayer
        assert own.params.tank_l == part.params.tank_l and own.params.reload_s == part.params.reload_s
        assert own.metrics.sorties == len(part.sorties) and own.metrics.job_time_s == entry.job_time_s
        assert PlanDocument.from_dict(d).to_dict() == d
        for s in own.sorties:  # every sortie starts and ends at its own drone's reload point
            assert s.legs[0].coords[0] == own.reload.lonlat and s.legs[-1].coords[-1] == own.reload.lonlat
        files = mission_files(own)
        assert len([n for n in files if n.endswith(".waypoints")]) == len(part.sorties)
    with pytest.raises(PlanError, match="no drone 4"):
        doc.for_drone(4)


def test_a_single_drone_plan_is_its_drone_1(one):
    doc = one.to_document()
    assert doc.drone_numbers() == [1] and doc.for_drone(1) is doc and doc.sortie(1).drone is None
    with pytest.raises(PlanError, match="no drone 2"):
        doc.for_drone(2)


def test_a_mixed_fleet_uses_each_drones_tank_and_balances_time(rice):
    small = planner.params_for("generic-10l-hex", swath_m=5)
    big = planner.params_for("spray-20l", swath_m=5)
    plan = planner.plan(rice, small, fleet=[small, big])
    d1, d2 = plan.fleet
    assert d2.volume_l > d1.volume_l, "the bigger, faster drone takes the bigger part"
    assert len(d1.sorties) / d1.volume_l > len(d2.sorties) / d2.volume_l, "the small tank lands more often"
    for d in (d1, d2):
        usable = d.params.tank_l - d.params.tank_reserve_l
        assert max(s.volume_l for s in plan.sorties if s.drone == d.number) <= usable + 1e-6
    assert imbalance_pct([d1.job_time_s, d2.job_time_s]) < 10.0
    own = plan.to_document().for_drone(2)
    assert own.params.tank_l == 20 and own.drone.preset == "spray-20l" and own.params.speed_m_s == 6


def test_a_mixed_fleet_with_different_swaths_is_refused(rice):
    small, big = planner.params_for("generic-10l-hex"), planner.params_for("spray-20l")
    with pytest.raises(PlanError, match=r"different swath widths \(generic-10l-hex 4 m, spray-20l 6 m\).*--swath"):
        planner.plan(rice, small, fleet=[small, big])
    with pytest.raises(PlanError, match="at most 8"):
        planner.plan(rice, small, fleet=[small] * 9)


def test_terrain_and_fleet(request):
    tea = fields.load(request.config.rootpath / "fields" / "samples" / "tan-cuong-tea.geojson")[0]
    p = planner.params_for("spray-20l")
    plan = planner.plan(tea, p, hill_terrain(tea), fleet=[p, p])
    doc = plan.to_document()
    assert doc.version == 3 and doc.terrain is not None
    elevs = [d.reload_elev_m for d in doc.fleet.drones]
    assert elevs[0] == doc.terrain.reload_elev_m and abs(elevs[0] - elevs[1]) > 1.0
    for n, part in zip(doc.drone_numbers(), plan.fleet):
        own = doc.for_drone(n)
        assert own.version == 2 and own.terrain.reload_elev_m == elevs[n - 1]
        ground = part.ground
        for s in own.sorties:  # altitudes above this drone's own reload point's ground
            leg = s.swath_legs[0]
            xy = np.array([own.field.frame.to_local(*leg.coords[0])])
            assert leg.alts_m[0] == pytest.approx(float(ground.heights(xy)[0]) + p.height_m, abs=0.6)
        assert PlanDocument.from_dict(json.loads(own.to_json())).to_json() == own.to_json()
    assert plan.dem() is not None


def test_the_geojson_and_picture_show_each_drone(fleets):
    plan = fleets[2]
    feats = plan.to_geojson()["features"]
    reloads = [f for f in feats if f["properties"]["kind"] == "reload"]
    assert [f["properties"]["drone"] for f in reloads] == [1, 2]
    legs = [f for f in feats if f["properties"]["kind"] in ("swath", "transit")]
    assert {f["properties"]["drone"] for f in legs} == {1, 2}
    breaks = [f for f in feats if f["properties"]["kind"] == "breakpoint"]
    assert len(breaks) == len(plan.sorties) - 2, "no breakpoint after a drone's last sortie"
    assert plan.to_png().startswith(b"\x89PNG")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-40, 40), min_size=1, max_size=4, unique=True),
    st.floats(0, 179),
    st.integers(3, 12),
)
def test_laps_cut_at_the_boundaries_add_up_to_the_laps(cuts, bearing, corners):
    """Each piece lies in its strip and the pieces of a lap add up to the lap, end to end."""
    t = np.linspace(0, 2 * np.pi, corners, endpoint=False)
    ring = np.column_stack([30 * np.cos(t), 20 * np.sin(t)])
    ring = np.vstack([ring, ring[:1]])
    rot = Rotation(bearing_to_math(bearing), (0.0, 0.0))
    ys = np.sort(np.asarray(cuts))
    out = cut_laps([ring], rot, ys)
    total = sum(polyline_length(p) for rings, pieces in out for p in [*rings, *pieces])
    assert total == pytest.approx(polyline_length(ring), abs=1e-6)
    for k, (_rings, pieces) in enumerate(out):
        lo = ys[k - 1] if k else -np.inf
        hi = ys[k] if k < len(ys) else np.inf
        for p in pieces:
            mid = rot.to_swath((p[:-1] + p[1:]) / 2.0)[:, 1]
            inside = (mid >= lo - 1.0) & (mid <= hi + 1.0)  # a sliver under 1 m stays with its neighbour
            assert inside.all()
    ends = [p for _, pieces in out for p in pieces]
    starts = {tuple(np.round(p[0], 6)) for p in ends}
    assert all(tuple(np.round(p[-1], 6)) in starts for p in ends), "the pieces meet end to end"


def test_cli_plan_drones_writes_a_fleet_folder(rice, tmp_path, capsys, request):
    field = request.config.rootpath / "fields" / "samples" / "co-lung-rice-block.geojson"
    code, out, err = run_cli(["plan", str(field), "--drones", "2", "--out", str(tmp_path)], capsys)
    assert code == 0, err
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert plan["version"] == 3 and len(plan["fleet"]["drones"]) == 2
    for n in (1, 2):
        assert f"drone {n}" in out and "job" in out
    assert (tmp_path / "plan.png").exists() and (tmp_path / "plan.geojson").exists()
    code, out, err = run_cli(["plan", str(field), "--drones", "2", "--out", str(tmp_path), "--json"], capsys)
    summary = json.loads(out)
    assert [d["drone"] for d in summary["fleet"]] == [1, 2] and "job_time_s" in summary["fleet"][0]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--drones", "0"], "--drones 0: give 1 to 8 drones"),
        (["--drones", "9"], "--drones 9: give 1 to 8 drones"),
        (["--drones", "generic-10l-hex,nosuch"], "unknown drone preset 'nosuch'"),
        (["--drones", "generic-10l-hex,spray-20l"], "different swath widths"),
        (["--drones", "2", "--reload", "21.7,105.7", "--reload", "21.7,105.8", "--reload", "21.7,105.9"], "3 --reload"),
        (["--drones", "2", "--drone", "spray-20l,generic-10l-hex"], "unknown drone preset"),
        (["--drones", "spray-20l,spray-20l", "--drone", "spray-20l"], "either with --drone or in --drones"),
        (["--drones", "2", "--separation", "-3"], "separation must be 0 m or more"),
    ],
)
def test_cli_fleet_errors_are_one_line_and_write_nothing(tmp_path, capsys, request, args, words):
    field = request.config.rootpath / "fields" / "samples" / "co-lung-rice-block.geojson"
    out_dir = tmp_path / "out"
    code, out, err = run_cli(["plan", str(field), "--out", str(out_dir), *args], capsys)
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and words in line
    assert not out_dir.exists()


def test_a_fleet_sortie_resumes_from_its_own_drones_reload_point(fleets):
    doc = fleets[2].to_document()
    k = doc.fleet.drones[1].sorties[1]  # drone 2's second sortie
    s = doc.sortie(k)
    j = next(i for i, leg in enumerate(s.legs) if leg.kind == "swath")
    again = planner.resume_plan(doc, k, j, None)
    resumed = again.sortie(k)
    assert resumed.drone == 2 and resumed.legs[0].coords[0] == doc.fleet.drones[1].reload.lonlat
    assert PlanDocument.from_dict(again.to_dict()).sortie(k).drone == 2
