"""QGroundControl `.plan` files (JSON): mission items, geofence polygons, rally points.

QGC keeps the home position out of the item list (`plannedHomePosition`) and writes
location frames without the `_INT` suffix (3 = relative altitude); NaN parameters are
`null`.  Survey and corridor items (`ComplexItem`) are read from the simple items QGC
stores inside them.  Reading gives the items as they go over MAVLink: item 0 = home,
location frames as MISSION_ITEM_INT frames.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from missions.errors import MissionError
from missions.items import (
    FENCE_CIRCLE_EXCLUSION,
    FENCE_CIRCLE_INCLUSION,
    FENCE_POLYGON_EXCLUSION,
    FENCE_POLYGON_INCLUSION,
    FRAME_GLOBAL_INT,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_MISSION,
    MISSION_TYPE_RALLY,
    NAV_WAYPOINT,
    RALLY_POINT,
    MissionItem,
    base_frame,
    checked,
    deg_to_e7,
    int_frame,
    is_location_command,
)

FIRMWARE_ARDUPILOT = 3
VEHICLE_MULTIROTOR = 2


@dataclass
class PlanFile:
    """The three item lists a `.plan` file holds, as MAVLink items."""

    mission: list[MissionItem]
    fence: list[MissionItem] = field(default_factory=list)
    rally: list[MissionItem] = field(default_factory=list)


def _num(v: float) -> float | None:
    v = float(v)
    return None if math.isnan(v) else (int(v) if v.is_integer() and abs(v) < 2**53 else v)


def _simple_item(it: MissionItem, jump_id: int) -> dict[str, Any]:
    frame = base_frame(it.frame)
    alt_mode = {0: 2, 3: 1, 10: 3}.get(frame, 1)
    d: dict[str, Any] = {
        "autoContinue": bool(it.autocontinue),
        "command": it.command,
        "doJumpId": jump_id,
        "frame": frame,
        "params": [
            _num(it.param1),
            _num(it.param2),
            _num(it.param3),
            _num(it.param4),
            it.x / 1e7,
            it.y / 1e7,
            _num(it.z),
        ],
        "type": "SimpleItem",
    }
    if is_location_command(it.command):
        d.update({"AMSLAltAboveTerrain": None, "Altitude": _num(it.z), "AltitudeMode": alt_mode})
    return d


def write_plan(
    mission: list[MissionItem],
    fence: Sequence[MissionItem] = (),
    rally: Sequence[MissionItem] = (),
    *,
    cruise_speed: float = 8.0,
    hover_speed: float = 5.0,
) -> str:
    """The `.plan` JSON text for a mission whose item 0 is home, plus fence and rally."""
    if not mission:
        raise MissionError("cannot write a .plan without a home item")
    home = mission[0]
    polygons: list[dict[str, Any]] = []
    circles: list[dict[str, Any]] = []
    i = 0
    fence = list(fence)
    while i < len(fence):
        it = fence[i]
        if it.command in (FENCE_POLYGON_INCLUSION, FENCE_POLYGON_EXCLUSION):
            n = int(it.param1)
            ring = fence[i : i + n]
            if n < 3 or len(ring) < n or any(r.command != it.command for r in ring):
                raise MissionError(f"fence item {i}: polygon of {n} vertices is incomplete")
            polygons.append(
                {
                    "inclusion": it.command == FENCE_POLYGON_INCLUSION,
                    "polygon": [[r.x / 1e7, r.y / 1e7] for r in ring],
                    "version": 1,
                }
            )
            i += n
        elif it.command in (FENCE_CIRCLE_INCLUSION, FENCE_CIRCLE_EXCLUSION):
            circles.append(
                {
                    "circle": {"center": [it.x / 1e7, it.y / 1e7], "radius": _num(it.param1)},
                    "inclusion": it.command == FENCE_CIRCLE_INCLUSION,
                    "version": 1,
                }
            )
            i += 1
        else:
            i += 1  # return point and other fence items have no .plan representation
    doc = {
        "fileType": "Plan",
        "geoFence": {"circles": circles, "polygons": polygons, "version": 2},
        "groundStation": "agrodrone",
        "mission": {
            "cruiseSpeed": cruise_speed,
            "firmwareType": FIRMWARE_ARDUPILOT,
            "globalPlanAltitudeMode": 1,
            "hoverSpeed": hover_speed,
            "items": [_simple_item(it, n) for n, it in enumerate(mission[1:], start=1)],
            "plannedHomePosition": [home.x / 1e7, home.y / 1e7, _num(home.z)],
            "vehicleType": VEHICLE_MULTIROTOR,
            "version": 2,
        },
        "rallyPoints": {"points": [[r.x / 1e7, r.y / 1e7, _num(r.z)] for r in rally], "version": 2},
        "version": 1,
    }
    return json.dumps(doc, indent=4, allow_nan=False) + "\n"


def _f(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _from_simple(d: dict[str, Any], where: str) -> MissionItem:
    try:
        params = d["params"]
        if len(params) != 7:
            raise ValueError(f"params has {len(params)} values, not 7")
        command = int(d["command"])
        lat, lon = _f(params[4]), _f(params[5])
        item = MissionItem(
            seq=0,
            command=command,
            frame=int_frame(command, int(d.get("frame", 3))),
            param1=_f(params[0]),
            param2=_f(params[1]),
            param3=_f(params[2]),
            param4=_f(params[3]),
            x=0 if math.isnan(lat) else deg_to_e7(lat),
            y=0 if math.isnan(lon) else deg_to_e7(lon),
            z=0.0 if params[6] is None else float(params[6]),
            autocontinue=1 if d.get("autoContinue", True) else 0,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise MissionError(f"{where}: not a mission item ({exc})") from None
    return checked(item, where)


def _items(items: list[dict[str, Any]], where: str) -> list[MissionItem]:
    if not isinstance(items, list):
        raise MissionError(f"{where}: items is not a list")
    out: list[MissionItem] = []
    for n, d in enumerate(items):
        if not isinstance(d, dict):
            raise MissionError(f"{where} item {n}: not an object")
        kind = d.get("type")
        if kind == "SimpleItem":
            out.append(_from_simple(d, f"{where} item {n}"))
        elif kind == "ComplexItem":
            inner = (d.get("TransectStyleComplexItem") or {}).get("Items")
            if inner is None:
                raise MissionError(
                    f"{where} item {n}: complex item {d.get('complexItemType')!r} has no stored "
                    "items; open and save it in QGroundControl 4 first"
                )
            out.extend(_items(inner, f"{where} item {n}"))
        else:
            raise MissionError(f"{where} item {n}: unknown item type {kind!r}")
    return out


def read_plan(text: str, *, source: str = ".plan") -> PlanFile:
    """Parse `.plan` text as QGroundControl writes it (or as write_plan did)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MissionError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionError(f"{source}: not a QGroundControl plan (fileType != 'Plan')")
    m = doc.get("mission") or {}
    gf = doc.get("geoFence") or {}
    rp = doc.get("rallyPoints") or {}
    for key, value in (("mission", m), ("geoFence", gf), ("rallyPoints", rp)):
        if not isinstance(value, dict):
            raise MissionError(f"{source}: {key} is not an object")
    home_pos = m.get("plannedHomePosition") or [0, 0, 0]
    try:
        home = MissionItem.at(
            0, NAV_WAYPOINT, float(home_pos[0]), float(home_pos[1]), float(home_pos[2] or 0), frame=FRAME_GLOBAL_INT
        )
    except (TypeError, ValueError, IndexError, KeyError, OverflowError):
        raise MissionError(f"{source}: plannedHomePosition is not [lat, lon, alt]") from None
    checked(home, f"{source}: plannedHomePosition")
    mission = [home] + _items(m.get("items") or [], f"{source}: mission")
    mission = [replace(it, seq=i, mission_type=MISSION_TYPE_MISSION) for i, it in enumerate(mission)]

    fence: list[MissionItem] = []
    try:
        for poly in gf.get("polygons") or []:
            ring = poly["polygon"]
            cmd = FENCE_POLYGON_INCLUSION if poly.get("inclusion", True) else FENCE_POLYGON_EXCLUSION
            for lat, lon in ring:
                fence.append(
                    MissionItem.at(
                        0,
                        cmd,
                        float(lat),
                        float(lon),
                        0.0,
                        frame=FRAME_GLOBAL_INT,
                        param1=float(len(ring)),
                        mission_type=MISSION_TYPE_FENCE,
                    )
                )
        for c in gf.get("circles") or []:
            circle = c["circle"]
            cmd = FENCE_CIRCLE_INCLUSION if c.get("inclusion", True) else FENCE_CIRCLE_EXCLUSION
            fence.append(
                MissionItem.at(
                    0,
                    cmd,
                    float(circle["center"][0]),
                    float(circle["center"][1]),
                    0.0,
                    frame=FRAME_GLOBAL_INT,
                    param1=float(circle["radius"]),
                    mission_type=MISSION_TYPE_FENCE,
                )
            )
        rally = [
            MissionItem.at(
                0,
                RALLY_POINT,
                float(p[0]),
                float(p[1]),
                float(p[2]),
                frame=FRAME_GLOBAL_RELATIVE_ALT_INT,
                mission_type=MISSION_TYPE_RALLY,
            )
            for p in rp.get("points") or []
        ]
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        raise MissionError(f"{source}: bad geoFence or rallyPoints ({exc})") from None
    fence = [checked(it.with_seq(i), f"{source}: geoFence") for i, it in enumerate(fence)]
    rally = [checked(it.with_seq(i), f"{source}: rallyPoints") for i, it in enumerate(rally)]
    return PlanFile(mission=mission, fence=fence, rally=rally)
