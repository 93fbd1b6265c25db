"""plan.json -> what ArduPilot Copter flies: one mission (plus fence, rally, parameters) per sortie.

Why one mission per sortie rather than one mission holding every sortie: a sortie
starts and ends on the ground at the reload point (refill, new battery, re-arm); a
Copter mission cannot carry on by itself after a landing, home is reset at each arming,
and a short mission uploads and verifies in a fraction of a second.  So `agrodrone fly`
uploads and verifies sortie k's mission before each take-off; a wrong mission on board
is never flown because the read-back is compared item by item first.

Layout of a sortie's mission (seq numbers):
    0  home (the reload point; ArduPilot replaces it with its own home)
    1  NAV_TAKEOFF to params.height_m
    2  DO_SPRAYER 0         pump off until the first swath (also after a resume jump)
    3  DO_CHANGE_SPEED      transit speed
    .. transit: NAV_WAYPOINT per coordinate
    .. swath:   WP(start), DO_CHANGE_SPEED spray, DO_SPRAYER 1, WP(...), WP(end), DO_SPRAYER 0
               (AP_Mission runs the DO items that follow a NAV item once it is reached,
               so the pump runs from start to end). WP(end) is `pump_off_early_m` short of
               the swath's end: the copter, braking, is that far ahead of the target AC_WPNav
               declares the waypoint reached with, so the pump stops at the end. After a
               straight lead-in (the plan's transit ends in line with the swath,
               planner/leads.py) the swath starts DO_CHANGE_SPEED spray,
               WP(start - pump_on_early_m), DO_SPRAYER 1: AC_Sprayer starts the
               pump that much late at the speed the copter crosses the start,
               so it starts at the start. An edge lap's sharp corners are moved back along
               the leg before them, with a waypoint where the next leg is back on its line
               (missions/corners.py): the copter's swing out of the turn lands it on the lap.
    .. DO_CHANGE_SPEED transit before a transit leg longer than `turn_max_m`
       (short turns between neighbouring swaths are flown at spray speed)
    n  NAV_RETURN_TO_LAUNCH when the reload point is home, else NAV_LAND at the reload point

Resume after a sortie was cut short (failsafe RTL, low battery): `planner.resume_plan`
rewrites the sortie to start exactly where the pump stopped (what `agrodrone fly` does).
Without the plan, re-upload the same sortie, take off and DO_SET_MISSION_CURRENT to
`MissionSet.resume_seq(last_reached)`, the WP(start) of the first swath whose end was not
reached (that swath is then re-flown from its start).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from gettext import gettext as _
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from missions.corners import swing_compensated
from missions.errors import MissionError
from missions.fence import fence_items, rally_items
from missions.items import (
    DO_CHANGE_SPEED,
    DO_SPRAYER,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    FRAME_MISSION,
    NAV_LAND,
    NAV_RETURN_TO_LAUNCH,
    NAV_TAKEOFF,
    NAV_WAYPOINT,
    MissionItem,
    deg_to_e7,
)
from missions.plan_input import plan_document, plan_errors
from missions.sprayer import vehicle_params
from planner.document import PlanDocument
from planner.dose import pump_off_early_m
from planner.geometry import unit_vector
from planner.leads import pump_on_early_m, pump_on_spread_m

if TYPE_CHECKING:
    from fields.terrain import Terrain

SPEED_TYPE_GROUND = 1  # DO_CHANGE_SPEED param1


@dataclass(frozen=True)
class BuildOptions:
    """Choices an operator may change; the defaults suit a small spray copter."""

    pump_servo: int = 9
    fence_margin_m: float = 10.0
    obstacle_inset_m: float = 1.0
    enable_fence: bool = False  # also set FENCE_ENABLE/TYPE/ACTION/ALT_MAX (QGC leaves them to the user)
    fence_alt_max_m: float = 30.0
    rally_alt_m: float = 15.0
    turn_max_m: float = 30.0
    home: tuple[float, float] | None = None  # (lon, lat) when the copter's home is not the reload point


@dataclass(frozen=True)
class SwathRef:
    """Where one swath leg sits in the mission (for progress and resume)."""

    leg: int  # index of the leg in the sortie
    swath: int  # the planner's swath number
    start_seq: int  # NAV item at the swath start (the pump starts when it is reached)
    end_seq: int  # NAV item at the swath end (the pump stops when it is reached)
    length_m: float = 0.0


@dataclass
class MissionSet:
    """Everything one sortie needs on the vehicle."""

    sortie: int
    mission: list[MissionItem]
    fence: list[MissionItem] = field(default_factory=list)
    rally: list[MissionItem] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    swaths: list[SwathRef] = field(default_factory=list)
    # a terrain plan's ground, served to the vehicle while the sortie is uploaded (load_sortie)
    terrain: Terrain | None = field(default=None, repr=False, compare=False)

    def counts(self) -> dict[str, int]:
        return {
            "mission": len(self.mission),
            "fence": len(self.fence),
            "rally": len(self.rally),
            "params": len(self.params),
        }

    def first_spray_point(self) -> tuple[float, float] | None:
        """(lat, lon) where the first swath starts: where the copter will spray first."""
        if not self.swaths:
            return None
        item = self.mission[self.swaths[0].start_seq]
        return item.lat, item.lon

    def swath_start_seqs(self) -> list[int]:
        return [s.start_seq for s in self.swaths]

    def resume_seq(self, last_reached: int) -> int:
        """Item to DO_SET_MISSION_CURRENT to after a stop, given the last reached item
        (MISSION_ITEM_REACHED seq): the start of the first swath not finished.  When
        every swath was finished, the item after the last swath (the way home)."""
        for s in self.swaths:
            if last_reached < s.end_seq:
                return s.start_seq
        if self.swaths:
            return min(self.swaths[-1].end_seq + 1, len(self.mission) - 1)
        return 1

    def items(self, mission_type: str) -> list[MissionItem]:
        return {"mission": self.mission, "fence": self.fence, "rally": self.rally}[mission_type]


def _wp(lat_lon: tuple[float, float], alt: float) -> MissionItem:
    lon, lat = lat_lon
    return MissionItem.at(0, NAV_WAYPOINT, lat, lon, alt)


def _do(command: int, p1: float = 0.0, p2: float = 0.0, p3: float = 0.0) -> MissionItem:
    return MissionItem(seq=0, command=command, frame=FRAME_MISSION, param1=p1, param2=p2, param3=p3)


def _same_e7(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return deg_to_e7(a[0]) == deg_to_e7(b[0]) and deg_to_e7(a[1]) == deg_to_e7(b[1])


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111_320.0 * math.cos(lat)
    dy = (a[1] - b[1]) * 110_574.0
    return math.hypot(dx, dy)


def _toward(a: tuple[float, float], b: tuple[float, float], d_m: float) -> tuple[float, float]:
    """The point `d_m` metres from lon/lat `a` on the straight way to `b`."""
    f = d_m / max(_distance_m(a, b), 1e-9)
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def _pump_on_point(
    doc: PlanDocument, here: tuple[float, float], coords: Sequence[tuple[float, float]], speed_m_s: float
) -> tuple[float, float] | None:
    """Where DO_SPRAYER 1 must run for the pump to start at the swath's first point: the pump's lag
    at the copter's edge speed before it (planner/leads.py pump_on_early_m; a little more where the
    ground before the start is crop), when the copter comes in on a straight lead-in in line with
    the swath and longer than that; None otherwise (the pump then starts at the first point)."""
    (x0, y0), (x1, y1) = coords[0], coords[1]
    k = 111_320.0 * math.cos(math.radians(y0))
    ax, ay = (x0 - here[0]) * k, (y0 - here[1]) * 110_574.0  # the lead-in, metres east/north
    bx, by = (x1 - x0) * k, (y1 - y0) * 110_574.0  # the swath's first stretch
    lead, first = math.hypot(ax, ay), math.hypot(bx, by)
    # crop twice as deep as the pump's start is spread (it starts at most two thirds of that early)
    lag_m = pump_on_early_m(lead, speed_m_s, _crop_before(doc, coords, 2.0 * pump_on_spread_m(lead, speed_m_s)))
    if lag_m <= 0 or lead < lag_m + 0.5 or first < 1e-6:
        return None
    if (ax * bx + ay * by) / (lead * first) < math.cos(math.radians(5.0)):
        return None
    return _toward(coords[0], here, lag_m)


def _crop_before(doc: PlanDocument, coords: Sequence[tuple[float, float]], depth_m: float) -> bool:
    """Whether the ground `depth_m` before a swath's start, a swath wide, is all crop (a lap's, as a
    rule): a pump starting early there sprays crop twice, not outside the field or into a buffer."""
    x, y = doc.field.frame.to_local(*np.array(coords[:2], dtype=float).T)
    start, u = np.array([x[0], y[0]]), unit_vector(np.array([x[1] - x[0], y[1] - y[0]]))
    if u is None:
        return False
    back = start - u * max(depth_m, 0.05)
    ground = shapely.LineString([back, start]).buffer(float(doc.params.swath_m) / 2.0, cap_style="flat")
    return bool(ground.difference(doc.field.sprayable_local).area <= 1e-3 * ground.area)


def _pump_off_point(coords: Sequence[tuple[float, float]], speed_m_s: float) -> tuple[float, float]:
    """Where DO_SPRAYER 0 must run for the pump to stop at the swath's last point: back along the
    last stretch by the copter's overrun (planner/dose.py pump_off_early_m)."""
    early = pump_off_early_m(speed_m_s, _distance_m(coords[-2], coords[-1]))
    return _toward(coords[-1], coords[-2], early) if early > 0 else coords[-1]


def _lap_waypoints(
    doc: PlanDocument, coords: Sequence[tuple[float, float]], zs: Sequence[float]
) -> tuple[list[tuple[float, float]], list[float]]:
    """An edge lap's waypoints and altitudes: its sharp corners told early, so that ArduCopter's
    swing out of the turn lands it on the lap (missions/corners.py); the others as planned."""
    frame = doc.field.frame
    x, y = frame.to_local(*np.array(coords, dtype=float).T)
    pts, at = swing_compensated(np.column_stack([x, y]), float(doc.params.swath_m), doc.field.keepout_local)
    lon, lat = frame.to_wgs84(pts[:, 0], pts[:, 1])
    out = [coords[int(a)] if a == int(a) else (float(lo), float(la)) for a, lo, la in zip(at, lon, lat)]
    return out, [float(z) for z in np.interp(at, np.arange(len(zs)), zs)]


def mission_items(
    plan: PlanDocument | dict, sortie: int, options: BuildOptions = BuildOptions()
) -> tuple[list[MissionItem], list[SwathRef]]:
    """The mission items of one sortie and where its swaths are."""
    doc = plan_document(plan)
    with plan_errors():
        s = doc.sortie(sortie)
    height = float(doc.params.height_m)
    spray_speed = float(doc.spray_speed_m_s)
    transit_speed = float(doc.params.transit_speed_m_s or spray_speed)
    reload_pt = doc.reload.lonlat
    terrain = doc.terrain is not None  # legs carry their altitudes above home (planner/terrain.py)

    def alts(leg: Any) -> Sequence[float]:
        return leg.alts_m if terrain and leg.alts_m is not None else [height] * len(leg.coords)

    items: list[MissionItem] = [
        MissionItem.at(0, NAV_WAYPOINT, reload_pt[1], reload_pt[0], 0.0),
        MissionItem.at(0, NAV_TAKEOFF, reload_pt[1], reload_pt[0], height),
        _do(DO_SPRAYER, 0),
        _do(DO_CHANGE_SPEED, SPEED_TYPE_GROUND, transit_speed, -1),
    ]
    speed = transit_speed
    here, here_alt = reload_pt, height
    swaths: list[SwathRef] = []
    last = len(s.legs) - 1
    for i, leg in enumerate(s.legs):
        coords, zs = leg.coords, alts(leg)
        if leg.kind == "transit":
            length = leg.length_m or sum(_distance_m(a, b) for a, b in zip(coords, coords[1:]))
            want = transit_speed if length > options.turn_max_m else spray_speed
            want = min(want, leg.speed_m_s or want)
            if want != speed:
                items.append(_do(DO_CHANGE_SPEED, SPEED_TYPE_GROUND, want, -1))
                speed = want
            # the way home ends in RTL/LAND; any other transit ends where the next swath starts.
            # Over terrain the way home is flown to above the reload point, then NAV_LAND: RTL
            # would fly it at RTL_ALT above home, which a hill may not clear.
            stop = len(coords) if (terrain and i == last) else -1
            for c, z in zip(coords[1:stop], zs[1:stop]):
                if not _same_e7(c, here):
                    items.append(_wp(c, z))
                    here, here_alt = c, z
        else:  # a swath (the document knows no other kind)
            swath_speed = leg.speed_m_s or spray_speed
            early = _pump_on_point(doc, here, coords, swath_speed)
            if early is not None:  # on a straight lead-in: spray speed from its start, the pump a little early
                items.append(_do(DO_CHANGE_SPEED, SPEED_TYPE_GROUND, swath_speed, -1))
                f = _distance_m(here, early) / max(_distance_m(here, coords[0]), 1e-9)
                items.append(_wp(early, here_alt + (zs[0] - here_alt) * f))
                here = early
                start_seq = len(items) - 1
            else:
                if not _same_e7(coords[0], here) or items[-1].command != NAV_WAYPOINT:
                    items.append(_wp(coords[0], zs[0]))
                    here = coords[0]
                start_seq = len(items) - 1
                items.append(_do(DO_CHANGE_SPEED, SPEED_TYPE_GROUND, swath_speed, -1))
            speed = swath_speed
            items.append(_do(DO_SPRAYER, 1))
            flown, flown_zs = _lap_waypoints(doc, coords, zs) if len(coords) > 2 else (list(coords), list(zs))
            points = flown[1:-1] + [_pump_off_point(coords, swath_speed)]
            for c, z in zip(points, flown_zs[1:]):
                if not _same_e7(c, here):
                    items.append(_wp(c, z))
                    here, here_alt = c, z
            end_seq = len(items) - 1
            if items[end_seq].command != NAV_WAYPOINT or end_seq == start_seq:
                raise MissionError(f"plan: sortie {sortie} leg {i} is a swath of zero length")
            items.append(_do(DO_SPRAYER, 0))
            swaths.append(
                SwathRef(
                    leg=i,
                    swath=len(swaths) if leg.swath is None else leg.swath,
                    start_seq=start_seq,
                    end_seq=end_seq,
                    length_m=float(leg.length_m or 0.0),
                )
            )
    home = options.home or reload_pt
    if terrain and _distance_m(home, reload_pt) > 2.0:
        raise MissionError(
            _("plan: a terrain plan's altitudes are above the reload point's ground; take off from the reload point")
        )
    if _distance_m(home, reload_pt) <= 2.0 and not terrain:
        items.append(MissionItem(seq=0, command=NAV_RETURN_TO_LAUNCH, frame=FRAME_GLOBAL_RELATIVE_ALT_INT))
    else:
        items.append(MissionItem.at(0, NAV_LAND, reload_pt[1], reload_pt[0], 0.0))
    return [it.with_seq(n) for n, it in enumerate(items)], swaths


def build_mission(plan: PlanDocument | dict, sortie: int, options: BuildOptions = BuildOptions()) -> MissionSet:
    """Mission, fence, rally and parameters for one sortie (1-based, as in plan.json)."""
    return next(build_missions(plan, options, [sortie]))


def build_missions(
    plan: PlanDocument | dict, options: BuildOptions = BuildOptions(), sorties: list[int] | None = None
) -> Iterator[MissionSet]:
    """The MissionSet of every sortie (or of `sorties`), one after the other. The fence,
    rally point and parameters are the job's, the same for every sortie: they are worked
    out once, so a job of hundreds of sorties takes time in proportion to its size. In a
    plan for several drones each sortie is built from its drone's part (its reload point,
    rally point and pump), worked out once per drone."""
    doc = plan_document(plan)  # checks the whole plan before anything reads it
    numbers = doc.sortie_numbers() if sorties is None else sorties
    makers: dict[int | None, Callable[[int], MissionSet]] = {}
    for sortie in numbers:
        with plan_errors():
            drone = doc.sortie(sortie).drone
            if drone not in makers:
                makers[drone] = _sortie_maker(doc if drone is None else doc.for_drone(drone), options)
        yield makers[drone](sortie)


def _sortie_maker(doc: PlanDocument, options: BuildOptions) -> Callable[[int], MissionSet]:
    """Builds the sorties of one drone's (single-drone) plan, sharing its fence, rally and parameters."""
    fence = fence_items(doc, margin_m=options.fence_margin_m, inset_m=options.obstacle_inset_m)
    rally = rally_items(doc, alt_m=options.rally_alt_m)
    params = vehicle_params(
        doc, pump_servo=options.pump_servo, fence=options.enable_fence, fence_alt_max_m=options.fence_alt_max_m
    )

    def make(sortie: int) -> MissionSet:
        mission, swaths = mission_items(doc, sortie, options)
        return MissionSet(
            sortie=sortie, mission=mission, fence=list(fence), rally=list(rally), params=dict(params), swaths=swaths
        )

    return make


def sortie_numbers(plan: PlanDocument | dict) -> list[int]:
    return plan_document(plan).sortie_numbers()


def describe(ms: MissionSet) -> dict[str, Any]:
    """A JSON-able summary (counts, parameters, swath item numbers)."""
    return {"sortie": ms.sortie, "counts": ms.counts(), "params": ms.params, "swath_start_seqs": ms.swath_start_seqs()}
