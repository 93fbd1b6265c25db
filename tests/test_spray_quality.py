"""Spray quality: the plan's own figures checked from outside, and the flown ones against the targets.

Targets (issue #12): as-applied coverage >= 99 % of the planned sprayable area, achieved dose
within +-3 %, nothing in no-spray buffers, the plan's coverage within 0.2 point of an
independent recomputation, overlap measured the same way in the plan and in the record. The
flights are flown by `agrodrone fly` on the embedded simulator (every sample field) and on
ArduPilot SITL (the first sorties of the Cổ Lũng block, which has a pond and a canal buffer;
the Đại Từ paddies whole, by two drones, in tests/test_fleet_fly.py). bench/spray_quality.py
prints the same figures for every field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import shapely
from cli_support import AGRODRONE
from spray_check import (
    COVERAGE_MIN_PCT,
    check_targets,
    independent_plan_coverage,
    pump_switches_m,
    swing_past_corners_m,
)
from synthetic import write_flights
from telemetry_support import pwm_for

import fields
import planner
import sim
from planner import load_plan
from telemetry import create_record, import_tlog, list_records, open_db
from telemetry.records.dosemap import deviation_pct, read_dose_map, read_dose_reasons
from telemetry.reports.charts import job_geometry

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "fields" / "samples"
# medians of where the pump stops against long swaths' ends (0.32 m past them uncorrected) and starts
# against swaths' starts
PUMP_AT_SWITCH_M = 0.12
PUMP_ON_SPREAD_M = 0.3  # the IQR of where it starts (0.30-0.49 m after the 7 m lead-ins of before)
PUMP_ON_WITHIN_M = 0.3  # the median distance of where it starts from the start, among some ten starts
SWING_WITHIN_M = 0.12
OUTSIDE_MAX_PCT = 0.5  # the median swing outside a lap past its sharp corners (0.27-0.32 m uncorrected)
FIELDS = [
    "dai-tu-paddies.geojson",
    "co-lung-rice-block.geojson",
    "tan-cuong-tea.geojson",
    "phu-binh-maize.geojson",
    "ha-chau-strip.geojson",
    "public/ee_field_130.wkt",
    "public/nl_field_188.wkt",
]


def _plan(field_file: Path, out: Path, *args: str) -> Path:
    subprocess.run(
        [*AGRODRONE, "plan", str(field_file), "--drone", "generic-10l-hex", "--dose", "15", *args, "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


@pytest.mark.parametrize("name", FIELDS)
def test_the_plans_coverage_holds_up_to_an_independent_recomputation(name, tmp_path):
    plan_dir = _plan(SAMPLES / name, tmp_path / "plan")
    planned, independent = independent_plan_coverage(plan_dir, SAMPLES / name)
    assert planned >= 99.0
    assert abs(planned - independent) <= 0.2, (planned, independent)


def _flown_exactly(tmp_path: Path, sorties=None, name: str = "dai-tu-paddies.geojson", **params):
    """A sample field's plan (the paddies'), and the record of a synthetic copter flying `sorties`
    (default: the plan's swaths, each a (start, end) pair) exactly on the line at spray speed with
    the planned flow."""
    field = fields.load(SAMPLES / name)[0]
    plan = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15, **params)).to_document()
    if sorties is None:  # a lap is flown as its straight pieces, one after the other
        sorties = [
            [(tuple(a), tuple(b)) for leg in s.swath_legs for a, b in zip(leg.coords[:-1], leg.coords[1:])]
            for s in plan.sorties
        ]
    speed = float(plan.spray_speed_m_s)
    pump_max = float(plan.pump_max_l_min or 2.4)
    write_flights(
        tmp_path / "f.tlog",
        sorties,
        start_us=1_780_000_000_000_000,
        pump_pwm=pwm_for(15, float(plan.params.line_spacing_m), speed, pump_max),
        pump_max_l_min=pump_max,
        speed_m_s=speed,
        rate_hz=50.0,
        gap_s=240,
    )
    db = open_db(tmp_path / "t.db")
    import_tlog(tmp_path / "f.tlog", db)
    return field, plan, sorties, create_record(db, plan)


def _off_cells(rec: dict, frame) -> tuple[list[np.ndarray], np.ndarray, list[str | None]]:
    """The record's cells, their deviation from the target in %, and their reasons."""
    rings, cell_doses = read_dose_map(rec["dose_map_geojson"], frame)
    dev = deviation_pct(cell_doses, rec["target_dose_l_ha"])
    return rings, dev, read_dose_reasons(rec["dose_map_geojson"])


def _assert_one_swath_by_about_10_m(rings: list[np.ndarray], spacing_m: float) -> None:
    """Every cell is a line spacing wide (the strip each swath line sprays for) and as near 10 m long
    as its run of sprayable ground allows: 7.5-12.5 m, or the whole run where it is shorter than
    15 m (dosemap.py)."""
    across = np.array([np.hypot(*(r[3] - r[0])) for r in rings])
    along = np.array([np.hypot(*(r[1] - r[0])) for r in rings])
    assert across == pytest.approx(np.full(len(rings), spacing_m), abs=1e-3)
    assert along.max() < 15.0 and np.median(along) == pytest.approx(10.0, abs=1.5)


def test_a_doubled_strip_shows_the_same_in_the_plan_and_in_the_record(tmp_path):
    """A field's top band folded back onto the one below: flown exactly as planned, the record
    measures that overlap from the same footprints as the plan, and says why its cells are over
    the dose. (The Phú Bình maize with lines a swath apart and no lap; the paddies' top band was
    this test's until each plot's lines were fitted to it, tests/test_plot_fit.py.)"""
    field, plan, sorties, rec = _flown_exactly(tmp_path, name="phu-binh-maize.geojson", spacing_m=4.0, edge_passes=0)
    m = plan.metrics
    assert m is not None and m.overlap_pct is not None and m.sprayable_ha is not None
    planned_overlap_m2 = m.overlap_pct / 100 * m.sprayable_ha * 1e4
    assert planned_overlap_m2 > 50
    # the synthetic copter turns the instant its pump stops, so each swath's end carries the first
    # sample of the turn (10 cm at 50 Hz): under 1 m² beside its neighbour, on top of the plan's
    swaths = sum(len(s) for s in sorties)
    assert 0.95 * planned_overlap_m2 <= rec["overlap_m2"] <= planned_overlap_m2 + 1.0 * swaths
    # the dose map shows where: the doubled strip's cells, and only those, are well over the target
    doses = json.loads(rec["swath_doses_json"])
    assert len(doses) == swaths
    assert rec["dose_cells"] > 0 and rec["dose_cells_high"] > 0 and rec["dose_cells_low"] <= 1
    # ... a few bytes a cell, and read back as the cells counted: one swath by about 10 m each
    text = rec["dose_map_geojson"]
    assert len(text) < 40 * rec["dose_cells"] + 400 * len(json.loads(text)["features"])
    rings, dev, why = _off_cells(rec, field.frame)
    assert len(rings) == len(why) == rec["dose_cells"]
    _assert_one_swath_by_about_10_m(rings, plan.params.line_spacing_m)
    centres = shapely.centroid(shapely.polygons(rings))
    assert shapely.distance(field.sprayable, centres).max() < plan.params.swath_m  # laid on the field
    # ... along the swaths themselves: each set of lines has its own grid of cells
    local = [np.column_stack(field.frame.to_local(*np.array(c).T)) for s in sorties for c in s]
    lines = shapely.STRtree([shapely.LineString(c) for c in local])
    on_a_swath = np.array([lines.geometries[lines.nearest(c)].distance(c) < 0.05 for c in centres])
    assert on_a_swath.mean() > 0.9
    high = dev > 15
    assert int(high.sum()) == rec["dose_cells_high"]
    # ... and each says why: the plan sprays it twice
    assert [w for w, h in zip(why, high) if h] == ["overlap"] * int(high.sum())
    assert {w for w, h in zip(why, high) if not h} <= {None}


def test_parts_flown_at_their_own_headings_get_cells_along_their_own_swaths(tmp_path):
    """The tea hill's two parts either side of the stream lie at headings of their own: the dose
    map lays each part's cells along that part's swaths, one swath by about 10 m each."""
    field, plan, sorties, rec = _flown_exactly(tmp_path, name="tan-cuong-tea.geojson")
    headings = plan.params.part_angles_deg
    assert headings is not None and len(set(headings)) == 2
    rings, dev, why = _off_cells(rec, field.frame)
    along = np.array([np.degrees(np.arctan2(*(r[1] - r[0]))) % 180.0 for r in rings])
    nearest = [min(headings, key=lambda h: min(abs(a - h), 180 - abs(a - h))) for a in along]
    # a run of cells is stored as its centre line to 7 decimals of a degree (about 1.1 cm): a run of
    # one 7.5 m cell may turn by 0.1° (0.07° on the tea hill's), a long run by hundredths
    tol = [max(0.05, float(np.degrees(np.arctan2(0.016, np.hypot(*(r[1] - r[0])))))) for r in rings]
    assert all(min(abs(a - h), 180 - abs(a - h)) < t for a, h, t in zip(along, nearest, tol))
    assert set(nearest) == set(headings)
    _assert_one_swath_by_about_10_m(rings, plan.params.line_spacing_m)
    # flown exactly, every cell off the dose is so because of the plan, and says so: over where the
    # plan sprays twice (the inside of a lap's sharp corner too), under where swath ends leave a
    # wedge the plan does not spray
    off = np.abs(dev) > 15
    reasons = [w for w, o in zip(why, off) if o]
    assert set(reasons) == {"overlap", "gap"}
    assert [w for w, d in zip(why, dev) if d < -15] == ["gap"] * int((dev < -15).sum())


def test_a_cell_missed_where_the_pump_stopped_mid_swath_says_so(tmp_path):
    """A sortie that stops its pump in the middle of its longest swath and the next that starts it
    again 3 m further on (a late resume): the cells of that dip are under the dose, and the record says
    the pump stopped and started there; the rest of the field is on the dose."""
    field = fields.load(SAMPLES / "dai-tu-paddies.geojson")[0]
    plan = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15)).to_document()
    sorties = [[tuple(map(tuple, leg.coords)) for leg in s.swath_legs] for s in plan.sorties]
    k = max(range(len(sorties[0])), key=lambda i: shapely.LineString(sorties[0][i]).length)
    a, b = (np.array(field.frame.to_local(*np.array(p).T)).T for p in ([sorties[0][k][0]], [sorties[0][k][-1]]))
    length = float(np.hypot(*(b - a).ravel()))
    u = (b - a) / length
    # in the middle of a cell (cut evenly along the run, about 10 m each: dosemap.py), not astride two
    cells = max(1, round(length / 10.0))
    centre = (cells // 2 + 0.5) * length / cells
    stop, go = (np.array(field.frame.to_wgs84(*(a + d * u).T)).ravel() for d in (centre - 1.5, centre + 1.5))
    first, rest = sorties[0][: k + 1], sorties[0][k + 1 :]
    first[k] = (first[k][0], tuple(stop))
    resumed = [(tuple(go), sorties[0][k][-1]), *rest]
    *_, rec = _flown_exactly(tmp_path, [first, resumed, *sorties[1:]])
    _, dev, why = _off_cells(rec, field.frame)
    low = dev < -15
    assert low.any()
    # the dip's cells say the pump stopped there; any other cell under the dose is one the plan
    # leaves part of dry (a plot's outermost line drawn in beside its slanted side: swaths.py)
    reasons = [w for w, x in zip(why, low) if x]
    assert "switch" in reasons and set(reasons) <= {"switch", "gap"}


def test_a_dose_map_of_one_polygon_per_cell_still_reads():
    """Records made before the bands encoding keep their polygons (and their hashes)."""
    frame = fields.LocalFrame.for_lonlat(105.73, 21.70)
    ring = np.array([[0, 0], [10, 0], [10, 4], [0, 4], [0, 0]], float)
    lon, lat = frame.to_wgs84(ring[:, 0], ring[:, 1])
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in zip(lon, lat)]]},
        "properties": {"dose_l_ha": 16.5, "deviation_pct": 10.0},
    }
    rings, doses = read_dose_map(json.dumps({"type": "FeatureCollection", "features": [feature]}), frame)
    assert doses.tolist() == [16.5] and shapely.Polygon(rings[0]).area == pytest.approx(40, rel=1e-6)


def test_records_made_before_the_dose_map_keep_their_hashes():
    """Schema v4 added the dose-map columns: empty, they are left out of the hashed text."""
    from telemetry.ingest.schema import DOSE_COLUMNS, RECORD_COLUMNS_V1
    from telemetry.records.chain import canonical, record_hash

    old = {c: None for c in RECORD_COLUMNS_V1} | {"job_id": "j1", "cooperative_id": "htx", "chain_seq": 1}
    migrated = old | {c: None for c in DOSE_COLUMNS}
    assert canonical(migrated) == canonical(old) and "dose_map" not in canonical(old)
    assert record_hash(migrated, None) == record_hash(old, None)
    assert '"dose_cells":3' in canonical(migrated | {"dose_cells": 3})


def _fly(plan_dir: Path, vehicle: str, db: Path) -> dict:
    plan = load_plan(plan_dir)
    if vehicle == "sitl":
        handle = sim.start_sitl(speedup=20.0, **sim.sitl_for_plan(plan))
    else:
        handle = sim.start_sim(**sim.plan_settings(plan), speedup=60.0, boot_delay_s=3.0, max_wall_hz=400.0)
    with handle:
        done = subprocess.run(
            # the public fields name no cooperative: the record needs one
            [
                *AGRODRONE,
                "fly",
                str(plan_dir),
                "--connect",
                handle.url,
                "--db",
                str(db),
                "--yes",
                "--cooperative",
                "htx-t",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return list_records(open_db(db))[-1]


@pytest.mark.slow
def test_every_sample_field_flown_on_the_simulator_meets_the_targets(tmp_path):
    """Every sample field planned and flown whole by `agrodrone fly`, three at a time (each
    simulator mostly waits for its clock), then each record checked against the targets."""
    plans = {name: _plan(SAMPLES / name, tmp_path / name.replace("/", "-")) for name in FIELDS}
    with ThreadPoolExecutor(max_workers=3) as pool:
        records = dict(zip(plans, pool.map(lambda n: _fly(plans[n], "sim", plans[n] / "sim.db"), plans)))
    missed = [f"{name}: {line}" for name, rec in records.items() for line in check_targets(rec, plans[name])]
    assert not missed, "\n".join(missed)
    # ... and the issue's own coverage and dose on every one: the tea hill, the closest, flew 99.09 %
    # and +2.79 % since the lines are laid 5 cm closer than the swath (98.90 % before: the seams
    # between swaths flown in opposite directions)
    off = {n: (r["coverage_pct"], r["dose_deviation_pct"]) for n, r in records.items()}
    assert all(c >= 99.0 and abs(d) <= 3.0 for c, d in off.values()), off
    # the 0.5 % outside the field wherever the plan keeps inside it: every sample field since
    # each paddy's lines are fitted to it (0.36 % flown; 2.1 % when lines were shared across the bunds,
    # tests/test_plot_fit.py). Swaths start against an edge lap, not the field's edge, where
    # AC_Sprayer's 1/3 s beat sprayed the Hà Châu strip's road (0.71 % before, now 0.13 %)
    for name, rec in records.items():
        plan = load_plan(plans[name])
        if (plan.metrics.outside_pct or 0.0) <= OUTSIDE_MAX_PCT:
            assert 100.0 * rec["outside_field_m2"] / rec["area_m2"] <= OUTSIDE_MAX_PCT, name
        else:  # ... and where a plan sprays the bunds between its plots, past the job's edge
            geo = job_geometry(rec, plan, None)
            assert 100.0 * (geo.outside.area - geo.between.area) / rec["area_m2"] <= OUTSIDE_MAX_PCT, name
    # the pump stops at the end of a long swath, not the copter's overrun past it (0.4 m from 5 m/s)
    offs = [x for name in plans for x in pump_switches_m(plans[name] / "sim.db", plans[name], "off")]
    assert len(offs) > 100 and abs(float(np.median(offs))) <= PUMP_AT_SWITCH_M
    # ... and starts at a swath's start, over little ground: the copter crosses it slowly, 3 m out of
    # its turn (planner/leads.py), where AC_Sprayer's 1/3 s beat spreads it over 0.2 m, not 0.4 m
    ons = [x for name in plans for x in pump_switches_m(plans[name] / "sim.db", plans[name], "on")]
    assert len(ons) > 200 and abs(float(np.median(ons))) <= PUMP_AT_SWITCH_M
    assert float(np.subtract(*np.percentile(ons, [75, 25]))) <= PUMP_ON_SPREAD_M
    # past an edge lap's sharp corners the copter flies on the lap, not 0.3 m outside it as it
    # swung when the mission had the corners where the plan has them (missions/corners.py)
    swings = [x for name in plans for x in swing_past_corners_m(plans[name] / "sim.db", plans[name])]
    assert len(swings) >= 8 and abs(float(np.median(swings))) <= SWING_WITHIN_M


def test_the_lap_round_a_pond_is_sprayed_where_the_copter_crawls(tmp_path):
    """The lap round a round no-spray buffer follows its exact offset (a chord would come closer
    to the zone), a leg a metre long; AC_WPNav crawls along it under 1 m/s, where ArduPilot's
    default SPRAY_SPEED_MIN stopped the pump and left most of the ring dry (93 % coverage).
    The plan's SPRAY_SPEED_MIN lets the pump follow the copter's speed down instead."""
    frame = fields.LocalFrame.for_lonlat(105.80, 21.60)
    x0, y0 = frame.to_local(105.80, 21.60)

    def wgs84(geom) -> dict:
        return json.loads(shapely.to_geojson(frame.geom_to_wgs84(geom)))

    pond = shapely.Point(x0 + 35, y0 + 25)
    field_file = tmp_path / "pond.geojson"
    field_file.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kind": "field", "id": "pond-plot", "crop": "rice", "cooperative": "htx-t"},
                        "geometry": wgs84(shapely.box(x0, y0, x0 + 70, y0 + 50)),
                    },
                    {"type": "Feature", "properties": {"kind": "no_spray", "buffer_m": 8}, "geometry": wgs84(pond)},
                ],
            }
        )
    )
    plan_dir = _plan(field_file, tmp_path / "plan")
    plan = load_plan(plan_dir)
    legs = [
        np.hypot(*np.diff(frame.to_local(*np.array(leg.coords, float).T), axis=1))
        for s in plan.sorties
        for leg in s.swath_legs
    ]
    assert max(len(d) for d in legs) > 30 and min(float(d.min()) for d in legs if len(d) > 30) < 1.5  # the exact ring
    rec = _fly(plan_dir, "sim", tmp_path / "sim.db")
    # 98.4-98.6 % flown (the plan 99.3 %) since the simulator's copter feels drag and swings out of
    # the ring's corners; 93 % with the pump stopping below 1 m/s
    assert rec["coverage_pct"] >= COVERAGE_MIN_PCT and rec["no_spray_m2"] == 0
    assert not check_targets(rec, plan_dir)


def _buffer_lap_sortie(plan) -> int:
    """The sortie that flies the most lap within 3 m of a no-spray buffer."""
    frame, zones = plan.field.frame, plan.field.keepout_local.buffer(3.0)

    def near(sortie) -> float:
        laps = [np.column_stack(frame.to_local(*np.array(l.coords, float).T)) for l in sortie.swath_legs]
        return sum(shapely.LineString(c).intersection(zones).length for c in laps if len(c) > 2)

    return max(plan.sorties, key=near).index


@pytest.mark.sitl
@pytest.mark.slow
def test_a_buffered_field_flown_on_sitl_meets_the_targets(tmp_path):
    """The paddies are flown whole on SITL, by two drones at once, against the same targets in
    tests/test_fleet_fly.py. Here Cổ Lũng's first sortie, and the one with its lap along the canal
    buffer, with the sharp corner ArduCopter overshot into the buffer (2.8 m²) before the lap's
    corners beside a buffer were told early (missions/corners.py); only those two: CI time."""
    plan_dir = _plan(SAMPLES / "co-lung-rice-block.geojson", tmp_path / "plan")
    plan = load_plan(plan_dir)
    sorties = {1, _buffer_lap_sortie(plan)}
    if len(sorties) < 2:  # the first sortie is the one along the buffer: fly the next one too
        sorties.add(2)
    replace(plan, sorties=[s for s in plan.sorties if s.index in sorties]).write(plan_dir)
    rec = _fly(plan_dir, "sitl", tmp_path / "sitl.db")
    missed = check_targets(rec, plan_dir, whole=False)
    assert not missed, "\n".join(missed)
    # ArduCopter's copter overruns a long swath's end by 0.4 m braking from 5 m/s; the mission's
    # pump-off waypoint is that much short of the end (planner/dose.py), so the pump stops at it
    offs = pump_switches_m(tmp_path / "sitl.db", plan_dir, "off")
    assert len(offs) >= 5 and abs(float(np.median(offs))) <= PUMP_AT_SWITCH_M
    # ... and starts close to a swath's start: here a sortie has only some ten swath starts, so
    # the check is how far from the start half of them are. On all 92 of Cổ Lũng's on SITL 0.11 m;
    # a pump switched on at the start, not its lag early, starts 0.5 m late. Since the pump starts
    # a sixth of a beat early where a lap precedes the swath (planner/leads.py), among 10 of the 92
    # half are further than 0.2 m one time in 8 (this check failed so in CI), than 0.3 m one time
    # in 10,000 or fewer (bootstrap of the bench's flights on SITL and the simulator)
    ons = pump_switches_m(tmp_path / "sitl.db", plan_dir, "on")
    assert len(ons) >= 5 and float(np.median(np.abs(ons))) <= PUMP_ON_WITHIN_M
    # past the lap's six sharp corners the copter flies on the lap (0.02-0.07 m off it on SITL),
    # not 0.3 m outside it as it did before the mission told them early (missions/corners.py)
    swings = swing_past_corners_m(tmp_path / "sitl.db", plan_dir)
    assert len(swings) >= 4 and abs(float(np.median(swings))) <= SWING_WITHIN_M


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
