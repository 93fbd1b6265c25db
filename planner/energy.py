"""Battery use: how much of the rated endurance each part of a sortie costs.

The unit is the battery second: one second of hover at the drone's rated take-off mass
(`endurance_mass_kg`), so a charged battery holds `endurance_s` of them before the
low-battery failsafe. Other flight costs more or less by the power it needs, with the model
the simulator flies (sim/battery.py; tests/test_sim_battery.py checks they agree):

    P = avionics + P_hover(rated) * (m / m_rated)^1.5 * (1 + k v^2) + m g v_climb / eta

m is the take-off mass with what is left in the tank: every sortie starts with the tank full
(it is filled at the reload point), so the first minutes cost the most.
"""

from __future__ import annotations

from planner.params import LIQUID_KG_PER_L, PlanParams

G = 9.80665
AVIONICS_W = 15.0  # flight controller, radio, GNSS
DRAG_PER_M2_S2 = 0.002  # forward flight costs hover power x (1 + k v^2)
CLIMB_EFFICIENCY = 0.6  # climbing costs m g v / efficiency on top of hover
# Share of the charge left when the low-battery failsafe fires (BATT_LOW_VOLT 3.6 V a cell at
# rest on a Li-ion pack), and a cell's voltage under load, on the low side so that climbs and
# avionics count heavier, not lighter. They turn battery seconds into watts and mAh; where a
# sortie ends is decided by the endurance alone.
LOW_BATTERY_LEFT = 0.25
LOADED_CELL_V = 3.5


class EnergyModel:
    """Battery seconds for the pieces of a sortie; pure arithmetic on the plan parameters."""

    def __init__(self, p: PlanParams) -> None:
        self.p = p
        self.full_kg = p.empty_mass_kg + LIQUID_KG_PER_L * p.tank_l
        # usable charge and hover power at the rated mass, as a charged pack delivers them
        self.usable_mah = p.battery_mah * (1.0 - LOW_BATTERY_LEFT)
        self.rated_w = self.usable_mah * 3.6 * p.battery_cells * LOADED_CELL_V / p.endurance_s
        self._hover_rated_w = max(self.rated_w - AVIONICS_W, 1.0)

    @property
    def budget_s(self) -> float:
        """What one sortie may use: the rated endurance less the reserve kept at landing."""
        return self.p.endurance_s - self.p.battery_reserve_s

    def mass_kg(self, sprayed_l: float) -> float:
        """Take-off mass after spraying `sprayed_l` of a full tank."""
        return self.full_kg - LIQUID_KG_PER_L * sprayed_l

    def rate(self, mass_kg: float, speed_m_s: float = 0.0) -> float:
        """Battery seconds per second flying level at `speed_m_s` with `mass_kg`."""
        hover = self._hover_rated_w * (mass_kg / self.p.endurance_mass_kg) ** 1.5
        return (AVIONICS_W + hover * (1.0 + DRAG_PER_M2_S2 * speed_m_s * speed_m_s)) / self.rated_w

    def climb(self, mass_kg: float, height_m: float) -> float:
        """Battery seconds for the work of climbing `height_m` (on top of hovering meanwhile)."""
        return mass_kg * G * max(height_m, 0.0) / CLIMB_EFFICIENCY / self.rated_w

    def mah(self, battery_s: float) -> float:
        """The charge `battery_s` draws: the usable charge in proportion (full to the failsafe)."""
        return battery_s / self.p.endurance_s * self.usable_mah
