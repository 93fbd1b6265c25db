"""Terrain following: the altitudes a leg is flown at over a DEM, and the speed a slope allows.

Frame: every altitude is relative to the reload point's ground, which is ArduPilot's home
(the copter takes off there), and the mission uses MAV_FRAME_GLOBAL_RELATIVE_ALT. The planner
computes the altitudes from the DEM; the vehicle needs no terrain database to fly them, a
GPS's error in absolute altitude does not matter (only heights above home do), and the plan
says before take-off exactly where the copter will be. ArduPilot's terrain frame would move
that computation onto the vehicle and fail the mission when a tile is missing.

Between two waypoints ArduCopter flies a straight 3D line (AC_WPNav), so a leg's waypoints are
the DEM profile simplified (Douglas-Peucker in distance and altitude): along a swath the line
stays within `tolerance_m` of spray height above the ground, both ways; along a transit it
never comes lower than spray height above the ground (the simplified line is raised where it
would dip below). A slope sets the speed: ArduCopter climbs at most WPNAV_SPEED_UP and
descends at most WPNAV_SPEED_DN, so the horizontal speed on a leg is at most climb rate /
steepest climb and descent rate / steepest descent; the pump follows ground speed, so the
dose holds at the lower speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from gettext import gettext as _

import numpy as np

from fields.frame import LocalFrame
from fields.terrain import Terrain
from planner.errors import PlanError
from planner.route import Leg

STEP_M = 2.0  # DEM samples along a leg: the DEM's own cell size is usually 1-30 m
# swath waypoints: the 3D line within this of spray height above the ground (the issue's ±0.5 m);
# 0.3 m would give the tea hill a fifth more waypoints for no better flight (bench/terrain_bench.py)
TOLERANCE_M = 0.5
MIN_SPEED_M_S = 1.5  # never slower (SPRAY_SPEED_MIN is 1 m/s: below it the pump would stop)


@dataclass(frozen=True)
class Profile:
    """A leg as flown over the ground: its waypoints, their altitudes above home, its speed cap,
    and what the DEM says along it (for estimates)."""

    coords: np.ndarray  # (n, 2) local metres: the leg's own corners plus the waypoints the slope needs
    alts: np.ndarray  # (n,) metres above the reload point's ground
    ascent_m: float  # total climb along the leg
    max_up: float  # steepest climb (rise over run) of the flown line
    max_down: float  # steepest descent, positive

    def speed(self, wanted: float, climb_m_s: float, descent_m_s: float) -> float:
        """The horizontal speed at which the copter can keep to this line."""
        v = wanted
        if self.max_up > 1e-6:
            v = min(v, climb_m_s / self.max_up)
        if self.max_down > 1e-6:
            v = min(v, descent_m_s / self.max_down)
        return max(min(v, wanted), min(MIN_SPEED_M_S, wanted))


def _simplify(s: np.ndarray, z: np.ndarray, tol: float, keep: np.ndarray) -> np.ndarray:
    """Douglas-Peucker on the profile (s, z): which samples to keep so the straight lines between
    kept ones stay within `tol` of z; `keep` marks samples that must stay (the leg's corners)."""
    n = len(s)
    out = keep.copy()
    out[0] = out[-1] = True
    stack: list[tuple[int, int]] = []
    idx = np.flatnonzero(out)
    stack.extend(zip(idx[:-1], idx[1:]))
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        mid = np.arange(a + 1, b)
        line = z[a] + (z[b] - z[a]) * (s[mid] - s[a]) / max(s[b] - s[a], 1e-9)
        err = np.abs(z[mid] - line)
        k = int(np.argmax(err))
        if err[k] > tol:
            m = int(mid[k])
            out[m] = True
            stack.append((a, m))
            stack.append((m, b))
    assert out.sum() <= n
    return np.flatnonzero(out)


class Ground:
    """The DEM as the planner sees it: ground heights above the reload point's ground, in the
    field's local metres, and the profile of any leg over it (cached: the sortie split costs
    the same legs many times)."""

    def __init__(
        self, terrain: Terrain, frame: LocalFrame, reload_xy: np.ndarray, height_m: float, tolerance_m: float
    ) -> None:
        self.terrain = terrain
        self.frame = frame
        self.height_m = height_m
        self.tolerance_m = tolerance_m
        elev = terrain.at_local(frame, [float(reload_xy[0])], [float(reload_xy[1])])
        if not np.isfinite(elev[0]):
            raise PlanError(_("the DEM has no height at the reload point"))
        self.reload_elev_m = float(elev[0])
        self._cache: dict[tuple[bytes, bool], Profile] = {}

    def heights(self, xy: np.ndarray) -> np.ndarray:
        """Ground above the reload point's ground at local points (PlanError where the DEM has none)."""
        xy = np.atleast_2d(xy)
        h = self.terrain.at_local(self.frame, xy[:, 0], xy[:, 1]) - self.reload_elev_m
        if not np.isfinite(h).all():
            x, y = xy[~np.isfinite(h)][0]
            lon, lat = self.frame.to_wgs84(float(x), float(y))
            raise PlanError(
                _("the DEM has no height at {lat:.6f},{lon:.6f}, on the way the copter flies").format(lat=lat, lon=lon)
            )
        return h

    def profile(self, coords: np.ndarray, transit: bool) -> Profile:
        """The waypoints of a leg over the ground: a swath at spray height within the tolerance
        both ways; a transit never below spray height."""
        key = (np.round(coords, 3).tobytes(), transit)
        found = self._cache.get(key)
        if found is None:
            found = self._profile(np.asarray(coords, dtype=float), transit)
            if len(self._cache) > 20_000:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _profile(self, coords: np.ndarray, transit: bool) -> Profile:
        pts, s, corner = _densify(coords, STEP_M)
        z = self.heights(pts) + self.height_m
        keep = _simplify(s, z, self.tolerance_m, corner)
        alts = z[keep].copy()
        if transit:  # raise each straight piece until no sample lies below it
            for j in range(len(keep) - 1):
                a, b = keep[j], keep[j + 1]
                if b - a < 2:
                    continue
                mid = np.arange(a + 1, b)
                line = alts[j] + (alts[j + 1] - alts[j]) * (s[mid] - s[a]) / max(s[b] - s[a], 1e-9)
                short = float(np.max(z[mid] - line))
                if short > 0:
                    alts[j] += short
                    alts[j + 1] += short
        run = np.diff(s[keep])
        rise = np.diff(alts)
        slope = np.where(run > 1e-6, rise / np.maximum(run, 1e-6), 0.0)
        return Profile(
            coords=pts[keep],
            alts=np.round(alts, 2),
            ascent_m=float(np.clip(rise, 0, None).sum()),
            max_up=float(max(slope.max(initial=0.0), 0.0)),
            max_down=float(max(-slope.min(initial=0.0), 0.0)),
        )


def _densify(coords: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points along a polyline at most `step` apart (its corners included), their distance along
    it, and which of them are corners."""
    pts = [coords[:1]]
    corner = [True]
    for a, b in zip(coords[:-1], coords[1:]):
        d = float(np.hypot(*(b - a)))
        n = max(int(np.ceil(d / step)), 1)
        f = np.arange(1, n + 1)[:, None] / n
        pts.append(a + (b - a) * f)
        corner.extend([False] * (n - 1) + [True])
    xy = np.vstack(pts)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    return xy, s, np.array(corner)


def check_cover(terrain: Terrain, frame: LocalFrame, area, what: str) -> None:
    """PlanError naming how much of `area` (local metres) the DEM leaves out, and where."""
    gap = terrain.missing(frame, area)
    if gap.is_empty:
        return
    c = gap.representative_point()
    lon, lat = frame.to_wgs84(c.x, c.y)
    raise PlanError(
        _(
            "the DEM {dem} does not cover {what}: about {m2:.0f} m² have no height (for example at "
            "{lat:.6f},{lon:.6f}); give a DEM that covers the field and a margin round it"
        ).format(dem=terrain.source or "", what=what, m2=gap.area, lat=lat, lon=lon)
    )


def follow_terrain(
    sorties: list, ground: Ground, climb_m_s: float, descent_m_s: float, speed_of: Callable[[Leg], float]
) -> None:
    """Give every leg of the sorties its waypoints over the ground, their altitudes and, where a
    slope makes it slower than `speed_of(leg)`, its speed (in place)."""
    for s in sorties:
        legs = []
        for leg in s.legs:
            prof = ground.profile(leg.coords, leg.kind == "transit")
            wanted = speed_of(leg)
            v = prof.speed(wanted, climb_m_s, descent_m_s)
            legs.append(
                replace(leg, coords=prof.coords, alts=prof.alts, speed=round(v, 2) if v < wanted - 0.01 else None)
            )
        s.legs = legs
