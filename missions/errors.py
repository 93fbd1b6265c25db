"""The one exception missions/ raises for a bad plan or a failed exchange with the vehicle."""

from __future__ import annotations


class MissionError(Exception):
    """A plan that cannot become a mission, a file that cannot be read, or a MAVLink
    exchange that failed (the message names the step and, when known, the reason)."""


class SigningError(MissionError):
    """The vehicle's packets are not signed with the drone's key (or it signs and we have
    no key): nothing is sent to it; `fly` treats it as a no-go."""
