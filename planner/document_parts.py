"""The sections of plan.json, each a typed part that reads and checks itself (planner/plan_keys.py):
the field and its zones, the drone, the parameters, the sprayer, the reload point, the sorties
with their legs and breakpoints, and the metrics. planner/document.py puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from gettext import gettext as _
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame
from planner.plan_keys import LonLat, Part, bad, lonlat, need, opt, req

LEG_KINDS = ("transit", "swath")


@dataclass(frozen=True, kw_only=True)
class DocZone(Part):
    """A no-spray zone or obstacle; `geometry` is the BUFFERED zone (GeoJSON, WGS84)."""

    id: str | None = opt("text")
    kind: str = req("text")
    buffer_m: float | None = opt("not_negative")
    height_m: float | None = opt("not_negative", keep_null=True)
    geometry: dict = req("geojson")


@dataclass(frozen=True, kw_only=True)
class DocField(Part):
    """The field; geometries as GeoJSON (WGS84), and in its UTM metres on demand."""

    id: str = req("text")
    name: str | None = opt("text")
    properties: dict | None = opt("object")
    source: str | None = opt("text")
    utm_epsg: int = req("epsg")
    area_ha: float | None = opt("not_negative")
    sprayable_ha: float | None = opt("not_negative")
    boundary: dict = req("geojson")
    sprayable: dict | None = opt("geojson")
    keepout: tuple[DocZone, ...] | None = opt("part")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocField:
        keepout = obj.get("keepout") if isinstance(obj, dict) else None
        if keepout is not None:
            if not isinstance(keepout, list) or not all(isinstance(z, dict) for z in keepout):
                raise bad(_("plan: {where}.keepout is not a list of zones"), where=where)
            keepout = tuple(DocZone.read(z, f"{where}.keepout[{n}]") for n, z in enumerate(keepout))
        return super().read(obj, where, keepout=keepout)

    def prop(self, key: str) -> Any:
        """One of the field file's properties (cooperative, crop, eppo), None when not given."""
        return (self.properties or {}).get(key)

    @cached_property
    def frame(self) -> LocalFrame:
        return LocalFrame(int(self.utm_epsg))

    def local(self, geojson: dict) -> BaseGeometry:
        """A GeoJSON geometry (WGS84) in the field's UTM metres, made valid."""
        return shapely.make_valid(self.frame.geom_to_local(shape(geojson)))

    @cached_property
    def boundary_local(self) -> BaseGeometry:
        return self.local(self.boundary)

    @cached_property
    def sprayable_local(self) -> BaseGeometry:
        """The sprayable area (the boundary when the plan does not give it)."""
        return self.local(self.sprayable) if self.sprayable is not None else self.boundary_local

    @cached_property
    def zones_local(self) -> tuple[BaseGeometry, ...]:
        return tuple(self.local(z.geometry) for z in self.keepout or ())

    @cached_property
    def keepout_local(self) -> BaseGeometry:
        """Every buffered zone as one geometry (empty when there are none)."""
        zones = self.zones_local
        return shapely.make_valid(shapely.union_all(zones)) if zones else shapely.Polygon()


@dataclass(frozen=True, kw_only=True)
class DocDrone(Part):
    """The drone preset with the operator's overrides. endurance_mass_kg, empty_mass_kg, battery_mah
    and battery_cells are missing in plans written before the planner budgeted energy."""

    preset: str | None = opt("text")
    name: str | None = opt("text")
    tank_l: float | None = opt("positive")
    swath_m: float | None = opt("positive")
    pump_max_l_min: float | None = opt("positive")
    max_speed_m_s: float | None = opt("positive")
    endurance_s: float | None = opt("positive")
    endurance_mass_kg: float | None = opt("positive")
    empty_mass_kg: float | None = opt("positive")
    battery_mah: float | None = opt("positive")
    battery_cells: int | None = opt("count")
    accel_m_s2: float | None = opt("positive")
    climb_m_s: float | None = opt("positive")
    descent_m_s: float | None = opt("positive")

    @property
    def has_battery(self) -> bool:
        """Whether the plan says enough for a battery and power model (docs/sim.md)."""
        return None not in (
            self.endurance_s,
            self.endurance_mass_kg,
            self.empty_mass_kg,
            self.battery_mah,
            self.battery_cells,
        )


@dataclass(frozen=True, kw_only=True)
class DocParams(Part):
    """What the operator asked for, after presets and overrides."""

    dose_l_ha: float = req("positive")
    swath_m: float = req("positive")
    spacing_m: float | None = opt("positive")  # missing in plans written before lines were laid closer
    speed_m_s: float = req("positive")
    transit_speed_m_s: float | None = opt("positive")
    height_m: float = req("positive")
    tank_l: float | None = opt("positive")
    tank_reserve_l: float | None = opt("not_negative")
    battery_reserve_s: float | None = opt("not_negative")
    angle_deg: float | None = opt("number")
    angle_mode: str | None = opt("text")
    part_angles_deg: tuple[float, ...] | None = opt("numbers")
    edge_passes: int | None = opt("count")
    edge_mode: str | None = opt("text")
    turn_margin_m: float | None = opt("not_negative")
    turn_s: float | None = opt("not_negative")
    reload_s: float | None = opt("not_negative")

    @property
    def line_spacing_m(self) -> float:
        """Between the swath lines, which the flow is set for (older plans: the swath)."""
        return self.spacing_m if self.spacing_m is not None else self.swath_m


@dataclass(frozen=True, kw_only=True)
class DocSprayer(Part):
    """The pump settings (DESIGN.md formulas); speed_m_s is the planned spray speed."""

    flow_l_min: float | None = opt("not_negative")
    speed_m_s: float | None = opt("positive")
    speed_capped: bool | None = opt("bool")
    note: str | None = opt("text")
    pump_rate_pct: float | None = opt("number")  # the mission builder says when it is out of 0..100
    pump_max_l_min: float | None = opt("positive")
    speed_min_cm_s: float | None = opt("not_negative")
    pump_min_pct: float | None = opt("not_negative")


@dataclass(frozen=True, kw_only=True)
class DocReload(Part):
    """The take-off, landing and refill point."""

    lon: float = req("number")
    lat: float = req("number")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocReload:
        lon, lat = lonlat(obj, where)
        return cls(lon=lon, lat=lat)

    @property
    def lonlat(self) -> LonLat:
        return self.lon, self.lat


@dataclass(frozen=True, kw_only=True)
class DocTerrain(Part):
    """The ground a terrain-following plan was made over (version 2 plans only).

    `dem` is the copy of the DEM in the plan folder (cropped to the field and its transits);
    leg altitudes (`alts_m`) are metres above the reload point's ground, `reload_elev_m` above
    mean sea level, so the ground under any point is `dem(point) - reload_elev_m` in that frame.
    """

    dem: str = req("text")
    source: str | None = opt("text")
    crs: str | None = opt("text")
    reload_elev_m: float = req("number")
    min_elev_m: float | None = opt("number")
    max_elev_m: float | None = opt("number")
    max_slope_pct: float | None = opt("not_negative")
    tolerance_m: float | None = opt("not_negative")
    transit_height_m: float | None = opt("positive")


@dataclass(frozen=True, kw_only=True)
class DocBreakpoint(Part):
    """Where spraying starts or stops in a sortie: a point on swath `swath`, `offset_m` along it."""

    lon: float = req("number")
    lat: float = req("number")
    swath: int | None = opt("count")
    offset_m: float | None = opt("not_negative")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocBreakpoint:
        lon, lat = lonlat(obj, where)
        return super().read(obj, where, lon=lon, lat=lat)


@dataclass(frozen=True, kw_only=True)
class DocLeg(Part):
    """A piece of a sortie: `swath` (pump on from the first to the last coordinate) or `transit`."""

    kind: str = req("text")
    swath: int | None = opt("count")
    offset_m: float | None = opt("not_negative")
    coords: tuple[LonLat, ...] = req("coords")
    length_m: float | None = opt("not_negative")
    volume_l: float | None = opt("not_negative")
    # terrain plans (version 2): the altitude of each coordinate above the reload point's
    # ground (ArduPilot's home), and the leg's speed where a slope makes it slower
    alts_m: tuple[float, ...] | None = opt("numbers")
    speed_m_s: float | None = opt("positive")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocLeg:
        leg = super().read(obj, where)
        if leg.kind not in LEG_KINDS:
            raise bad(_("plan: {where} has unknown kind {kind!r} (transit or swath)"), where=where, kind=leg.kind)
        if len(leg.coords) < 2:
            raise bad(_("plan: {where} has fewer than 2 coordinates"), where=where)
        if leg.alts_m is not None and len(leg.alts_m) != len(leg.coords):
            raise bad(
                _("plan: {where}.alts_m has {n} altitudes for {m} coordinates"),
                where=where,
                n=len(leg.alts_m),
                m=len(leg.coords),
            )
        return leg


@dataclass(frozen=True, kw_only=True)
class DocSortie(Part):
    """One flight from the reload point and back; `legs` in flying order."""

    index: int = req("whole")
    drone: int | None = opt("count")  # plans for several drones (version 3): the drone that flies it
    volume_l: float | None = opt("not_negative")
    spray_length_m: float | None = opt("not_negative")
    transit_length_m: float | None = opt("not_negative")
    flight_time_s: float | None = opt("not_negative")
    battery_s: float | None = opt("not_negative")  # missing in plans written before energy budgets
    battery_mah: float | None = opt("not_negative")  # likewise
    start: DocBreakpoint | None = opt("part")
    end: DocBreakpoint | None = opt("part")
    legs: tuple[DocLeg, ...] = req("part")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocSortie:
        legs = need(obj.get("legs"), where, "legs")
        if not isinstance(legs, list) or not legs:
            raise bad(_("plan: {where} has no legs"), where=where)
        start, end = obj.get("start"), obj.get("end")
        return super().read(
            obj,
            where,
            legs=tuple(DocLeg.read(leg, f"{where}.legs[{i}]") for i, leg in enumerate(legs)),
            start=None if start is None else DocBreakpoint.read(start, f"{where}.start"),
            end=None if end is None else DocBreakpoint.read(end, f"{where}.end"),
        )

    @property
    def swath_legs(self) -> list[DocLeg]:
        return [leg for leg in self.legs if leg.kind == "swath"]


@dataclass(frozen=True, kw_only=True)
class DocMetrics(Part):
    """The summary numbers (`agrodrone plan --json`; docs/plan-format.md says what each means)."""

    field_id: str | None = opt("text")
    area_ha: float | None = opt("number")
    sprayable_ha: float | None = opt("number")
    sprayable_sao: float | None = opt("number")
    coverage_pct: float | None = opt("number")
    overlap_pct: float | None = opt("number")
    dose_dev_pct: float | None = opt("number")  # missing in plans written before lines were laid closer
    outside_pct: float | None = opt("number")
    outside_m2: float | None = opt("number")
    no_spray_m2: float | None = opt("number")
    spray_length_m: float | None = opt("number")
    transit_length_m: float | None = opt("number")
    total_length_m: float | None = opt("number")
    route_length_m: float | None = opt("number")
    turns: int | None = opt("count")
    swaths: int | None = opt("count")
    cells: int | None = opt("count")
    edge_passes: int | None = opt("count")
    edge_laps: int | None = opt("count")
    sorties: int | None = opt("count")
    volume_l: float | None = opt("number")
    dose_l_ha: float | None = opt("number")
    swath_m: float | None = opt("number")
    flow_l_min: float | None = opt("number")
    speed_m_s: float | None = opt("number")
    speed_capped: bool | None = opt("bool")
    pump_rate_pct: float | None = opt("number")
    flight_time_s: float | None = opt("number")
    job_time_s: float | None = opt("number")
    angle_deg: float | None = opt("number")
    path_ratio: float | None = opt("number")
    path_ratio_total: float | None = opt("number")
    plan_ms: float | None = opt("number", keep_null=True)
