"""DEM files at the edge: read any raster GDAL reads (GeoTIFF, ASCII grid, …) into a Terrain,
and write one back as a GeoTIFF (the copy a plan folder keeps of the ground it was planned on).

rasterio is the field's library for rasters; it brings its own GDAL, so nothing needs to be
installed by hand. Band 1 is the height in metres; the raster's nodata value becomes NaN.
"""

from __future__ import annotations

from gettext import gettext as _
from pathlib import Path

import numpy as np

from fields.errors import FieldError
from fields.frame import crs_label
from fields.terrain import Terrain


def load_dem(path: str | Path) -> Terrain:
    """Read a DEM; FieldError (one line) for a missing, unreadable or unlocated raster."""
    import rasterio
    from rasterio.errors import RasterioError

    p = Path(path)
    if not p.is_file():
        raise FieldError(_("DEM {path}: no such file").format(path=p))
    try:
        with rasterio.open(p) as src:
            if src.crs is None:
                raise FieldError(
                    _("DEM {path}: the raster has no coordinate system; give a GeoTIFF with its CRS").format(path=p)
                )
            band = src.read(1, masked=True).astype("float64")
            heights = np.ma.filled(band, np.nan)
            t = src.transform
            crs = src.crs.to_wkt()
    except RasterioError as exc:
        raise FieldError(_("DEM {path}: cannot read it as a raster ({reason})").format(path=p, reason=exc)) from None
    heights[~np.isfinite(heights)] = np.nan
    heights[(heights < -500.0) | (heights > 9000.0)] = np.nan  # void fills (-32768) and garbage
    if not np.isfinite(heights).any():
        raise FieldError(_("DEM {path}: the raster holds no heights").format(path=p))
    label = crs_label(crs)  # "EPSG:3405" where the CRS has a code, else keep its WKT
    try:
        return Terrain(heights, (t.a, t.b, t.c, t.d, t.e, t.f), label if label.startswith("EPSG:") else crs, p.name)
    except ValueError:
        raise FieldError(_("DEM {path}: the raster's grid is not usable").format(path=p)) from None


def dem_bytes(terrain: Terrain) -> bytes:
    """The Terrain as a GeoTIFF (float32, NaN as nodata), for an atomic write by the caller."""
    import rasterio
    from rasterio.io import MemoryFile
    from rasterio.transform import Affine

    rows, cols = terrain.shape
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            height=rows,
            width=cols,
            count=1,
            dtype="float32",
            crs=rasterio.crs.CRS.from_user_input(terrain.crs),
            transform=Affine(*terrain.transform),
            nodata=float("nan"),
            compress="deflate",
        ) as dst:
            dst.write(terrain.heights.astype("float32"), 1)
        return bytes(mem.read())
