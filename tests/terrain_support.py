"""A synthetic hill for terrain tests: a smooth Gaussian hill under a field, as a DEM file.

The Tân Cương tea hill is about 200 m across; 40 m of relief over it gives slopes up to about
30 %, as steep as the tea terraces there. The DEM is written in a projected CRS other than the
field's own frame (VN-2000 / UTM 48N, EPSG:3405) so every test also crosses a reprojection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fields import Field, transform_coords
from fields.dem_files import dem_bytes
from fields.terrain import Terrain

HILL_CRS = "EPSG:3405"  # VN-2000 / UTM zone 48N, as Vietnamese survey data often is


def hill_terrain(
    field: Field, relief_m: float = 40.0, base_m: float = 30.0, cell_m: float = 2.0, margin_m: float = 400.0
) -> Terrain:
    """A Gaussian hill centred on the field, `relief_m` above a plain at `base_m`."""
    c = field.boundary.centroid
    lon, lat = field.frame.to_wgs84(c.x, c.y)
    cx, cy = transform_coords(lon, lat, "EPSG:4326", HILL_CRS)
    x0, y0 = cx - margin_m, cy + margin_m
    n = int(2 * margin_m / cell_m)
    xs = x0 + (np.arange(n) + 0.5) * cell_m
    ys = y0 - (np.arange(n) + 0.5) * cell_m
    gx, gy = np.meshgrid(xs, ys)
    sigma = 80.0
    heights = base_m + relief_m * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma**2))
    return Terrain(heights, (cell_m, 0.0, x0, 0.0, -cell_m, y0), HILL_CRS, "hill.tif")


def write_hill(path: Path, field: Field, **kw: float) -> Path:
    path.write_bytes(dem_bytes(hill_terrain(field, **kw)))
    return path
