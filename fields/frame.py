"""The local metric frame a field is planned in: the UTM zone of its centroid."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone that holds (lon, lat)."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def transform_geometry(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject a shapely geometry (2D) from one CRS to another, vectorised."""
    if src == dst:
        return geom
    t = _transformer(src, dst)

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


@dataclass(frozen=True)
class LocalFrame:
    """WGS84 <-> UTM metres for one field (always the same zone for the whole field)."""

    utm_epsg: int
    _crs: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_crs", f"EPSG:{self.utm_epsg}")

    @classmethod
    def for_lonlat(cls, lon: float, lat: float) -> "LocalFrame":
        return cls(utm_epsg_for(lon, lat))

    def to_local(self, lon, lat):
        """(lon, lat) degrees -> (x, y) metres; scalars or arrays."""
        return _transformer("EPSG:4326", self._crs).transform(lon, lat)

    def to_wgs84(self, x, y):
        """(x, y) metres -> (lon, lat) degrees; scalars or arrays."""
        return _transformer(self._crs, "EPSG:4326").transform(x, y)

    def geom_to_local(self, geom: BaseGeometry) -> BaseGeometry:
        return transform_geometry(geom, "EPSG:4326", self._crs)

    def geom_to_wgs84(self, geom: BaseGeometry) -> BaseGeometry:
        return transform_geometry(geom, self._crs, "EPSG:4326")
