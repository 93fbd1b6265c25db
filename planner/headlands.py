"""Edge passes: pump-on laps along the sprayable area's edge, for crops that reach it.

Lap k runs (k - 1/2) swath widths inside the edge, so its footprint just reaches the
edge (or the previous lap); the swaths then cover what is left inside the laps.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


def edge_passes(area: BaseGeometry, width: float, passes: int) -> tuple[list[np.ndarray], BaseGeometry]:
    """Closed lap polylines (outermost first) and the area left for the swaths."""
    laps: list[np.ndarray] = []
    for k in range(1, passes + 1):
        inner = area.buffer(-(k - 0.5) * width, join_style="mitre", mitre_limit=3.0)
        for poly in shapely.get_parts(inner):
            if not isinstance(poly, shapely.Polygon) or poly.is_empty:
                continue
            for ring in [poly.exterior, *poly.interiors]:
                c = np.asarray(ring.coords)
                if len(c) >= 4 and shapely.LineString(c).length >= 2 * width:
                    laps.append(c)
    rest = area.buffer(-passes * width, join_style="mitre", mitre_limit=3.0) if passes else area
    return laps, shapely.make_valid(rest) if not rest.is_valid else rest


def start_lap_at(ring: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The same closed lap, starting (and ending) at its vertex nearest `point`."""
    c = ring[:-1]
    k = int(np.argmin(np.hypot(*(c - point).T)))
    c = np.roll(c, -k, axis=0)
    return np.vstack([c, c[:1]])
