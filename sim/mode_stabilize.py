"""The manual modes, STABILIZE and ACRO: no position or altitude target.

No pilot is simulated: the RC throttle stick stays at the bottom, so a flying copter sinks to
the ground (and, once landed, the auto-disarm stops the motors).
"""

from __future__ import annotations

from sim import modes as M


class ModeStabilize(M.Mode):
    number = M.STABILIZE

    def enter(self) -> None:
        self.copter.motion.release()

    def throttle_low(self) -> bool:
        return True


class ModeAcro(ModeStabilize):
    number = M.ACRO
