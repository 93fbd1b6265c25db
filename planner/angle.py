"""Swath direction and edge laps: try the area's edge directions and a coarse sweep, keep the best.

A quick pass scores every candidate heading by the path it needs (swath length, plus a
cost per turn) and by the spray it wastes past the edges; the best few, spread over
different headings, are then laid out in full (swath ends trimmed) and measured, with
and without an edge lap when the operator leaves that to the planner. For each, the
layout with the best path and coverage wins; between them (lap or none), the one with the
best estimated flight time and coverage, since a lap changes how the job is flown (corners
at speed instead of U-turns, shorter swaths). When the winner still sprays too much
outside or twice, its swath ends are trimmed harder and measured again, as long as
coverage holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.anchoring import Anchoring
from planner.anchoring import anchorings as anchorings_of
from planner.estimates import Pace
from planner.geometry import Rotation, apart, bearing_to_math, heading_deg
from planner.headlands import Headland, corner_cut_m2
from planner.metrics import margins_m2
from planner.swath_cover import LapCover, lap_cover, swath_coverage
from planner.swaths import END_WEIGHT, SwathSet, make_swaths, quick_estimate, ring_edges

SWEEP_STEP_DEG = 10.0
EDGE_CANDIDATES = 8
FINALISTS = 2  # per edge-pass variant
FINALISTS_SMALL = 3  # fields of fewer than SMALL_BANDS bands can afford more full layouts
SMALL_BANDS = 120
QUICK_BANDS = 100
SHARED_CANDIDATES = 10  # headings the edge-lap variants are ranked on (the first variant's best)
RETRIM_LAYOUTS = 3
FINALIST_SPREAD_DEG = 6.0
RETRIM_WEIGHT = 1.5  # first harder trim tried when a waste target is missed (END_WEIGHT is 2)
RETRIM_STEPS = 2
COVERAGE_TARGET_PCT = 99.0
OUTSIDE_TARGET_PCT = 1.5
OVERLAP_TARGET_PCT = 3.0
# Headings tried either side of the best one found. The candidates come from edges binned by half
# a degree and a 10° sweep; a long edge a fraction of a degree off the swaths leaves a long wedge
# beside its lap sprayed twice (ee_field_130: 0.3 point of overlap less at 74.3° than at 74.0°).
REFINE_DEG = (0.15, 0.3, 0.45)


@dataclass
class Layout:
    bearing_deg: float
    swaths: SwathSet
    score: float
    coverage_pct: float = 0.0
    outside_pct: float = 0.0
    overlap_pct: float = 0.0
    headland: Headland | None = None
    part_bearings: tuple[float, ...] = ()  # each part's heading, when the parts have their own


@dataclass
class Site:
    """What every layout of one search is laid out on and measured against."""

    area: BaseGeometry
    keepout: BaseGeometry
    holes: BaseGeometry
    width: float
    turn_cost_m: float  # the quick ranking's price of a turn, in metres of path
    pace: Pace  # the measured layouts' time
    spacing: float | None = None  # between the swath lines (planner/swaths.py band_layout); None: width
    fit: float = 0.0  # how much closer a band's lines may be drawn to fit it (band_layout); 0: never
    _laps: dict[int, tuple[Headland, LapCover, float, float]] = field(default_factory=dict, repr=False)

    @property
    def step(self) -> float:
        """Between neighbouring lines: the spacing, or the width where none is given."""
        return self.width if self.spacing is None else self.spacing

    @property
    def origin(self) -> tuple[float, float]:
        c = self.area.centroid
        return (c.x, c.y)

    def rotation(self, bearing: float) -> Rotation:
        return Rotation(bearing_to_math(bearing), self.origin)

    def slack(self, head: Headland) -> float:
        """How far the swaths may draw back from the edge laps' inner side (band_layout): the
        margin a lap and its swath share, where laps are flown."""
        return self.width - self.step if head.passes else 0.0

    def margins_m2(self, head: Headland, s: SwathSet) -> float:
        """What the swaths (each at its own spacing) and the laps spray twice by design
        (metrics.margins_m2): overlap, but no double dose."""
        return margins_m2(self.width, s.steps, s.lengths) + margins_m2(self.width, self.step, head.length)

    def lay(
        self, parts: list[BaseGeometry], bearing: float, end_weight: float = END_WEIGHT, slack: float = 0.0
    ) -> SwathSet:
        """Swaths over `parts` at one heading, each part banded on its own."""
        rot = self.rotation(bearing)
        sets = [
            make_swaths(
                p,
                self.keepout,
                self.holes,
                rot,
                self.width,
                end_weight=end_weight,
                spacing=self.spacing,
                slack=slack,
                fit=self.fit,
            )
            for p in parts
        ]
        return SwathSet.concat(sets) if len(sets) > 1 else sets[0]

    def lay_anchored(
        self, anchor: Anchoring, bearing: float, end_weight: float = END_WEIGHT, slack: float = 0.0
    ) -> SwathSet:
        """Swaths over the anchoring's parts at one heading, banded as it says."""
        return self.lay(anchor.pieces(self.rotation(bearing)), bearing, end_weight, slack)

    def quick_ranking(
        self, head: Headland, anchorings: list[Anchoring], candidates: list[float]
    ) -> list[tuple[float, float, int]]:
        """(estimated cost, heading, anchoring) of every candidate heading and anchoring,
        cheapest first: the path it needs (swath length, a cost per turn) and the spray it
        wastes or loses, from scanlines (`quick_estimate`) instead of laid-out swaths."""
        a_m2, width = self.area.area, self.width
        # Big fields are scored on coarser bands (at most ~QUICK_BANDS of them), then scaled.
        coarse = max(width, math.sqrt(a_m2) / QUICK_BANDS)
        scale = coarse / width
        k_edges = ring_edges(self.keepout)
        anchor_edges = []
        for anchor in anchorings:
            rings = [ring_edges(p) for p in anchor.parts]
            anchor_edges.append((np.vstack(rings), np.repeat(np.arange(len(rings)), [len(r) for r in rings])))
        quick = []
        for b in candidates:
            rot = self.rotation(b)
            for k, (edges, part) in enumerate(anchor_edges):
                if not anchorings[k].distinct(rot):  # by stack the same as one of the others here
                    continue
                s_len, s_n, lost_m2, strip_m2 = quick_estimate(
                    edges, k_edges, rot, coarse, anchorings[k].owners(rot)[part], self.fit
                )
                spray = head.length + s_len * scale
                count = head.corners + s_n * scale
                # what the lines spray for (their length times their spacing: a band whose lines are
                # drawn closer to fit it wastes nothing), past the area
                waste = max(0.0, head.length * width + strip_m2 - a_m2) / width
                quick.append((spray + count * self.turn_cost_m + 2.0 * waste + 4.0 * lost_m2 / width, b, k))
        quick.sort()
        return quick

    def _lap(self, head: Headland) -> tuple[Headland, LapCover, float, float]:
        """The headland's laps: what they cover, how long they take and what their corners leave
        dry as flown, worked out once."""
        if id(head) not in self._laps:  # the headland is kept with it, so its id stays its own
            cover = lap_cover(head.laps, self.width, self.area)
            self._laps[id(head)] = (head, cover, self.pace.lap_seconds(head.laps), corner_cut_m2(head.laps, self.width))
        return self._laps[id(head)]

    def measure(self, head: Headland, s: SwathSet, bearing: float) -> Layout:
        """The layout scored: its path, and what its laps and swaths cover (planner/swath_cover.py)."""
        laps = self._lap(head)[1]
        a_m2 = self.area.area
        covered, outside, overlap = swath_coverage(laps, s, self.width, self.area)
        # the margins neighbours share by design scored as waste would tip the search into trimming
        # swath ends harder, leaving crop dry
        overlap = max(0.0, overlap - self.margins_m2(head, s))
        cov_pct, out_pct, ov_pct = (100.0 * v / a_m2 for v in (covered, outside, overlap))
        path = float(s.lengths.sum()) + head.length + (len(s) + len(head.laps) + head.corners) * self.turn_cost_m
        score = score_of(path / (a_m2 / self.width), cov_pct, out_pct, ov_pct)
        return Layout(bearing, s, score, cov_pct, out_pct, ov_pct, head)

    def timed_score(self, layout: Layout) -> float:
        """`layout`'s score as flown: its flight time (planner/estimates.py Pace, as metres at
        spray speed) for its path, and its laps' corners flown round (headlands.corner_cut_m2):
        what an edge lap is weighed by. Metres of path price a lap's corner as a turn; flown, a
        U-turn between swaths costs five times a corner's braking, and short swaths are flown
        slow (the Hà Châu strip: a lap round it and 63 swaths inside it are flown 30 s faster
        than 65 swaths across it, against 42 m more path). But a corner flown round leaves crop
        dry: a lap round each of the Đại Từ paddies' six plots loses 0.9 point of coverage flown."""
        head = layout.headland
        assert head is not None  # Site.measure always sets it
        lap_s = self._lap(head)[2]
        seconds = self.pace.seconds(layout.swaths.lengths, lap_s, len(head.laps), self.step)
        ratio = seconds * self.pace.speed_m_s / (self.area.area / self.width)
        return score_of(ratio, self.flown_pct(layout), layout.outside_pct, layout.overlap_pct)

    def flown_pct(self, layout: Layout) -> float:
        """`layout`'s coverage with its laps' corners flown round (headlands.corner_cut_m2)."""
        assert layout.headland is not None  # Site.measure always sets it
        return layout.coverage_pct - 100.0 * self._lap(layout.headland)[3] / self.area.area


def edge_bearings(area: BaseGeometry, limit: int = EDGE_CANDIDATES) -> list[float]:
    """Headings (mod 180) of the area's longest edge directions, longest total first."""
    totals: dict[int, float] = {}
    for poly in shapely.get_parts(area):
        if not isinstance(poly, shapely.Polygon):
            continue
        for ring in [poly.exterior, *poly.interiors]:
            c = np.asarray(ring.coords)
            d = np.diff(c, axis=0)
            length = np.hypot(d[:, 0], d[:, 1])
            bearing = heading_deg(d)
            for b, l in zip(bearing, length):
                key = int(round(b * 2)) % 360  # half-degree bins
                totals[key] = totals.get(key, 0.0) + float(l)
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    out: list[float] = []
    for key, _ in ranked:
        b = key / 2.0
        if all(apart(b, o) >= 1.0 for o in out):
            out.append(b)
        if len(out) >= limit:
            break
    rect = area.minimum_rotated_rectangle
    if isinstance(rect, shapely.Polygon):
        c = np.asarray(rect.exterior.coords)
        for d in np.diff(c, axis=0)[:2]:
            b = float(heading_deg(d))
            if all(apart(b, o) >= 1.0 for o in out):
                out.append(b)
    return out


def candidate_bearings(area: BaseGeometry) -> list[float]:
    out = edge_bearings(area)
    for b in np.arange(0.0, 180.0, SWEEP_STEP_DEG):
        if all(apart(b, o) >= 2.0 for o in out):
            out.append(float(b))
    return out


def score_of(path_ratio: float, cov_pct: float, out_pct: float, ov_pct: float) -> float:
    """Lower is better: path first, then coverage, spray outside and overlap; each
    target missed (99 % coverage, 1.5 % outside, 3 % overlap) weighs heavily."""
    return (
        100.0 * path_ratio
        + (100.0 - cov_pct)
        + out_pct
        + 0.3 * ov_pct
        + 60.0 * max(0.0, COVERAGE_TARGET_PCT - cov_pct)
        + 30.0 * (max(0.0, out_pct - OUTSIDE_TARGET_PCT) + max(0.0, ov_pct - OVERLAP_TARGET_PCT))
    )


def choose_layout(site: Site, bearing: float | None = None, headlands: list[Headland] | None = None) -> Layout:
    """The swath layout to fly on `site`: the fixed heading, or the best one found.

    `headlands` are the edge-pass variants to weigh against each other (e.g. no lap and
    one lap): each is scored with its laps' length, and the best few headings of each
    are laid out in full and measured on the whole area.
    """
    area, width = site.area, site.width
    if headlands is None:
        headlands = [Headland([], area, 0)]
    origin = site.origin
    a_m2 = area.area
    bands = math.sqrt(a_m2) / width
    finalists = FINALISTS_SMALL if bands < SMALL_BANDS else FINALISTS
    variants: list[list[tuple[Layout, Anchoring | None]]] = []
    ranked: list[float] = []  # headings of the first variant, best first
    for head in headlands:
        measured: list[tuple[Layout, Anchoring | None]] = []
        variants.append(measured)
        anchorings = anchorings_of(head.rest)
        if not anchorings:  # the laps cover everything
            s = SwathSet(Rotation(0.0, origin), width, np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
            b = bearing % 180.0 if bearing is not None else 0.0
            measured.append((site.measure(head, s, b), None))
            continue
        if bearing is not None:
            candidates = [bearing % 180.0]
        elif ranked:  # the laps change the ends, not which headings suit the shape
            candidates = ranked[:SHARED_CANDIDATES]
        else:
            candidates = candidate_bearings(head.rest)
        quick = site.quick_ranking(head, anchorings, candidates)
        if not ranked:
            ranked = list(dict.fromkeys(b for _, b, _ in quick))
        for _, b, k in diverse(quick, finalists):
            laid = site.lay_anchored(anchorings[k], b, slack=site.slack(head))
            measured.append((site.measure(head, laid, b), anchorings[k]))
        measured.sort(key=lambda m: m[0].score)
    # each variant's best heading by its path; between the variants, one that covers the target as
    # flown, then by the time they are flown in (a lap round each of the Đại Từ paddies' plots saves
    # 3 % of the flight, but its corners flown round leave 0.4 point more crop dry, below 99 %)
    measured = min(
        (v for v in variants if v),
        key=lambda v: (site.flown_pct(v[0][0]) < COVERAGE_TARGET_PCT, site.timed_score(v[0][0])),
    )
    layout, anchor = measured[0]
    if bearing is None and anchor is not None:  # a fraction of a degree either side of the best heading
        for d in REFINE_DEG:
            for b in ((layout.bearing_deg - d) % 180.0, (layout.bearing_deg + d) % 180.0):
                assert layout.headland is not None  # Site.measure always sets it
                laid = site.lay_anchored(anchor, b, slack=site.slack(layout.headland))
                measured.append((site.measure(layout.headland, laid, b), anchor))
        measured.sort(key=lambda m: m[0].score)
    best = measured[0][0]
    if _wasteful(best):
        # Over a waste target: trim the swath ends harder on the best few, trading a
        # little coverage (weighed by the score) for less spray twice or outside.
        for layout, anchor in measured[:RETRIM_LAYOUTS]:
            if anchor is None:
                continue
            weight = RETRIM_WEIGHT
            assert layout.headland is not None  # Site.measure always sets it
            for _ in range(RETRIM_STEPS):
                swaths = site.lay_anchored(anchor, layout.bearing_deg, weight, site.slack(layout.headland))
                again = site.measure(layout.headland, swaths, layout.bearing_deg)
                if again.score < best.score:
                    best = again
                # still over the waste targets: trim harder; short of coverage: ease off
                if _wasteful(again):
                    weight -= 0.5
                elif again.coverage_pct < COVERAGE_TARGET_PCT:
                    weight += 0.25
                else:
                    break
    return best


def _wasteful(layout: Layout) -> bool:
    return layout.outside_pct > OUTSIDE_TARGET_PCT or layout.overlap_pct > OVERLAP_TARGET_PCT


def diverse(quick: list[tuple[float, float, int]], count: int) -> list[tuple[float, float, int]]:
    """The best `count` candidates whose headings differ by at least FINALIST_SPREAD_DEG
    (neighbouring headings lay out almost the same swaths: measuring both says little)."""
    out: list[tuple[float, float, int]] = []
    for q in quick:
        if all(apart(q[1], o[1]) >= FINALIST_SPREAD_DEG or q[2] != o[2] for o in out):
            out.append(q)
        if len(out) >= count:
            break
    return out
