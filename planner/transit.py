"""Safe transits: pump-off flights that go around keep-out zones and holes, never through.

Direct lines are used when they are clear.  Otherwise the shortest path is found on a
visibility graph whose nodes are the corners of the keep-out zones (grown by a small
clearance) and of the allowed region (the field plus a margin).  When a zone cuts the
field in two, the region widens to the zones' surroundings so the drone can fly round.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

CLEARANCE_M = 1.0


class TransitPlanner:
    """Shortest safe pump-off paths between points of one field (cached graph)."""

    def __init__(self, boundary: BaseGeometry, forbidden: BaseGeometry, margin: float) -> None:
        self.forbidden = forbidden
        self._bad = forbidden.buffer(-0.01) if not forbidden.is_empty else forbidden
        if not self._bad.is_empty:
            shapely.prepare(self._bad)
        outer = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(boundary)])
        self._regions = [outer.buffer(max(margin, 0.5))]
        if not forbidden.is_empty:
            wide = shapely.union_all([outer, forbidden]).convex_hull.buffer(max(margin, 0.5) + 4 * CLEARANCE_M + 5)
            self._regions.append(wide)
        self._graphs: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._link_cache: dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray]] = {}

    def clear(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Which segments a[i]-b[i] cross no keep-out zone or hole (vectorised)."""
        a = np.atleast_2d(a)
        b = np.atleast_2d(b)
        if self._bad.is_empty:
            return np.ones(len(a), dtype=bool)
        lines = shapely.linestrings(np.stack([a, b], axis=1))
        return ~shapely.intersects(lines, self._bad)

    def path(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Polyline from a to b (inclusive) that avoids every keep-out zone and hole."""
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        if self.clear(a, b)[0]:
            return np.vstack([a, b])
        for level in range(len(self._regions)):
            found = self._search(level, a, b)
            if found is not None:
                return found
        # no way round inside the widened region: fly straight (only if the zones enclose a point)
        return np.vstack([a, b])

    def lengths(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length of the safe path from every a[i] to every b[j]: a (len(a), len(b)) matrix."""
        a = np.atleast_2d(np.asarray(a, dtype=float))
        b = np.atleast_2d(np.asarray(b, dtype=float))
        ii, jj = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
        return self.pair_lengths(a[ii.ravel()], b[jj.ravel()]).reshape(len(a), len(b))

    def pair_lengths(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Length of the safe path from a[i] to b[i] for every i (vectorised).

        Straight where clear; otherwise through the visibility graph of the first region
        that connects them (as `path` would fly it).
        """
        a = np.atleast_2d(np.asarray(a, dtype=float))
        b = np.atleast_2d(np.asarray(b, dtype=float))
        out = np.hypot(*(a - b).T)
        if len(a) == 0:
            return out
        todo = np.nonzero(~self.clear(a, b))[0]
        for level in range(len(self._regions)):
            if len(todo) == 0:
                break
            nodes, dist, _ = self._graph(level)
            if len(nodes) == 0:
                continue
            # distance from each end to every node it sees (inf where hidden), then
            # min over (i, j) of da[i] + dist[i, j] + db[j], as two min-plus products
            ua, ia_of = np.unique(a[todo], axis=0, return_inverse=True)
            ub, ib_of = np.unique(b[todo], axis=0, return_inverse=True)
            self.prefetch(np.vstack([ua, ub]), level)
            da = np.full((len(ua), len(nodes)), np.inf)
            db = np.full((len(ub), len(nodes)), np.inf)
            for k, p in enumerate(ua):
                idx, d = self._cached_links(level, p, nodes)
                da[k, idx] = d
            for k, p in enumerate(ub):
                idx, d = self._cached_links(level, p, nodes)
                db[k, idx] = d
            via = (da[:, :, None] + dist[None, :, :]).min(axis=1)  # (ua, nodes)
            best = (via[ia_of.ravel()] + db[ib_of.ravel()]).min(axis=1)
            ok = np.isfinite(best)
            out[todo[ok]] = best[ok]
            todo = todo[~ok]
        return out

    def _graph(self, level: int):
        """Nodes, all-pairs distances and next hops on the visibility graph of one region."""
        if level in self._graphs:
            return self._graphs[level]
        region = self._regions[level]
        free = (
            region.difference(self.forbidden.buffer(CLEARANCE_M * 0.5, quad_segs=4))
            if not self.forbidden.is_empty
            else region
        )
        grown = (
            self.forbidden.buffer(CLEARANCE_M, quad_segs=2).simplify(0.5)
            if not self.forbidden.is_empty
            else shapely.Polygon()
        )
        pts = []
        # Shortest paths bend only round the convex corners of obstacles and the inward
        # (reflex) corners of the region's outline.
        for poly in shapely.get_parts(shapely.orient_polygons(grown) if not grown.is_empty else grown):
            if isinstance(poly, shapely.Polygon):
                pts.append(_corners(np.asarray(poly.exterior.coords)[:-1], convex=True))
                pts.extend(np.asarray(r.coords)[:-1] for r in poly.interiors)
        outline = shapely.orient_polygons(region.buffer(-0.5, quad_segs=2).simplify(0.3))
        for poly in shapely.get_parts(outline):
            if isinstance(poly, shapely.Polygon):
                pts.append(_corners(np.asarray(poly.exterior.coords)[:-1], convex=False))
        nodes = np.vstack(pts) if pts else np.zeros((0, 2))
        if len(nodes):
            nodes = nodes[shapely.contains_xy(free, nodes[:, 0], nodes[:, 1])]
        shapely.prepare(free)
        n = len(nodes)
        dist = np.full((n, n), np.inf)
        np.fill_diagonal(dist, 0.0)
        if n > 1:
            ii, jj = np.triu_indices(n, 1)
            lines = shapely.linestrings(np.stack([nodes[ii], nodes[jj]], axis=1))
            ok = shapely.covered_by(lines, free)
            d = np.hypot(*(nodes[ii] - nodes[jj]).T)
            dist[ii[ok], jj[ok]] = d[ok]
            dist[jj[ok], ii[ok]] = d[ok]
        nxt = np.tile(np.arange(n), (n, 1))
        for k in range(n):  # Floyd-Warshall, one vectorised row sweep per node
            via = dist[:, k : k + 1] + dist[k : k + 1, :]
            better = via < dist
            if better.any():
                dist = np.where(better, via, dist)
                nxt = np.where(better, nxt[:, k : k + 1], nxt)
        self._graphs[level] = (nodes, dist, nxt)
        return self._graphs[level]

    def _search(self, level: int, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
        nodes, dist, nxt = self._graph(level)
        if len(nodes) == 0:
            return None
        ia, da = self._cached_links(level, a, nodes)
        ib, db = self._cached_links(level, b, nodes)
        if len(ia) == 0 or len(ib) == 0:
            return None
        total = da[:, None] + dist[np.ix_(ia, ib)] + db[None, :]
        k = int(np.argmin(total))
        if not np.isfinite(total.flat[k]):
            return None
        i, j = int(ia[k // len(ib)]), int(ib[k % len(ib)])
        pts = [a, nodes[i]]
        while i != j:
            i = int(nxt[i, j])
            pts.append(nodes[i])
        pts.append(b)
        return np.asarray(pts)

    def _cached_links(self, level: int, p: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = (level, round(float(p[0]), 3), round(float(p[1]), 3))
        hit = self._link_cache.get(key)
        if hit is None:
            if len(self._link_cache) > 4096:
                self._link_cache.clear()
            hit = self._link_cache[key] = self._links(p, nodes)
        return hit

    def prefetch(self, pts: np.ndarray, level: int = 0) -> None:
        """Work out which graph nodes each point sees, for many points in one call
        (what `path` and `pair_lengths` need for points that are not in plain view)."""
        pts = np.atleast_2d(np.asarray(pts, dtype=float))
        if self._bad.is_empty or len(pts) == 0:
            return
        nodes = self._graph(level)[0]
        if len(nodes) == 0:
            return
        keys = [(level, round(float(p[0]), 3), round(float(p[1]), 3)) for p in pts]
        fresh = {}
        for k, p in zip(keys, pts):
            if k not in self._link_cache and k not in fresh:
                fresh[k] = p
        if not fresh:
            return
        if len(self._link_cache) + len(fresh) > 4096:
            self._link_cache.clear()
        new = np.array(list(fresh.values()))
        n = len(nodes)
        ok = self.clear(np.repeat(new, n, axis=0), np.tile(nodes, (len(new), 1))).reshape(len(new), n)
        for k, p, row in zip(fresh, new, ok):
            idx = np.nonzero(row)[0]
            self._link_cache[k] = (idx, np.hypot(*(nodes[idx] - p).T))

    def _links(self, p: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nodes visible from p (endpoints may lie just outside the region) and their distances."""
        ok = self.clear(np.repeat(p[None, :], len(nodes), axis=0), nodes)
        idx = np.nonzero(ok)[0]
        return idx, np.hypot(*(nodes[idx] - p).T)


def _corners(ring: np.ndarray, convex: bool) -> np.ndarray:
    """Vertices of a counter-clockwise ring that turn left (convex) or right (reflex)."""
    if len(ring) < 3:
        return ring
    prev = np.roll(ring, 1, axis=0)
    nxt = np.roll(ring, -1, axis=0)
    cross = (ring[:, 0] - prev[:, 0]) * (nxt[:, 1] - ring[:, 1]) - (ring[:, 1] - prev[:, 1]) * (nxt[:, 0] - ring[:, 0])
    return ring[cross > 1e-9] if convex else ring[cross < -1e-9]
