"""Part headings: where the swaths' area falls apart (a field cut in two by a stream's
buffer), each part may lie at the heading that suits its own shape.

One heading for the whole field meets some parts' edges at a slant, and every slanted
swath end sprays a wedge twice against the edge lap or leaves one unsprayed. Each part
in turn (largest first) is tried at the few headings that suit it alone by the quick
estimate of planner/angle.py, and keeps one when the whole layout, with the same edge
laps, scores better. A fleet shares one layout out in strips across one heading
(planner/bands.py), so this stage is for one drone.
"""

from __future__ import annotations

import shapely

from planner.anchoring import Anchoring
from planner.angle import Layout, Site, candidate_bearings, diverse
from planner.geometry import apart
from planner.headlands import Headland
from planner.swaths import SwathSet

# Parts at their own heading may cover this much less than one heading (points of coverage). The
# Đại Từ paddies at their own headings would spray 1.9 points less on the bunds but leave 1 point
# of rice unsprayed: they stay at one heading.
COVERAGE_GIVEN_PCT = 0.2
TRIED_PER_PART = 2  # headings laid out and measured for each part
MIN_PART_SHARE = 0.05  # smaller parts keep the heading of the rest


def headings_per_part(site: Site, best: Layout) -> Layout:
    """`best`, or the layout with parts at their own headings when it scores better and covers
    as much, within COVERAGE_GIVEN_PCT: less spray wasted is not worth crop left unsprayed."""
    head = best.headland
    assert head is not None  # Site.measure always sets it
    parts = sorted((p for p in shapely.get_parts(head.rest) if p.area > 0), key=lambda p: -p.area)
    if len(parts) < 2:
        return best
    slack = site.slack(head)
    sets = [site.lay([p], best.bearing_deg, slack=slack) for p in parts]
    bearings = [best.bearing_deg] * len(parts)
    current = site.measure(head, SwathSet.concat(sets), bearings[0])
    for k, part in enumerate(parts):
        if part.area < MIN_PART_SHARE * site.area.area:
            break
        own = Site(part, site.keepout, site.holes, site.width, site.turn_cost_m, site.pace, site.spacing, site.fit)
        quick = own.quick_ranking(Headland([], part, 0), [Anchoring((part,))], candidate_bearings(part))
        for _, b, _ in diverse(quick, TRIED_PER_PART):
            if apart(b, best.bearing_deg) < 1e-9:
                continue
            trial_sets = sets[:k] + [site.lay([part], b, slack=slack)] + sets[k + 1 :]
            trial = site.measure(head, SwathSet.concat(trial_sets), bearings[0])
            if trial.score < current.score:
                sets, current, bearings[k] = trial_sets, trial, b
    if len({round(b, 6) for b in bearings}) < 2 or current.score >= best.score:
        return best
    if current.coverage_pct < best.coverage_pct - COVERAGE_GIVEN_PCT:
        return best
    current.bearing_deg = bearings[0]
    current.part_bearings = tuple(bearings)
    return current
