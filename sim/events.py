"""What the simulated copter tells the outside world, as typed events.

The vehicle knows nothing of MAVLink or of the links: it appends these to its outbox while it
runs, and the simulator (sim/simulator.py) turns each, by its type, into the messages a ground
station hears and the lines of the ground truth. An event names what happened; the message is
built from the vehicle's state when the event is handled (as ArduPilot sends it).
"""

from __future__ import annotations

from dataclasses import dataclass

# MAV_SEVERITY, for StatusText
SEV_CRITICAL, SEV_ERROR, SEV_WARNING, SEV_NOTICE, SEV_INFO = 2, 3, 4, 5, 6


@dataclass(frozen=True)
class StatusText:
    """A STATUSTEXT line (GCS_SEND_TEXT), also a ground-truth event."""

    severity: int
    text: str


@dataclass(frozen=True)
class MissionItemReached:
    """AP_Mission finished item `seq`: MISSION_ITEM_REACHED."""

    seq: int


@dataclass(frozen=True)
class MissionCurrentChanged:
    """The mission moved to another item (or stopped): MISSION_CURRENT now, not at the next stream."""


@dataclass(frozen=True)
class HomeChanged:
    """Home was set (on arming, by a command or a mission item): HOME_POSITION now."""


@dataclass(frozen=True)
class ParamChanged:
    """The vehicle changed parameter `name` itself (WP_RADIUS and WPNAV_RADIUS follow each other)."""

    name: str


@dataclass(frozen=True)
class ModeChanged:
    """The flight mode is now `mode`: a HEARTBEAT at once, as ArduPilot sends one on a mode change."""

    mode: int


Event = StatusText | MissionItemReached | MissionCurrentChanged | HomeChanged | ParamChanged | ModeChanged
