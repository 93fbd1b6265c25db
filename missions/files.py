"""The mission files written next to plan.json, as strings (the command line writes them).

Names: `mission.plan` and `mission.waypoints` hold sortie 1 (what a user opening the
folder in QGroundControl or Mission Planner expects to find); each further sortie k
gets `mission-s{k}.plan` and `mission-s{k}.waypoints`; in a plan for several drones every
sortie k of drone d is `mission-d{d}-s{k}`.  The `.plan` files carry the
sortie's geofence and rally point too; `.waypoints` files carry the mission only
(Mission Planner and MAVProxy keep fences in separate files).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from gettext import gettext as _
from pathlib import Path

from fields.dem_files import dem_bytes
from missions.build import BuildOptions, MissionSet, build_mission, build_missions
from missions.errors import MissionError
from missions.plan_input import plan_document, plan_errors
from missions.qgc_plan import read_plan, write_plan
from missions.waypoints import read_waypoints, write_waypoints
from planner.document import PlanDocument, is_plan, load_terrain


def file_stem(sortie: int, drone: int | None = None) -> str:
    """`mission` for sortie 1, `mission-s{k}` for the others; in a plan for several drones
    `mission-d{drone}-s{k}`, so each drone's files are told apart by name."""
    if drone is not None:
        return f"mission-d{drone}-s{sortie}"
    return "mission" if sortie == 1 else f"mission-s{sortie}"


def mission_files(
    plan: PlanDocument | dict,
    options: BuildOptions = BuildOptions(),
    on_sortie: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """{"mission.plan": ..., "mission.waypoints": ..., "mission-s2.plan": ...} for every sortie;
    `on_sortie(done, total)` after each, for a progress display."""
    out: dict[str, str] = {}
    plan = plan_document(plan)
    total = len(plan.sorties)
    for n, ms in enumerate(build_missions(plan, options), start=1):
        if on_sortie is not None:
            on_sortie(n, total)
        k = ms.sortie
        drone = plan.sortie(k).drone
        params = plan.params if drone is None else plan.for_drone(drone).params  # its own speeds
        stem = file_stem(k, drone)
        out[f"{stem}.plan"] = write_plan(
            ms.mission,
            ms.fence,
            ms.rally,
            cruise_speed=float(params.transit_speed_m_s or 8.0),
            hover_speed=float(params.speed_m_s),
        )
        out[f"{stem}.waypoints"] = write_waypoints(ms.mission)
    return out


def load_sortie(path: str | Path, sortie: int = 1, options: BuildOptions = BuildOptions()) -> MissionSet:
    """One sortie to upload, from a plan folder (or its plan.json), a QGroundControl `.plan`
    or a `QGC WPL 110` file (Mission Planner, MAVProxy), told apart by their content; from a
    terrain plan with its ground (`terrain`, the folder's DEM), which the files do not carry."""
    path = Path(path)
    if path.is_dir():
        path = path / "plan.json"
    if not path.exists():
        raise MissionError(
            _("{path}: no such file (expected a plan folder with plan.json, a .plan or a .waypoints file)").format(
                path=path
            )
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MissionError(
            _("{path}: cannot read it as a text file ({reason})").format(path=path, reason=exc)
        ) from None
    if path.suffix == ".waypoints" or text.lstrip().startswith("QGC WPL"):
        items = read_waypoints(text, source=str(path))
        if not items:
            raise MissionError(_("{path}: no items to upload").format(path=path))
        return MissionSet(
            sortie=sortie,
            mission=[i for i in items if i.mission_type == 0],
            fence=[i for i in items if i.mission_type == 1],
            rally=[i for i in items if i.mission_type == 2],
        )
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MissionError(
            _("{path}: not JSON ({msg} at line {line})").format(path=path, msg=exc.msg, line=exc.lineno)
        ) from None
    if isinstance(doc, dict) and doc.get("fileType") == "Plan":
        pf = read_plan(text, source=str(path))
        return MissionSet(sortie=sortie, mission=pf.mission, fence=pf.fence, rally=pf.rally)
    if not is_plan(doc):
        raise MissionError(f"{path}: neither an agrodrone plan.json nor a QGroundControl .plan")
    document = plan_document(doc)
    ms = build_mission(document, sortie, options)
    with plan_errors():
        ms.terrain = load_terrain(path, document)  # a terrain plan's ground: served while uploading
    return ms


def plan_folder(
    plan, *, created_by: str, on_sortie: Callable[[int, int], None] | None = None
) -> dict[str, str | bytes]:
    """Every file `agrodrone plan` writes into its folder, by name (planner.Plan in): the
    plan document, its GeoJSON and picture, and the mission files of every sortie that
    QGroundControl, Mission Planner and MAVProxy open. The one place to add an output."""
    document = plan.to_document(created_by=created_by)
    files: dict[str, str | bytes] = {
        "plan.json": document.to_json(),
        "plan.geojson": json.dumps(plan.to_geojson(), ensure_ascii=False) + "\n",
        "plan.png": plan.to_png(),
        **mission_files(document, on_sortie=on_sortie),
    }
    dem = plan.dem()
    if dem is not None and document.terrain is not None:  # the ground the altitudes were worked out on
        files[document.terrain.dem] = dem_bytes(dem)
    return files
