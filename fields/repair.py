"""Validation and repair of field boundaries, in local metres (pure geometry).

A boundary is repaired only when there is one obvious reading of what was drawn:

* consecutive duplicate vertices (closer than 1 mm) are removed;
* rings are oriented (exterior counter-clockwise, holes clockwise);
* a hole that touches or crosses the boundary is cut out of the field (the pond at the
  edge is not sprayed), a hole outside the boundary is ignored;
* overlapping parts of a multi-part field are merged;
* a self-intersecting ring is rebuilt with `shapely.make_valid`. Loops smaller than
  `LOOP_FRACTION` of the ring's largest part are digitising slips and are dropped. The
  repair is then accepted only if the rebuilt area is within `AMBIGUOUS_FRACTION` of the
  area the ring encloses by the shoelace formula (what was drawn). A bow-tie whose two
  lobes are both real gives a shoelace area far from the rebuilt one, so it is refused:
  only the operator knows which lobe is the field.

Each repair leaves a warning that says what changed, with the area before and after.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LinearRing, LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

DUPLICATE_TOLERANCE_M = 0.001
LOOP_FRACTION = 0.01
AMBIGUOUS_FRACTION = 0.01
MIN_AREA_M2 = 1.0
MAX_AREA_HA = 5000.0


class RepairError(ValueError):
    """The boundary cannot be used; the message is the reason (the caller adds file and feature)."""


def _ha(m2: float) -> str:
    return f"{m2 / 10_000:.4f} ha"


def _shoelace(coords: np.ndarray) -> float:
    x, y = coords[:, 0], coords[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _polygonal(geom: BaseGeometry) -> list[Polygon]:
    """The polygon parts of any geometry (make_valid may return lines for collapsed bits)."""
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygonal(g)]
    return []


def as_polygons(geom: BaseGeometry, warnings: list[str]) -> list[Polygon]:
    """The polygons a field geometry stands for; a closed line (a KML path) becomes one."""
    if geom is None or geom.is_empty:
        raise RepairError("empty geometry")
    if isinstance(geom, (Polygon, MultiPolygon)):
        return _polygonal(geom)
    if isinstance(geom, (LineString, LinearRing)):
        coords = np.asarray(geom.coords)
        if len(coords) >= 4 and np.allclose(coords[0], coords[-1]):
            warnings.append("boundary drawn as a closed line; read as a polygon")
            return [Polygon(coords)]
        raise RepairError(f"a field must be a polygon, not an open {geom.geom_type}")
    if hasattr(geom, "geoms"):
        polys: list[Polygon] = []
        others = 0
        for part in geom.geoms:
            try:
                polys.extend(as_polygons(part, warnings))
            except RepairError:
                others += 1
        if not polys:
            raise RepairError(f"a field must be a polygon; the {geom.geom_type} holds none")
        if others:
            warnings.append(f"{others} non-polygon part(s) of the {geom.geom_type} ignored")
        return polys
    raise RepairError(f"a field must be a polygon, not a {geom.geom_type}")


def _dedupe(coords: np.ndarray) -> tuple[np.ndarray, int]:
    """Drop vertices within 1 mm of the previous one; returns (closed ring, removed)."""
    keep = [0]
    for i in range(1, len(coords)):
        if np.hypot(*(coords[i] - coords[keep[-1]])) >= DUPLICATE_TOLERANCE_M:
            keep.append(i)
    ring = coords[keep]
    if len(ring) > 1 and np.hypot(*(ring[-1] - ring[0])) < DUPLICATE_TOLERANCE_M:
        ring = ring[:-1]
    removed = len(coords) - 1 - len(ring)  # the input repeats its first vertex at the end
    if len(ring):
        ring = np.vstack([ring, ring[:1]])
    return ring, max(removed, 0)


def _fix_ring(coords: np.ndarray, what: str, warnings: list[str]) -> BaseGeometry:
    """A ring as a valid (multi)polygon, or RepairError when its meaning is ambiguous."""
    drawn = abs(_shoelace(coords))
    ring_poly = Polygon(coords)
    if ring_poly.is_valid:
        return ring_poly
    reason = shapely.is_valid_reason(ring_poly).split("[")[0]  # drop GEOS's UTM coordinates
    parts = _polygonal(shapely.make_valid(ring_poly, method="structure"))
    if not parts:
        raise RepairError(f"{what} encloses no area (degenerate: {reason})")
    largest = max(p.area for p in parts)
    loops = [p for p in parts if p.area < LOOP_FRACTION * largest]
    kept = [p for p in parts if p.area >= LOOP_FRACTION * largest]
    repaired = shapely.union_all(kept)
    if abs(repaired.area - drawn) > AMBIGUOUS_FRACTION * max(repaired.area, drawn):
        raise RepairError(
            f"{what} crosses itself ({reason}) and cannot be repaired unambiguously: "
            f"it encloses {_ha(drawn)} as drawn but {_ha(repaired.area)} in "
            f"{len(kept)} part(s) once untangled; redraw it"
        )
    note = f"; {len(loops)} small loop(s) of {_ha(sum(p.area for p in loops))} dropped" if loops else ""
    warnings.append(f"{what} crossed itself ({reason}); repaired{note}: area {_ha(drawn)} -> {_ha(repaired.area)}")
    return repaired


def _repair_polygon(poly: Polygon, label: str, warnings: list[str], orient: list[int]) -> BaseGeometry:
    shell_coords, removed = _dedupe(np.asarray(poly.exterior.coords)[:, :2])
    if len(shell_coords) < 4:
        raise RepairError(f"{label}boundary has fewer than 3 distinct vertices (degenerate)")
    if _shoelace(shell_coords) < 0:
        orient[0] += 1
    shell = _fix_ring(shell_coords, f"{label}boundary", warnings)
    holes: list[BaseGeometry] = []
    for k, interior in enumerate(poly.interiors, start=1):
        coords, r = _dedupe(np.asarray(interior.coords)[:, :2])
        removed += r
        if len(coords) < 4:
            warnings.append(f"{label}hole {k} has fewer than 3 distinct vertices; ignored")
            continue
        if _shoelace(coords) > 0:
            orient[1] += 1
        hole = _fix_ring(coords, f"{label}hole {k}", warnings)
        if not hole.intersects(shell):
            warnings.append(f"{label}hole {k} lies outside the boundary; ignored")
            continue
        shared = shell.boundary.intersection(hole.boundary).length
        if not shell.contains(hole) or shared > 0:
            before = shell.area - hole.area
            after = shell.difference(hole).area
            warnings.append(
                f"{label}hole {k} touches or crosses the boundary; the field is cut along it: "
                f"area {_ha(before)} -> {_ha(after)}"
            )
        holes.append(hole)
    if removed:
        warnings.append(f"{label}{removed} duplicate vertice(s) removed; area unchanged")
    if not holes:
        return shell
    return shell.difference(shapely.union_all(holes))


def repair_boundary(geom: BaseGeometry, *, ccw_convention: bool = False) -> tuple[BaseGeometry, list[str]]:
    """A valid, oriented (Multi)Polygon in the same metres, and the warnings of each repair.

    `ccw_convention` says the format requires counter-clockwise exteriors (GeoJSON,
    RFC 7946); then re-orienting a ring is worth a warning, otherwise it is silent.
    Raises RepairError for what cannot be repaired or is not a plausible field.
    """
    warnings: list[str] = []
    polys = as_polygons(geom, warnings)
    orient = [0, 0]  # clockwise exteriors, counter-clockwise holes
    multi = len(polys) > 1
    pieces = [_repair_polygon(p, f"part {i} " if multi else "", warnings, orient) for i, p in enumerate(polys, start=1)]
    total = sum(p.area for p in pieces)
    result = shapely.union_all(pieces) if multi else pieces[0]
    if multi and total - result.area > max(1e-6 * total, 0.01):
        warnings.append(f"overlapping parts merged: area {_ha(total)} -> {_ha(result.area)}")
    parts = [p for p in _polygonal(result) if p.area > 0]
    if not parts:
        raise RepairError("the boundary encloses no area (degenerate)")
    result = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    result = shapely.orient_polygons(result, exterior_cw=False)
    if ccw_convention and (orient[0] or orient[1]):
        what = ", ".join(
            s
            for s in (
                f"{orient[0]} clockwise exterior(s)" if orient[0] else "",
                f"{orient[1]} counter-clockwise hole(s)" if orient[1] else "",
            )
            if s
        )
        warnings.append(
            f"ring orientation corrected ({what}; RFC 7946 wants exteriors counter-clockwise, "
            f"holes clockwise); area unchanged"
        )
    if not result.is_valid:  # make_valid and difference give valid output; keep the promise
        raise RepairError(f"the boundary is invalid after repair ({shapely.is_valid_reason(result)})")
    area = result.area
    if not math.isfinite(area) or area < MIN_AREA_M2:
        raise RepairError(f"the boundary encloses {area:.3g} m², less than {MIN_AREA_M2:g} m² (degenerate)")
    if area > MAX_AREA_HA * 10_000:
        raise RepairError(
            f"the boundary encloses {area / 10_000:,.0f} ha, more than {MAX_AREA_HA:,.0f} ha: "
            "not a field (wrong CRS or units?)"
        )
    return result, warnings
