"""Lap corners told early (missions/corners.py): the plan keeps each edge lap where it should
be sprayed, and the mission moves a sharp corner's waypoint back along the leg before it, so
that ArduCopter's swing out of the turn lands the copter on the lap, not off a hole's edge,
outside the field or in a buffer."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

import fields
import missions
import planner
from missions.corners import FULL_SWING_LEG_M, OVERSHOOT_M, SETTLE_M, SWING_M, swing_compensated
from missions.items import NAV_WAYPOINT
from missions.plan_input import plan_document

W = 5.0


def _bend(deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lap's leg that bends `deg` to the right at (100, 0) into a 60 m leg: the leg, the bend
    and the next leg's end."""
    bend = np.radians(deg)
    here = np.array([100.0, 0.0])
    nxt = here + 60 * np.array([np.cos(-bend), np.sin(-bend)])
    return np.array([[0, 0], here, nxt, [nxt[0], -40]], dtype=float), here, nxt


def _beside(here: np.ndarray, nxt: np.ndarray, side: float) -> shapely.Polygon:
    """A buffer 0.1 m beyond the spray of the leg here -> nxt, on its left (side 1) or right (-1)."""
    return shapely.LineString([here, nxt]).offset_curve(side * (W / 2 + 0.1)).buffer(3.0 * side, single_sided=True)


def test_a_sharp_corner_is_told_early_and_the_next_leg_rejoins_its_line():
    # ArduCopter 4.7 SITL swung 0.40-0.44 m outside the lap 1-4 m past a 66-94° corner after a
    # long leg and took some 20 m to settle: the corner's waypoint comes SWING_M back along the
    # leg before it, and a waypoint SETTLE_M along the next leg is back on its line
    leg = np.array([[0, 0], [100, 0], [100, 60], [0, 60], [0, 20]], dtype=float)
    pts, at = swing_compensated(leg, W, None)
    s = SWING_M
    want = [[0, 0], [100 - s, 0], [100, 20], [100, 60 - s], [80, 60], [s, 60], [0, 40], [0, 20]]
    np.testing.assert_allclose(pts, want, atol=1e-9)
    np.testing.assert_allclose(at, [0, 1 - s / 100, 1 + 20 / 60, 2 - s / 60, 2.2, 3 - s / 100, 3.5, 4], atol=1e-9)
    # after a leg shorter than FULL_SWING_LEG_M the copter is slower at the corner and swings out
    # less (0.15 m past a 91° corner after 6 m): it is told that much less early. A next leg too
    # short to settle on gets no waypoint of its own
    short = np.array([[0, 0], [100, 0], [100, 10], [80, 10]], dtype=float)
    back = s * 10 / FULL_SWING_LEG_M
    np.testing.assert_allclose(swing_compensated(short, W, None)[0], [[0, 0], [100 - s, 0], [100, 10 - back], [80, 10]])
    # a bend under 30° is flown as it is (it swings out 0.1 m and cuts its corner 0.2-0.4 m)
    gentle, here, _ = _bend(25.0)
    assert swing_compensated(gentle, W, None)[0][1].tolist() == here.tolist()


def test_a_bend_before_a_leg_beside_a_buffer_on_its_outside_is_told_early_from_15_degrees():
    # the tea hill's lap bends 17° to the right beside the stream's buffer; braking out of that
    # bend the copter swung 0.1 m towards the buffer on SITL (all of the lap's clearance there).
    # Beside a buffer the corner is told OVERSHOOT_M early, the most ArduCopter swung out
    leg, here, nxt = _bend(17.0)
    pts, _ = swing_compensated(leg, W, _beside(here, nxt, 1.0))
    assert pts[1] == pytest.approx(here - [OVERSHOOT_M, 0.0])
    assert pts[2] == pytest.approx(here + SETTLE_M * (nxt - here) / 60)
    # a 10° bend there is left alone
    leg, here, nxt = _bend(10.0)
    assert swing_compensated(leg, W, _beside(here, nxt, 1.0))[0][1].tolist() == here.tolist()


def test_a_corner_with_a_buffer_on_the_inside_of_the_turn_stays_where_it_is():
    # told early, the lap would run towards the buffer, and a copter that swung out less than
    # ArduCopter's would spray it
    leg, here, nxt = _bend(90.0)
    assert swing_compensated(leg, W, _beside(here, nxt, -1.0))[0][1].tolist() == here.tolist()
    # a buffer far from the next leg does not hold it back
    assert swing_compensated(leg, W, box(0, 50, 10, 60))[0][1] == pytest.approx(here - [SWING_M, 0.0])


def test_the_tea_hills_laps_are_flown_with_their_corners_told_early(samples):
    # round the hole (a 20 m square) the lap left a strip up to 0.35 m wide dry along the hole's
    # edge past each corner, on SITL and on the simulator alike
    field = fields.load(samples / "tan-cuong-tea.geojson")[0]
    plan = planner.plan(field, planner.params_for("generic-10l-hex", dose_l_ha=15)).to_dict()
    doc = plan_document(plan)
    frame, keepout, w = doc.field.frame, doc.field.keepout_local, float(doc.params.swath_m)
    hole = shapely.Polygon(next(r for p in shapely.get_parts(field.boundary) for r in p.interiors))
    moved = 0
    for k in missions.sortie_numbers(plan):
        ms = missions.build_mission(plan, k)
        legs = next(s for s in plan["sorties"] if s["index"] == k)["legs"]
        for ref in ms.swaths:
            local = np.column_stack(frame.to_local(*np.array(legs[ref.leg]["coords"], dtype=float).T))
            if len(local) <= 2:
                continue
            lap = shapely.LineString(local)
            if lap.distance(hole) < w:  # the plan keeps the lap round the hole where it sprays
                assert lap.distance(hole) == pytest.approx(w / 2, abs=0.01)
                assert lap.hausdorff_distance(hole.exterior) == pytest.approx(w / 2 * 2**0.5, abs=0.05)
            want, _ = swing_compensated(local, w, keepout)
            wps = [it for it in ms.mission[ref.start_seq : ref.end_seq + 1] if it.command == NAV_WAYPOINT]
            got = np.column_stack(frame.to_local([it.lon for it in wps], [it.lat for it in wps]))
            # WP(start) may be the early pump-on point and WP(end) is the pump-off one; between
            # them, the corners told early, to the centimetre (1e-7 degrees)
            assert len(got) == len(want) and np.abs(got[1:-1] - want[1:-1]).max() < 0.02
            moved += sum(np.hypot(*(local - p).T).min() > 0.1 for p in want[1:-1])
    assert moved >= 8  # the hole's four corners, each moved and with a waypoint where it settles, and more
