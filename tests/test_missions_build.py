"""plan.json -> ArduPilot mission, fence, rally and parameters (missions.build)."""

from __future__ import annotations

import copy

import pytest
import shapely
from missions_plans import make_plan
from pyproj import Geod
from shapely.geometry import Point, Polygon, shape

import missions
from missions.items import (
    DO_CHANGE_SPEED,
    DO_SPRAYER,
    FENCE_POLYGON_EXCLUSION,
    FENCE_POLYGON_INCLUSION,
    NAV_LAND,
    NAV_RETURN_TO_LAUNCH,
    NAV_TAKEOFF,
    NAV_WAYPOINT,
    deg_to_e7,
)
from planner.dose import pump_off_early_m

GEOD = Geod(ellps="WGS84")


def pump_segments(items):
    """Replay AP_Mission: DO items after a NAV item run when it is reached.
    Returns [(from_nav_seq, to_nav_seq, pump_on)] for every flown NAV->NAV segment."""
    pump, segs, prev = False, [], None
    navs = [it for it in items[1:] if it.command < 100]
    for it in items[1:]:
        if it.command < 100:
            if prev is not None:
                segs.append((prev.seq, it.seq, pump))
            prev = it
        elif it.command == DO_SPRAYER:
            pump = bool(it.param1)
    assert navs
    return segs


def test_layout_home_takeoff_rtl():
    plan = make_plan()
    ms = missions.build_mission(plan, 1)
    m = ms.mission
    assert [it.seq for it in m] == list(range(len(m)))
    assert m[0].command == NAV_WAYPOINT and (m[0].x, m[0].y) == (
        deg_to_e7(plan["reload"]["lat"]),
        deg_to_e7(plan["reload"]["lon"]),
    )
    assert m[1].command == NAV_TAKEOFF and m[1].z == 3.0
    assert m[2].command == DO_SPRAYER and m[2].param1 == 0  # pump off before anything else
    assert m[3].command == DO_CHANGE_SPEED and m[3].param2 == 8  # transit speed
    assert m[-1].command == NAV_RETURN_TO_LAUNCH
    assert all(it.frame == 6 for it in m if it.command == NAV_WAYPOINT)
    assert all(it.z == 3.0 for it in m[1:] if it.command == NAV_WAYPOINT)


def test_pump_runs_exactly_on_swaths():
    plan = make_plan(swaths_per_sortie=4, sorties=1)
    ms = missions.build_mission(plan, 1)
    legs = plan["sorties"][0]["legs"]
    swath_legs = [leg for leg in legs if leg["kind"] == "swath"]
    assert len(ms.swaths) == len(swath_legs)
    on = [(a, b) for a, b, pump in pump_segments(ms.mission) if pump]
    assert on == [(s.start_seq, s.end_seq) for s in ms.swaths]
    for s, leg in zip(ms.swaths, swath_legs):
        start, end = ms.mission[s.start_seq], ms.mission[s.end_seq]
        assert (start.y, start.x) == tuple(deg_to_e7(v) for v in leg["coords"][0])
        # the pump-off waypoint lies on the swath, the copter's overrun short of its end
        (lon0, lat0), (lon1, lat1) = leg["coords"][-2], leg["coords"][-1]
        az, _, length = GEOD.inv(lon0, lat0, lon1, lat1)
        az_end, _, short = GEOD.inv(end.lon, end.lat, lon1, lat1)
        assert short == pytest.approx(pump_off_early_m(5.0, length), abs=0.02)
        assert short > 0.25 and abs((az_end - az + 180) % 360 - 180) < 1.0
        # spray speed is set when the swath starts
        after = ms.mission[s.start_seq + 1 : s.end_seq]
        assert any(it.command == DO_CHANGE_SPEED and it.param2 == 5 for it in after)


def test_every_plan_coordinate_round_trips_exactly():
    plan = make_plan()
    ms = missions.build_mission(plan, 2)
    legs = plan["sorties"][1]["legs"]
    wanted = {(deg_to_e7(lat), deg_to_e7(lon)) for leg in legs for lon, lat in leg["coords"]}
    # a swath's end is not: the pump-off waypoint sits the copter's overrun short of it (above)
    wanted -= {
        (deg_to_e7(leg["coords"][-1][1]), deg_to_e7(leg["coords"][-1][0])) for leg in legs if leg["kind"] == "swath"
    }
    have = {(it.x, it.y) for it in ms.mission if it.command in (NAV_WAYPOINT,)}
    # every other leg coordinate is a waypoint (the final reload point is the RTL)
    assert wanted - have <= {(deg_to_e7(plan["reload"]["lat"]), deg_to_e7(plan["reload"]["lon"]))}


def test_land_at_reload_when_home_is_elsewhere():
    plan = make_plan()
    home = (plan["reload"]["lon"] + 0.001, plan["reload"]["lat"])
    m = missions.build_mission(plan, 1, missions.BuildOptions(home=home)).mission
    assert m[-1].command == NAV_LAND
    assert (m[-1].x, m[-1].y) == (deg_to_e7(plan["reload"]["lat"]), deg_to_e7(plan["reload"]["lon"]))


def test_fence_covers_flight_and_excludes_obstacles_only():
    plan = make_plan()
    ms = missions.build_mission(plan, 1)
    inc = [it for it in ms.fence if it.command == FENCE_POLYGON_INCLUSION]
    exc = [it for it in ms.fence if it.command == FENCE_POLYGON_EXCLUSION]
    assert inc and exc
    assert all(it.param1 == len(inc) for it in inc) and all(it.param1 == len(exc) for it in exc)
    inclusion = Polygon([(it.lon, it.lat) for it in inc])
    exclusion = Polygon([(it.lon, it.lat) for it in exc])
    for s in plan["sorties"]:
        for leg in s["legs"]:
            for lon, lat in leg["coords"]:
                assert inclusion.contains(Point(lon, lat))
    assert inclusion.contains(shape(plan["field"]["boundary"]))
    pole = shape(plan["field"]["keepout"][0]["geometry"])
    pond = shape(plan["field"]["keepout"][1]["geometry"])
    assert pole.contains(exclusion) and exclusion.area > 0.5 * pole.area  # shrunk by the inset, not lost
    assert not exclusion.intersects(pond)  # flying over a pond is allowed
    assert len(exc) + len(inc) == len(ms.fence) and len(ms.fence) <= 84 + 24
    assert ms.rally[0].command == 5100 and (ms.rally[0].x, ms.rally[0].y) == (
        deg_to_e7(plan["reload"]["lat"]),
        deg_to_e7(plan["reload"]["lon"]),
    )


def test_params_from_plan_and_from_formula():
    plan = make_plan()
    p = missions.build_mission(plan, 1).params
    assert list(p)[0] == "SPRAY_ENABLE"
    assert p == {
        "SPRAY_ENABLE": 1,
        "SPRAY_PUMP_RATE": 18.75,
        "SPRAY_SPEED_MIN": 100,
        "SPRAY_PUMP_MIN": 0,
        "SERVO9_FUNCTION": 22,
        "WPNAV_SPEED": 500.0,
        "WPNAV_RADIUS": 50,
    }
    bare = make_plan(with_sprayer=False)
    q = missions.build_mission(bare, 1, missions.BuildOptions(pump_servo=11, enable_fence=True)).params
    # 100 * D * w * 0.006 / Q_max = 100 * 15 * 5 * 0.006 / 2.4
    assert q["SPRAY_PUMP_RATE"] == pytest.approx(18.75)
    assert q["SERVO11_FUNCTION"] == 22 and "SERVO9_FUNCTION" not in q
    assert q["FENCE_ENABLE"] == 1


def test_resume_seq_restarts_the_unfinished_swath():
    ms = missions.build_mission(make_plan(), 1)
    s0, s1, s2 = ms.swaths
    assert ms.resume_seq(1) == s0.start_seq  # stopped before the first swath
    assert ms.resume_seq(s0.start_seq) == s0.start_seq  # stopped on swath 0
    assert ms.resume_seq(s0.end_seq) == s1.start_seq  # swath 0 done
    assert ms.resume_seq(s1.end_seq + 1) == s2.start_seq
    assert ms.resume_seq(s2.end_seq) == s2.end_seq + 1  # all sprayed: the way home
    # the resume item is a NAV waypoint and the pump is switched on only after it
    assert ms.mission[ms.resume_seq(s0.end_seq)].command == NAV_WAYPOINT


@pytest.mark.parametrize(
    "breakage, words",
    [
        (lambda p: p.pop("sorties"), "no sorties"),
        (lambda p: p.update(format="x"), "not an agrodrone plan"),
        (lambda p: p["sorties"][0]["legs"][1].update(kind="hover"), "unknown kind"),
        (lambda p: p["sorties"][0]["legs"][1].update(coords=[[200, 0], [0, 0]]), "out of range"),
        (lambda p: p["params"].pop("height_m"), "height_m"),
        # a hand-edited plan.json: wrong types are named, not a traceback
        (lambda p: p["sprayer"].update(speed_m_s="fast"), "sprayer.speed_m_s is not a number"),
        (lambda p: p["params"].update(transit_speed_m_s="x"), "transit_speed_m_s is not a number"),
        (lambda p: p["sprayer"].update(pump_rate_pct="x"), "pump_rate_pct is not a number"),
        (lambda p: p["sprayer"].update(speed_min_cm_s="x"), "speed_min_cm_s is not a number"),
        (lambda p: p.update(sprayer=[1]), "sprayer is not an object"),
        (lambda p: p["sorties"][0]["legs"][1].update(swath="a"), "swath is not a number"),
        (lambda p: p["sorties"].__setitem__(0, 5), r"sorties\[0\] is not a sortie"),
        (lambda p: p["field"].update(utm_epsg="abc"), "utm_epsg is not a number"),
        (lambda p: p["field"].update(utm_epsg=999999), "not a known EPSG"),
        (lambda p: p["field"].update(keepout=[1]), "keepout is not a list of zones"),
    ],
)
def test_bad_plans_say_what_is_wrong(breakage, words):
    plan = copy.deepcopy(make_plan())
    breakage(plan)
    with pytest.raises(missions.MissionError, match=words):
        missions.build_mission(plan, 1)


def test_unknown_sortie():
    with pytest.raises(missions.MissionError, match="no sortie 7"):
        missions.build_mission(make_plan(), 7)


def test_mission_files_names_and_contents():
    plan = make_plan(sorties=3)
    files = missions.mission_files(plan)
    assert sorted(files) == sorted(
        [
            "mission.plan",
            "mission.waypoints",
            "mission-s2.plan",
            "mission-s2.waypoints",
            "mission-s3.plan",
            "mission-s3.waypoints",
        ]
    )
    for k, stem in ((1, "mission"), (3, "mission-s3")):
        ms = missions.build_mission(plan, k)
        pf = missions.read_plan(files[f"{stem}.plan"])
        assert missions.compare(ms.mission[1:], pf.mission[1:]) == []
        assert missions.compare(ms.fence, pf.fence) == [] and missions.compare(ms.rally, pf.rally) == []
        wp = missions.read_waypoints(files[f"{stem}.waypoints"])
        assert [(a.x, a.y, a.command) for a in wp] == [(a.x, a.y, a.command) for a in ms.mission]


def test_real_planned_sample_field(samples):
    import fields
    import planner

    if not hasattr(fields, "load"):
        pytest.skip("fields.load not there yet")
    field = fields.load(samples / "tan-cuong-tea.geojson")[0]
    plan = planner.plan(field, planner.params_for(planner.default_preset(), edge_passes=1)).to_dict()
    total_swaths = 0
    for k in missions.sortie_numbers(plan):
        ms = missions.build_mission(plan, k)
        legs = next(s for s in plan["sorties"] if s["index"] == k)["legs"]
        n_swath = sum(1 for leg in legs if leg["kind"] == "swath")
        assert len(ms.swaths) == n_swath
        on = [(a, b) for a, b, pump in pump_segments(ms.mission) if pump]
        # pump on exactly along the swath legs' waypoints
        spans = [(s.start_seq, s.end_seq) for s in ms.swaths]
        # the pump-on segments chain from each swath's start to its end, and nowhere else
        assert all(any(a <= x and y <= b for a, b in spans) for x, y in on)
        for a, b in spans:
            chain = sorted((x, y) for x, y in on if a <= x and y <= b)
            assert chain[0][0] == a and chain[-1][1] == b
            assert all(p[1] == q[0] for p, q in zip(chain, chain[1:]))
        total_swaths += n_swath
        assert ms.mission[-1].command in (NAV_RETURN_TO_LAUNCH, NAV_LAND)
        inc = Polygon([(it.lon, it.lat) for it in ms.fence if it.command == FENCE_POLYGON_INCLUSION])
        pts = shapely.MultiPoint([tuple(c) for leg in legs for c in leg["coords"]])
        assert inc.contains(pts)
    assert total_swaths > 0
    assert "mission.plan" in missions.mission_files(plan)


@pytest.mark.parametrize("passes", [0, 1])
def test_the_pump_is_switched_on_early_on_the_lead_in_by_the_lag_at_the_edge_speed(samples, passes):
    """Out of a turn the copter runs a short straight lead-in (planner/leads.py) and crosses the
    swath's start at the speed it reaches there, not at spray speed: DO_SPRAYER 1 runs the pump's
    lag at that speed before the start (0.52 m after a whole lead-in, against 1 m for the full
    5 m/s), on the lead-in, in line with the swath. Where the swaths start against an edge lap,
    a sixth of AC_Sprayer's 1/3 s beat earlier still (0.59 m): an early pump sprays the lap's
    crop twice, a late one leaves crop dry; against the field's edge it would spray outside."""
    import fields
    import planner

    field = fields.load(samples / "phu-binh-maize.geojson")[0]
    params = planner.params_for("generic-10l-hex", dose_l_ha=15, edge_passes=passes)
    plan = planner.plan(field, params).to_dict()
    assert plan["metrics"]["edge_laps"] == passes
    checked = 0
    for ms in missions.build_missions(plan):
        legs = next(s for s in plan["sorties"] if s["index"] == ms.sortie)["legs"]
        checked += _pump_on_points_checked(ms, legs, field)
    assert checked >= 30


def _pump_on_points_checked(ms, legs, field) -> int:
    from planner.leads import LEAD_M, edge_speed_m_s, pump_on_early_m

    edge = field.sprayable.boundary

    checked = 0
    for ref in ms.swaths:
        start = legs[ref.leg]["coords"][0]
        on, lead = ms.mission[ref.start_seq], ms.mission[ref.start_seq - 2]
        assert ms.mission[ref.start_seq - 1].command == DO_CHANGE_SPEED and lead.command == NAV_WAYPOINT
        az_lead, _, lead_m = GEOD.inv(lead.lon, lead.lat, *start)
        az_on, _, early_m = GEOD.inv(on.lon, on.lat, *start)
        if lead_m < LEAD_M - 0.05 or len(legs[ref.leg]["coords"]) > 2:  # come to from the reload point; the lap
            continue
        assert lead_m == pytest.approx(LEAD_M, abs=0.05)
        # inside the field: past a lap, or where a sortie resumes a swath the one before began
        inside = edge.distance(shapely.Point(*field.frame.to_local(*start))) > 1.0
        lag_s = 0.43 + (1 / 18 if inside else 0.0)
        assert early_m == pytest.approx(edge_speed_m_s(lead_m, 5.0) * lag_s, abs=0.01)
        assert early_m == pytest.approx(pump_on_early_m(lead_m, 5.0, onto_crop=inside), abs=0.01)
        assert (0.57 < early_m < 0.6) if inside else (0.45 < early_m < 0.55)
        assert abs((az_on - az_lead + 180) % 360 - 180) < 2.0
        checked += 1
    return checked
