"""Flat-earth offsets around home: enough for a field of a few km, cheap enough per tick."""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6378137.0
_DEG = math.pi / 180.0


class LocalGrid:
    """North/east metres from an origin <-> WGS84 degrees (equirectangular, like AP's Location offsets)."""

    __slots__ = ("lat0", "lon0", "_m_per_deg_lat", "_m_per_deg_lon")

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0 = lat0
        self.lon0 = lon0
        self._m_per_deg_lat = EARTH_RADIUS_M * _DEG
        self._m_per_deg_lon = EARTH_RADIUS_M * _DEG * max(math.cos(lat0 * _DEG), 1e-6)

    def to_latlon(self, north: float, east: float) -> tuple[float, float]:
        return self.lat0 + north / self._m_per_deg_lat, self.lon0 + east / self._m_per_deg_lon

    def to_latlon_arrays(self, north: Any, east: Any) -> tuple[Any, Any]:
        """to_latlon for numpy arrays (element-wise, the same arithmetic)."""
        return self.lat0 + north / self._m_per_deg_lat, self.lon0 + east / self._m_per_deg_lon

    def to_ne(self, lat: float, lon: float) -> tuple[float, float]:
        return (lat - self.lat0) * self._m_per_deg_lat, (lon - self.lon0) * self._m_per_deg_lon
