"""plan(field, params): the stages in order, from sprayable area to sorties and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from gettext import gettext as _
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from fields import Field
from fields.terrain import Terrain
from planner.angle import Site, choose_layout
from planner.decomposition import cells_of
from planner.dose import Sprayer, sprayer_for
from planner.errors import PlanError
from planner.estimates import Pace, leg_speed
from planner.fleet import DEFAULT_SEPARATION_M, DronePart, check_crew, plan_fleet
from planner.geometry import holes_of
from planner.headlands import Headland, edge_passes
from planner.leads import LEAD_M, Leads
from planner.metrics import Coverage, coverage
from planner.params import PlanParams
from planner.part_headings import headings_per_part
from planner.route import Leg, build_route
from planner.sorties import Sortie, check_tank, split_sorties
from planner.swaths import FIT_TOLERANCE, SwathSet
from planner.terrain import TOLERANCE_M, Ground, check_cover, follow_terrain
from planner.transit import CLEARANCE_M, TransitPlanner

if TYPE_CHECKING:
    from planner.document import PlanDocument

MAX_RELOAD_DISTANCE_M = 5_000.0
MIN_PART_M2 = 0.5  # slivers left by repairs or buffers
EDGE_PASS_CHOICES = (0, 1)  # weighed against each other when the operator leaves it to the planner
# SITL drifted up to 0.2 m off a lap beside the tea field's stream buffer; 0.1 m took its spray in the
# buffer from 10.6 to 1.0 m² for 0.17 point of planned coverage (0.2 m would cost 0.6 point)
KEEPOUT_CLEARANCE_M = 0.1


@dataclass
class Plan:
    """A finished plan in the field's local frame; to_document() gives plan.json."""

    field: Field
    params: PlanParams
    sprayer: Sprayer
    angle_deg: float  # the heading of the largest part when parts have their own (part_angles_deg)
    angle_mode: str
    edge_passes: int  # edge laps flown (chosen when params.edge_passes is None)
    edge_mode: str
    reload_xy: np.ndarray
    route: list[Leg]  # the unsplit coverage route
    sorties: list[Sortie]
    cells: int
    coverage: Coverage
    sprayable: BaseGeometry
    warnings: list[str] = dc_field(default_factory=list)
    plan_ms: float | None = None  # set by the caller, who owns the clock
    ground: Ground | None = None  # the DEM the legs follow (None: flat ground, as before)
    # several drones on one job (planner/fleet.py): each drone's part; empty for one drone.
    # Then params, sprayer, reload_xy and ground are drone 1's.
    fleet: list[DronePart] = dc_field(default_factory=list)
    separation_m: float | None = None  # fleet plans: reload points at least this far apart
    part_angles_deg: list[float] = dc_field(default_factory=list)  # each separate part's heading, when they differ

    def dem(self) -> Terrain | None:
        """The part of the DEM the plan flies over, for the plan folder's copy (None when flat)."""
        if self.ground is None:
            return None
        reloads = [shapely.Point(*xy) for xy in self.reload_points]
        return self.ground.terrain.crop(self.field.frame, shapely.union_all([self.field.boundary, *reloads]), 100.0)

    @property
    def reload_points(self) -> list[np.ndarray]:
        """Every drone's reload point (the one reload point of a one-drone plan)."""
        return [d.reload_xy for d in self.fleet] if self.fleet else [self.reload_xy]

    @property
    def swath_legs(self) -> list[Leg]:
        return [l for s in self.sorties for l in s.legs if l.kind == "swath"]

    def metrics(self) -> dict[str, Any]:
        """The summary numbers (`agrodrone plan --json`)."""
        from planner.export import metrics_of

        return metrics_of(self)

    def to_document(self, created_by: str = "agrodrone") -> PlanDocument:
        """plan.json as the typed document (planner/document.py) the other packages read."""
        from planner.export import plan_document

        return plan_document(self, created_by)

    def to_dict(self, created_by: str = "agrodrone") -> dict[str, Any]:
        return self.to_document(created_by).to_dict()

    def to_geojson(self) -> dict[str, Any]:
        from planner.export import plan_geojson

        return plan_geojson(self)

    def to_png(self, dpi: int = 110) -> bytes:
        from planner.picture import render_png

        return render_png(self, dpi=dpi)


OVERLAP_WARN_PCT = 5.0  # above this share of the field sprayed twice, the plan says so


def _polygons(geom: BaseGeometry) -> BaseGeometry:
    """Only the areal parts, without slivers."""
    if geom.is_empty:
        return geom
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and p.area >= MIN_PART_M2]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def reload_edge(field: Field, forbidden: BaseGeometry) -> BaseGeometry:
    """Where a chosen reload point may go: the field's outer edge away from keep-out zones."""
    edge = shapely.union_all([shapely.LinearRing(p.exterior.coords) for p in shapely.get_parts(field.boundary)])
    if not forbidden.is_empty:
        free = edge.difference(forbidden.buffer(CLEARANCE_M + 1.0))
        edge = free if not free.is_empty else edge
    return edge


def _reload_point(field: Field, params: PlanParams, area: BaseGeometry, forbidden: BaseGeometry) -> np.ndarray:
    if params.reload is not None:
        lon, lat = params.reload
        x, y = field.frame.to_local(lon, lat)
        pt = shapely.Point(float(x), float(y))
        d = field.boundary.distance(pt)
        if d > MAX_RELOAD_DISTANCE_M:
            raise PlanError(
                f"reload point {lat:.6f},{lon:.6f} is {d / 1000:.1f} km from field {field.id}; "
                f"give a point within {MAX_RELOAD_DISTANCE_M / 1000:g} km (as LAT,LON)"
            )
        if not forbidden.is_empty and forbidden.contains(pt):
            raise PlanError(
                f"reload point {lat:.6f},{lon:.6f} lies in a no-spray zone, obstacle or hole of field {field.id}"
            )
        return np.array([float(x), float(y)])
    # The field edge nearest the middle of the work, away from keep-out zones.
    edge = reload_edge(field, forbidden)
    target = area.centroid if not area.is_empty else field.boundary.centroid
    p = nearest_points(edge, target)[0]
    return np.array([p.x, p.y])


def plan(
    field: Field,
    params: PlanParams,
    terrain: Terrain | None = None,
    *,
    fleet: Sequence[PlanParams] = (),
    separation_m: float = DEFAULT_SEPARATION_M,
) -> Plan:
    """Plan the spraying of one field: swaths, route, sorties, dose and metrics (pure). With a
    DEM (`terrain`), every leg follows the ground at params.height_m (planner/terrain.py).

    With two or more drones in `fleet` (fleet[0] is normally `params`), the one layout is split
    between them, each in its own strip of the field with its own reload point, at least
    `separation_m` from the others' (planner/fleet.py); with none or one, the plan is one drone's."""
    params = params.validate()
    crew = [p.validate() for p in fleet] if len(fleet) >= 2 else []
    if crew:
        check_crew(params, crew, separation_m)
    w = params.swath_m
    sprayer = sprayer_for(params)
    area = _polygons(field.sprayable)
    if area.is_empty:
        raise PlanError(f"field {field.id} has no sprayable area (no-spray zones cover all of it)")
    rect = area.minimum_rotated_rectangle
    c = np.asarray(rect.exterior.coords) if isinstance(rect, shapely.Polygon) else np.zeros((2, 2))
    sides = np.hypot(*np.diff(c, axis=0).T) if len(c) > 2 else np.array([0.0])
    if area.area < w * w or float(sides.max()) < w:
        raise PlanError(
            f"field {field.id} ({area.area:.0f} m² sprayable, {float(sides.max()):.1f} m long) "
            f"is smaller than one {w:g} m swath"
        )
    keepout = _polygons(field.keepout)
    holes = holes_of(field.boundary)
    present = [g for g in (keepout, holes) if not g.is_empty]
    forbidden = shapely.union_all(present) if present else shapely.Polygon()

    turn_cost = w + params.turn_s * sprayer.speed_m_s
    warnings: list[str] = []
    variants = EDGE_PASS_CHOICES if params.edge_passes is None else (int(params.edge_passes),)
    # the swaths and laps keep KEEPOUT_CLEARANCE_M off every no-spray zone, so the copter's lateral
    # tracking error does not put the footprint's edge inside the buffer
    guard, layout_area = keepout, area
    if not keepout.is_empty:
        guard = keepout.buffer(KEEPOUT_CLEARANCE_M, join_style="mitre")
        layout_area = _polygons(area.difference(guard))
    spacing = params.line_spacing_m
    headlands = [edge_passes(layout_area, w, k, guard, spacing) for k in variants]
    for h in headlands:
        h.rest = _polygons(h.rest)
    pace = Pace(sprayer.speed_m_s, params.accel_m_s2, params.turn_s, LEAD_M)
    # a job of several plots: a band's lines drawn closer to fit it keep its spray off the bunds (one
    # drone: a fleet's strips are split by line, and fitted plots held three drones 3 cells under)
    fit = FIT_TOLERANCE if len(shapely.get_parts(field.boundary)) > 1 and not crew else 0.0
    site = Site(layout_area, guard, holes, w, turn_cost, pace, spacing, fit)
    layout = choose_layout(site, params.angle_deg, headlands)
    if params.angle_deg is None and not crew:  # a fleet shares one heading out in strips (planner/bands.py)
        layout = headings_per_part(site, layout)
    swaths, angle, headland = layout.swaths, layout.bearing_deg, layout.headland
    assert headland is not None  # choose_layout's layouts always have their headland
    laps = headland.laps
    fitted = _fitted_spacing(layout.swaths, headland, spacing) if fit else None
    if fitted is not None:  # lines drawn closer to fit their bands: the flow is set for them
        params = replace(params, spacing_m=fitted)
        crew = [replace(p, spacing_m=fitted) for p in crew]
        sprayer = sprayer_for(params)
    if sprayer.note and not crew:
        warnings.append(sprayer.note)
    transit = TransitPlanner(field.boundary, forbidden, params.turn_margin_m)
    angle_mode = "auto" if params.angle_deg is None else "fixed"  # the layout's, before params is drone 1's
    edge_mode = "auto" if params.edge_passes is None else "fixed"
    parts: list[DronePart] = []
    if crew:
        given = [_reload_point(field, p, area, forbidden) if p.reload is not None else None for p in crew]
        if terrain is not None:
            points = [shapely.Point(*xy) for xy in given if xy is not None]
            reach = shapely.union_all([field.boundary, *points]).buffer(params.turn_margin_m + 10.0)
            check_cover(terrain, field.frame, reach, f"field {field.id}")
        job = plan_fleet(
            field, crew, swaths, laps, area, reload_edge(field, forbidden), transit, terrain, given, separation_m
        )
        parts, route, sorties, n_cells = job.parts, job.route, job.sorties, job.cells
        warnings.extend(job.warnings)
        narrowest = min(p.lines[1] - p.lines[0] for p in parts) * spacing
        if narrowest < 2 * separation_m:  # neighbours at equal progress are then closer than the minimum
            warnings.append(
                _(
                    "the drones' strips are {width:.0f} m wide, less than twice the {sep:g} m separation: "
                    "the drones will often wait for each other; try --angle {angle:.0f} (strips across the "
                    "field's other side) or fewer drones"
                ).format(width=narrowest, sep=separation_m, angle=(angle + 90.0) % 180.0)
            )
        params, sprayer, reload_xy, ground = crew[0], parts[0].sprayer, parts[0].reload_xy, parts[0].ground
    else:
        route, sorties, n_cells, reload_xy, ground = _one_drone(
            field, params, sprayer, swaths, laps, area, forbidden, transit, terrain
        )
    lines = [l.coords for s in sorties for l in s.legs if l.kind == "swath"]
    cov = coverage(lines, w, area, keepout, exact=True)
    doubled_m2 = max(0.0, cov.overlap_m2 - site.margins_m2(headland, swaths))
    doubled = doubled_m2 / max(float(area.area), 1e-9) * 100.0
    if doubled > OVERLAP_WARN_PCT:  # e.g. an edge lap inside the first swath of a narrow strip
        warnings.append(
            f"{doubled:.1f} % of the field is sprayed twice ({doubled_m2:.0f} m² where swaths "
            f"and edge laps overlap): that part gets a double dose; on a narrow field try "
            f"--edge-passes 0, another --angle or a narrower --swath"
        )
    return Plan(
        field=field,
        params=params,
        sprayer=sprayer,
        angle_deg=round(float(angle), 2),
        angle_mode=angle_mode,
        edge_passes=headland.passes,
        edge_mode=edge_mode,
        reload_xy=reload_xy,
        route=route,
        sorties=sorties,
        cells=n_cells,
        coverage=cov,
        sprayable=area,
        warnings=warnings + list(field.warnings),
        ground=ground,
        fleet=parts,
        separation_m=float(separation_m) if parts else None,
        part_angles_deg=[round(float(b), 2) for b in layout.part_bearings],
    )


def _fitted_spacing(swaths: SwathSet, headland: Headland, spacing: float) -> float | None:
    """The spacing the flow is set for where band_layout drew a band's lines closer (or spread them)
    to fit it: the mean of the swaths' and laps' spacings over their length, so the job's litres
    are the dose over what its lines spray for; None where every line lies `spacing` apart."""
    steps = swaths.steps
    if len(steps) == 0 or np.allclose(steps, spacing, rtol=0.0, atol=1e-6):
        return None
    length = float(swaths.lengths.sum()) + headland.length
    mean = (float((steps * swaths.lengths).sum()) + spacing * headland.length) / length
    return round(mean, 4)


def _one_drone(field, params, sprayer, swaths, laps, area, forbidden, transit, terrain):
    """One drone's route and sorties over the whole layout: (route, sorties, cells, reload, ground)."""
    w = params.swath_m
    cells = cells_of(swaths)
    reload_xy = _reload_point(field, params, area, forbidden)
    ground = None
    if terrain is not None:
        reach = shapely.union_all([field.boundary, shapely.Point(*reload_xy)]).buffer(params.turn_margin_m + 10.0)
        check_cover(terrain, field.frame, reach, f"field {field.id}")
        ground = Ground(terrain, field.frame, reload_xy, params.height_m, TOLERANCE_M)
    leads = Leads(transit, LEAD_M)
    route = build_route(swaths, cells, laps, transit, reload_xy, leads)
    if not any(l.kind == "swath" for l in route):
        raise PlanError(f"field {field.id} is too narrow for a {w:g} m swath: no swath fits")
    check_tank(route, params)
    sorties = split_sorties(route, reload_xy, transit, params, sprayer.speed_m_s, leads, ground)
    if ground is not None:
        follow_terrain(
            sorties,
            ground,
            params.climb_m_s,
            params.descent_m_s,
            lambda leg: leg_speed(leg.kind, leg.length, sprayer.speed_m_s, params.transit_speed_m_s),
        )
    return route, sorties, len(cells), reload_xy, ground
