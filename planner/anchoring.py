"""Anchoring: which of the area's separate parts share their swath lines.

Swaths are laid in bands from the lowest point of what is banded together (planner/swaths.py).
Banded as one, the separate parts of a field share one set of lines; banded each on its own,
every part gets lines that start at its own edge. The third way bands together each stack of
parts that lie across each other's bands, and each stack on its own.

Why stacks: the Đại Từ paddies are six plots in two rows of three, with bunds between them. With
swaths along the rows, a band straddles the bund between the rows (lines shared by the two plots
of a column: 10 lines would cover a 37 m row alone and spray 3 m of it twice), but the plots side
by side along the swaths are flown as cells of their own (the route never sprays across the bund
between them), so their lines need not be shared. Shared anyway, one set of lines for all six
plots, whose edges lie up to a metre apart, stuck out past the lower plots' outer edges: 72 m²
of the plan's spray outside the job's outer edge, where stacks of their own leave 32 m².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.geometry import Rotation


def stacks(parts: tuple[BaseGeometry, ...], rotation: Rotation) -> np.ndarray:
    """The stack of each part (0, 1, ...): parts whose stretches along the swaths overlap (directly
    or through others) lie across each other's bands and are one stack."""
    spans = np.array([rotation.geom_to_swath(p).bounds for p in parts])[:, [0, 2]]
    order = np.argsort(spans[:, 0], kind="stable")
    group = np.zeros(len(parts), int)
    k, reach = -1, -np.inf
    for i in order:
        if spans[i, 0] >= reach:  # starts past everything before it: a new stack
            k += 1
        reach = max(reach, spans[i, 1]) if spans[i, 0] < reach else spans[i, 1]
        group[i] = k
    return group


@dataclass(frozen=True)
class Anchoring:
    """The parts to band, and whether each is banded on its own or (`by_stack`) with the others of
    its stack; a single part is banded as a whole (a multipolygon as one)."""

    parts: tuple[BaseGeometry, ...]
    by_stack: bool = False

    def owners(self, rotation: Rotation) -> np.ndarray:
        """Which banding each part is in: its own, or its stack's."""
        return stacks(self.parts, rotation) if self.by_stack else np.arange(len(self.parts))

    def distinct(self, rotation: Rotation) -> bool:
        """Whether banding by stack at this heading differs from banding all as one and each
        part on its own (two stacks or more, not all of one part)."""
        n = len(set(self.owners(rotation).tolist()))
        return not self.by_stack or 1 < n < len(self.parts)

    def pieces(self, rotation: Rotation) -> list[BaseGeometry]:
        """What is banded on its own at this heading."""
        if not self.by_stack:
            return list(self.parts)
        owner = self.owners(rotation)
        return [shapely.union_all([p for p, o in zip(self.parts, owner) if o == k]) for k in range(owner.max() + 1)]


def anchorings(area: BaseGeometry) -> list[Anchoring]:
    """The whole area banded as one and, for several parts, each part on its own and each stack."""
    parts = tuple(p for p in shapely.get_parts(area) if p.area > 0)
    if not parts:
        return []
    out = [Anchoring((area,))]
    if len(parts) > 1:
        out += [Anchoring(parts), Anchoring(parts, by_stack=True)]
    return out
