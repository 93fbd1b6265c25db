"""The exceptions that mean "the user's input is wrong", shown as one `error:` line.

Each package raises its own error class for bad input; the command line turns every
class listed in USER_ERRORS into `error: <message>` on stderr and exit status 2.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in what the user asked the command line to do."""


def user_errors() -> tuple[type[BaseException], ...]:
    """Every package's bad-input exception (imported lazily so `--help` stays fast)."""
    classes: list[type[BaseException]] = [UserError]
    # Each package adds its error class here.
    from fields import FieldError

    classes.append(FieldError)
    from planner import PlanError

    classes.append(PlanError)
    from sim import SimError

    classes.append(SimError)
    from telemetry import TelemetryError

    classes.append(TelemetryError)
    from missions import MissionError

    classes.append(MissionError)
    return tuple(classes)
