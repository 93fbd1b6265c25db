"""Finishing a sortie that was cut short (failsafe RTL, low battery): the same plan, but
the sortie starts where spraying stopped.

A stop the planner did not plan for still deserves a planned way back: the approach from
the reload point to the breakpoint is a safe transit round every keep-out zone and hole,
exactly like the planner's own transits, and the interrupted swath is cut at the
breakpoint so no strip is sprayed twice. Works on the plan document alone (pure), so
`agrodrone fly` can call it with the plan it is flying.
"""

from __future__ import annotations

from dataclasses import replace
from gettext import gettext as _
from typing import TYPE_CHECKING, cast

import numpy as np
import shapely
from shapely.ops import substring

from planner.document import PlanDocument, as_document
from planner.document_parts import DocField, DocLeg
from planner.errors import PlanError
from planner.geometry import holes_of
from planner.terrain import TOLERANCE_M, Ground
from planner.transit import TransitPlanner

if TYPE_CHECKING:
    from fields.terrain import Terrain

DEFAULT_TURN_MARGIN_M = 3.0


def _transit(field: DocField, turn_margin_m: float | None) -> TransitPlanner:
    boundary = field.boundary_local
    parts = [g for g in [holes_of(boundary), *field.zones_local] if not g.is_empty]
    forbidden = shapely.union_all(parts) if parts else shapely.Polygon()
    return TransitPlanner(boundary, forbidden, float(turn_margin_m or DEFAULT_TURN_MARGIN_M))


def _round(coords) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(x), 7), round(float(y), 7)) for x, y in coords)


def resume_plan(
    plan: PlanDocument | dict,
    sortie: int,
    leg: int,
    at: tuple[float, float] | None,
    terrain: Terrain | None = None,
) -> PlanDocument | dict:
    """A copy of `plan` whose sortie `sortie` resumes on its swath leg `leg` at `at`
    ((lon, lat), projected onto the leg; None = the leg's start): a safe transit from the
    reload point to there, the rest of that swath, then the sortie's remaining legs.
    A terrain plan needs its DEM (`terrain`) for the new approach's altitudes. In a plan for
    several drones the sortie resumes from its own drone's reload point (over its own ground).
    Given a plan.json dict, it returns one."""
    doc = as_document(plan)
    if doc.fleet is not None:  # a fleet's sortie resumes from its own drone's reload point
        drone = doc.sortie(sortie).drone
        assert drone is not None  # every sortie of a fleet plan names its drone (document_fleet.py)
        own = resume_plan(doc.for_drone(drone), sortie, leg, at, terrain)
        assert isinstance(own, PlanDocument)
        resumed = doc.with_sortie(replace(own.sortie(sortie), drone=drone))
        return resumed if isinstance(plan, PlanDocument) else resumed.to_dict()
    if doc.terrain is not None and terrain is None:
        raise PlanError(
            _("resuming a terrain plan needs its DEM ({dem} in the plan folder)").format(dem=doc.terrain.dem)
        )
    s = doc.sortie(sortie)
    legs = s.legs
    if not 0 <= leg < len(legs) or legs[leg].kind != "swath":
        raise PlanError(_("sortie {sortie} leg {leg} is not a swath to resume").format(sortie=sortie, leg=leg))
    frame = doc.field.frame
    line = frame.geom_to_local(shapely.LineString(legs[leg].coords))
    done = 0.0 if at is None else line.project(frame.geom_to_local(shapely.Point(at)))
    rest_legs: tuple[DocLeg, ...] = legs[leg + 1 :]
    if done < line.length - 0.05:  # else that swath was finished: go on with the next legs
        cut = legs[leg]
        rest = substring(line, done, line.length)
        alts = None
        if cut.alts_m is not None:  # the altitudes along what is left, as the line was flown
            along = np.array([line.project(shapely.Point(c)) for c in rest.coords])
            at_vertex = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.asarray(line.coords), axis=0).T))])
            alts = tuple(round(float(z), 2) for z in np.interp(along, at_vertex, cut.alts_m))
        part = replace(
            cut,
            coords=_round(frame.geom_to_wgs84(rest).coords),
            alts_m=alts,
            length_m=round(line.length - done, 2),
            volume_l=None if cut.volume_l is None else round(float(cut.volume_l) * (1 - done / line.length), 3),
        )
        rest_legs = (part, *rest_legs)
    reload_ll = doc.reload.lonlat
    start_ll = cast("tuple[float, float]", tuple(rest_legs[0].coords[0])) if rest_legs else reload_ll
    a = np.array(frame.to_local(*reload_ll))
    b = np.array(frame.to_local(*start_ll))
    path = _transit(doc.field, doc.params.turn_margin_m).path(a, b)
    lon, lat = frame.to_wgs84(path[:, 0], path[:, 1])
    coords = list(_round(zip(lon, lat)))
    coords[0], coords[-1] = reload_ll, start_ll  # exact ends: legs stay contiguous
    approach = DocLeg(
        kind="transit", coords=tuple(coords), length_m=round(float(np.hypot(*np.diff(path, axis=0).T).sum()), 2)
    )
    if doc.terrain is not None and terrain is not None:  # over the ground, as the planner's transits
        ground = Ground(terrain, frame, a, doc.params.height_m, doc.terrain.tolerance_m or TOLERANCE_M)
        prof = ground.profile(path, transit=True)
        lon, lat = frame.to_wgs84(prof.coords[:, 0], prof.coords[:, 1])
        coords = list(_round(zip(lon, lat)))
        coords[0], coords[-1] = reload_ll, start_ll
        approach = replace(approach, coords=tuple(coords), alts_m=tuple(float(z) for z in prof.alts))
    volumes = [float(g.volume_l) for g in rest_legs if g.kind == "swath" and g.volume_l is not None]
    resumed = doc.with_sortie(
        replace(s, legs=(approach, *rest_legs), volume_l=round(sum(volumes), 3) if volumes else s.volume_l)
    )
    return resumed if isinstance(plan, PlanDocument) else resumed.to_dict()
