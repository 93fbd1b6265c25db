"""Geofence and rally points for one sortie, in ArduPilot's fence/rally item form.

The inclusion polygon is the field, every sortie's flight lines and the reload point,
buffered by `margin_m` in the field's UTM frame (field.utm_epsg) and simplified:
the copter can take off at a reload point on the dyke and follow the planner's
transits without breaching.  It is the same for every sortie of a job.  Obstacles (kind
"obstacle": poles, trees, houses the
drone must not fly through) become exclusion polygons, shrunk by `inset_m` so a
transit planned along the edge of their buffer does not breach.  No-spray zones
(ponds, graves) are not fenced: flying over them is allowed, spraying is not, and
that is the mission's job.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from missions.items import (
    FENCE_POLYGON_EXCLUSION,
    FENCE_POLYGON_INCLUSION,
    FRAME_GLOBAL_INT,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_RALLY,
    RALLY_POINT,
    MissionItem,
)
from missions.plan_input import plan_document
from planner.document import DocSortie, PlanDocument

MAX_VERTICES = 70  # ArduPilot keeps fences in a small storage area; stay well inside it


def _simplified(poly: Polygon, max_vertices: int, start_tol: float) -> Polygon:
    tol = start_tol
    out = poly
    while True:
        out = shapely.simplify(poly, tol, preserve_topology=True)
        if len(out.exterior.coords) - 1 <= max_vertices or tol > 50:
            return out
        tol *= 1.6


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _ring_items(poly: Polygon, command: int) -> list[MissionItem]:
    coords = list(poly.exterior.coords)[:-1]
    n = len(coords)
    return [
        MissionItem.at(
            0, command, lat, lon, 0.0, frame=FRAME_GLOBAL_INT, param1=float(n), mission_type=MISSION_TYPE_FENCE
        )
        for lon, lat in coords
    ]


def sortie_lines(sortie: DocSortie) -> list[tuple[float, float]]:
    return [c for leg in sortie.legs for c in leg.coords]


def fence_items(plan: PlanDocument | dict, *, margin_m: float = 10.0, inset_m: float = 1.0) -> list[MissionItem]:
    """Inclusion polygon around field + flight lines, exclusion polygons for obstacles."""
    doc = plan_document(plan)
    frame = doc.field.frame
    reload_pt = doc.reload.lonlat
    pts = [reload_pt]
    parts = [frame.geom_to_local(shape(doc.field.boundary)), frame.geom_to_local(Point(reload_pt))]
    for sortie in doc.sorties:
        line = sortie_lines(sortie)
        pts.extend(line)
        if len(line) >= 2:
            parts.append(frame.geom_to_local(LineString(line)))
    region = shapely.union_all(parts).buffer(margin_m, quad_segs=4)
    polys = _polygons(region)
    outer = Polygon(polys[0].exterior) if len(polys) == 1 else shapely.convex_hull(region)
    outer = _simplified(outer, MAX_VERTICES, start_tol=min(1.0, margin_m / 4))
    local_pts = frame.geom_to_local(shapely.MultiPoint(pts))
    if not outer.buffer(1e-6).covers(local_pts):  # simplification cut a corner: fall back to the hull
        outer = _simplified(shapely.convex_hull(region), MAX_VERTICES, start_tol=min(1.0, margin_m / 4))
    items = _ring_items(frame.geom_to_wgs84(outer), FENCE_POLYGON_INCLUSION)

    for zone in doc.field.keepout or ():
        if zone.kind != "obstacle":
            continue
        geom = frame.geom_to_local(shape(zone.geometry))
        geom = geom.buffer(-inset_m) if inset_m > 0 else geom
        for poly in _polygons(geom):
            if poly.area < 1.0:
                continue
            poly = _simplified(Polygon(poly.exterior), 24, start_tol=0.2)
            items.extend(_ring_items(frame.geom_to_wgs84(poly), FENCE_POLYGON_EXCLUSION))
    return [it.with_seq(i) for i, it in enumerate(items)]


def rally_items(plan: PlanDocument | dict, *, alt_m: float = 15.0) -> list[MissionItem]:
    """One rally point at the reload point (ArduPilot stores rally altitude in whole metres)."""
    lon, lat = plan_document(plan).reload.lonlat
    return [
        MissionItem.at(
            0,
            RALLY_POINT,
            lat,
            lon,
            float(math.ceil(alt_m)),
            frame=FRAME_GLOBAL_RELATIVE_ALT_INT,
            mission_type=MISSION_TYPE_RALLY,
        )
    ]
