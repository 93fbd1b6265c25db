"""The mission files written next to plan.json, as strings (the command line writes them).

Names: `mission.plan` and `mission.waypoints` hold sortie 1 (what a user opening the
folder in QGroundControl or Mission Planner expects to find); each further sortie k
gets `mission-s{k}.plan` and `mission-s{k}.waypoints`.  The `.plan` files carry the
sortie's geofence and rally point too; `.waypoints` files carry the mission only
(Mission Planner and MAVProxy keep fences in separate files).
"""

from __future__ import annotations

from collections.abc import Callable

from missions.build import BuildOptions, build_missions
from missions.qgc_plan import write_plan
from missions.waypoints import write_waypoints


def file_stem(sortie: int) -> str:
    return "mission" if sortie == 1 else f"mission-s{sortie}"


def mission_files(plan: dict, options: BuildOptions = BuildOptions(),
                  on_sortie: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """{"mission.plan": ..., "mission.waypoints": ..., "mission-s2.plan": ...} for every sortie;
    `on_sortie(done, total)` after each, for a progress display."""
    out: dict[str, str] = {}
    params = plan.get("params") or {}
    total = len(plan.get("sorties") or [])
    for n, ms in enumerate(build_missions(plan, options), start=1):
        if on_sortie is not None:
            on_sortie(n, total)
        k = ms.sortie
        stem = file_stem(k)
        out[f"{stem}.plan"] = write_plan(ms.mission, ms.fence, ms.rally,
                                         cruise_speed=float(params.get("transit_speed_m_s") or 8.0),
                                         hover_speed=float(params.get("speed_m_s") or 5.0))
        out[f"{stem}.waypoints"] = write_waypoints(ms.mission)
    return out
