"""Dose, flow, pump % and pump PWM: the one place for the DESIGN.md sprayer formulas.

The planner chooses the flow and SPRAY_PUMP_RATE from them, missions writes that rate
to the vehicle, and the live display and the spray record turn the pump's PWM back into
litres with `pump_fraction`: every package reads the same arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from planner.errors import PlanError
from planner.params import PlanParams

FLOW_FACTOR = 0.006  # L/min per (L/ha * m * m/s)
# How late the pump starts after the waypoint whose DO_SPRAYER 1 switches it on, for a copter
# coming in on a straight lead-in. AC_Sprayer runs at 3 Hz and waits 0.1 s above SPRAY_SPEED_MIN
# (1/3 to 2/3 s), but AC_WPNav declares a pass-through waypoint reached before the copter is there;
# measured on ArduCopter 4.7 SITL (bench/spray_quality.py, the pump's first on-sample against the
# swath start, at the speed the copter crosses it: planner/leads.py) the net lag is 0.43 s. The
# mission switches the pump on that much early (planner/leads.py pump_on_early_m).
PUMP_ON_LAG_S = 0.43
# How far past the waypoint whose DO_SPRAYER 0 switches it off the copter still runs when the pump
# stops. ArduCopter's position controller holds the lean that drag needs at spray speed in its
# velocity integral (PSC_VELXY_I; drag is not in its feed-forward) and lets it go only slowly, so a
# copter braking into a swath end runs ahead of AC_WPNav's target, and the target is what reaches
# the waypoint. Measured on ArduCopter 4.7 SITL (bench/spray_quality.py, the pump's last on-sample
# against the swath end, 230 swath ends): 0.32 m at 5 m/s after 30 m or more of straight swath,
# 0.20 m after 20-25 m, 0.06 m after 10-15 m. The simulator's drag (sim/motion.py) gives the same,
# and 0.16 m at 3 m/s and 0.60 m at 7 m/s: about this many metres per (m/s)^2 of spray speed.
# That was with 7 m run-outs; with the 3 m ones of planner/leads.py the target brakes harder for
# the turn 3 m on and the copter runs 0.06 m further (SITL, 298 long swaths' ends): 0.385 m at 5 m/s.
# On shorter swaths, flown straight for T = length / speed, it is less: from the swath's end as
# flown on SITL with these 3 m lead-ins and run-outs (bench/spray_quality.py, 7 fields, 400 ends),
# 0.15 m after 14-18 m, 0.22 m after 18-22 m, 0.26 m after 22-26 m, 0.35 m after 26-30 m; 0.10 m
# after the Hà Châu strip's 13-14 m swaths (a pump-off waypoint earlier on a short swath is
# reached slower, so the overrun shrinks with it): a share of the full overrun growing from 1.5 s
# to 6 s of T.
PUMP_OFF_OVERRUN_M_PER_M2_S2 = 0.0154
OVERRUN_FROM_S, OVERRUN_FULL_S = 1.5, 6.0


def pump_off_early_m(speed_m_s: float, straight_m: float) -> float:
    """How far before a swath's end the mission switches the pump off so that it stops at the
    end: the copter's overrun at `speed_m_s`, which grows with the drag it carried (the square of
    the speed) once it has flown straight for long enough (from OVERRUN_FROM_S to OVERRUN_FULL_S of
    the `straight_m` at that speed) for the velocity integral to hold that drag."""
    if speed_m_s <= 0:
        return 0.0
    held = min(1.0, max(0.0, (straight_m / speed_m_s - OVERRUN_FROM_S) / (OVERRUN_FULL_S - OVERRUN_FROM_S)))
    return PUMP_OFF_OVERRUN_M_PER_M2_S2 * speed_m_s**2 * held


def flow_l_min(dose_l_ha: float, spacing_m: float, speed_m_s: float) -> float:
    """Q = D * w * v * 0.006 (L/min), with w the spacing of the swath lines: each line sprays the
    strip between its neighbours (the swath a little wider, PlanParams.line_spacing_m)."""
    return dose_l_ha * spacing_m * speed_m_s * FLOW_FACTOR


def pump_rate_pct(dose_l_ha: float, spacing_m: float, pump_max_l_min: float) -> float:
    """SPRAY_PUMP_RATE: pump output in % at 1 m/s that gives the dose at any ground speed."""
    return 100.0 * dose_l_ha * spacing_m * FLOW_FACTOR / pump_max_l_min


PWM_OFF, PWM_FULL = 1000, 2000  # the pump ESC's range (SERVOn_MIN/MAX as SIM_Sprayer reads it)


def pump_fraction(pwm, pwm_off: float = PWM_OFF, pwm_full: float = PWM_FULL):
    """The pump's output 0..1 for a PWM value (or a numpy array of them); flow is this
    times the pump's maximum L/min."""
    span = float(pwm_full - pwm_off)
    if span <= 0:
        return 0.0 * pwm
    frac = (pwm - pwm_off) / span
    return min(1.0, max(0.0, frac)) if isinstance(frac, (int, float)) else frac.clip(0.0, 1.0)


def litres(length_m: float, spacing_m: float, dose_l_ha: float) -> float:
    """Tank mix sprayed along `length_m` of swath whose lines are `spacing_m` apart."""
    return length_m * spacing_m * dose_l_ha / 10_000.0


@dataclass(frozen=True)
class Sprayer:
    """The pump settings for a plan; `speed_m_s` is the speed actually planned."""

    flow_l_min: float
    speed_m_s: float
    speed_capped: bool
    note: str
    pump_rate_pct: float
    pump_max_l_min: float
    speed_min_cm_s: float
    pump_min_pct: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# AC_Sprayer drives the pump at SPRAY_PUMP_RATE % per m/s of ground speed, so the dose holds at any
# speed while the pump follows it. Below about this share of its range a spray drone's pump no
# longer turns steadily; SPRAY_SPEED_MIN is set where the demand falls to it (or to SPRAY_PUMP_MIN,
# below which the floor would over-dose). ArduPilot's default, 1 m/s, stopped the pump wherever the
# copter slowed under it with the pump meant to run: the tea hill's lap round the stream buffer's
# bend crawls at 0.6 m/s for 6 s and was left dry (27 m², bench/spray_quality.py).
PUMP_STEADY_PCT = 5.0
# ArduPilot's default SPRAY_SPEED_MIN: the value from the pump never exceeds it, and no plan sprays
# slower than it (1 m/s), whatever speed the pump may follow a slowing copter down to
DEFAULT_SPEED_MIN_CM_S = 100.0


def speed_min_cm_s(rate_pct: float, pump_min_pct: float) -> float:
    """SPRAY_SPEED_MIN from the pump: the ground speed (cm/s, whole) at which the pump's demand
    falls to PUMP_STEADY_PCT or SPRAY_PUMP_MIN, at most ArduPilot's default."""
    floor = max(PUMP_STEADY_PCT, pump_min_pct)
    return float(min(DEFAULT_SPEED_MIN_CM_S, math.ceil(100.0 * floor / max(rate_pct, 1e-9))))


def sprayer_for(p: PlanParams) -> Sprayer:
    """Flow at the asked speed; if the pump cannot give it, the speed is lowered, never the dose."""
    speed = min(p.speed_m_s, p.max_speed_m_s)
    note = ""
    if speed < p.speed_m_s:
        note = f"speed lowered from {p.speed_m_s:g} to the drone's maximum {speed:g} m/s"
    spacing = p.line_spacing_m
    q = flow_l_min(p.dose_l_ha, spacing, speed)
    capped = speed < p.speed_m_s
    pump_limited = q > p.pump_max_l_min
    if pump_limited:
        v = p.pump_max_l_min / (p.dose_l_ha * spacing * FLOW_FACTOR)
        v = math.floor(v * 100.0) / 100.0  # a round speed that stays within the pump
        note = (note + "; " if note else "") + (
            f"pump gives at most {p.pump_max_l_min:g} L/min; {p.dose_l_ha:g} L/ha on a {p.swath_m:g} m swath "
            f"needs {q:.2f} L/min at {speed:g} m/s, so the speed is lowered to {v:.2f} m/s"
        )
        speed, capped = v, True
        q = flow_l_min(p.dose_l_ha, spacing, speed)
    rate = pump_rate_pct(p.dose_l_ha, spacing, p.pump_max_l_min)
    slowest = speed_min_cm_s(rate, p.pump_min_pct) if p.speed_min_cm_s is None else p.speed_min_cm_s
    least = max(slowest, DEFAULT_SPEED_MIN_CM_S)
    if speed * 100 < least:
        # below SPRAY_SPEED_MIN the pump stops; below 1 m/s no spray drone sprays a field
        if pump_limited:
            raise PlanError(
                f"pump too small: {p.dose_l_ha:g} L/ha on a {p.swath_m:g} m swath needs a speed of {speed:.2f} m/s, "
                f"below the sprayer's minimum {least / 100:g} m/s; lower the dose or the swath"
            )
        why = "(SPRAY_SPEED_MIN), where the pump stops" if slowest >= least else "(spray drones spray at 1 m/s or more)"
        raise PlanError(f"speed {speed:g} m/s is below the sprayer's minimum {least / 100:g} m/s {why}")
    return Sprayer(
        flow_l_min=q,
        speed_m_s=speed,
        speed_capped=capped,
        note=note,
        pump_rate_pct=rate,
        pump_max_l_min=p.pump_max_l_min,
        speed_min_cm_s=slowest,
        pump_min_pct=p.pump_min_pct,
    )
