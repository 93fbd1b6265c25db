"""The ground's height: a DEM as a grid of heights above mean sea level, sampled anywhere.

Pure: `fields.dem_files` reads and writes the raster files, this module only holds the grid
(in the raster's own CRS, any CRS pyproj knows) and answers "how high is the ground here?"
for WGS84 or a field's local frame. Heights are interpolated bilinearly between the cell
centres, as ArduPilot's AP_Terrain interpolates its own grid; NaN means no data there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from fields.frame import WGS84, LocalFrame, transform_coords


@dataclass(frozen=True, eq=False)
class Terrain:
    """Heights (metres above mean sea level, NaN where unknown) on a north-up raster grid.

    `transform` is the raster's affine (a, b, c, d, e, f): x = a*col + b*row + c and
    y = d*col + e*row + f at a cell's top-left corner, in the raster CRS `crs`.
    """

    heights: np.ndarray
    transform: tuple[float, float, float, float, float, float]
    crs: str
    source: str = ""

    def __post_init__(self) -> None:
        a, b, _, d, e, _ = self.transform
        if abs(a * e - b * d) < 1e-18:
            raise ValueError("the DEM's transform is singular")

    # ------------------------------------------------------------------ grid
    @property
    def shape(self) -> tuple[int, int]:
        return int(self.heights.shape[0]), int(self.heights.shape[1])

    @property
    def cell_size(self) -> float:
        """The cell size in the raster's units (degrees for a geographic DEM)."""
        a, b, _, d, e, _ = self.transform
        return float(min(np.hypot(a, d), np.hypot(b, e)))

    def _to_pixel(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raster CRS -> fractional (col, row) of cell centres (0, 0 is the first centre)."""
        a, b, c, d, e, f = self.transform
        det = a * e - b * d
        dx, dy = x - c, y - f
        col = (e * dx - b * dy) / det
        row = (-d * dx + a * dy) / det
        return col - 0.5, row - 0.5

    def at_raster(self, x, y) -> np.ndarray:
        """Heights at raster-CRS coordinates (bilinear; NaN outside the grid or next to no data)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        y = np.atleast_1d(np.asarray(y, dtype=float))
        col, row = self._to_pixel(x, y)
        rows, cols = self.shape
        out = np.full(x.shape, np.nan)
        # half a cell beyond the outer centres is still the DEM: clamp to the edge cells there
        inside = (col >= -0.5) & (col <= cols - 0.5) & (row >= -0.5) & (row <= rows - 0.5)
        if not inside.any():
            return out
        c = np.clip(col[inside], 0.0, cols - 1.0)
        r = np.clip(row[inside], 0.0, rows - 1.0)
        c0 = np.minimum(np.floor(c).astype(int), max(cols - 2, 0))
        r0 = np.minimum(np.floor(r).astype(int), max(rows - 2, 0))
        c1 = np.minimum(c0 + 1, cols - 1)
        r1 = np.minimum(r0 + 1, rows - 1)
        fc, fr = c - c0, r - r0
        h = self.heights
        top = h[r0, c0] * (1 - fc) + h[r0, c1] * fc
        bottom = h[r1, c0] * (1 - fc) + h[r1, c1] * fc
        out[inside] = top * (1 - fr) + bottom * fr
        return out

    def at_lonlat(self, lon, lat) -> np.ndarray:
        """Heights at WGS84 longitudes and latitudes."""
        x, y = transform_coords(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), WGS84, self.crs)
        return self.at_raster(x, y)

    def everywhere(self) -> Terrain:
        """This DEM with its voids filled from their neighbours, ring by ring, for answers at every
        point (`at_lonlat_clamped`). ValueError when it holds no height at all."""
        h = np.array(self.heights, dtype=float)
        if np.isnan(h).all():
            raise ValueError("the DEM holds no heights")
        for _ring in range(max(h.shape)):
            holes = np.isnan(h)
            if not holes.any():
                break
            p = np.pad(h, 1, constant_values=np.nan)
            around = np.stack([p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
            known = (~np.isnan(around)).sum(axis=0)
            fill = holes & (known > 0)
            h[fill] = np.nansum(around, axis=0)[fill] / known[fill]
        return Terrain(h, self.transform, self.crs, self.source)

    def at_lonlat_clamped(self, lon, lat) -> np.ndarray:
        """Heights at WGS84 points, beyond the grid the height of its nearest edge: a vehicle's
        terrain grid (or a simulated ground) reaches past a DEM cropped to the field, and needs a
        height there; the edge's keeps the ground continuous, and nothing is flown out there."""
        x, y = transform_coords(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), WGS84, self.crs)
        col, row = self._to_pixel(np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float)))
        rows, cols = self.shape
        col = np.clip(col, 0.0, cols - 1.0) + 0.5
        row = np.clip(row, 0.0, rows - 1.0) + 0.5
        a, b, c, d, e, f = self.transform
        return self.at_raster(a * col + b * row + c, d * col + e * row + f)

    def at_local(self, frame: LocalFrame, x, y) -> np.ndarray:
        """Heights at a field's local metres."""
        lon, lat = frame.to_wgs84(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return self.at_lonlat(lon, lat)

    # ------------------------------------------------------------------ checks
    def missing(self, frame: LocalFrame, area: BaseGeometry, step_m: float = 5.0) -> BaseGeometry:
        """The part of `area` (local metres) where the DEM has no height, to step_m: empty
        when the DEM covers it all. Sampled on the outline and on a grid inside it."""
        if area.is_empty:
            return shapely.Polygon()
        outline = shapely.segmentize(area.boundary, step_m)
        pts = [shapely.get_coordinates(outline)]
        x0, y0, x1, y1 = area.bounds
        gx, gy = np.meshgrid(np.arange(x0, x1 + step_m, step_m), np.arange(y0, y1 + step_m, step_m))
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        pts.append(grid[shapely.contains_xy(area, grid[:, 0], grid[:, 1])])
        xy = np.vstack(pts)
        bad = xy[np.isnan(self.at_local(frame, xy[:, 0], xy[:, 1]))]
        if len(bad) == 0:
            return shapely.Polygon()
        return shapely.union_all(shapely.buffer(shapely.points(bad), step_m * 0.75, quad_segs=2)).intersection(
            area.buffer(step_m)
        )

    def crop(self, frame: LocalFrame, area: BaseGeometry, margin_m: float = 50.0) -> Terrain:
        """The part of the grid around `area` (local metres) plus a margin, as a smaller Terrain."""
        ring = shapely.get_coordinates(shapely.segmentize(area.envelope.buffer(margin_m).exterior, 10.0))
        lon, lat = frame.to_wgs84(ring[:, 0], ring[:, 1])
        x, y = transform_coords(lon, lat, WGS84, self.crs)
        col, row = self._to_pixel(np.asarray(x), np.asarray(y))
        rows, cols = self.shape
        c0 = int(np.clip(np.floor(col.min()) - 1, 0, cols - 1))
        c1 = int(np.clip(np.ceil(col.max()) + 2, c0 + 1, cols))
        r0 = int(np.clip(np.floor(row.min()) - 1, 0, rows - 1))
        r1 = int(np.clip(np.ceil(row.max()) + 2, r0 + 1, rows))
        a, b, c, d, e, f = self.transform
        shifted = (a, b, c + a * c0 + b * r0, d, e, f + d * c0 + e * r0)
        return Terrain(self.heights[r0:r1, c0:c1].copy(), shifted, self.crs, self.source)
