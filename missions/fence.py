"""Geofence and rally points for one sortie, in ArduPilot's fence/rally item form.

The inclusion polygon is the field, every sortie's flight lines and the reload point,
buffered by `margin_m` in the field's UTM frame (plan.field.utm_epsg) and simplified:
the copter can take off at a reload point on the dyke and follow the planner's
transits without breaching.  It is the same for every sortie of a job.  Obstacles (kind "obstacle": poles, trees, houses the
drone must not fly through) become exclusion polygons, shrunk by `inset_m` so a
transit planned along the edge of their buffer does not breach.  No-spray zones
(ponds, graves) are not fenced: flying over them is allowed, spraying is not, and
that is the mission's job.
"""

from __future__ import annotations

import math

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from fields.frame import transform_geometry
from missions.errors import MissionError
from missions.items import (FENCE_POLYGON_EXCLUSION, FENCE_POLYGON_INCLUSION, FRAME_GLOBAL_INT,
                            FRAME_GLOBAL_RELATIVE_ALT_INT, MISSION_TYPE_FENCE, MISSION_TYPE_RALLY,
                            RALLY_POINT, MissionItem)
from missions.plan_input import lonlat, need, number

MAX_VERTICES = 70  # ArduPilot keeps fences in a small storage area; stay well inside it


def _to_local(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    return transform_geometry(geom, "EPSG:4326", f"EPSG:{epsg}")


def _to_wgs84(geom: BaseGeometry, epsg: int) -> BaseGeometry:
    return transform_geometry(geom, f"EPSG:{epsg}", "EPSG:4326")


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
    return [MissionItem.at(0, command, lat, lon, 0.0, frame=FRAME_GLOBAL_INT, param1=float(n),
                           mission_type=MISSION_TYPE_FENCE) for lon, lat in coords]


def sortie_lines(sortie: dict) -> list[tuple[float, float]]:
    pts: list[tuple[float, float]] = []
    for i, leg in enumerate(need(sortie, "legs", f"sortie {sortie.get('index')}")):
        for j, c in enumerate(need(leg, "coords", f"sortie {sortie.get('index')} leg {i}")):
            pts.append(lonlat(c, f"sortie {sortie.get('index')} leg {i} coordinate {j}"))
    return pts


def fence_items(plan: dict, *, margin_m: float = 10.0, inset_m: float = 1.0) -> list[MissionItem]:
    """Inclusion polygon around field + flight lines, exclusion polygons for obstacles."""
    field = need(plan, "field", "plan")
    epsg = int(number(field, "utm_epsg", "field"))
    try:
        CRS.from_epsg(epsg)
    except CRSError:
        raise MissionError(f"plan: field.utm_epsg {epsg} is not a known EPSG coordinate system") from None
    try:
        boundary = shape(need(field, "boundary", "field"))
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise MissionError(f"plan: field.boundary is not a GeoJSON geometry: {exc}") from None
    reload_pt = lonlat(need(plan, "reload", "plan"), "reload")
    pts = [reload_pt]
    parts = [_to_local(boundary, epsg), _to_local(Point(reload_pt), epsg)]
    for sortie in need(plan, "sorties", "plan"):
        line = sortie_lines(sortie)
        pts.extend(line)
        if len(line) >= 2:
            parts.append(_to_local(LineString(line), epsg))
    region = shapely.union_all(parts).buffer(margin_m, quad_segs=4)
    polys = _polygons(region)
    outer = Polygon(polys[0].exterior) if len(polys) == 1 else shapely.convex_hull(region)
    outer = _simplified(outer, MAX_VERTICES, start_tol=min(1.0, margin_m / 4))
    local_pts = _to_local(shapely.MultiPoint(pts), epsg)
    if not outer.buffer(1e-6).covers(local_pts):  # simplification cut a corner: fall back to the hull
        outer = _simplified(shapely.convex_hull(region), MAX_VERTICES, start_tol=min(1.0, margin_m / 4))
    items = _ring_items(_to_wgs84(outer, epsg), FENCE_POLYGON_INCLUSION)

    keepout = field.get("keepout") or []
    if not isinstance(keepout, list) or not all(isinstance(zone, dict) for zone in keepout):
        raise MissionError("plan: field.keepout is not a list of zones")
    for z, zone in enumerate(keepout):
        if zone.get("kind") != "obstacle":
            continue
        try:
            geom = _to_local(shape(need(zone, "geometry", f"keepout {z}")), epsg)
        except MissionError:
            raise
        except Exception as exc:
            raise MissionError(f"plan: keepout {zone.get('id', z)} geometry is not GeoJSON: {exc}") from None
        geom = geom.buffer(-inset_m) if inset_m > 0 else geom
        for poly in _polygons(geom):
            if poly.area < 1.0:
                continue
            poly = _simplified(Polygon(poly.exterior), 24, start_tol=0.2)
            items.extend(_ring_items(_to_wgs84(poly, epsg), FENCE_POLYGON_EXCLUSION))
    return [it.with_seq(i) for i, it in enumerate(items)]


def rally_items(plan: dict, *, alt_m: float = 15.0) -> list[MissionItem]:
    """One rally point at the reload point (ArduPilot stores rally altitude in whole metres)."""
    lon, lat = lonlat(need(plan, "reload", "plan"), "reload")
    return [MissionItem.at(0, RALLY_POINT, lat, lon, float(math.ceil(alt_m)),
                           frame=FRAME_GLOBAL_RELATIVE_ALT_INT, mission_type=MISSION_TYPE_RALLY)]
