"""plan.json as one typed, versioned document: the planner writes it, every consumer reads it.

docs/plan-format.md is the format. Reading (`from_dict`, `load`) checks every key once, the
same way for the mission builder, the simulator, the records and the report, and a wrong
key is a PlanError that names it. Writing (`to_dict`, `to_json`, `write`) gives back exactly
the JSON the planner writes (keys, order, rounding): a key left out on reading is left out
on writing, so a plan read and written again is the same plan. Pure except `load` and `write`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from gettext import gettext as _
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame
from planner.errors import PlanError
from planner.plan_keys import LonLat, Part, bad, lonlat, need, opt, req, section, whole

FORMAT = "agrodrone-plan"
VERSION = 1
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
    speed_m_s: float = req("positive")
    transit_speed_m_s: float | None = opt("positive")
    height_m: float = req("positive")
    tank_l: float | None = opt("positive")
    tank_reserve_l: float | None = opt("not_negative")
    battery_reserve_s: float | None = opt("not_negative")
    angle_deg: float | None = opt("number")
    angle_mode: str | None = opt("text")
    edge_passes: int | None = opt("count")
    edge_mode: str | None = opt("text")
    turn_margin_m: float | None = opt("not_negative")
    turn_s: float | None = opt("not_negative")
    reload_s: float | None = opt("not_negative")


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

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocLeg:
        leg = super().read(obj, where)
        if leg.kind not in LEG_KINDS:
            raise bad(_("plan: {where} has unknown kind {kind!r} (transit or swath)"), where=where, kind=leg.kind)
        if len(leg.coords) < 2:
            raise bad(_("plan: {where} has fewer than 2 coordinates"), where=where)
        return leg


@dataclass(frozen=True, kw_only=True)
class DocSortie(Part):
    """One flight from the reload point and back; `legs` in flying order."""

    index: int = req("whole")
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


@dataclass(frozen=True, kw_only=True)
class PlanDocument(Part):
    """plan.json (docs/plan-format.md): what the planner hands to the mission builder."""

    version: int = req("whole")
    created_by: str | None = opt("text")
    field: DocField = req("part")
    drone: DocDrone | None = opt("part")
    params: DocParams = req("part")
    sprayer: DocSprayer | None = opt("part")
    reload: DocReload = req("part")
    warnings: tuple[str, ...] | None = opt("texts")
    sorties: tuple[DocSortie, ...] = req("part")
    metrics: DocMetrics | None = opt("part")

    @classmethod
    def from_dict(cls, plan: Any) -> PlanDocument:
        """Read and check a plan.json dict (any version this agrodrone knows)."""
        plan = migrate(plan)
        sorties = plan.get("sorties")
        if not isinstance(sorties, list) or not sorties:
            raise PlanError(_("plan: no sorties to fly"))
        for n, s in enumerate(sorties):
            if not isinstance(s, dict) or isinstance(s.get("index"), bool) or not isinstance(s.get("index"), int):
                raise bad(_("plan: sorties[{n}] is not a sortie with a whole-number 'index'"), n=n)
        seen: set[int] = set()
        for s in sorties:
            if s["index"] in seen:
                raise bad(_("plan: two sorties have the index {index}"), index=s["index"])
            seen.add(s["index"])
        return super().read(
            plan,
            "plan",
            field=section(DocField, plan, "field", True),
            drone=section(DocDrone, plan, "drone"),
            params=section(DocParams, plan, "params", True),
            sprayer=section(DocSprayer, plan, "sprayer"),
            reload=section(DocReload, plan, "reload", True),
            metrics=section(DocMetrics, plan, "metrics"),
            sorties=tuple(DocSortie.read(s, f"sorties[{n}]") for n, s in enumerate(sorties)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan.json dict, keys in the order the planner writes them."""
        return {"format": FORMAT, **super().to_dict()}

    def to_json(self) -> str:
        """plan.json's text, as `agrodrone plan` writes it."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write plan.json into a folder (or to the file named); returns the file."""
        p = plan_path(path)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    def digest(self) -> str:
        """SHA-256 of the plan's canonical JSON: the records say which plan was flown."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def sortie_numbers(self) -> list[int]:
        return [s.index for s in self.sorties]

    def sortie(self, index: int) -> DocSortie:
        """The sortie with `index` (1-based, as in plan.json)."""
        for s in self.sorties:
            if s.index == index:
                return s
        have = ", ".join(str(s.index) for s in self.sorties)
        raise bad(_("plan: no sortie {sortie} (the plan has sorties {have})"), sortie=index, have=have)

    def with_sortie(self, sortie: DocSortie) -> PlanDocument:
        """A copy with `sortie` in place of the one with its index."""
        return replace(self, sorties=tuple(sortie if s.index == sortie.index else s for s in self.sorties))

    @property
    def spray_speed_m_s(self) -> float:
        """sprayer.speed_m_s (lowered when the pump is too small), else params.speed_m_s."""
        return (self.sprayer.speed_m_s if self.sprayer else None) or self.params.speed_m_s

    @property
    def pump_max_l_min(self) -> float | None:
        """The pump's flow at full output: sprayer.pump_max_l_min, else drone.pump_max_l_min."""
        return (self.sprayer.pump_max_l_min if self.sprayer else None) or (
            self.drone.pump_max_l_min if self.drone else None
        )


# Steps from each older version to the next: MIGRATIONS[n] turns a version n dict into n + 1.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def is_plan(obj: Any) -> bool:
    """Whether `obj` says it is a plan.json (its `format`), before any other check."""
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def migrate(plan: Any) -> dict:
    """A plan.json dict of any known version as the current version (a copy when it changes).

    Version 1 is current. Version 1 plans written before the planner budgeted energy have
    no drone.endurance_mass_kg, empty_mass_kg, battery_mah, battery_cells, nor per-sortie
    battery_s and battery_mah: those keys are optional and read as None.
    """
    if not is_plan(plan):
        raise bad(_("plan: not an agrodrone plan (format != {format!r})"), format=FORMAT)
    version = whole(need(plan.get("version"), "plan", "version"), "plan", "version")
    if version > VERSION:
        raise bad(
            _("plan: version {version} is newer than this agrodrone reads (up to {current}); update agrodrone"),
            version=version,
            current=VERSION,
        )
    if version < 1:
        raise bad(_("plan: version {version} is not a plan.json version"), version=version)
    for step in range(version, VERSION):
        plan = MIGRATIONS[step](copy.deepcopy(plan))
    return plan


from_dict = PlanDocument.from_dict


def validate(plan: Any) -> None:
    """Raise PlanError naming the first wrong key of a plan.json dict; nothing when it is right."""
    PlanDocument.from_dict(plan)


def as_document(plan: PlanDocument | dict) -> PlanDocument:
    """For the functions that take either a document or a plan.json dict."""
    return plan if isinstance(plan, PlanDocument) else PlanDocument.from_dict(plan)


def plan_path(path: str | Path) -> Path:
    """plan.json in a plan folder, or the file itself."""
    p = Path(path)
    return p / "plan.json" if p.is_dir() else p


def load(path: str | Path) -> PlanDocument:
    """The plan in a folder `agrodrone plan --out` wrote, or in a plan.json; read and checked."""
    p = plan_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad(_("{path}: no such plan file (give the folder `agrodrone plan --out` wrote)"), path=p) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(_("{path}: not a readable plan.json ({reason})"), path=p, reason=exc) from None
    if not is_plan(doc):
        raise bad(_("{path}: not an agrodrone plan.json"), path=p)
    return PlanDocument.from_dict(doc)
