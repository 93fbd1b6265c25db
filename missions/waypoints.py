"""`QGC WPL 110` text files, as Mission Planner and MAVProxy (`wp save`) write them.

One line per item, tab separated:
    seq  current  frame  command  param1..4  lat  lon  alt  autocontinue
Line 0 is home.  Mission Planner writes 8 decimals for latitude/longitude, MAVProxy
6 (%f); both are read, and this module writes 8 so 1e-7 degrees round-trip exactly.
Fence and rally lists saved by MAVProxy use the same format with their own commands.
"""

from __future__ import annotations

import math

from missions.errors import MissionError
from missions.items import (
    MISSION_TYPE_FENCE,
    MISSION_TYPE_MISSION,
    MISSION_TYPE_RALLY,
    MissionItem,
    base_frame,
    checked,
    deg_to_e7,
    int_frame,
)

HEADER = "QGC WPL 110"


def _fmt(v: float) -> str:
    return "nan" if math.isnan(v) else f"{v:.8f}"


def write_waypoints(items: list[MissionItem]) -> str:
    """The file text.  Location frames are written without `_INT` (3, not 6), as Mission
    Planner and MAVProxy write them; reading gives the `_INT` frames back."""
    lines = [HEADER]
    for i, it in enumerate(items):
        lines.append(
            "\t".join(
                [
                    str(i),
                    "1" if i == 0 else "0",
                    str(base_frame(it.frame)),
                    str(it.command),
                    _fmt(it.param1),
                    _fmt(it.param2),
                    _fmt(it.param3),
                    _fmt(it.param4),
                    f"{it.x / 1e7:.8f}",
                    f"{it.y / 1e7:.8f}",
                    f"{it.z:.6f}",
                    str(it.autocontinue),
                ]
            )
        )
    return "\n".join(lines) + "\n"


def _kind(command: int) -> int:
    if 5000 <= command < 5100:
        return MISSION_TYPE_FENCE
    if command == 5100:
        return MISSION_TYPE_RALLY
    return MISSION_TYPE_MISSION


def read_waypoints(text: str, *, source: str = ".waypoints") -> list[MissionItem]:
    """Parse a `QGC WPL 110` file (tabs or spaces, blank lines and \\r\\n tolerated)."""
    lines = [ln.strip() for ln in text.replace("\ufeff", "").splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or not lines[0].startswith("QGC WPL"):
        raise MissionError(f"{source}: not a waypoint file (first line is not 'QGC WPL 110')")
    if lines[0].split()[-1] != "110":
        raise MissionError(f"{source}: unsupported version {lines[0]!r} (only QGC WPL 110)")
    items: list[MissionItem] = []
    for n, line in enumerate(lines[1:], start=2):
        f = line.split()
        if len(f) != 12:
            raise MissionError(f"{source} line {n}: {len(f)} columns, expected 12")
        try:
            seq, current, frame, command = (int(v) for v in f[:4])
            p = [float(v) for v in f[4:8]]
            lat, lon, alt = float(f[8]), float(f[9]), float(f[10])
            autocontinue = int(float(f[11]))
        except (ValueError, OverflowError) as exc:
            raise MissionError(f"{source} line {n}: {exc}") from None
        if seq != len(items):
            raise MissionError(f"{source} line {n}: item number {seq}, expected {len(items)}")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise MissionError(f"{source} line {n}: position out of range ({lat}, {lon})")
        items.append(
            checked(
                MissionItem(
                    seq=seq,
                    command=command,
                    frame=int_frame(command, frame),
                    param1=p[0],
                    param2=p[1],
                    param3=p[2],
                    param4=p[3],
                    x=deg_to_e7(lat),
                    y=deg_to_e7(lon),
                    z=alt,
                    current=current,
                    autocontinue=autocontinue,
                    mission_type=_kind(command),
                ),
                f"{source} line {n}",
            )
        )
    return items
