"""Plan parameters: drone presets from drones.json, the operator's overrides, validation."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from gettext import gettext as _
from importlib import resources
from typing import Any

from planner.errors import PlanError

DEFAULT_DOSE_L_HA = 15.0  # rice, drone application of a tank mix (10-20 L/ha is usual)
MIN_SWATH_M = 1.0
MAX_SWATH_M = 50.0
MAX_SPRAY_SPEED_M_S = 15.0  # no spray drone sprays faster; a larger --speed is a typo (km/h?)
LIQUID_KG_PER_L = 1.0  # tank mix is mostly water
# How much closer than the swath width the swath lines are laid, with the flow set for the line
# spacing (the dose holds: each line sprays its own spacing's worth). ArduCopter holds a straight
# swath to within a centimetre of where it flies it, but flies each one up to 2 cm to one side of
# its line, the side changing with the heading (ArduCopter 4.7 SITL, the tea hill: -2.1 to +1.8 cm
# by swath, 0.4-1 cm spread along it). Two neighbours flown in opposite directions then leave a
# seam of up to 4 cm along their whole length: 0.3-0.4 point of coverage on every sample field.
TRACK_MARGIN_M = 0.05


@lru_cache(maxsize=1)
def _drones() -> dict[str, Any]:
    return json.loads(resources.files("planner").joinpath("drones.json").read_text(encoding="utf-8"))


def presets() -> dict[str, dict[str, Any]]:
    """Every drone preset by name (a copy; edit the JSON file to add one)."""
    return {k: dict(v) for k, v in _drones()["presets"].items()}


def default_preset() -> str:
    return str(_drones()["default"])


@dataclass(frozen=True)
class PlanParams:
    """Everything the planner needs besides the field; lengths m, speeds m/s, times s."""

    dose_l_ha: float = DEFAULT_DOSE_L_HA
    swath_m: float = 4.0
    spacing_m: float | None = None  # between swath lines; None: the swath less TRACK_MARGIN_M
    speed_m_s: float = 5.0
    height_m: float = 3.0
    tank_l: float = 10.0
    angle_deg: float | None = None  # swath heading clockwise from grid north; None = auto
    edge_passes: int | None = None  # laps along the edge; None = the planner weighs 0 and 1
    reload: tuple[float, float] | None = None  # (lon, lat); None = field edge nearest the area
    pump_max_l_min: float = 2.4
    max_speed_m_s: float = 7.0
    transit_speed_m_s: float = 8.0
    endurance_s: float = 600.0  # hover on a charged battery until the low-battery failsafe ...
    endurance_mass_kg: float = 24.0  # ... at this take-off mass (the preset's, tank full)
    empty_mass_kg: float = 14.0  # take-off mass with the battery and an empty tank
    battery_mah: float = 22000.0
    battery_cells: int = 12
    battery_reserve_s: float = 60.0  # of hover at endurance_mass_kg, left when the sortie lands
    tank_reserve_l: float = 0.3
    accel_m_s2: float = 2.5
    climb_m_s: float = 2.5
    descent_m_s: float = 1.0
    turn_s: float = 2.0
    reload_s: float = 120.0
    turn_margin_m: float = 3.0
    speed_min_cm_s: float | None = None  # SPRAY_SPEED_MIN; None: from the pump (planner/dose.py)
    pump_min_pct: float = 0.0
    preset: str = "generic-10l-hex"
    drone_name: str = ""

    @property
    def line_spacing_m(self) -> float:
        """Between neighbouring swath lines and edge laps; the flow is set for it (planner/dose.py)."""
        return self.spacing_m if self.spacing_m is not None else self.swath_m - TRACK_MARGIN_M

    def validate(self) -> PlanParams:
        """Refuse values no drone can fly; returns self so calls chain."""
        positive = {
            "dose_l_ha": "dose",
            "swath_m": "swath",
            "speed_m_s": "speed",
            "height_m": "height",
            "tank_l": "tank",
            "pump_max_l_min": "pump maximum",
            "transit_speed_m_s": "transit speed",
            "endurance_s": "endurance",
            "accel_m_s2": "acceleration",
            "climb_m_s": "climb rate",
            "descent_m_s": "descent rate",
            "endurance_mass_kg": "take-off mass",
            "empty_mass_kg": "empty mass",
            "battery_mah": "battery capacity",
            "battery_cells": "battery cells",
        }
        for key, label in positive.items():
            v = getattr(self, key)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise PlanError(
                    f"{label} must be greater than 0 (got {v:g})"
                    if isinstance(v, (int, float))
                    else f"{label} must be a number"
                )
        for key in (
            "battery_reserve_s",
            "tank_reserve_l",
            "turn_s",
            "reload_s",
            "turn_margin_m",
            "speed_min_cm_s",
            "pump_min_pct",
        ):
            v = getattr(self, key)
            if v is not None and (not math.isfinite(v) or v < 0):  # speed_min_cm_s None: from the pump
                raise PlanError(f"{key} must not be negative (got {v:g})")
        # Bounds on the swath also bound the work: the planner lays out area / swath bands.
        if not MIN_SWATH_M <= self.swath_m <= MAX_SWATH_M:
            raise PlanError(
                f"swath {self.swath_m:g} m is not a spray drone's: give {MIN_SWATH_M:g} to {MAX_SWATH_M:g} m"
            )
        if self.spacing_m is not None and not (
            math.isfinite(self.spacing_m) and self.swath_m / 2 <= self.spacing_m <= self.swath_m
        ):
            raise PlanError(
                _("line spacing {spacing:g} m must be from half the swath to the swath ({low:g} to {high:g} m)").format(
                    spacing=self.spacing_m, low=self.swath_m / 2, high=self.swath_m
                )
            )
        if self.speed_m_s > MAX_SPRAY_SPEED_M_S:
            raise PlanError(
                f"speed {self.speed_m_s:g} m/s is not a spraying speed: spray drones spray at "
                f"1 to {MAX_SPRAY_SPEED_M_S:g} m/s (give --speed in metres per second)"
            )
        if self.height_m > 30:
            raise PlanError(f"height {self.height_m:g} m is too high for spraying (at most 30 m)")
        if self.tank_reserve_l >= self.tank_l:
            raise PlanError(f"tank reserve {self.tank_reserve_l:g} L leaves nothing of the {self.tank_l:g} L tank")
        if self.battery_reserve_s >= self.endurance_s:
            raise PlanError(
                f"battery reserve {self.battery_reserve_s:g} s is not less than the endurance {self.endurance_s:g} s"
            )
        if self.edge_passes is not None and (
            not isinstance(self.edge_passes, (int, float))
            or not 0 <= self.edge_passes <= 10
            or int(self.edge_passes) != self.edge_passes
        ):
            raise PlanError(f"edge passes must be a whole number from 0 to 10 (got {self.edge_passes})")
        if self.angle_deg is not None and not math.isfinite(self.angle_deg):
            raise PlanError("angle must be a number of degrees or 'auto'")
        if self.reload is not None:
            lon, lat = self.reload
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise PlanError(f"reload point {lat:g},{lon:g} is not a latitude,longitude pair")
        return self


_PRESET_KEYS = {
    "tank_l": "tank_l",
    "swath_m": "swath_m",
    "pump_max_l_min": "pump_max_l_min",
    "spray_speed_m_s": "speed_m_s",
    "max_speed_m_s": "max_speed_m_s",
    "transit_speed_m_s": "transit_speed_m_s",
    "endurance_s": "endurance_s",
    "battery_reserve_s": "battery_reserve_s",
    "tank_reserve_l": "tank_reserve_l",
    "accel_m_s2": "accel_m_s2",
    "climb_m_s": "climb_m_s",
    "descent_m_s": "descent_m_s",
    "turn_s": "turn_s",
    "reload_s": "reload_s",
    "height_m": "height_m",
    "empty_mass_kg": "empty_mass_kg",
    "battery_mah": "battery_mah",
    "battery_cells": "battery_cells",
}


def params_for(preset_name: str | None = None, **overrides: Any) -> PlanParams:
    """A preset's numbers with the operator's overrides on top (None means "keep")."""
    name = preset_name or default_preset()
    table = presets()
    if name not in table:
        raise PlanError(f"unknown drone preset {name!r} (known: {', '.join(sorted(table))})")
    preset = table[name]
    values: dict[str, Any] = {dst: float(preset[src]) for src, dst in _PRESET_KEYS.items() if src in preset}
    if "battery_cells" in values:
        values["battery_cells"] = int(values["battery_cells"])
    if "empty_mass_kg" in preset and "tank_l" in preset:
        # the rated endurance is the preset's own, with its own tank full (--tank does not change it)
        values["endurance_mass_kg"] = float(preset["empty_mass_kg"]) + LIQUID_KG_PER_L * float(preset["tank_l"])
    values["preset"] = name
    values["drone_name"] = str(preset.get("name", name))
    known = {f.name for f in fields(PlanParams)}
    for key, value in overrides.items():
        if key not in known:
            raise PlanError(f"unknown plan parameter {key!r}")
        if value is not None:
            values[key] = value
    if "tank_l" in overrides and overrides["tank_l"] is not None and "tank_reserve_l" not in overrides:
        # keep the reserve in proportion when the operator changes the tank
        values["tank_reserve_l"] = min(values.get("tank_reserve_l", 0.0), 0.03 * float(overrides["tank_l"]))
    return PlanParams(**values).validate()
