"""Finishing a sortie that was cut short (failsafe RTL, low battery): the same plan, but
the sortie starts where spraying stopped.

A stop the planner did not plan for still deserves a planned way back: the approach from
the reload point to the breakpoint is a safe transit round every keep-out zone and hole,
exactly like the planner's own transits, and the interrupted swath is cut at the
breakpoint so no strip is sprayed twice. Works on the plan.json dict alone (pure), so
`agrodrone fly` can call it with the plan it is flying.
"""

from __future__ import annotations

import copy

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.ops import substring

from fields import LocalFrame
from planner.errors import PlanError
from planner.geometry import holes_of
from planner.transit import TransitPlanner

DEFAULT_TURN_MARGIN_M = 3.0


def _sortie(plan: dict, sortie: int) -> dict:
    for s in plan.get("sorties") or []:
        if s.get("index") == sortie:
            return s
    raise PlanError(f"plan has no sortie {sortie}")


def _transit(plan: dict, frame: LocalFrame) -> TransitPlanner:
    f = plan["field"]
    boundary = frame.geom_to_local(shape(f["boundary"]))
    zones = [frame.geom_to_local(shape(k["geometry"])) for k in f.get("keepout") or []]
    parts = [g for g in [holes_of(boundary), *zones] if not g.is_empty]
    forbidden = shapely.union_all(parts) if parts else shapely.Polygon()
    margin = float(plan.get("params", {}).get("turn_margin_m") or DEFAULT_TURN_MARGIN_M)
    return TransitPlanner(boundary, forbidden, margin)


def resume_plan(plan: dict, sortie: int, leg: int, at: tuple[float, float] | None) -> dict:
    """A copy of `plan` whose sortie `sortie` resumes on its swath leg `leg` at `at`
    ((lon, lat), projected onto the leg; None = the leg's start): a safe transit from the
    reload point to there, the rest of that swath, then the sortie's remaining legs."""
    s = _sortie(plan, sortie)
    legs = s.get("legs") or []
    if not 0 <= leg < len(legs) or legs[leg].get("kind") != "swath":
        raise PlanError(f"sortie {sortie} leg {leg} is not a swath to resume")
    frame = LocalFrame(int(plan["field"]["utm_epsg"]))
    line = frame.geom_to_local(shapely.LineString(legs[leg]["coords"]))
    done = 0.0 if at is None else line.project(frame.geom_to_local(shapely.Point(at)))
    if done >= line.length - 0.05:  # that swath was finished: go on with the next legs
        rest_legs = copy.deepcopy(legs[leg + 1:])
    else:
        part = copy.deepcopy(legs[leg])
        part["coords"] = [[round(x, 7), round(y, 7)] for x, y in
                          frame.geom_to_wgs84(substring(line, done, line.length)).coords]
        part["length_m"] = round(line.length - done, 2)
        if part.get("volume_l") is not None:
            part["volume_l"] = round(float(part["volume_l"]) * (1 - done / line.length), 3)
        rest_legs = [part] + copy.deepcopy(legs[leg + 1:])
    reload_ll = (float(plan["reload"]["lon"]), float(plan["reload"]["lat"]))
    start_ll = tuple(rest_legs[0]["coords"][0]) if rest_legs else reload_ll
    a = np.array(frame.to_local(*reload_ll))
    b = np.array(frame.to_local(*start_ll))
    path = _transit(plan, frame).path(a, b)
    lon, lat = frame.to_wgs84(path[:, 0], path[:, 1])
    coords = [[round(x, 7), round(y, 7)] for x, y in zip(lon, lat)]
    coords[0], coords[-1] = list(reload_ll), list(start_ll)  # exact ends: legs stay contiguous
    approach = {"kind": "transit", "coords": coords,
                "length_m": round(float(np.hypot(*np.diff(path, axis=0).T).sum()), 2)}
    resumed = copy.deepcopy(plan)
    target = _sortie(resumed, sortie)
    target["legs"] = [approach] + rest_legs
    volumes = [float(g["volume_l"]) for g in rest_legs if g.get("kind") == "swath" and "volume_l" in g]
    if volumes:
        target["volume_l"] = round(sum(volumes), 3)
    return resumed
