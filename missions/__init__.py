"""ArduPilot missions: plan.json -> mission, fence, rally and parameters per sortie; QGC
`.plan` and `QGC WPL 110` files; the MAVLink mission, command and parameter protocols
over a live pymavlink link (Vehicle)."""

from missions.build import (
    BuildOptions,
    MissionSet,
    SwathRef,
    build_mission,
    build_missions,
    describe,
    mission_items,
    sortie_numbers,
)
from missions.command import COPTER_MODES, mode_name, mode_number
from missions.errors import MissionError
from missions.fence import fence_items, rally_items
from missions.files import file_stem, load_sortie, mission_files, plan_folder
from missions.fleet import FleetDrone, FleetOutcome, fly_fleet
from missions.flight import Check, FlightLimits, SortieResult, Watch
from missions.items import MissionItem, compare, deg_to_e7, differences, e7_to_deg
from missions.job import JobEvents, JobOutcome, JobSettings, fly_job, job_sorties
from missions.link import Vehicle
from missions.qgc_plan import PlanFile, read_plan, write_plan
from missions.retry import RetryPolicy
from missions.sprayer import pump_rate_pct, vehicle_params
from missions.terrain import TerrainReport, TerrainServer
from missions.transfer import TransferReport, explain_ack
from missions.upload import UploadStep, upload_sortie
from missions.waypoints import read_waypoints, write_waypoints

__all__ = [
    "FleetDrone",
    "FleetOutcome",
    "fly_fleet",
    "BuildOptions",
    "MissionSet",
    "SwathRef",
    "build_mission",
    "build_missions",
    "describe",
    "mission_items",
    "sortie_numbers",
    "COPTER_MODES",
    "mode_name",
    "mode_number",
    "MissionError",
    "fence_items",
    "rally_items",
    "file_stem",
    "mission_files",
    "MissionItem",
    "compare",
    "deg_to_e7",
    "differences",
    "e7_to_deg",
    "Vehicle",
    "PlanFile",
    "read_plan",
    "write_plan",
    "RetryPolicy",
    "TerrainReport",
    "TerrainServer",
    "pump_rate_pct",
    "vehicle_params",
    "TransferReport",
    "explain_ack",
    "read_waypoints",
    "write_waypoints",
    "load_sortie",
    "plan_folder",
    "UploadStep",
    "upload_sortie",
    "Check",
    "FlightLimits",
    "SortieResult",
    "Watch",
    "JobEvents",
    "JobOutcome",
    "JobSettings",
    "fly_job",
    "job_sorties",
]
