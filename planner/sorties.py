"""Sorties: the route cut where the tank (less its reserve) or the battery (less the
reserve for the flight home) runs out.

The cut falls exactly where spraying has to stop, usually in the middle of a swath:
the drone flies back to the reload point, and the next sortie flies out to that same
point of the same swath and carries on, so nothing is left out or sprayed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.dose import litres
from planner.errors import PlanError
from planner.estimates import landing_time, polyline_time, straight_time, takeoff_time
from planner.geometry import split_polyline
from planner.params import PlanParams
from planner.route import Leg
from planner.swaths import MIN_SWATH_M
from planner.transit import TransitPlanner


@dataclass
class Breakpoint:
    """A point on a swath: its number in flying order and the distance from its start."""

    xy: np.ndarray
    swath: int
    offset_m: float


@dataclass
class Sortie:
    index: int
    legs: list[Leg]
    start: Breakpoint
    end: Breakpoint
    volume_l: float = 0.0
    flight_time_s: float = 0.0
    spray_length_m: float = field(init=False, default=0.0)
    transit_length_m: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.spray_length_m = sum(l.length for l in self.legs if l.kind == "swath")
        self.transit_length_m = sum(l.length for l in self.legs if l.kind == "transit")


class _Clock:
    """Flight time bookkeeping for one sortie."""

    def __init__(self, p: PlanParams, spray_speed: float) -> None:
        self.p = p
        self.v = spray_speed

    def leg(self, leg: Leg) -> float:
        if leg.kind == "swath":
            return polyline_time(leg.coords, self.v, self.p.accel_m_s2)
        t = polyline_time(leg.coords, self.p.transit_speed_m_s, self.p.accel_m_s2)
        return t + self.p.turn_s

    def swath_part(self, length: float) -> float:
        return straight_time(length, self.v, self.p.accel_m_s2)


def split_sorties(
    route: list[Leg],
    reload_xy: np.ndarray,
    transit: TransitPlanner,
    p: PlanParams,
    spray_speed: float,
) -> list[Sortie]:
    """Cut the route into sorties that each start and end at the reload point."""
    clock = _Clock(p, spray_speed)
    usable = p.tank_l - p.tank_reserve_l
    budget = p.endurance_s - p.battery_reserve_s
    per_m = litres(1.0, p.swath_m, p.dose_l_ha)
    home_cache: dict[tuple[float, float], tuple[np.ndarray, float]] = {}

    def home_at_least(pt: np.ndarray) -> float:
        """A lower bound of the time home: straight there."""
        d = float(np.hypot(*(reload_xy - pt)))
        return straight_time(d, p.transit_speed_m_s, p.accel_m_s2) + p.turn_s + landing_time(p)

    def fits(t_before: float, pt: np.ndarray) -> bool:
        if t_before + home_at_least(pt) > budget:
            return False
        return t_before + home(pt)[1] <= budget

    def home(pt: np.ndarray) -> tuple[np.ndarray, float]:
        key = (round(float(pt[0]), 3), round(float(pt[1]), 3))
        if key not in home_cache:
            path = transit.path(pt, reload_xy)
            home_cache[key] = (path, clock.leg(Leg("transit", path)) + landing_time(p))
        return home_cache[key]

    # one vectorised check for the way home from every leg end: most are straight
    ends = np.array([l.end for l in route] + [l.start for l in route])
    straight = transit.clear(ends, np.repeat(reload_xy[None, :], len(ends), axis=0))
    for pt in ends[straight]:
        path = np.vstack([pt, reload_xy])
        home_cache[(round(float(pt[0]), 3), round(float(pt[1]), 3))] = (path, clock.leg(Leg("transit", path)) + landing_time(p))
    transit.prefetch(np.vstack([ends[~straight], reload_xy[None, :]]))
    legs = [Leg(l.kind, l.coords.copy(), swath=l.swath, turn=l.turn, offset=l.offset) for l in route]
    sorties: list[Sortie] = []
    i = 0
    while i < len(legs):
        if legs[i].kind == "transit":
            i += 1
            continue
        first = legs[i]
        offset0 = first.offset
        out = transit.path(reload_xy, first.start)
        out_leg = Leg("transit", out)
        t = takeoff_time(p) + clock.leg(out_leg)
        vol = 0.0
        done: list[Leg] = [out_leg]
        start_bp = Breakpoint(first.start.copy(), first.swath, offset0)
        end_bp = start_bp
        while i < len(legs):
            leg = legs[i]
            if leg.kind == "transit":
                nxt = legs[i + 1]
                t_try = t + clock.leg(leg) + clock.swath_part(MIN_SWATH_M)
                if vol + per_m * MIN_SWATH_M > usable or not fits(t_try, nxt.start):
                    break
                done.append(leg)
                t += clock.leg(leg)
                i += 1
                continue
            offset = leg.offset
            length = leg.length
            take = min(length, (usable - vol) / per_m)
            if take < length:
                head_xy = split_polyline(leg.coords, take)[0][-1]
            else:
                head_xy = leg.end
            if not fits(t + clock.swath_part(take), head_xy):
                lo, hi = 0.0, take
                for _ in range(30):
                    mid = (lo + hi) / 2
                    pt = split_polyline(leg.coords, mid)[0][-1]
                    if fits(t + clock.swath_part(mid), pt):
                        lo = mid
                    else:
                        hi = mid
                take = lo
            if take >= length - 1e-6:
                done.append(leg)
                t += clock.leg(leg)
                vol += per_m * length
                end_bp = Breakpoint(leg.end.copy(), leg.swath, offset + length)
                i += 1
                continue
            if take >= MIN_SWATH_M or (take > 1e-6 and length - take < MIN_SWATH_M):
                head, tail = split_polyline(leg.coords, take)
                head_leg = Leg("swath", head, swath=leg.swath, offset=offset)
                done.append(head_leg)
                t += clock.leg(head_leg)
                vol += per_m * head_leg.length
                end_bp = Breakpoint(head[-1].copy(), leg.swath, offset + head_leg.length)
                rest = Leg("swath", tail, swath=leg.swath, offset=offset + head_leg.length)
                legs[i] = rest
            break
        if len(done) == 1:
            raise PlanError(
                f"a sortie cannot spray even {MIN_SWATH_M:g} m of swath {first.swath} and return: "
                f"the reload point is too far for the battery ({p.endurance_s:g} s, reserve {p.battery_reserve_s:g} s)"
            )
        pos = done[-1].end
        back, _ = home(pos)
        back_leg = Leg("transit", back)
        done.append(back_leg)
        t += clock.leg(back_leg) + landing_time(p)
        s = Sortie(index=len(sorties) + 1, legs=done, start=start_bp, end=end_bp, volume_l=vol, flight_time_s=t)
        sorties.append(s)
    return sorties
