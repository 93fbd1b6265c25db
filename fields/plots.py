"""The ground between a job's plots: the bunds and paths that part one of its polygons from another.

A job of several plots (the Đại Từ paddies: six, with bunds of 0.6-1.4 m between them) is
sprayed across or along those bunds, which no layout of swaths wider than a bund can keep
off. Spray that lands there stays on the job's own ground; spray past the job's outer edge
reaches the neighbours' crops, a road or water. A record reviewer needs the two apart.
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

# Gaps up to this wide between two plots are their bunds and paths: a paddy bund is 0.3-1.5 m,
# a field path 1-3 m. A wider gap may hold a road, a ditch or someone else's strip.
BETWEEN_PLOTS_MAX_M = 3.0
_TOUCH_M = 1e-3


def between_plots(boundary: BaseGeometry, max_gap_m: float = BETWEEN_PLOTS_MAX_M) -> BaseGeometry:
    """The ground (local metres, like `boundary`) in gaps no wider than `max_gap_m` that lie between
    two or more of the boundary's polygons; empty for a single polygon (its own notches and bays
    are not between plots)."""
    plots = [p for p in shapely.get_parts(boundary) if p.area > 0]
    if len(plots) < 2:
        return shapely.Polygon()
    reach = max_gap_m / 2.0
    closed = boundary.buffer(reach, join_style="mitre").buffer(-reach, join_style="mitre")
    gaps = shapely.get_parts(shapely.difference(closed, boundary))
    tree = shapely.STRtree(plots)
    keep = [g for g in gaps if g.area > 0 and len(tree.query(g, predicate="dwithin", distance=_TOUCH_M)) >= 2]
    return shapely.union_all(keep) if keep else shapely.Polygon()
