"""The ground under the copter: a DEM (fields.terrain.Terrain) sampled around home.

Without a DEM the ground is flat at the origin's height (alt 0), as it always was. With one, the
ground height relative to the origin (the configured home) is dem(point) - dem(origin), and the
origin's AMSL altitude is dem(origin). The DEM is resampled lazily on a local north/east grid
(tiles of TILE_M metres at STEP_M, bilinear in between), the way AP_Terrain keeps grid blocks in
memory, so a tick asks only a few arithmetic operations of it, not a reprojection. Outside the
DEM the height of its nearest edge is used, and a hole in it (nodata) is filled from the
heights around it (fields.terrain.Terrain.everywhere, the same ground the vehicle is served).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.geo import LocalGrid

if TYPE_CHECKING:
    from fields.terrain import Terrain

TILE_M = 32.0  # one cached block of the resampled ground, metres a side
STEP_M = 1.0  # the resampled grid's spacing (the DEM is interpolated bilinearly below it too)
_N = int(TILE_M / STEP_M) + 1  # points a side (the tiles share their edges)


class Ground:
    """Heights of a DEM around an origin; `height(n, e)` in metres above the origin's ground."""

    def __init__(self, terrain: Terrain, grid: LocalGrid) -> None:
        self.terrain = terrain
        self.grid = grid
        self._tiles: dict[tuple[int, int], list[list[float]]] = {}
        finite = terrain.heights[np.isfinite(terrain.heights)]
        self._filled = terrain.everywhere() if finite.size else None  # voids filled from around them
        self.origin_amsl = 0.0
        self.origin_amsl = self.height(0.0, 0.0)

    @property
    def tiles_loaded(self) -> int:
        return len(self._tiles)

    def height(self, n: float, e: float) -> float:
        """Ground height at (north, east) metres from the origin, relative to the origin's ground."""
        i, j = math.floor(n / TILE_M), math.floor(e / TILE_M)
        tile = self._tiles.get((i, j))
        if tile is None:
            tile = self._tiles[(i, j)] = self._load(i, j)
        fn = (n - i * TILE_M) / STEP_M
        fe = (e - j * TILE_M) / STEP_M
        k = min(max(int(fn), 0), _N - 2)
        m = min(max(int(fe), 0), _N - 2)
        fn -= k
        fe -= m
        r0, r1 = tile[k], tile[k + 1]
        low = r0[m] + (r0[m + 1] - r0[m]) * fe
        high = r1[m] + (r1[m + 1] - r1[m]) * fe
        return low + (high - low) * fn - self.origin_amsl

    def amsl(self, n: float, e: float) -> float:
        """Ground height above mean sea level at (north, east)."""
        return self.height(n, e) + self.origin_amsl

    def _load(self, i: int, j: int) -> list[list[float]]:
        """Resample one tile: rows north, columns east, _N x _N points."""
        steps = np.arange(_N) * STEP_M
        gn, ge = np.meshgrid(i * TILE_M + steps, j * TILE_M + steps, indexing="ij")
        lat, lon = (np.ravel(v) for v in self.grid.to_latlon_arrays(gn, ge))
        h = self._filled.at_lonlat_clamped(lon, lat) if self._filled is not None else np.zeros(lon.shape)
        return h.reshape(_N, _N).tolist()
