"""GUIDED (ArduCopter mode_guided.cpp): hold, take off and fly where a ground station says."""

from __future__ import annotations

from sim import modes as M


class ModeGuided(M.Mode):
    number = M.GUIDED

    def enter(self) -> None:
        m = self.copter.motion
        m.speed_m_s = self.copter.p["WPNAV_SPEED"] / 100.0
        m.hold_here()

    def do_user_takeoff(self, alt_rel: float) -> bool:
        """MAV_CMD_NAV_TAKEOFF: climb from the ground, armed, to alt_rel metres above home."""
        c = self.copter
        if not c.armed or not c.motion.landed or alt_rel <= 0:
            return False
        target_alt = c.relative_to_ground(alt_rel)
        if target_alt <= c.motion.alt:  # Mode::do_user_takeoff: "can't takeoff downwards"
            return False
        c.motion.target = c.motion.here()
        c.motion.target_alt = target_alt
        return True

    def goto(self, lat: float, lon: float, alt_rel: float | None) -> bool:
        """Guided reposition (SET_POSITION_TARGET_GLOBAL_INT, DO_REPOSITION), flying only."""
        c = self.copter
        if not c.armed or c.motion.landed:
            return False
        c.motion.target = c.grid.to_ne(lat, lon)
        if alt_rel is not None:
            c.motion.target_alt = c.relative_to_ground(alt_rel)
        return True
