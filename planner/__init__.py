"""Coverage planning for spray drones: swaths, route, sorties, dose and metrics (pure computation),
one drone or several sharing a field (planner/fleet.py), and plan.json, the document the planner
writes and every other package reads."""

from planner.document import PlanDocument, as_document, load_terrain, migrate
from planner.document import load as load_plan
from planner.document_fleet import DocDroneParams, DocFleet, DocFleetDrone
from planner.document_parts import (
    DocBreakpoint,
    DocDrone,
    DocField,
    DocLeg,
    DocMetrics,
    DocParams,
    DocReload,
    DocSortie,
    DocSprayer,
    DocTerrain,
    DocZone,
)
from planner.dose import Sprayer, flow_l_min, pump_rate_pct, sprayer_for
from planner.errors import PlanError
from planner.fleet import DEFAULT_SEPARATION_M, MAX_DRONES, DronePart
from planner.params import PlanParams, default_preset, params_for, presets
from planner.plan import Plan, plan
from planner.resume import resume_plan

__all__ = [
    "plan",
    "resume_plan",
    "Plan",
    "PlanParams",
    "PlanError",
    "presets",
    "default_preset",
    "params_for",
    "Sprayer",
    "sprayer_for",
    "flow_l_min",
    "pump_rate_pct",
    "PlanDocument",
    "load_plan",
    "load_terrain",
    "as_document",
    "migrate",
    "DocField",
    "DocZone",
    "DocDrone",
    "DocParams",
    "DocSprayer",
    "DocReload",
    "DocSortie",
    "DocLeg",
    "DocBreakpoint",
    "DocMetrics",
    "DocTerrain",
    "DocFleet",
    "DocFleetDrone",
    "DocDroneParams",
    "DronePart",
    "DEFAULT_SEPARATION_M",
    "MAX_DRONES",
]
