"""The ArduPilot parameters a spray plan needs (AC_Sprayer, waypoint speed, fence).

SPRAY_PUMP_RATE is the pump output in % of full range at 1 m/s, so the pump follows
ground speed and the dose holds through accelerations (DESIGN.md):
    SPRAY_PUMP_RATE = 100 * D * w * 0.006 / Q_max
The pump is driven by a servo output whose SERVOn_FUNCTION is 22 (sprayer pump).
Default output: SERVO9 (the first AUX output on a Pixhawk-class board, free on a
quad or hexa whose motors use SERVO1-8); pick another with `pump_servo`.
WPNAV_SPEED is set to the spray speed: any leg without its own DO_CHANGE_SPEED is
then flown at the slower, safer speed (and the pump follows speed anyway).
"""

from __future__ import annotations

import math
from gettext import gettext as _

from missions.errors import MissionError
from missions.plan_input import plan_document, plan_errors
from planner.document import DocSprayer, PlanDocument, need
from planner.dose import DEFAULT_SPEED_MIN_CM_S, pump_rate_pct

PUMP_FUNCTION = 22  # SERVOn_FUNCTION: sprayer pump (23 is the spinner)

# MAV_PARAM_TYPE of each parameter written by this module (ArduPilot's own types).
PARAM_TYPES: dict[str, int] = {
    "SPRAY_ENABLE": 2,
    "SPRAY_PUMP_RATE": 9,
    "SPRAY_SPEED_MIN": 4,
    "SPRAY_PUMP_MIN": 2,
    "WPNAV_SPEED": 9,
    "FENCE_ENABLE": 2,
    "FENCE_TYPE": 2,
    "FENCE_ACTION": 2,
    "FENCE_ALT_MAX": 9,
    "RTL_ALT": 4,
}


def servo_function_param(servo: int) -> str:
    if not 1 <= servo <= 32:
        raise MissionError(f"pump servo must be 1..32, got {servo}")
    return f"SERVO{servo}_FUNCTION"


SWATH_END_RADIUS_CM = 50


def vehicle_params(
    plan: PlanDocument | dict, *, pump_servo: int = 9, fence: bool = False, fence_alt_max_m: float = 30.0
) -> dict[str, float]:
    """Parameter name -> value, in the order they must be set (SPRAY_ENABLE first:
    the other SPRAY_* parameters only exist once the sprayer is enabled)."""
    doc = plan_document(plan)
    sprayer = doc.sprayer or DocSprayer()
    rate = None if sprayer.pump_rate_pct is None else float(sprayer.pump_rate_pct)
    if rate is None:
        with plan_errors():
            q_max = need(doc.pump_max_l_min, "drone", "pump_max_l_min")
        rate = pump_rate_pct(doc.params.dose_l_ha, doc.params.line_spacing_m, q_max)
    if not 0 < rate <= 100:
        raise MissionError(f"plan: SPRAY_PUMP_RATE {rate:.1f} % is outside 0..100 (pump too small for the dose)")
    speed_min = sprayer.speed_min_cm_s
    out: dict[str, float] = {
        "SPRAY_ENABLE": 1,
        "SPRAY_PUMP_RATE": round(rate, 3),
        "SPRAY_SPEED_MIN": int(round(DEFAULT_SPEED_MIN_CM_S if speed_min is None else speed_min)),
        "SPRAY_PUMP_MIN": int(round(sprayer.pump_min_pct or 0)),
        servo_function_param(pump_servo): PUMP_FUNCTION,
        "WPNAV_SPEED": round(float(doc.spray_speed_m_s) * 100.0, 1),
        # AP_Mission runs DO_SPRAYER when the waypoint is "reached", i.e. within this radius:
        # the default 2 m leaves 2 m dry at each end of every swath, 50 cm leaves little.
        "WPNAV_RADIUS": SWATH_END_RADIUS_CM,
    }
    top = highest_m(doc)
    if top is not None:  # over a hill, a failsafe RTL must clear the highest ground on its way home
        rtl_cm = int(math.ceil(max(RTL_MIN_CM / 100.0, top + RTL_CLEAR_M) * 100.0))
        if rtl_cm > RTL_MAX_CM:
            raise MissionError(
                _(
                    "plan: the ground rises {top:.0f} m above the reload point; RTL cannot clear it (RTL_ALT {max} m)"
                ).format(top=top, max=RTL_MAX_CM // 100)
            )
        out["RTL_ALT"] = rtl_cm
        fence_alt_max_m = max(fence_alt_max_m, top + RTL_CLEAR_M + 5.0)
    if fence:
        out.update({"FENCE_ENABLE": 1, "FENCE_TYPE": 5, "FENCE_ACTION": 1, "FENCE_ALT_MAX": float(fence_alt_max_m)})
    return out


RTL_MIN_CM = 1500  # ArduCopter's default RTL_ALT
RTL_MAX_CM = 8000  # RTL_ALT's upper limit in ArduCopter
RTL_CLEAR_M = 5.0  # above the highest altitude the plan flies (itself spray height above the ground)


def highest_m(doc: PlanDocument) -> float | None:
    """The highest altitude above home a terrain plan flies (None for a flat plan)."""
    if doc.terrain is None:
        return None
    return max((max(l.alts_m) for s in doc.sorties for l in s.legs if l.alts_m), default=doc.params.height_m)


def param_type(name: str) -> int:
    """MAV_PARAM_TYPE for PARAM_SET (ArduPilot converts to its own type anyway)."""
    if name.startswith("SERVO") and name.endswith("_FUNCTION"):
        return 4
    return PARAM_TYPES.get(name, 9)
