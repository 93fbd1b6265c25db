"""Sorties: the route cut where the tank (less its reserve) or the battery (less the
reserve kept at landing, after the flight home) runs out.

The battery is counted in battery seconds (planner.energy): a heavy copter early in a
sortie uses it faster than a light one at the end.

The cut falls exactly where spraying has to stop, usually in the middle of a swath:
the drone flies back to the reload point, and the next sortie flies out to that same
point of the same swath and carries on, so nothing is left out or sprayed twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.dose import litres
from planner.energy import EnergyModel
from planner.errors import PlanError
from planner.estimates import (
    corners,
    landing_time,
    leg_speed,
    polyline_time,
    rtl_climb_m,
    straight_time,
    takeoff_time,
    trapezoid_times,
)
from planner.geometry import split_polyline
from planner.leads import Leads
from planner.params import PlanParams
from planner.route import Leg
from planner.swaths import MIN_SWATH_M
from planner.terrain import Ground
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
    battery_s: float = 0.0  # battery seconds (planner.energy), at most endurance less the reserve
    battery_mah: float = 0.0  # the charge that draws, an estimate
    drone: int = 1  # which drone of a fleet flies it (planner/fleet.py); 1 in a single-drone plan
    spray_length_m: float = field(init=False, default=0.0)
    transit_length_m: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.spray_length_m = sum(l.length for l in self.legs if l.kind == "swath")
        self.transit_length_m = sum(l.length for l in self.legs if l.kind == "transit")


class _Clock:
    """Flight time and battery use (battery seconds, planner.energy) of the pieces of a sortie.

    Each piece costs what it would with the mass at its start, never lighter: the pump
    empties the tank as the copter flies, so the estimate errs on the heavy side.
    """

    def __init__(self, p: PlanParams, spray_speed: float, ground: Ground | None = None) -> None:
        self.p = p
        self.v = spray_speed
        self.energy = EnergyModel(p)
        self.ground = ground  # a DEM: legs follow the terrain, slopes slow them, climbs cost

    def transit_speed(self, coords: np.ndarray) -> float:
        """The mission flies short transits (turns) at the spray speed, longer ones faster."""
        length = float(np.hypot(*np.diff(coords, axis=0).T).sum())
        return leg_speed("transit", length, self.v, self.p.transit_speed_m_s)

    def _over_ground(self, coords: np.ndarray, v: float, transit: bool) -> tuple[np.ndarray, float, float]:
        """(corners, speed, metres climbed) of a leg: as planned on flat ground, else over the
        DEM, where the slope's waypoints are flown through and only its speed cap slows it."""
        if self.ground is None:
            return coords, v, 0.0
        prof = self.ground.profile(coords, transit)
        return corners(prof.coords), prof.speed(v, self.p.climb_m_s, self.p.descent_m_s), prof.ascent_m

    def transit(self, coords: np.ndarray, mass: float) -> tuple[float, float]:
        p = self.p
        points, v, up = self._over_ground(coords, self.transit_speed(coords), True)
        t = polyline_time(points, v, p.accel_m_s2)
        used = t * self.energy.rate(mass, v) + p.turn_s * self.energy.rate(mass) + self.energy.climb(mass, up)
        return t + p.turn_s, used

    def swath(self, coords: np.ndarray, mass: float) -> tuple[float, float]:
        points, v, up = self._over_ground(coords, self.v, False)
        t = polyline_time(points, v, self.p.accel_m_s2)
        return t, t * self.energy.rate(mass, v) + self.energy.climb(mass, up)

    def swath_part(self, length: float, mass: float) -> tuple[float, float]:
        t = straight_time(length, self.v, self.p.accel_m_s2)
        return t, t * self.energy.rate(mass, self.v)

    def leg(self, leg: Leg, mass: float) -> tuple[float, float]:
        return self.swath(leg.coords, mass) if leg.kind == "swath" else self.transit(leg.coords, mass)

    def takeoff(self) -> tuple[float, float]:
        t = takeoff_time(self.p)
        full = self.energy.full_kg
        return t, t * self.energy.rate(full) + self.energy.climb(full, self.p.height_m)

    def home(self, path: np.ndarray, mass: float) -> tuple[float, float]:
        """Home and down: waypoints at transit speed, then the closing RTL, which flies its
        last stretch at the spray speed (WPNAV_SPEED) and climbs, loiters and lands."""
        p, e = self.p, self.energy
        points, v, up = self._over_ground(path, self.transit_speed(path), True)
        t_way = polyline_time(points[:-1], v, p.accel_m_s2)
        t_rtl = straight_time(float(np.hypot(*(path[-1] - path[-2]))), self.v, p.accel_m_s2)
        t_land = landing_time(p)
        t = t_way + t_rtl + p.turn_s + t_land
        used = (
            t_way * e.rate(mass, v)
            + t_rtl * e.rate(mass, self.v)
            + (p.turn_s + t_land) * e.rate(mass)
            + e.climb(mass, rtl_climb_m(p) + up)
        )
        return t, used

    def home_at_least(self, distance: float, mass: float) -> float:
        """A lower bound of the battery seconds home: straight there, at the faster speed, with
        constant acceleration (never slower than the legs of any way round)."""
        p, e = self.p, self.energy
        straight = float(trapezoid_times(np.array([distance]), max(p.transit_speed_m_s, self.v), p.accel_m_s2)[0])
        t = straight + p.turn_s + landing_time(p)
        return t * e.rate(mass) + e.climb(mass, rtl_climb_m(p))


def check_tank(route: list[Leg], p: PlanParams, who: str = "") -> None:
    """PlanError when the tank cannot hold the longest straight swath (`who` names the drone of
    a fleet). Edge laps are long but may be cut anywhere; a straight swath is what one tank must hold."""
    straight = [l.length for l in route if l.kind == "swath" and len(l.coords) == 2]
    longest = max(straight or [l.length for l in route if l.kind == "swath"])
    usable = p.tank_l - p.tank_reserve_l
    need = litres(longest, p.line_spacing_m, p.dose_l_ha)
    if need > usable:
        raise PlanError(
            f"{who}tank {p.tank_l:g} L (usable {usable:g} L) is smaller than one swath: the longest swath "
            f"({longest:.0f} m at {p.dose_l_ha:g} L/ha, {p.swath_m:g} m wide) needs {need:.1f} L; "
            f"use a bigger tank, a lower dose or another angle"
        )


def split_sorties(
    route: list[Leg],
    reload_xy: np.ndarray,
    transit: TransitPlanner,
    p: PlanParams,
    spray_speed: float,
    leads: Leads | None = None,
    ground: Ground | None = None,
) -> list[Sortie]:
    """Cut the route into sorties that each start and end at the reload point (flying out
    onto a straight lead-in when `leads` is given; over the DEM's slopes when `ground` is)."""
    clock = _Clock(p, spray_speed, ground)
    energy = clock.energy
    usable = p.tank_l - p.tank_reserve_l
    budget = energy.budget_s
    per_m = litres(1.0, p.line_spacing_m, p.dose_l_ha)
    home_cache: dict[tuple[float, float], np.ndarray] = {}

    def key(pt: np.ndarray) -> tuple[float, float]:
        return (round(float(pt[0]), 3), round(float(pt[1]), 3))

    def home_path(pt: np.ndarray) -> np.ndarray:
        if key(pt) not in home_cache:
            home_cache[key(pt)] = transit.path(pt, reload_xy)
        return home_cache[key(pt)]

    def fits(e_before: float, pt: np.ndarray, sprayed: float) -> bool:
        """Can the copter, having used `e_before` and sprayed `sprayed` L, get home from `pt`?"""
        mass = energy.mass_kg(sprayed)
        if e_before + clock.home_at_least(float(np.hypot(*(reload_xy - pt))), mass) > budget:
            return False
        return e_before + clock.home(home_path(pt), mass)[1] <= budget

    # one vectorised check for the way home from every leg end: most are straight
    ends = np.array([l.end for l in route] + [l.start for l in route])
    straight = transit.clear(ends, np.repeat(reload_xy[None, :], len(ends), axis=0))
    for pt in ends[straight]:
        home_cache[key(pt)] = np.vstack([pt, reload_xy])
    transit.prefetch(np.vstack([ends[~straight], reload_xy[None, :]]))
    legs = [Leg(l.kind, l.coords.copy(), swath=l.swath, turn=l.turn, offset=l.offset) for l in route]
    sorties: list[Sortie] = []
    i = 0
    while i < len(legs):
        if legs[i].kind == "transit":
            i += 1
            continue
        first = legs[i]
        assert first.swath is not None  # transits were skipped: a swath leg
        offset0 = first.offset
        out_path = leads.approach(reload_xy, first.coords) if leads else transit.path(reload_xy, first.start)
        out_leg = Leg("transit", out_path)
        t, e = (a + b for a, b in zip(clock.takeoff(), clock.transit(out_leg.coords, energy.full_kg)))
        vol = 0.0
        done: list[Leg] = [out_leg]
        start_bp = Breakpoint(first.start.copy(), first.swath, offset0)
        end_bp = start_bp
        while i < len(legs):
            leg = legs[i]
            mass = energy.mass_kg(vol)
            if leg.kind == "transit":
                nxt = legs[i + 1]
                dt, de = clock.transit(leg.coords, mass)
                e_try = e + de + clock.swath_part(MIN_SWATH_M, mass)[1]
                if vol + per_m * MIN_SWATH_M > usable or not fits(e_try, nxt.start, vol + per_m * MIN_SWATH_M):
                    break
                done.append(leg)
                t, e = t + dt, e + de
                i += 1
                continue
            assert leg.swath is not None  # not a transit: a swath leg
            offset = leg.offset
            length = leg.length
            take = min(length, (usable - vol) / per_m)

            def fits_head(part: float) -> bool:
                head = leg.coords if part >= length else split_polyline(leg.coords, part)[0]
                return fits(e + clock.swath(head, mass)[1], head[-1], vol + per_m * part)

            if not fits_head(take):
                lo, hi = 0.0, take
                for _ in range(30):
                    mid = (lo + hi) / 2
                    if fits_head(mid):
                        lo = mid
                    else:
                        hi = mid
                take = lo
            if take >= length - 1e-6:
                done.append(leg)
                dt, de = clock.leg(leg, mass)
                t, e = t + dt, e + de
                vol += per_m * length
                end_bp = Breakpoint(leg.end.copy(), leg.swath, offset + length)
                i += 1
                continue
            if take >= MIN_SWATH_M or (take > 1e-6 and length - take < MIN_SWATH_M):
                head, tail = split_polyline(leg.coords, take)
                head_leg = Leg("swath", head, swath=leg.swath, offset=offset)
                done.append(head_leg)
                dt, de = clock.leg(head_leg, mass)
                t, e = t + dt, e + de
                vol += per_m * head_leg.length
                end_bp = Breakpoint(head[-1].copy(), leg.swath, offset + head_leg.length)
                rest = Leg("swath", tail, swath=leg.swath, offset=offset + head_leg.length)
                legs[i] = rest
            break
        if len(done) == 1:
            raise PlanError(
                f"a sortie cannot spray even {MIN_SWATH_M:g} m of swath {first.swath} and return: the reload point "
                f"is too far for the battery ({p.endurance_s:g} s hovering at {p.endurance_mass_kg:g} kg, reserve "
                f"{p.battery_reserve_s:g} s; {energy.full_kg:g} kg with the {p.tank_l:g} L tank full)"
            )
        back = home_path(done[-1].end)
        dt, de = clock.home(back, energy.mass_kg(vol))
        # a straight run-out first, as between swaths, where the battery allows it: stopped at a
        # swath's end before turning home, ArduCopter sprayed a swath-wide disc past the field's
        # edge (6 m² of the Đại Từ paddies' 51 m² outside on SITL)
        run_out = leads.run_out(done[-1].coords) if leads else None
        if run_out is not None:
            longer = np.vstack([done[-1].end, home_path(run_out)])
            dt2, de2 = clock.home(longer, energy.mass_kg(vol))
            if e + de2 <= budget:
                back, dt, de = longer, dt2, de2
        done.append(Leg("transit", back))
        t, e = t + dt, e + de
        s = Sortie(
            index=len(sorties) + 1,
            legs=done,
            start=start_bp,
            end=end_bp,
            volume_l=vol,
            flight_time_s=t,
            battery_s=e,
            battery_mah=energy.mah(e),
        )
        sorties.append(s)
    return sorties
