"""The plan as missions/ reads it: the planner's document (planner/document.py), whose
PlanError becomes a MissionError, the one class missions/ raises, with the same words."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from missions.errors import MissionError
from planner.document import PlanDocument, as_document
from planner.errors import PlanError


@contextlib.contextmanager
def plan_errors() -> Iterator[None]:
    """A PlanError raised inside, raised again as a MissionError."""
    try:
        yield
    except PlanError as exc:
        raise MissionError(str(exc)) from None


def plan_document(plan: PlanDocument | dict) -> PlanDocument:
    """The document of a plan (a plan.json dict is read and checked first)."""
    with plan_errors():
        return as_document(plan)
