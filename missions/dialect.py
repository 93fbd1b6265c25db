"""pymavlink set up once for MAVLink 2 and the ardupilotmega dialect.

MAVLink 2 is required: ArduPilot refuses fence and rally transfers over MAVLink 1
(the `mission_type` field is a MAVLink 2 extension).  pymavlink chooses the wire
version from the MAVLINK20 environment variable when a dialect is selected, so it is
set here, before `mavutil` picks its module.
"""

from __future__ import annotations

import os

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil  # noqa: E402
from pymavlink.dialects.v20 import ardupilotmega as mavlink  # noqa: E402

DIALECT = "ardupilotmega"
if getattr(mavutil, "current_dialect", None) != DIALECT or not mavutil.mavlink.WIRE_PROTOCOL_VERSION.startswith("2"):
    mavutil.set_dialect(DIALECT)

MISSION_TYPES: dict[str, int] = {
    "mission": mavlink.MAV_MISSION_TYPE_MISSION,
    "fence": mavlink.MAV_MISSION_TYPE_FENCE,
    "rally": mavlink.MAV_MISSION_TYPE_RALLY,
}


def mission_type_id(mission_type: str | int) -> int:
    """'mission' | 'fence' | 'rally' (or the MAV_MISSION_TYPE number) -> the number."""
    if isinstance(mission_type, int):
        return mission_type
    try:
        return MISSION_TYPES[mission_type]
    except KeyError:
        raise ValueError(f"unknown mission_type {mission_type!r} (mission, fence or rally)") from None


def mission_type_name(mission_type: int | str) -> str:
    if isinstance(mission_type, str):
        return mission_type
    for name, value in MISSION_TYPES.items():
        if value == mission_type:
            return name
    return str(mission_type)


def enum_name(enum: str, value: int) -> str:
    entry = mavlink.enums.get(enum, {}).get(value)
    return entry.name if entry is not None else f"{enum}({value})"
