"""plan.json's `fleet` section (version 3): a job shared between several drones.

Each drone's entry holds what makes its own single-drone plan: its reload point (and, over a
DEM, that point's ground), its drone section, its per-drone parameters and sprayer, and the
sorties it flies. `single_drone` cuts that plan out of the fleet plan: a version 1 (flat) or 2
(terrain) document any consumer reads and flies as it reads every one-drone plan.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from gettext import gettext as _
from typing import TYPE_CHECKING, Any

from planner.document_parts import DocDrone, DocReload, DocSprayer
from planner.plan_keys import Part, bad, need, opt, req

if TYPE_CHECKING:
    from planner.document import PlanDocument

FLEET_VERSION = 3  # the plan.json version that may hold a fleet
PER_DRONE_PARAMS = (
    "tank_l",
    "speed_m_s",
    "transit_speed_m_s",
    "tank_reserve_l",
    "battery_reserve_s",
    "turn_s",
    "reload_s",
)


@dataclass(frozen=True, kw_only=True)
class DocDroneParams(Part):
    """The `params` values that differ between the drones of a fleet (the rest are the job's)."""

    tank_l: float = req("positive")
    speed_m_s: float = req("positive")
    transit_speed_m_s: float = req("positive")
    tank_reserve_l: float = req("not_negative")
    battery_reserve_s: float = req("not_negative")
    turn_s: float = req("not_negative")
    reload_s: float = req("not_negative")


@dataclass(frozen=True, kw_only=True)
class DocFleetDrone(Part):
    """One drone of the fleet: where it reloads, what it is, which sorties it flies and how long."""

    drone: int = req("whole")
    preset: str | None = opt("text")
    name: str | None = opt("text")
    reload: DocReload = req("part")
    reload_elev_m: float | None = opt("number")  # terrain plans: ground at its reload point (m above sea)
    sorties: tuple[int, ...] = req("wholes")
    area_ha: float | None = opt("not_negative")
    volume_l: float | None = opt("not_negative")
    flight_time_s: float | None = opt("not_negative")
    job_time_s: float | None = opt("not_negative")
    spec: DocDrone = req("part")  # its `drone` section, less preset and name (above)
    params: DocDroneParams = req("part")
    sprayer: DocSprayer = req("part")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocFleetDrone:
        if not isinstance(obj, dict):
            raise bad(_("plan: {where} is not an object"), where=where)
        return super().read(
            obj,
            where,
            reload=DocReload.read(need(obj.get("reload"), where, "reload"), f"{where}.reload"),
            spec=DocDrone.read(need(obj.get("spec"), where, "spec"), f"{where}.spec"),
            params=DocDroneParams.read(need(obj.get("params"), where, "params"), f"{where}.params"),
            sprayer=DocSprayer.read(need(obj.get("sprayer"), where, "sprayer"), f"{where}.sprayer"),
        )

    @property
    def drone_section(self) -> DocDrone:
        """Its `drone` section as a single-drone plan has it."""
        return replace(self.spec, preset=self.preset, name=self.name)


@dataclass(frozen=True, kw_only=True)
class DocFleet(Part):
    """The drones sharing the job, and how far apart they keep."""

    separation_m: float = req("not_negative")
    drones: tuple[DocFleetDrone, ...] = req("part")

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> DocFleet:
        if not isinstance(obj, dict):
            raise bad(_("plan: {where} is not an object"), where=where)
        drones = need(obj.get("drones"), where, "drones")
        if not isinstance(drones, list) or len(drones) < 2:
            raise bad(_("plan: {where}.drones is not a list of at least two drones"), where=where)
        return super().read(
            obj, where, drones=tuple(DocFleetDrone.read(d, f"{where}.drones[{n}]") for n, d in enumerate(drones))
        )

    def numbers(self) -> list[int]:
        return [d.drone for d in self.drones]

    def drone(self, number: int) -> DocFleetDrone:
        for d in self.drones:
            if d.drone == number:
                return d
        have = ", ".join(str(n) for n in self.numbers())
        raise bad(_("plan: no drone {drone} (the plan has drones {have})"), drone=number, have=have)


def check_fleet(doc: PlanDocument) -> None:
    """The fleet section agrees with the rest of the plan (PlanError naming the key, else nothing)."""
    fleet = doc.fleet
    if fleet is None:  # a single-drone plan (also one cut out of a fleet plan) names no drone
        for n, s in enumerate(doc.sorties):
            if s.drone is not None:
                raise bad(_("plan: sorties[{n}] has a 'drone' but the plan has no 'fleet'"), n=n)
        return
    if doc.version < FLEET_VERSION:
        raise bad(
            _("plan: fleet is in a version {version} plan; a plan for several drones is version {fleet}"),
            version=doc.version,
            fleet=FLEET_VERSION,
        )
    numbers: set[int] = set()
    for n, d in enumerate(fleet.drones):
        where = f"fleet.drones[{n}]"
        if d.drone < 1 or d.drone in numbers:
            raise bad(
                _("plan: {where}.drone {drone} is not a new drone number (1, 2, ...)"), where=where, drone=d.drone
            )
        numbers.add(d.drone)
        if doc.terrain is not None and d.reload_elev_m is None:
            raise bad(_("plan: {where} has no 'reload_elev_m' in a terrain plan"), where=where)
    flown: dict[int, list[int]] = {d: [] for d in numbers}
    for n, s in enumerate(doc.sorties):
        if s.drone is None:
            raise bad(_("plan: sorties[{n}] has no 'drone' in a plan for several drones"), n=n)
        if s.drone not in numbers:
            have = ", ".join(str(d) for d in fleet.numbers())
            raise bad(
                _("plan: sorties[{n}].drone {drone} is not a drone of the fleet ({have})"),
                n=n,
                drone=s.drone,
                have=have,
            )
        flown[s.drone].append(s.index)
    for n, d in enumerate(fleet.drones):
        if list(d.sorties) != flown[d.drone]:
            raise bad(
                _("plan: fleet.drones[{n}].sorties {listed} are not the sorties of drone {drone} ({flown})"),
                n=n,
                listed=list(d.sorties),
                drone=d.drone,
                flown=flown[d.drone],
            )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def single_drone(doc: PlanDocument, number: int) -> PlanDocument:
    """Drone `number`'s plan: its sorties (their indices kept, no `drone`: a single-drone plan names
    none), reload point, drone, sprayer and parameters, its ground under the reload point, and the
    metrics that add up over its sorties."""
    assert doc.fleet is not None
    entry = doc.fleet.drone(number)
    sorties = tuple(replace(s, drone=None) for s in doc.sorties if s.drone == number)
    params = replace(doc.params, **{k: getattr(entry.params, k) for k in PER_DRONE_PARAMS})
    terrain = None
    if doc.terrain is not None:
        terrain = replace(doc.terrain, reload_elev_m=need(entry.reload_elev_m, "fleet drone", "reload_elev_m"))
    metrics = doc.metrics
    if metrics is not None:
        spray = sum(float(s.spray_length_m or 0.0) for s in sorties)
        transit = sum(float(s.transit_length_m or 0.0) for s in sorties)
        metrics = replace(
            metrics,
            sorties=len(sorties),
            volume_l=round(sum(float(s.volume_l or 0.0) for s in sorties), 2),
            spray_length_m=round(spray, 1),
            transit_length_m=round(transit, 1),
            total_length_m=round(spray + transit, 1),
            flight_time_s=entry.flight_time_s,
            job_time_s=entry.job_time_s,
            speed_m_s=_round(entry.sprayer.speed_m_s, 2),
            flow_l_min=_round(entry.sprayer.flow_l_min, 3),
            speed_capped=entry.sprayer.speed_capped,
            pump_rate_pct=_round(entry.sprayer.pump_rate_pct, 2),
        )
    return replace(
        doc,
        version=2 if terrain is not None else 1,
        drone=entry.drone_section,
        params=params,
        sprayer=entry.sprayer,
        reload=entry.reload,
        terrain=terrain,
        fleet=None,
        sorties=sorties,
        metrics=metrics,
    )
