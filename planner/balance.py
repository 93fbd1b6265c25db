"""Balancing a fleet's parts: where to cut the swath lines so every drone finishes at about
the same time.

What is balanced is the job time of each drone, flight plus reloads (the sum of its sorties'
flight_time_s and reload_s between them), not the area: a drone with a smaller tank lands
more often, a slower one sprays fewer metres a minute, and a part whose volume is just over
a number of tanks pays a whole extra sortie for a few metres. So:

1. an estimate of every part's job time for every pair of cuts (a cost matrix per drone,
   counting the sorties each needs by its tank) picks the cuts, by dynamic programming
   (planner/bands.py `split_chain`);
2. each part is then planned for real (route and sorties, as one drone's plan) and each
   drone's estimate scaled by what it really took, and the cuts picked again, a few rounds;
3. last, the cut next to the slowest drone (or the quickest) moves by a line or two as long
   as that makes the job shorter and more even.

Cuts whose drones finish within GOOD_ENOUGH_PCT of each other are kept as they are (a big
field, where each drone flies dozens of sorties, settles in two rounds).

Every part planned is kept (by drone and lines), so the rounds and moves cost only the parts
that change. The reload point of a part is chosen from its lines (its own stretch of the
field's edge, planner/fleet.py), so it follows the cuts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from planner.bands import Lines, split_chain, work_per_line
from planner.dose import Sprayer
from planner.estimates import landing_time, takeoff_time
from planner.params import PlanParams
from planner.route import Leg
from planner.sorties import Sortie
from planner.swaths import SwathSet
from planner.terrain import Ground

ROUNDS = 4  # estimate, plan, rescale: the cuts usually settle in two
STEPS = 16  # moves of one cut by a line or two
TURN_EXTRA_S = 3.0  # a turn between swaths besides turn_s, for the estimate only
SPREAD_WEIGHT = 0.25  # the job's length first, then how evenly the drones finish
GOOD_ENOUGH_PCT = 1.0  # drones this close (the last finishes this % after the first) are left as they are


@dataclass
class Flight:
    """One drone's part planned: its route, sorties (numbered from 1) and times."""

    route: list[Leg]
    sorties: list[Sortie]
    cells: int
    reload_xy: np.ndarray
    ground: Ground | None  # over a DEM

    @property
    def flight_s(self) -> float:
        return sum(s.flight_time_s for s in self.sorties)

    def job_s(self, reload_s: float) -> float:
        return self.flight_s + max(0, len(self.sorties) - 1) * reload_s


Fly = Callable[[int, int, int], Flight]  # (slot, first line, line after the last) -> the part planned


def score(times: list[float]) -> float:
    return max(times) + SPREAD_WEIGHT * (max(times) - min(times))


@dataclass
class Estimate:
    """One drone's estimated job time for every run of lines a to b - 1 ((L+1, L+1) matrices).

    job = factor * (work + sorties * trip) + (sorties - 1) * reload_s, sorties = ceil(litres / per_sortie):
    `factor` and `per_sortie` start from the drone's numbers and are then learnt from its real parts."""

    work_s: np.ndarray  # spraying and turning
    trip_s: np.ndarray  # out to the part and home again, take-off and landing: once a sortie
    litres: np.ndarray
    reload_s: float
    per_sortie: float  # litres a sortie sprays (the tank less its reserve, or less where the battery ends it)
    factor: float = 1.0

    def sorties(self) -> np.ndarray:
        return np.maximum(np.ceil(self.litres / self.per_sortie - 1e-9), 1.0)

    def job(self) -> np.ndarray:
        k = self.sorties()
        return self.factor * (self.work_s + k * self.trip_s) + (k - 1.0) * self.reload_s

    def learn(self, lo: int, hi: int, flight: Flight) -> None:
        """Scale to what the part lo..hi - 1 really took: its flight time, and the litres of its
        sorties before the last (the last one sprays what is left)."""
        k = len(flight.sorties)
        if k >= 2:
            self.per_sortie = float(np.mean([s.volume_l for s in flight.sorties[:-1]]))
        guess = float(self.work_s[lo, hi] + k * self.trip_s[lo, hi])
        self.factor = flight.flight_s / max(guess, 1.0)


def estimates(
    swaths: SwathSet, lines: Lines, laps: list[np.ndarray], crew: list[PlanParams], sprayers: list[Sprayer]
) -> list[Estimate]:
    """Each drone's estimate for every run of lines, from the metres and turns on each line."""
    metres, turns = work_per_line(swaths, lines, laps)
    cm = np.concatenate([[0.0], np.cumsum(metres)])
    ct = np.concatenate([[0.0], np.cumsum(turns)])
    allowed = np.triu(np.ones((len(cm), len(cm)), dtype=bool), 1)
    spray = np.where(allowed, cm[None, :] - cm[:, None], 0.0)
    n = np.where(allowed, ct[None, :] - ct[:, None], 0.0)
    out = []
    for p, s in zip(crew, sprayers):
        work = np.where(allowed, spray / s.speed_m_s + n * (p.turn_s + TURN_EXTRA_S), np.inf)
        trip_m = np.sqrt(spray * p.line_spacing_m) / 2.0  # out and back, to the part's middle
        trip = 2.0 * trip_m / p.transit_speed_m_s + takeoff_time(p) + landing_time(p) + 2.0 * p.turn_s
        volume = spray * p.line_spacing_m * p.dose_l_ha / 10_000.0  # planner.dose.litres, for every run at once
        out.append(Estimate(work, trip, volume, p.reload_s, p.tank_l - p.tank_reserve_l))
    return out


class Balancer:
    """Chooses the cuts between the parts (one per slot, upwards) by their real job times."""

    def __init__(self, fly: Fly, crew: list[PlanParams], estimate: list[Estimate]) -> None:
        self.fly = fly
        self.crew = crew
        self.estimate = estimate

    def times(self, cut: tuple[int, ...]) -> list[float]:
        return [self.fly(j, cut[j], cut[j + 1]).job_s(p.reload_s) for j, p in enumerate(self.crew)]

    def best_cut(self) -> tuple[int, ...]:
        seen: dict[tuple[int, ...], list[float]] = {}
        for _ in range(ROUNDS):
            cut = tuple(split_chain([e.job() for e in self.estimate]))
            if cut in seen:
                break
            seen[cut] = self.times(cut)
            if imbalance_pct(seen[cut]) < GOOD_ENOUGH_PCT:  # close enough: a line more or less buys little
                return cut
            for j, e in enumerate(self.estimate):
                e.learn(cut[j], cut[j + 1], self.fly(j, cut[j], cut[j + 1]))
        cut = min(seen, key=lambda c: score(seen[c]))
        return self._search(cut, seen[cut])

    def _moves(self, cut: tuple[int, ...], j: int, shrink: bool) -> list[tuple[int, ...]]:
        """Cuts where slot j has one or two lines fewer (shrink) or more, from a neighbour."""
        out = []
        for step in (1, 2):
            for k, sign in ((j, 1), (j + 1, -1)):  # its lower cut moves up or its upper cut down
                if k == 0 or k == len(cut) - 1:
                    continue
                new = list(cut)
                new[k] += sign * step if shrink else -sign * step
                if all(a < b for a, b in zip(new, new[1:])):
                    out.append(tuple(new))
        return out

    def _search(self, cut: tuple[int, ...], times: list[float]) -> tuple[int, ...]:
        best = score(times)
        for _ in range(STEPS):
            slow, quick = int(np.argmax(times)), int(np.argmin(times))
            found = None
            for moves in (self._moves(cut, slow, True), self._moves(cut, quick, False)):
                for c in moves:
                    t = self.times(c)
                    if score(t) < best - 1e-6 and (found is None or score(t) < score(found[1])):
                        found = (c, t)
                if found is not None:
                    break
            if found is None:
                break
            cut, times = found
            best = score(times)
        return cut


def imbalance_pct(times: list[float]) -> float:
    """How much later the last drone finishes than the first, in % of the first."""
    return 100.0 * (max(times) / max(min(times), 1e-9) - 1.0) if times else 0.0
