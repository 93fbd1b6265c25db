"""The modes that hold where they are: LOITER, and BRAKE, ALT_HOLD and CIRCLE, which do the same here.

ArduCopter has a file for each; the simulator does not model BRAKE's harder stop, ALT_HOLD's
drift with the sticks centred nor CIRCLE's orbit, so each holds its position and altitude
(from where it is, braking at WPNAV_ACCEL) like LOITER.
"""

from __future__ import annotations

from sim import modes as M


class ModeLoiter(M.Mode):
    number = M.LOITER

    def enter(self) -> None:
        m = self.copter.motion
        m.speed_m_s = self.copter.p["WPNAV_SPEED"] / 100.0
        m.hold_here()


class ModeBrake(ModeLoiter):
    number = M.BRAKE


class ModeAltHold(ModeLoiter):
    number = M.ALT_HOLD


class ModeCircle(ModeLoiter):
    number = M.CIRCLE
