"""plan.json as one typed, versioned document: the planner writes it, every consumer reads it.

docs/plan-format.md is the format. Reading (`from_dict`, `load`) checks every key once, the
same way for the mission builder, the simulator, the records and the report, and a wrong
key is a PlanError that names it. Writing (`to_dict`, `to_json`, `write`) gives back exactly
the JSON the planner writes (keys, order, rounding): a key left out on reading is left out
on writing, so a plan read and written again is the same plan. Pure except `load` and `write`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.document_fleet import DocFleet, check_fleet, single_drone
from planner.document_parts import (
    DocDrone,
    DocField,
    DocMetrics,
    DocParams,
    DocReload,
    DocSortie,
    DocSprayer,
    DocTerrain,
)
from planner.errors import PlanError
from planner.plan_keys import Part, bad, need, opt, req, section, whole

if TYPE_CHECKING:
    from fields.terrain import Terrain

FORMAT = "agrodrone-plan"
VERSION = 3  # the newest this agrodrone reads: 3 for several drones, 2 for terrain, else still 1


@dataclass(frozen=True, kw_only=True)
class PlanDocument(Part):
    """plan.json (docs/plan-format.md): what the planner hands to the mission builder."""

    version: int = req("whole")
    created_by: str | None = opt("text")
    field: DocField = req("part")
    drone: DocDrone | None = opt("part")
    params: DocParams = req("part")
    sprayer: DocSprayer | None = opt("part")
    reload: DocReload = req("part")
    terrain: DocTerrain | None = opt("part")
    fleet: DocFleet | None = opt("part")  # version 3: the drones sharing the job (planner/document_fleet.py)
    warnings: tuple[str, ...] | None = opt("texts")
    sorties: tuple[DocSortie, ...] = req("part")
    metrics: DocMetrics | None = opt("part")

    @classmethod
    def from_dict(cls, plan: Any) -> PlanDocument:
        """Read and check a plan.json dict (any version this agrodrone knows)."""
        plan = migrate(plan)
        sorties = plan.get("sorties")
        if not isinstance(sorties, list) or not sorties:
            raise PlanError(_("plan: no sorties to fly"))
        for n, s in enumerate(sorties):
            if not isinstance(s, dict) or isinstance(s.get("index"), bool) or not isinstance(s.get("index"), int):
                raise bad(_("plan: sorties[{n}] is not a sortie with a whole-number 'index'"), n=n)
        seen: set[int] = set()
        for s in sorties:
            if s["index"] in seen:
                raise bad(_("plan: two sorties have the index {index}"), index=s["index"])
            seen.add(s["index"])
        doc = super().read(
            plan,
            "plan",
            field=section(DocField, plan, "field", True),
            drone=section(DocDrone, plan, "drone"),
            params=section(DocParams, plan, "params", True),
            sprayer=section(DocSprayer, plan, "sprayer"),
            reload=section(DocReload, plan, "reload", True),
            terrain=section(DocTerrain, plan, "terrain"),
            fleet=section(DocFleet, plan, "fleet"),
            metrics=section(DocMetrics, plan, "metrics"),
            sorties=tuple(DocSortie.read(s, f"sorties[{n}]") for n, s in enumerate(sorties)),
        )
        if doc.terrain is not None:  # a leg without its altitudes would be flown flat into the hill
            for n, s in enumerate(doc.sorties):
                for j, leg in enumerate(s.legs):
                    if leg.alts_m is None:
                        raise bad(_("plan: {where} has no 'alts_m' in a terrain plan"), where=f"sorties[{n}].legs[{j}]")
        check_fleet(doc)
        return doc

    def to_dict(self) -> dict[str, Any]:
        """The plan.json dict, keys in the order the planner writes them."""
        return {"format": FORMAT, **super().to_dict()}

    def to_json(self) -> str:
        """plan.json's text, as `agrodrone plan` writes it."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    def write(self, path: str | Path) -> Path:
        """Write plan.json into a folder (or to the file named); returns the file."""
        p = plan_path(path)
        p.write_text(self.to_json(), encoding="utf-8")
        return p

    def digest(self) -> str:
        """SHA-256 of the plan's canonical JSON: the records say which plan was flown."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def sortie_numbers(self) -> list[int]:
        return [s.index for s in self.sorties]

    def sortie(self, index: int) -> DocSortie:
        """The sortie with `index` (1-based, as in plan.json)."""
        for s in self.sorties:
            if s.index == index:
                return s
        have = ", ".join(str(s.index) for s in self.sorties)
        raise bad(_("plan: no sortie {sortie} (the plan has sorties {have})"), sortie=index, have=have)

    def drone_numbers(self) -> list[int]:
        """The drones that fly the plan: the fleet's numbers, [1] for a single-drone plan."""
        return self.fleet.numbers() if self.fleet is not None else [1]

    def for_drone(self, drone: int) -> PlanDocument:
        """Drone `drone`'s own single-drone plan (version 1, or 2 over terrain, with no fleet): only
        its sorties, with their indices, and its reload point, drone, sprayer and parameters. A
        single-drone plan is its drone 1's plan."""
        if self.fleet is None:
            if drone == 1:
                return self
            raise bad(_("plan: no drone {drone} (a plan for one drone has drone 1)"), drone=drone)
        return single_drone(self, drone)

    def with_sortie(self, sortie: DocSortie) -> PlanDocument:
        """A copy with `sortie` in place of the one with its index."""
        return replace(self, sorties=tuple(sortie if s.index == sortie.index else s for s in self.sorties))

    @property
    def spray_speed_m_s(self) -> float:
        """sprayer.speed_m_s (lowered when the pump is too small), else params.speed_m_s."""
        return (self.sprayer.speed_m_s if self.sprayer else None) or self.params.speed_m_s

    @property
    def pump_max_l_min(self) -> float | None:
        """The pump's flow at full output: sprayer.pump_max_l_min, else drone.pump_max_l_min."""
        return (self.sprayer.pump_max_l_min if self.sprayer else None) or (
            self.drone.pump_max_l_min if self.drone else None
        )


# Steps from each older version to the next: MIGRATIONS[n] turns a version n dict into n + 1.
# Version 2 only adds terrain (a `terrain` section, leg `alts_m` and `speed_m_s`): a version 1
# plan is a version 2 plan over flat ground and is read as it is, keeping its version, so it
# is written back unchanged. Terrain plans say version 2, so an agrodrone that cannot follow
# terrain refuses them instead of flying them flat into the hill. Version 3 only adds a fleet
# (a `fleet` section and sortie `drone`): plans for several drones say version 3, so an
# agrodrone that knows one drone only refuses them instead of flying every part with one drone.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


def is_plan(obj: Any) -> bool:
    """Whether `obj` says it is a plan.json (its `format`), before any other check."""
    return isinstance(obj, dict) and obj.get("format") == FORMAT


def migrate(plan: Any) -> dict:
    """A plan.json dict of any known version as the current version (a copy when it changes).

    Version 3 is current (several drones; 2 added terrain). Version 1 plans written before the
    planner budgeted energy have no drone.endurance_mass_kg, empty_mass_kg, battery_mah, battery_cells, nor per-sortie
    battery_s and battery_mah: those keys are optional and read as None.
    """
    if not is_plan(plan):
        raise bad(_("plan: not an agrodrone plan (format != {format!r})"), format=FORMAT)
    version = whole(need(plan.get("version"), "plan", "version"), "plan", "version")
    if version > VERSION:
        raise bad(
            _("plan: version {version} is newer than this agrodrone reads (up to {current}); update agrodrone"),
            version=version,
            current=VERSION,
        )
    if version < 1:
        raise bad(_("plan: version {version} is not a plan.json version"), version=version)
    for step in range(version, VERSION):
        if step in MIGRATIONS:  # a step with nothing to change has no entry
            plan = MIGRATIONS[step](copy.deepcopy(plan))
    return plan


from_dict = PlanDocument.from_dict


def validate(plan: Any) -> None:
    """Raise PlanError naming the first wrong key of a plan.json dict; nothing when it is right."""
    PlanDocument.from_dict(plan)


def as_document(plan: PlanDocument | dict) -> PlanDocument:
    """For the functions that take either a document or a plan.json dict."""
    return plan if isinstance(plan, PlanDocument) else PlanDocument.from_dict(plan)


def plan_path(path: str | Path) -> Path:
    """plan.json in a plan folder, or the file itself."""
    p = Path(path)
    return p / "plan.json" if p.is_dir() else p


def load(path: str | Path) -> PlanDocument:
    """The plan in a folder `agrodrone plan --out` wrote, or in a plan.json; read and checked."""
    p = plan_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise bad(_("{path}: no such plan file (give the folder `agrodrone plan --out` wrote)"), path=p) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(_("{path}: not a readable plan.json ({reason})"), path=p, reason=exc) from None
    if not is_plan(doc):
        raise bad(_("{path}: not an agrodrone plan.json"), path=p)
    return PlanDocument.from_dict(doc)


def load_terrain(path: str | Path, doc: PlanDocument) -> Terrain | None:
    """The DEM a terrain plan keeps in its folder (`terrain.dem`), None for a flat plan."""
    from fields.dem_files import load_dem
    from fields.errors import FieldError

    if doc.terrain is None:
        return None
    try:
        return load_dem(plan_path(path).parent / doc.terrain.dem)
    except FieldError as exc:
        raise PlanError(str(exc)) from None
