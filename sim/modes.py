"""ArduCopter flight modes: their custom_mode numbers, what each allows, and the Mode base class.

Each mode the simulator flies is a Mode subclass in its own module (sim/mode_auto.py,
mode_guided.py, mode_rtl.py, mode_land.py, mode_loiter.py, mode_stabilize.py), as ArduCopter
has mode_*.cpp; the copter holds one instance of each and switches between them in set_mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.vehicle import Copter

STABILIZE, ACRO, ALT_HOLD, AUTO, GUIDED, LOITER, RTL, CIRCLE, LAND, BRAKE = 0, 1, 2, 3, 4, 5, 6, 7, 9, 17

NAMES = {
    STABILIZE: "STABILIZE",
    ACRO: "ACRO",
    ALT_HOLD: "ALT_HOLD",
    AUTO: "AUTO",
    GUIDED: "GUIDED",
    LOITER: "LOITER",
    RTL: "RTL",
    CIRCLE: "CIRCLE",
    LAND: "LAND",
    BRAKE: "BRAKE",
}
BY_NAME = {v: k for k, v in NAMES.items()}

REQUIRES_POSITION = {AUTO, GUIDED, LOITER, RTL, CIRCLE, BRAKE}
ARMABLE = {STABILIZE, ACRO, ALT_HOLD, GUIDED, LOITER, CIRCLE}


class Mode:
    """One flight mode (ArduCopter's Mode): Copter.set_mode calls can_enter, the old mode's
    exit and the new mode's enter; step() calls run() every tick. The defaults are a mode with
    nothing to do, so a subclass says only what is its own."""

    number: int = STABILIZE

    def __init__(self, copter: Copter) -> None:
        self.copter = copter

    @property
    def name(self) -> str:
        return NAMES[self.number]

    @property
    def requires_position(self) -> bool:
        return self.number in REQUIRES_POSITION

    def allows_arming(self) -> bool:
        """Mode::allows_arming: may the motors be armed in this mode?"""
        return self.number in ARMABLE

    def may_take_off(self) -> bool:
        """Whether a climb target may lift the copter off the ground (AUTO waits to be auto-armed)."""
        return True

    def throttle_low(self) -> bool:
        """A manual mode with the (simulated) throttle stick at the bottom: the copter sinks."""
        return False

    def can_enter(self) -> bool:
        """Checks of the mode's own before it is entered (it says why it refuses)."""
        return True

    def pause(self) -> bool:
        """Mode::pause (MAV_CMD_DO_PAUSE_CONTINUE 0): only AUTO's waypoint legs can pause."""
        return False

    def resume(self) -> bool:
        """Mode::resume (MAV_CMD_DO_PAUSE_CONTINUE 1)."""
        return False

    def enter(self) -> None:
        """Mode::init: set up the targets; the copter has already cleared the previous mode's."""

    def exit(self) -> None:
        """Mode::exit: leave nothing running behind."""

    def run(self) -> None:
        """Once a tick, after the physics and the land detector."""

    def do_user_takeoff(self, alt_rel: float) -> bool:
        """MAV_CMD_NAV_TAKEOFF from a ground station: only GUIDED takes off on command."""
        return False

    def goto(self, lat: float, lon: float, alt_rel: float | None) -> bool:
        """A position target from a ground station: only GUIDED accepts one."""
        return False
