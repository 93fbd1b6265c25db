"""Plain objects a loaded field is made of; geometry is in the field's local metric frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import shapely
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame

SAO_M2 = 360.0  # 1 sào (Bắc Bộ): the unit records keep (`area_sao`)
HA_M2 = 10_000.0
DEFAULT_TZ = "Asia/Ho_Chi_Minh"  # the cooperatives' local time: records keep UTC, days and reports are local
# The local units a farmer counts in, by region: shown beside hectares when chosen
# (`--sao`); records and exports keep hectares and the northern sào.
LOCAL_UNITS: dict[str, tuple[float, str]] = {
    "bac": (SAO_M2, "sào"),  # northern sào (Bắc Bộ), 360 m²
    "trung": (500.0, "sào"),  # central sào (Trung Bộ), 500 m²
    "nam": (1000.0, "công"),  # southern công (Nam Bộ), 1,000 m²
}


def local_unit(name: str) -> tuple[float, str]:
    """(m² per unit, its word) for "bac", "trung" or "nam"."""
    return LOCAL_UNITS[name]


def _rings(geom: BaseGeometry):
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        yield poly.exterior
        yield from poly.interiors


@dataclass
class Zone:
    """A no-spray zone (water, house, school) or an obstacle (pole, tree) near a field.

    `geometry` is in the local frame; `buffer_m` is the distance to keep from it
    (`buffer_m` for no-spray zones, `radius_m` for obstacles).
    """

    id: str
    kind: Literal["no_spray", "obstacle"]
    geometry: BaseGeometry
    buffer_m: float = 0.0
    height_m: float | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def keepout(self) -> BaseGeometry:
        """The area the drone must not spray (and, for obstacles, not fly through)."""
        if self.buffer_m > 0:
            return self.geometry.buffer(self.buffer_m, quad_segs=16)
        return self.geometry if self.geometry.area > 0 else self.geometry.buffer(0.5)


@dataclass
class Field:
    """One field to spray, ready for the planner: boundary and zones in metres."""

    id: str
    name: str
    boundary: BaseGeometry  # Polygon or MultiPolygon, local metres
    frame: LocalFrame
    source: str = ""  # the file it came from
    source_crs: str = "EPSG:4326"  # the CRS the file declared (WGS84 when it declared none)
    zones: list[Zone] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source_format: str = ""  # GeoJSON, KML, KMZ, Shapefile, GeoPackage, WKT

    @property
    def utm_epsg(self) -> int:
        return self.frame.utm_epsg

    @property
    def vertices(self) -> int:
        """Distinct boundary vertices, holes included (each ring's closing point not counted)."""
        return int(sum(len(ring.coords) - 1 for ring in _rings(self.boundary)))

    @cached_property
    def keepout(self) -> BaseGeometry:
        """Union of every zone's buffered area (empty when there are no zones)."""
        if not self.zones:
            return shapely.Polygon()
        return shapely.union_all([z.keepout for z in self.zones])

    @cached_property
    def sprayable(self) -> BaseGeometry:
        """Field minus buffered no-spray zones and obstacles."""
        if not self.zones:
            return self.boundary
        return shapely.make_valid(self.boundary.difference(self.keepout))

    @property
    def area_m2(self) -> float:
        return float(self.boundary.area)

    @property
    def area_ha(self) -> float:
        return self.area_m2 / HA_M2

    @property
    def area_sao(self) -> float:
        return self.area_m2 / SAO_M2

    @property
    def sprayable_ha(self) -> float:
        return float(self.sprayable.area) / HA_M2

    @property
    def sprayable_sao(self) -> float:
        return float(self.sprayable.area) / SAO_M2
