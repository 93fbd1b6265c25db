"""Mission items as ArduPilot stores and reports them (MISSION_ITEM_INT, 1e-7 degree ints).

Latitude and longitude are kept as the integers MAVLink carries, so a coordinate
converted once from degrees round-trips exactly through MAVLink, `.plan` and
`.waypoints` files.  `differences` says which stored fields a vehicle must give back
unchanged after an upload (ArduPilot replaces item 0 with its own home, reports
location frames without the `_INT` suffix, and keeps a frame only for the commands it
stores with a position: NAV_RETURN_TO_LAUNCH and the DO commands come back in frame 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from missions.dialect import mavlink
from missions.errors import MissionError

# MAV_CMD numbers used by the builder and the file readers.
NAV_WAYPOINT = mavlink.MAV_CMD_NAV_WAYPOINT  # 16
NAV_RETURN_TO_LAUNCH = mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH  # 20
NAV_LAND = mavlink.MAV_CMD_NAV_LAND  # 21
NAV_TAKEOFF = mavlink.MAV_CMD_NAV_TAKEOFF  # 22
DO_CHANGE_SPEED = mavlink.MAV_CMD_DO_CHANGE_SPEED  # 178
DO_SPRAYER = mavlink.MAV_CMD_DO_SPRAYER  # 216
FENCE_RETURN_POINT = mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT  # 5000
FENCE_POLYGON_INCLUSION = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION  # 5001
FENCE_POLYGON_EXCLUSION = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION  # 5002
FENCE_CIRCLE_INCLUSION = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION  # 5003
FENCE_CIRCLE_EXCLUSION = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION  # 5004
RALLY_POINT = mavlink.MAV_CMD_NAV_RALLY_POINT  # 5100

FRAME_GLOBAL = mavlink.MAV_FRAME_GLOBAL  # 0
FRAME_MISSION = mavlink.MAV_FRAME_MISSION  # 2
FRAME_GLOBAL_RELATIVE_ALT = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT  # 3
FRAME_GLOBAL_INT = mavlink.MAV_FRAME_GLOBAL_INT  # 5
FRAME_GLOBAL_RELATIVE_ALT_INT = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT  # 6
FRAME_GLOBAL_TERRAIN_ALT = mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT  # 10
FRAME_GLOBAL_TERRAIN_ALT_INT = mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT  # 11

_INT_FRAME_BASE = {
    FRAME_GLOBAL_INT: FRAME_GLOBAL,
    FRAME_GLOBAL_RELATIVE_ALT_INT: FRAME_GLOBAL_RELATIVE_ALT,
    FRAME_GLOBAL_TERRAIN_ALT_INT: FRAME_GLOBAL_TERRAIN_ALT,
}
_BASE_INT_FRAME = {base: int_frame for int_frame, base in _INT_FRAME_BASE.items()}

MISSION_TYPE_MISSION = mavlink.MAV_MISSION_TYPE_MISSION
MISSION_TYPE_FENCE = mavlink.MAV_MISSION_TYPE_FENCE
MISSION_TYPE_RALLY = mavlink.MAV_MISSION_TYPE_RALLY


def deg_to_e7(value: float) -> int:
    """Degrees -> the int32 MAVLink carries (round half away from zero, like QGC)."""
    return int(math.floor(abs(value) * 1e7 + 0.5)) * (1 if value >= 0 else -1)


def e7_to_deg(value: int) -> float:
    return value / 1e7


# AP_Mission::stored_in_location: the mission commands ArduPilot stores with a position and
# its frame. Every other mission command (NAV_RETURN_TO_LAUNCH, the DO commands) is read
# back in frame 0 whatever frame it was sent in.
STORED_IN_LOCATION = frozenset(
    {
        NAV_WAYPOINT,
        mavlink.MAV_CMD_NAV_LOITER_UNLIM,
        mavlink.MAV_CMD_NAV_LOITER_TURNS,
        mavlink.MAV_CMD_NAV_LOITER_TIME,
        NAV_LAND,
        NAV_TAKEOFF,
        mavlink.MAV_CMD_NAV_CONTINUE_AND_CHANGE_ALT,
        mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
        mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT,
        mavlink.MAV_CMD_NAV_GUIDED_ENABLE,
        mavlink.MAV_CMD_DO_SET_HOME,
        mavlink.MAV_CMD_DO_LAND_START,
        mavlink.MAV_CMD_DO_GO_AROUND,
        mavlink.MAV_CMD_DO_SET_ROI,
        mavlink.MAV_CMD_NAV_VTOL_TAKEOFF,
        mavlink.MAV_CMD_NAV_VTOL_LAND,
        mavlink.MAV_CMD_NAV_PAYLOAD_PLACE,
    }
)


def is_location_command(command: int) -> bool:
    """NAV commands and fence/rally points carry a position in x/y."""
    return 16 <= command < 100 or 5000 <= command <= 5100


@dataclass(frozen=True)
class MissionItem:
    """One MISSION_ITEM_INT: x/y are latitude/longitude * 1e7, z metres in `frame`."""

    seq: int
    command: int
    frame: int = FRAME_GLOBAL_RELATIVE_ALT_INT
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    current: int = 0
    autocontinue: int = 1
    mission_type: int = MISSION_TYPE_MISSION

    @classmethod
    def at(cls, seq: int, command: int, lat: float, lon: float, alt: float, **kw: Any) -> MissionItem:
        """An item at a WGS84 position given in degrees."""
        return cls(seq=seq, command=command, x=deg_to_e7(lat), y=deg_to_e7(lon), z=float(alt), **kw)

    @property
    def lat(self) -> float:
        return e7_to_deg(self.x)

    @property
    def lon(self) -> float:
        return e7_to_deg(self.y)

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.param1, self.param2, self.param3, self.param4)

    def with_seq(self, seq: int) -> MissionItem:
        return replace(self, seq=seq)

    def to_message(self, target_system: int, target_component: int) -> Any:
        """The MISSION_ITEM_INT message that carries this item."""
        return mavlink.MAVLink_mission_item_int_message(
            target_system,
            target_component,
            self.seq,
            self.frame,
            self.command,
            self.current,
            self.autocontinue,
            self.param1,
            self.param2,
            self.param3,
            self.param4,
            self.x,
            self.y,
            self.z,
            self.mission_type,
        )

    @classmethod
    def from_message(cls, msg: Any) -> MissionItem:
        """From MISSION_ITEM_INT, or from the float MISSION_ITEM older links send."""
        if msg.get_type() == "MISSION_ITEM":
            x, y = deg_to_e7(msg.x), deg_to_e7(msg.y)
            frame = msg.frame
        else:
            x, y, frame = int(msg.x), int(msg.y), msg.frame
        return cls(
            seq=msg.seq,
            command=msg.command,
            frame=frame,
            param1=msg.param1,
            param2=msg.param2,
            param3=msg.param3,
            param4=msg.param4,
            x=x,
            y=y,
            z=float(msg.z),
            current=msg.current,
            autocontinue=msg.autocontinue,
            mission_type=getattr(msg, "mission_type", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "command": self.command,
            "frame": self.frame,
            "params": [self.param1, self.param2, self.param3, self.param4],
            "lat": self.lat,
            "lon": self.lon,
            "alt": self.z,
        }


def _f32(value: float) -> float:
    return float(np.float32(value))


def _same_float(a: float, b: float) -> bool:
    a32, b32 = _f32(a), _f32(b)
    if math.isnan(a32) or math.isnan(b32):
        # ArduPilot gives 0 back for a NaN "unchanged" parameter.
        return (math.isnan(a32) or a32 == 0.0) and (math.isnan(b32) or b32 == 0.0)
    return a32 == b32 or abs(a32 - b32) <= 1e-6 * max(abs(a32), abs(b32))


def base_frame(frame: int) -> int:
    """The frame without `_INT` (6 -> 3), as ArduPilot reports it and the files store it."""
    return _INT_FRAME_BASE.get(frame, frame)


def int_frame(command: int, frame: int) -> int:
    """The `_INT` frame MISSION_ITEM_INT carries for a location command read from a file
    (3 -> 6); DO commands keep theirs."""
    return _BASE_INT_FRAME.get(frame, frame) if is_location_command(command) else frame


def checked(item: MissionItem, where: str) -> MissionItem:
    """The item, or a MissionError naming `where` when it cannot go over MAVLink (a file
    that parsed but holds a position off the globe or a number too big for its field)."""
    if not (-90e7 <= item.x <= 90e7 and -180e7 <= item.y <= 180e7):
        raise MissionError(f"{where}: position out of range ({item.lat}, {item.lon})")
    if not 0 <= item.command <= 0xFFFF or not 0 <= item.frame <= 0xFF:
        raise MissionError(f"{where}: command {item.command} or frame {item.frame} is not a MAVLink value")
    if not 0 <= item.autocontinue <= 0xFF:
        raise MissionError(f"{where}: autocontinue {item.autocontinue} is not 0 or 1")
    return item


def differences(sent: MissionItem, got: MissionItem) -> list[str]:
    """What the vehicle gave back differently from what was sent (empty: the same)."""
    diffs: list[str] = []
    if sent.command != got.command:
        return [f"command {sent.command} != {got.command}"]
    if sent.mission_type == MISSION_TYPE_MISSION and sent.seq == 0:
        return diffs  # item 0 is the vehicle's home; it reports its own
    if (
        sent.mission_type == MISSION_TYPE_MISSION
        and sent.command in STORED_IN_LOCATION
        and base_frame(sent.frame) != base_frame(got.frame)
    ):
        diffs.append(f"frame {sent.frame} != {got.frame}")
    if sent.x != got.x or sent.y != got.y:
        diffs.append(f"position {sent.lat:.7f},{sent.lon:.7f} != {got.lat:.7f},{got.lon:.7f}")
    # ArduPilot keeps altitudes in whole centimetres, cut towards zero: 10.11 m comes back as
    # 10.0999994, a little over 1 cm off in float32
    if abs(_f32(sent.z) - _f32(got.z)) > 0.0105:
        diffs.append(f"z {sent.z} != {got.z}")
    for i, (a, b) in enumerate(zip(sent.params, got.params), start=1):
        if i == 4 and sent.command == NAV_LAND:
            continue  # a copter's NAV_LAND has no param4 (yaw); ArduCopter 4.7 gives 1 back for 0 (seen on SITL)
        if not _same_float(a, b):
            diffs.append(f"param{i} {a} != {b}")
    return diffs


def compare(sent: list[MissionItem], got: list[MissionItem]) -> list[str]:
    """Item-by-item comparison of an upload with its read-back, one line per mismatch."""
    problems: list[str] = []
    if len(sent) != len(got):
        problems.append(f"{len(got)} items read back, {len(sent)} sent")
    for a, b in zip(sent, got):
        d = differences(a, b)
        if d:
            problems.append(f"item {a.seq}: " + ", ".join(d))
    return problems
