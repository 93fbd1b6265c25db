"""Several drones on one job (issue #18): one layout split into a strip of whole swaths per drone.

The whole field keeps one layout (heading, swaths and edge laps, chosen as for one drone), so
a fleet sprays exactly what one drone would: the swath lines are cut into contiguous parts
across the swath direction (planner/bands.py), edge laps are cut where they cross from one
part into the next, and each drone flies its own part as a one-drone plan (its own route,
reload point and sorties, with its own tank, pump, speeds and battery). The cuts are chosen
so the drones' job times, flight plus reloads, come out about equal (planner/balance.py).

Why strips: while spraying, each drone stays in its own strip of the sky, and two drones can
only come near each other along the one boundary they share. All drones sweep their strips
the same way (band after band upwards in the swath frame, every one starting at the side of
its strip below, away from the neighbour above): at equal progress two neighbours stay about
a strip apart, the lower one reaching the shared boundary as the upper one finishes far from
it. Sweeping towards each other would bring them together at the end, away from each other
would start them side by side. Each reload point is on the field's edge in the drone's own
strip (near the middle of its work), so the flights out and home stay in that strip too, and
reload points are at least `separation_m` apart (the flight runner holds a drone that comes
closer than that to another). docs/fleet.md has the measurements and the limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from gettext import gettext as _

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from fields import HA_M2, Field
from fields.terrain import Terrain
from planner.balance import Balancer, Flight, estimates
from planner.bands import Lines, cut_laps, lines_of, strip
from planner.decomposition import cells_of
from planner.dose import Sprayer, sprayer_for
from planner.errors import PlanError
from planner.estimates import leg_speed
from planner.leads import LEAD_M, Leads
from planner.metrics import footprints
from planner.params import PlanParams
from planner.route import Leg, build_route
from planner.sorties import Breakpoint, Sortie, check_tank, split_sorties
from planner.swaths import SwathSet
from planner.terrain import TOLERANCE_M, Ground, follow_terrain
from planner.transit import TransitPlanner

DEFAULT_SEPARATION_M = 15.0
MAX_DRONES = 8
RELOAD_STEP_M = 1.0  # reload points are chosen among points of the edge this far apart
MIDDLE_LEAN = 0.5  # a metre nearer the field's middle is worth this much of a metre nearer the part's
# what one layout gives every drone: (key, what, the option that sets it for all, unit)
SHARED = (
    ("swath_m", "swath widths", "--swath", "m"),
    ("dose_l_ha", "doses", "--dose", "L/ha"),
    ("height_m", "spray heights", "--height", "m"),
)


@dataclass
class DronePart:
    """One drone's part of a fleet plan; `sorties` are the plan's (global) sortie indices."""

    number: int
    params: PlanParams
    sprayer: Sprayer
    reload_xy: np.ndarray
    sorties: list[int]
    area_m2: float  # of the sprayable area its footprints cover
    volume_l: float
    flight_time_s: float
    job_time_s: float  # flight plus reload_s between its sorties
    route: list[Leg]
    cells: int
    lines: tuple[int, int]  # its swath lines: first, and one past the last (upwards)
    ground: Ground | None = None

    @property
    def area_ha(self) -> float:
        return self.area_m2 / HA_M2

    @property
    def preset(self) -> str:
        return self.params.preset


@dataclass
class FleetJob:
    parts: list[DronePart]
    route: list[Leg]  # every drone's coverage route, one after the other
    sorties: list[Sortie]  # numbered 1..K, drone 1's first
    cells: int
    warnings: list[str]


def check_crew(params: PlanParams, crew: list[PlanParams], separation_m: float) -> None:
    """PlanError for a fleet one layout cannot serve: too many drones, or drones that would
    spray different widths, doses or heights (one layout has one of each)."""
    if len(crew) > MAX_DRONES:
        raise PlanError(
            _("a fleet of {n} drones is more than the planner shares a field between (at most {most})").format(
                n=len(crew), most=MAX_DRONES
            )
        )
    if not np.isfinite(separation_m) or separation_m < 0:
        raise PlanError(_("separation must be 0 m or more (got {value:g})").format(value=separation_m))
    for key, what, option, unit in SHARED:
        values = [getattr(p, key) for p in crew]
        if any(v != getattr(params, key) for v in values):
            each = ", ".join(f"{p.preset} {getattr(p, key):g} {unit}" for p in crew)
            raise PlanError(
                _(
                    "the drones have different {what} ({each}): a fleet flies one layout, the same for every "
                    "drone; give {option} for all of them"
                ).format(what=what, each=each, option=option)
            )


def _order(crew: list[PlanParams], given: list[np.ndarray | None], lines: Lines, rotation) -> list[int]:
    """Which drone flies each part, upwards: in their numbers' order, except that drones given a
    reload point get the parts nearest it (matched in order along the swath frame's y)."""
    n = len(crew)
    fixed = [i for i in range(n) if given[i] is not None]
    if not fixed:
        return list(range(n))
    centre = np.interp((np.arange(n) + 0.5) / n, np.linspace(0, 1, len(lines)), lines.y)
    y = {i: float(rotation.to_swath(np.atleast_2d(np.asarray(given[i], dtype=float)))[0, 1]) for i in fixed}
    fixed.sort(key=lambda i: y[i])
    # monotone matching of the given drones to parts: cost[k][j] = fixed[k] at part j
    cost = np.full((len(fixed) + 1, n + 1), np.inf)
    cost[0, :] = 0.0
    for k in range(1, len(fixed) + 1):
        for j in range(k, n + 1):
            cost[k, j] = min(cost[k, j - 1], cost[k - 1, j - 1] + abs(y[fixed[k - 1]] - centre[j - 1]))
    slots: dict[int, int] = {}
    k, j = len(fixed), n
    while k > 0:
        if cost[k, j] == cost[k, j - 1] and j > k:
            j -= 1
            continue
        slots[fixed[k - 1]] = j - 1
        k, j = k - 1, j - 1
    free = iter(i for i in range(n) if i not in slots)
    taken = {s: i for i, s in slots.items()}
    return [taken[j] if j in taken else next(free) for j in range(n)]


class _Parts:
    """Plans one drone's part from its lines (cached: the balancing asks for the same ones often)."""

    def __init__(self, field: Field, area, edge, swaths: SwathSet, lines: Lines, laps, transit, terrain, crew, given):
        self.field, self.area, self.edge, self.swaths, self.laps = field, area, edge, swaths, laps
        self.transit, self.terrain, self.crew, self.given = transit, terrain, crew, given
        self.lines = lines
        self.middle = area.centroid
        self.sprayers = [sprayer_for(p) for p in crew]
        self.order = _order(crew, given, lines, swaths.rotation)  # the drone (0-based) of each part, upwards
        self._flights: dict[tuple, Flight] = {}
        self._grounds: dict[tuple[float, float], Ground] = {}

    def sky(self, lo: int, hi: int) -> BaseGeometry:
        return strip(self.swaths.rotation, self.lines.cut_y(lo), self.lines.cut_y(hi))

    def reload_for(self, lo: int, hi: int) -> np.ndarray:
        """The point of the field's edge in the part's own strip nearest the middle of its work,
        leaning towards the middle of the field: where a part's middle lies halfway between two
        sides, the lean keeps its reload point on one side as the cuts move by a line or two
        (the balancing compares parts that differ by a line, not by where their drone reloads)."""
        sky = self.sky(lo, hi)
        mine = self.edge.intersection(sky)
        work = self.area.intersection(sky)
        target = work.centroid if not work.is_empty else sky.intersection(self.field.boundary).centroid
        line = mine if mine.length > 0 else self.edge
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, np.arange(0.0, line.length, RELOAD_STEP_M)))
        if len(pts) == 0:
            p = nearest_points(line, target)[0]
            return np.array([p.x, p.y])
        t, c = np.array([target.x, target.y]), np.array([self.middle.x, self.middle.y])
        cost = np.hypot(*(pts - t).T) + MIDDLE_LEAN * np.hypot(*(pts - c).T)
        return pts[int(np.argmin(cost))]

    def ground(self, xy: np.ndarray) -> Ground | None:
        if self.terrain is None:
            return None
        key = (round(float(xy[0]), 2), round(float(xy[1]), 2))
        if key not in self._grounds:
            self._grounds[key] = Ground(self.terrain, self.field.frame, xy, self.crew[0].height_m, TOLERANCE_M)
        return self._grounds[key]

    def fly(self, slot: int, lo: int, hi: int, reload_xy: np.ndarray | None = None) -> Flight:
        """Drone `slot`'s route and sorties over lines lo to hi - 1 (its reload point given or chosen)."""
        i = self.order[slot]
        if reload_xy is None:
            reload_xy = self.given[i] if self.given[i] is not None else self.reload_for(lo, hi)
        key = (i, lo, hi, round(float(reload_xy[0]), 2), round(float(reload_xy[1]), 2))
        found = self._flights.get(key)
        if found is not None:
            return found
        p, sprayer = self.crew[i], self.sprayers[i]
        sub = self.swaths.subset((self.lines.of_swath >= lo) & (self.lines.of_swath < hi))
        y0, y1 = self.lines.cut_y(lo), self.lines.cut_y(hi)
        rings, pieces = cut_laps(self.laps, self.swaths.rotation, np.array([y0, y1]))[1]
        sky = strip(self.swaths.rotation, y0 - 0.01, y1 + 0.01)
        leads = Leads(self.transit, LEAD_M, keep_in=sky)
        cells = cells_of(sub)
        route = build_route(sub, cells, rings, self.transit, reload_xy, leads, pieces=pieces, sweep=True)
        check_tank(route, p, f"drone {i + 1} ({p.preset}): ")
        ground = self.ground(reload_xy)
        sorties = split_sorties(route, reload_xy, self.transit, p, sprayer.speed_m_s, leads, ground)
        found = self._flights[key] = Flight(route, sorties, len(cells), reload_xy, ground)
        return found


def _separate(parts: _Parts, cut: tuple[int, ...], separation_m: float) -> dict[int, np.ndarray]:
    """Reload points at least `separation_m` apart: the given ones must be, the chosen ones move
    along the edge of their own strip (else anywhere on the field's edge) until they are."""
    n = len(cut) - 1
    order = parts.order
    placed: list[tuple[int, np.ndarray]] = []
    for j in sorted(range(n), key=lambda j: parts.given[order[j]] is None):
        i = order[j]
        xy = parts.fly(j, cut[j], cut[j + 1]).reload_xy
        near = [(d, float(np.hypot(*(xy - q)))) for d, q in placed]
        close = [(d, m) for d, m in near if m < separation_m]
        if not close:
            placed.append((i, xy))
            continue
        if parts.given[i] is not None:
            d, m = close[0]
            raise PlanError(
                _(
                    "the reload points of drones {a} and {b} are {m:.1f} m apart, closer than the separation "
                    "{sep:g} m; give points further apart (--reload) or a smaller --separation"
                ).format(a=d + 1, b=i + 1, m=m, sep=separation_m)
            )
        moved = _farther(parts, j, cut, xy, [q for _, q in placed], separation_m)
        if moved is None:
            raise PlanError(
                _(
                    "no point of the edge of field {field} keeps drone {drone}'s reload point {sep:g} m from "
                    "the others'; give the drones --reload points or a smaller --separation"
                ).format(field=parts.field.id, drone=i + 1, sep=separation_m)
            )
        placed.append((i, moved))
    want = dict(placed)
    return {
        j: want[order[j]]
        for j in range(n)
        if not np.allclose(want[order[j]], parts.fly(j, cut[j], cut[j + 1]).reload_xy)
    }


def _farther(parts: _Parts, j: int, cut, xy: np.ndarray, others: list[np.ndarray], sep: float) -> np.ndarray | None:
    """The point of the edge (of the part's own strip first) nearest `xy` that is `sep` from all others."""
    mine = parts.edge.intersection(parts.sky(cut[j], cut[j + 1]))
    for line in (mine, parts.edge):
        if line.is_empty or line.length <= 0:
            continue
        at = np.arange(0.0, line.length, RELOAD_STEP_M)
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, at))
        ok = np.ones(len(pts), bool)
        for q in others:
            ok &= np.hypot(*(pts - q).T) >= sep
        if ok.any():
            cand = pts[ok]
            return cand[int(np.argmin(np.hypot(*(cand - xy).T)))]
    return None


def plan_fleet(
    field: Field,
    crew: list[PlanParams],
    swaths: SwathSet,
    laps: list[np.ndarray],
    area: BaseGeometry,
    edge: BaseGeometry,
    transit: TransitPlanner,
    terrain: Terrain | None,
    given: list[np.ndarray | None],
    separation_m: float,
) -> FleetJob:
    """Split one layout between the drones of `crew` (pure): parts, routes, sorties and times.
    `given`: each drone's reload point when the operator chose it; `edge`: where reload points may go."""
    assert swaths.one_heading  # the drones' strips run across one heading (planner/bands.py)
    lines = lines_of(swaths)
    if not len(lines):
        raise PlanError(
            _(
                "field {field} has no swaths to share between drones (its edge laps cover it): plan it for one drone"
            ).format(field=field.id)
        )
    if len(lines) < len(crew):
        raise PlanError(
            _("field {field} is {lines} swath(s) across: too narrow to share between {n} drones").format(
                field=field.id, lines=len(lines), n=len(crew)
            )
        )
    parts = _Parts(field, area, edge, swaths, lines, laps, transit, terrain, crew, given)
    sprayers = parts.sprayers
    slot_crew = [crew[i] for i in parts.order]
    guess = estimates(swaths, lines, laps, slot_crew, [sprayers[i] for i in parts.order])
    cut = Balancer(parts.fly, slot_crew, guess).best_cut()
    moved = _separate(parts, cut, separation_m)
    flights = {parts.order[j]: parts.fly(j, cut[j], cut[j + 1], moved.get(j)) for j in range(len(crew))}
    lines_of_drone = {parts.order[j]: (cut[j], cut[j + 1]) for j in range(len(crew))}
    warnings = [_("drone {drone}: {note}").format(drone=i + 1, note=s.note) for i, s in enumerate(sprayers) if s.note]
    for i, xy in enumerate(given):
        lo, hi = lines_of_drone[i]
        if xy is not None and parts.sky(lo, hi).buffer(crew[i].swath_m).disjoint(shapely.Point(*xy)):
            warnings.append(
                _(
                    "drone {drone}'s reload point is outside its part of the field: its flights to and "
                    "from it cross another drone's part"
                ).format(drone=i + 1)
            )
    return _assemble(field, area, crew, sprayers, flights, lines_of_drone, warnings)


def _assemble(field, area, crew, sprayers, flights: dict[int, Flight], lines_of_drone, warnings) -> FleetJob:
    """The parts in drone order, sorties numbered 1..K and swaths numbered over the whole job."""
    out: list[DronePart] = []
    route: list[Leg] = []
    sorties: list[Sortie] = []
    swath_base = 0
    for i, p in enumerate(crew):
        f = flights[i]
        renumber = {l.swath: l.swath + swath_base for l in f.route if l.swath is not None}
        own_route = [replace(l, swath=renumber[l.swath] if l.swath is not None else None) for l in f.route]
        route.extend(own_route)
        mine: list[Sortie] = []
        for s in f.sorties:
            legs = [replace(l, swath=renumber[l.swath] if l.swath is not None else None) for l in s.legs]
            mine.append(
                replace(
                    s,
                    index=len(sorties) + len(mine) + 1,
                    drone=i + 1,
                    legs=legs,
                    start=_moved(s.start, renumber),
                    end=_moved(s.end, renumber),
                )
            )
        swath_base += len(renumber)
        if f.ground is not None:
            follow_terrain(mine, f.ground, p.climb_m_s, p.descent_m_s, _speed_of(p, sprayers[i]))
        lines = [l.coords for s in mine for l in s.legs if l.kind == "swath"]
        covered = shapely.union_all(footprints(lines, p.swath_m)).intersection(area).area if lines else 0.0
        flight = sum(s.flight_time_s for s in mine)
        out.append(
            DronePart(
                number=i + 1,
                params=p,
                sprayer=sprayers[i],
                reload_xy=f.reload_xy,
                sorties=[s.index for s in mine],
                area_m2=float(covered),
                volume_l=sum(s.volume_l for s in mine),
                flight_time_s=flight,
                job_time_s=flight + max(0, len(mine) - 1) * p.reload_s,
                route=own_route,
                cells=f.cells,
                lines=lines_of_drone[i],
                ground=f.ground,
            )
        )
        sorties.extend(mine)
    return FleetJob(out, route, sorties, sum(p.cells for p in out), warnings)


def _speed_of(p: PlanParams, sprayer: Sprayer) -> Callable[[Leg], float]:
    """The speed the mission flies each leg of this drone at (before a slope slows it)."""
    return lambda leg: leg_speed(leg.kind, leg.length, sprayer.speed_m_s, p.transit_speed_m_s)


def _moved(bp: Breakpoint, renumber: dict[int, int]) -> Breakpoint:
    return Breakpoint(bp.xy.copy(), renumber.get(bp.swath, bp.swath), bp.offset_m)
