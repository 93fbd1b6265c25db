"""A stranger's ground station, written from the MAVLink documents: plain pymavlink with no
key, trying what a hijacker would (mode, arm, parameter, mission). On a vehicle that signs,
each must go unanswered; the caller checks nothing changed with its own signed link."""

from __future__ import annotations

from sim_groundstation import GroundStation, mavlink

REL = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT


def stranger_attempts(url: str, *, wait_s: float = 2.0) -> dict[str, object]:
    """What a ground station without the key got back for each attempt (None: no answer)."""
    gs = GroundStation(url, source_system=254)
    try:
        lat, lon = 21.0, 105.0
        items = [
            (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_INT, 0, 0, 0, 0, lat, lon, 0),
            (mavlink.MAV_CMD_NAV_TAKEOFF, REL, 0, 0, 0, 0, 0, 0, 30),
        ]
        return {
            "mode": gs.command(
                mavlink.MAV_CMD_DO_SET_MODE,
                mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
                4,  # GUIDED
                timeout=wait_s,
                retries=1,
            ),
            "arm": gs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1, timeout=wait_s, retries=1),
            "param": gs.set_param("SPRAY_PUMP_RATE", 99.0, timeout=wait_s, retries=1),
            "upload": gs.upload(items, timeout=wait_s),
        }
    finally:
        gs.close()
