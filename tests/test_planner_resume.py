"""planner.resume_plan: a sortie cut short resumes where spraying stopped, by a safe way."""

from __future__ import annotations

import pytest
import shapely
from missions_plans import EPSG, ll, make_plan
from shapely.geometry import shape

import missions
from fields import LocalFrame
from missions.items import DO_SPRAYER, deg_to_e7
from planner import PlanError, resume_plan


def _local(coords) -> shapely.LineString:
    return LocalFrame(EPSG).geom_to_local(shapely.LineString(coords))


def test_resumes_exactly_where_the_pump_stopped():
    plan = make_plan(swaths_per_sortie=3, sorties=2)
    legs = plan["sorties"][0]["legs"]
    swath = legs[3]  # the second swath of sortie 1, flown from north to south
    # the pump stopped 30 m into it; the last position logged half a metre off the line
    resumed = resume_plan(plan, 1, 3, tuple(ll(22.5 + 5 + 0.5, 25 + 80 - 30)))
    new_legs = resumed["sorties"][0]["legs"]
    approach, part = new_legs[0], new_legs[1]
    assert approach["kind"] == "transit"
    assert approach["coords"][0] == [plan["reload"]["lon"], plan["reload"]["lat"]]
    assert part["kind"] == "swath" and part["coords"][-1] == swath["coords"][-1]
    assert part["coords"][0] == approach["coords"][-1], "legs stay contiguous"
    assert part["length_m"] == pytest.approx(50.0, abs=0.2)
    assert part["volume_l"] == pytest.approx(0.6 * 50 / 80, rel=0.01)
    assert new_legs[2:] == legs[4:], "the rest of the sortie is unchanged"
    assert resumed["sorties"][0]["volume_l"] == pytest.approx(0.6 * 50 / 80 + 0.6, rel=0.01)
    assert plan["sorties"][0]["legs"][3] == swath, "the plan itself is not touched"
    # its mission: take off, pump off to the breakpoint, then spray from there
    ms = missions.build_mission(resumed, 1)
    first_on = next(i for i, it in enumerate(ms.mission) if it.command == DO_SPRAYER and it.param1 == 1)
    wp = ms.mission[ms.swaths[0].start_seq]
    assert ms.swaths[0].start_seq < first_on
    assert (wp.x, wp.y) == (deg_to_e7(part["coords"][0][1]), deg_to_e7(part["coords"][0][0]))


def test_the_way_back_goes_round_an_obstacle():
    plan = make_plan(swaths_per_sortie=3, sorties=2)
    pole = LocalFrame(EPSG).geom_to_local(shape(plan["field"]["keepout"][0]["geometry"]))
    # swath 5 (sortie 2, leg 5) runs south at x = 47.5; stopping at y = 81.4 puts the pole
    # (x = 35, y = 60) right on the straight line from the reload point
    stop = ll(47.5, 60 * 47.5 / 35)
    assert _local([ll(0, 0), stop]).intersects(pole)
    resumed = resume_plan(plan, 2, 5, tuple(stop))
    approach = resumed["sorties"][1]["legs"][0]
    assert len(approach["coords"]) > 2
    assert not _local(approach["coords"]).intersects(pole)


def test_a_finished_swath_resumes_with_the_next_leg():
    plan = make_plan(swaths_per_sortie=3, sorties=2)
    legs = plan["sorties"][0]["legs"]
    resumed = resume_plan(plan, 1, 3, tuple(legs[3]["coords"][-1]))
    assert resumed["sorties"][0]["legs"][1:] == legs[4:]
    with pytest.raises(PlanError, match="not a swath"):
        resume_plan(plan, 1, 2, None)
    with pytest.raises(PlanError, match="no sortie 9"):
        resume_plan(plan, 9, 1, None)
