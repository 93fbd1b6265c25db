"""The plan as plain data: the plan.json document (docs/plan-format.md), GeoJSON and metrics."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fields import HA_M2, SAO_M2
from planner.document import PlanDocument
from planner.document_fleet import FLEET_VERSION, DocDroneParams, DocFleet, DocFleetDrone
from planner.document_parts import (
    DocBreakpoint,
    DocDrone,
    DocField,
    DocLeg,
    DocMetrics,
    DocParams,
    DocReload,
    DocSortie,
    DocSprayer,
    DocTerrain,
    DocZone,
)
from planner.dose import litres

DEM_FILE = "dem.tif"  # the plan folder's copy of the DEM a terrain plan follows
TERRAIN_VERSION = 2  # plan.json's version for one drone over a DEM; flat plans stay 1

if TYPE_CHECKING:
    from planner.params import PlanParams
    from planner.plan import Plan


def _r(x: float, nd: int = 2) -> float:
    return round(float(x), nd)


def _lonlat(plan: Plan, xy: np.ndarray) -> list[list[float]]:
    xy = np.atleast_2d(xy)
    lon, lat = plan.field.frame.to_wgs84(xy[:, 0], xy[:, 1])
    return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat))]


def _geojson_geom(plan: Plan, geom: BaseGeometry) -> dict[str, Any]:
    g = plan.field.frame.geom_to_wgs84(geom)
    g = shapely.set_precision(g, 1e-7) if not g.is_empty else g
    return shapely.geometry.mapping(g)


def metrics_of(plan: Plan) -> dict[str, Any]:
    p, cov = plan.params, plan.coverage
    a = float(plan.sprayable.area)
    spray = sum(s.spray_length_m for s in plan.sorties)
    transit = sum(s.transit_length_m for s in plan.sorties)
    route_len = sum(l.length for l in plan.route)
    swath_count = len({l.swath for l in plan.route if l.kind == "swath"})
    turns = sum(1 for l in plan.route if l.kind == "transit")
    flight = sum(s.flight_time_s for s in plan.sorties)
    job = flight + max(0, len(plan.sorties) - 1) * p.reload_s
    if plan.fleet:  # the drones fly at once: the job lasts as long as the slowest drone's part
        job = max(d.job_time_s for d in plan.fleet)
    ideal = a / p.line_spacing_m
    return {
        "field_id": plan.field.id,
        "area_ha": _r(plan.field.area_ha, 4),
        "sprayable_ha": _r(a / HA_M2, 4),
        "sprayable_sao": _r(a / SAO_M2, 1),
        "coverage_pct": _r(100.0 * cov.covered_m2 / a),
        "overlap_pct": _r(100.0 * cov.overlap_m2 / a),
        # the dose over the sprayed area of a flight as planned, against the target: what the record's
        # achieved dose is measured as (each line lays its spacing's litres over a swath's footprint)
        "dose_dev_pct": _r(100.0 * (p.line_spacing_m * spray / cov.sprayed_m2 - 1.0)) if cov.sprayed_m2 > 0 else None,
        "outside_pct": _r(100.0 * cov.outside_m2 / a),
        "outside_m2": _r(cov.outside_m2, 1),
        "no_spray_m2": _r(cov.no_spray_m2, 2),
        "spray_length_m": _r(spray, 1),
        "transit_length_m": _r(transit, 1),
        "total_length_m": _r(spray + transit, 1),
        "route_length_m": _r(route_len, 1),
        "turns": turns,
        "swaths": swath_count,
        "cells": plan.cells,
        "edge_passes": int(plan.edge_passes),
        "edge_laps": sum(1 for l in plan.route if l.kind == "swath" and len(l.coords) > 2),
        "sorties": len(plan.sorties),
        "volume_l": _r(litres(spray, p.line_spacing_m, p.dose_l_ha), 2),
        "dose_l_ha": p.dose_l_ha,
        "swath_m": p.swath_m,
        "flow_l_min": _r(plan.sprayer.flow_l_min, 3),
        "speed_m_s": _r(plan.sprayer.speed_m_s, 2),
        "speed_capped": plan.sprayer.speed_capped,
        "pump_rate_pct": _r(plan.sprayer.pump_rate_pct, 2),
        "flight_time_s": _r(flight, 0),
        "job_time_s": _r(job, 0),
        "angle_deg": plan.angle_deg,
        "path_ratio": _r(route_len / ideal, 3),
        "path_ratio_total": _r((spray + transit) / ideal, 3),
        "plan_ms": None if plan.plan_ms is None else _r(plan.plan_ms, 1),
    }


def _breakpoint(plan: Plan, bp) -> DocBreakpoint:
    ((lon, lat),) = _lonlat(plan, bp.xy)
    return DocBreakpoint(lon=lon, lat=lat, swath=int(bp.swath), offset_m=_r(bp.offset_m, 2))


def _leg(plan: Plan, leg) -> DocLeg:
    p, swath = plan.params, leg.kind == "swath"
    return DocLeg(
        kind=leg.kind,
        swath=int(leg.swath) if swath else None,
        offset_m=_r(leg.offset, 2) if swath else None,
        coords=tuple((lon, lat) for lon, lat in _lonlat(plan, leg.coords)),
        length_m=_r(leg.length, 2),
        volume_l=_r(litres(leg.length, p.line_spacing_m, p.dose_l_ha), 3) if swath else None,
        alts_m=None if leg.alts is None else tuple(_r(a, 2) for a in leg.alts),
        speed_m_s=leg.speed,
    )


def _terrain(plan: Plan) -> DocTerrain | None:
    """The terrain section of a plan that follows a DEM (planner/terrain.py)."""
    g = plan.ground
    if g is None:
        return None
    area = plan.field.boundary
    x0, y0, x1, y1 = area.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 60), np.linspace(y0, y1, 60))
    inside = shapely.contains_xy(area, gx, gy)
    elev = g.terrain.at_local(plan.field.frame, gx[inside], gy[inside])
    slopes = [
        float(np.max(np.abs(np.diff(l.alts)) / np.maximum(np.hypot(*np.diff(l.coords, axis=0).T), 1e-6)))
        for l in plan.swath_legs
        if l.alts is not None and len(l.alts) > 1
    ]
    return DocTerrain(
        dem=DEM_FILE,
        source=g.terrain.source or None,
        crs=g.terrain.crs if g.terrain.crs.startswith("EPSG:") else None,
        reload_elev_m=_r(g.reload_elev_m, 2),
        min_elev_m=_r(float(np.nanmin(elev)), 1) if elev.size else None,
        max_elev_m=_r(float(np.nanmax(elev)), 1) if elev.size else None,
        max_slope_pct=_r(100.0 * max(slopes, default=0.0), 1),
        tolerance_m=g.tolerance_m,
        transit_height_m=plan.params.height_m,
    )


def _drone(p: PlanParams, named: bool = True) -> DocDrone:
    """The `drone` section: the preset with the overrides (without preset and name: a fleet's `spec`)."""
    return DocDrone(
        preset=p.preset if named else None,
        name=p.drone_name if named else None,
        tank_l=p.tank_l,
        swath_m=p.swath_m,
        pump_max_l_min=p.pump_max_l_min,
        max_speed_m_s=p.max_speed_m_s,
        endurance_s=p.endurance_s,
        endurance_mass_kg=p.endurance_mass_kg,
        empty_mass_kg=p.empty_mass_kg,
        battery_mah=p.battery_mah,
        battery_cells=p.battery_cells,
        accel_m_s2=p.accel_m_s2,
        climb_m_s=p.climb_m_s,
        descent_m_s=p.descent_m_s,
    )


def _fleet(plan: Plan) -> DocFleet | None:
    """The fleet section (version 3): each drone's part and what its own plan needs."""
    if not plan.fleet:
        return None
    drones = []
    for d in plan.fleet:
        p = d.params
        ((lon, lat),) = _lonlat(plan, d.reload_xy)
        drones.append(
            DocFleetDrone(
                drone=d.number,
                preset=p.preset,
                name=p.drone_name,
                reload=DocReload(lon=lon, lat=lat),
                reload_elev_m=None if d.ground is None else _r(d.ground.reload_elev_m, 2),
                sorties=tuple(d.sorties),
                area_ha=_r(d.area_ha, 4),
                volume_l=_r(d.volume_l, 2),
                flight_time_s=_r(d.flight_time_s, 0),
                job_time_s=_r(d.job_time_s, 0),
                spec=_drone(p, named=False),
                # the per-drone parameters, named as in PlanParams
                params=DocDroneParams(**{k.name: getattr(p, k.name) for k in fields(DocDroneParams)}),
                sprayer=DocSprayer(**d.sprayer.to_dict()),
            )
        )
    return DocFleet(separation_m=float(plan.separation_m or 0.0), drones=tuple(drones))


def plan_document(plan: Plan, created_by: str) -> PlanDocument:
    """The plan as plan.json's document (docs/plan-format.md), rounded as written."""
    f, p, s = plan.field, plan.params, plan.sprayer
    keepout = tuple(
        DocZone(id=z.id, kind=z.kind, buffer_m=z.buffer_m, height_m=z.height_m, geometry=_geojson_geom(plan, z.keepout))
        for z in f.zones
    )
    ((rlon, rlat),) = _lonlat(plan, plan.reload_xy)
    sorties = tuple(
        DocSortie(
            index=so.index,
            volume_l=_r(so.volume_l, 3),
            spray_length_m=_r(so.spray_length_m, 1),
            transit_length_m=_r(so.transit_length_m, 1),
            flight_time_s=_r(so.flight_time_s, 0),
            battery_s=_r(so.battery_s, 0),
            battery_mah=_r(so.battery_mah, 0),
            drone=so.drone if plan.fleet else None,
            start=_breakpoint(plan, so.start),
            end=_breakpoint(plan, so.end),
            legs=tuple(_leg(plan, leg) for leg in so.legs),
        )
        for so in plan.sorties
    )
    version = 1  # flat plans for one drone stay readable by older agrodrone
    if plan.fleet:
        version = FLEET_VERSION
    elif plan.ground is not None:
        version = TERRAIN_VERSION
    return PlanDocument(
        version=version,
        created_by=created_by,
        field=DocField(
            id=f.id,
            name=f.name,
            properties=dict(f.properties),
            source=str(f.source),
            utm_epsg=f.frame.utm_epsg,
            area_ha=_r(f.area_ha, 4),
            sprayable_ha=_r(plan.sprayable.area / HA_M2, 4),
            boundary=_geojson_geom(plan, f.boundary),
            sprayable=_geojson_geom(plan, plan.sprayable),
            keepout=keepout,
        ),
        drone=_drone(p),
        params=DocParams(
            dose_l_ha=p.dose_l_ha,
            swath_m=p.swath_m,
            spacing_m=p.line_spacing_m,
            speed_m_s=p.speed_m_s,
            transit_speed_m_s=p.transit_speed_m_s,
            height_m=p.height_m,
            tank_l=p.tank_l,
            tank_reserve_l=p.tank_reserve_l,
            battery_reserve_s=p.battery_reserve_s,
            angle_deg=plan.angle_deg,
            angle_mode=plan.angle_mode,
            part_angles_deg=tuple(plan.part_angles_deg) or None,
            edge_passes=int(plan.edge_passes),
            edge_mode=plan.edge_mode,
            turn_margin_m=p.turn_margin_m,
            turn_s=p.turn_s,
            reload_s=p.reload_s,
        ),
        sprayer=DocSprayer(**s.to_dict()),
        reload=DocReload(lon=rlon, lat=rlat),
        terrain=_terrain(plan),
        fleet=_fleet(plan),
        warnings=tuple(plan.warnings),
        sorties=sorties,
        metrics=DocMetrics(**metrics_of(plan)),
    )


def plan_geojson(plan: Plan) -> dict[str, Any]:
    """WGS84 features: every swath and transit leg, the reload point and the breakpoints."""
    p = plan.params
    feats: list[dict[str, Any]] = []
    for n, xy in enumerate(plan.reload_points, start=1):
        ((rlon, rlat),) = _lonlat(plan, xy)
        props: dict[str, Any] = {"kind": "reload", "sortie": 0, "order": 0}
        if plan.fleet:
            props["drone"] = n
        feats.append(
            {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [rlon, rlat]}}
        )
    last = {d.sorties[-1] for d in plan.fleet} if plan.fleet else {len(plan.sorties)}  # no breakpoint after these
    order = 0
    for so in plan.sorties:
        for leg in so.legs:
            order += 1
            props = {
                "kind": leg.kind,
                "sortie": so.index,
                "order": order,
                "length_m": _r(leg.length, 2),
            }
            if plan.fleet:
                props["drone"] = so.drone
            if leg.kind == "swath":
                assert leg.swath is not None  # every swath leg has its number
                props["swath"] = int(leg.swath)
                props["volume_l"] = _r(litres(leg.length, p.line_spacing_m, p.dose_l_ha), 3)
            feats.append(
                {
                    "type": "Feature",
                    "properties": props,
                    "geometry": {"type": "LineString", "coordinates": _lonlat(plan, leg.coords)},
                }
            )
        if so.index not in last:
            bp = _breakpoint(plan, so.end)
            props = {
                "kind": "breakpoint",
                "sortie": so.index,
                "order": order,
                "swath": bp.swath,
                "offset_m": bp.offset_m,
            }
            if plan.fleet:
                props["drone"] = so.drone
            feats.append(
                {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [bp.lon, bp.lat]}}
            )
    return {"type": "FeatureCollection", "features": feats}
