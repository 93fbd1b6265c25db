"""Dose, flow and pump settings against values worked out by hand (DESIGN.md formulas)."""

from __future__ import annotations

import pytest

import planner
from planner import PlanError
from planner.dose import litres


def test_flow_formula_by_hand():
    # 15 L/ha * 5 m * 5 m/s * 0.006 = 2.25 L/min
    assert planner.flow_l_min(15, 5, 5) == pytest.approx(2.25)
    # 20 L/ha * 6 m * 6 m/s * 0.006 = 4.32 L/min
    assert planner.flow_l_min(20, 6, 6) == pytest.approx(4.32)


def test_pump_rate_by_hand():
    # SPRAY_PUMP_RATE = 100 * 15 * 4 * 0.006 / 2.4 = 15 %
    assert planner.pump_rate_pct(15, 4, 2.4) == pytest.approx(15.0)
    # 100 * 20 * 11 * 0.006 / 12 = 11 %
    assert planner.pump_rate_pct(20, 11, 12) == pytest.approx(11.0)


def test_sprayer_keeps_speed_when_pump_is_big_enough():
    s = planner.sprayer_for(planner.params_for("generic-10l-hex", swath_m=5.0, spacing_m=5.0))
    assert not s.speed_capped and s.note == ""
    assert s.speed_m_s == 5.0
    assert s.flow_l_min == pytest.approx(2.25)
    assert s.pump_rate_pct == pytest.approx(100 * 15 * 5 * 0.006 / 2.4)


def test_the_flow_is_set_for_the_line_spacing():
    """Lines laid 5 cm closer than the 5 m swath each spray a 4.95 m strip: the flow is cut to match,
    so the margins the neighbours share do not add to the dose."""
    p = planner.params_for("generic-10l-hex", swath_m=5.0)
    assert p.line_spacing_m == pytest.approx(4.95)
    s = planner.sprayer_for(p)
    assert s.flow_l_min == pytest.approx(15 * 4.95 * 5 * 0.006)
    assert s.pump_rate_pct == pytest.approx(100 * 15 * 4.95 * 0.006 / 2.4)
    assert litres(100.0, p.line_spacing_m, 15) == pytest.approx(100 * 4.95 * 15 / 10_000)


@pytest.mark.parametrize("spacing", [2.4, 5.01, float("nan")])
def test_a_line_spacing_outside_half_the_swath_to_the_swath_is_refused(spacing):
    with pytest.raises(PlanError, match="line spacing"):
        planner.params_for("generic-10l-hex", swath_m=5.0, spacing_m=spacing)


def test_speed_is_lowered_when_pump_is_too_small_never_the_dose():
    # 30 L/ha * 5 m * 5 m/s * 0.006 = 4.5 L/min > 2.4 L/min: v = 2.4 / (30*5*0.006) = 2.666.. -> 2.66
    p = planner.params_for("generic-10l-hex", dose_l_ha=30, swath_m=5.0, spacing_m=5.0, speed_m_s=5.0)
    s = planner.sprayer_for(p)
    assert s.speed_capped
    assert s.speed_m_s == pytest.approx(2.66)
    assert s.flow_l_min == pytest.approx(30 * 5 * 2.66 * 0.006)
    assert s.flow_l_min <= 2.4
    assert "2.4 L/min" in s.note and "2.66" in s.note
    # the pump rate still gives the asked dose: rate% * Qmax / 100 at 1 m/s = D*w*0.006
    assert s.pump_rate_pct / 100 * 2.4 == pytest.approx(30 * 5 * 0.006)


def test_pump_far_too_small_is_refused():
    with pytest.raises(PlanError, match="pump too small"):
        planner.sprayer_for(planner.params_for("generic-10l-hex", dose_l_ha=200, swath_m=10))


def test_asked_speed_below_spray_speed_min_is_refused_as_such():
    # 15 L/ha * 4 m at 0.5 m/s needs 0.18 L/min: the pump is ample, the speed is what is wrong
    with pytest.raises(PlanError, match=r"speed 0.5 m/s is below the sprayer's minimum 1 m/s") as exc:
        planner.sprayer_for(planner.params_for("generic-10l-hex", speed_m_s=0.5))
    assert "pump" not in str(exc.value).split("(")[0]


def test_the_pump_follows_the_copter_down_to_its_lowest_steady_output():
    """SPRAY_SPEED_MIN sits where AC_Sprayer's demand (SPRAY_PUMP_RATE % per m/s) falls to 5 % of
    the pump's range, or to SPRAY_PUMP_MIN (under it the floor would over-dose), at most 1 m/s."""
    s = planner.sprayer_for(planner.params_for("generic-10l-hex", spacing_m=4.0))
    assert s.pump_rate_pct == pytest.approx(15.0) and s.speed_min_cm_s == 34  # 34 cm/s x 15 %/(m/s) = 5.1 %
    floored = planner.sprayer_for(planner.params_for("generic-10l-hex", spacing_m=4.0, pump_min_pct=10))
    assert floored.speed_min_cm_s == 67  # 0.67 m/s x 15 % = 10 %, SPRAY_PUMP_MIN
    big_pump = planner.sprayer_for(planner.params_for("generic-10l-hex", pump_max_l_min=40))
    assert big_pump.pump_rate_pct < 1 and big_pump.speed_min_cm_s == 100  # never above ArduPilot's default
    assert planner.sprayer_for(planner.params_for("generic-10l-hex", speed_min_cm_s=80)).speed_min_cm_s == 80
    # the plan still sprays at 1 m/s or more, whatever the pump may follow
    with pytest.raises(PlanError, match=r"speed 0.8 m/s is below the sprayer's minimum 1 m/s \(spray drones"):
        planner.sprayer_for(planner.params_for("generic-10l-hex", speed_m_s=0.8))


def test_presets_come_from_the_data_file():
    table = planner.presets()
    assert {"generic-10l-hex", "spray-20l", "spray-30l", "spray-40l"} <= set(table)
    assert table["generic-10l-hex"]["swath_m"] == 4
    assert all(6 <= table[k]["swath_m"] <= 11 for k in ("spray-20l", "spray-30l", "spray-40l"))
    p = planner.params_for("spray-30l", tank_l=25)
    assert p.tank_l == 25 and p.swath_m == 9 and p.preset == "spray-30l"
    with pytest.raises(PlanError, match="unknown drone preset 'nope'"):
        planner.params_for("nope")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"swath_m": 0}, "swath must be greater than 0"),
        ({"dose_l_ha": -3}, "dose must be greater than 0"),
        ({"speed_m_s": 0}, "speed must be greater than 0"),
        ({"edge_passes": -1}, "edge passes"),
        ({"swath_m": 0.01}, "swath 0.01 m is not a spray drone's: give 1 to 50 m"),
        ({"swath_m": 51}, "swath 51 m is not a spray drone's"),
    ],
)
def test_bad_parameters_are_refused(override, message):
    with pytest.raises(PlanError, match=message):
        planner.params_for(None, **override)
