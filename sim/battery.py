"""A flight battery whose drain follows the power a loaded copter needs.

The copter's hover power is one number, `hover_power_w` at its empty take-off mass; it is
calibrated from the drone's rated endurance (`hover_power_for`), the same figure the planner
budgets with, so a sortie the planner says fits does fit here (docs/sim.md, "Battery").
"""

from __future__ import annotations

from sim.errors import SimError

G = 9.80665
LOW_CELL_V = 3.6  # BATT_LOW_VOLT per cell (sim/params.py): the low-battery failsafe, at rest
AVIONICS_W = 15.0
IDLE_W = 60.0  # motors at spin-when-armed, on the ground
DRAG_PER_M2_S2 = 0.002  # forward flight: hover power x (1 + k v^2)
CLIMB_EFFICIENCY = 0.6  # climb power = m g vz / efficiency


class Battery:
    """Li-ion pack: open-circuit voltage from charge, sag by internal resistance, mAh counted.

    Power in flight grows with mass^1.5 (induced power), with airspeed (drag) and climb; on the
    ground armed motors idle. A failed battery (a damaged cell group) sags to 3.45 V a cell,
    below the usual critical level, whatever its charge.
    """

    CELL_FULL_V = 4.2
    CELL_EMPTY_V = 3.3
    RESISTANCE_PER_CELL = 0.0015  # ohm

    def __init__(self, capacity_mah: float, cells: int) -> None:
        self.capacity_mah = capacity_mah
        self.cells = cells
        self.used_mah = 0.0
        self.energy_j = 0.0
        self.current_a = 0.0
        self.failed_cell = False
        self.voltage = self.resting_voltage()

    @property
    def remaining_pct(self) -> float:
        return max(0.0, 100.0 * (1.0 - self.used_mah / self.capacity_mah))

    def resting_voltage(self) -> float:
        soc = max(0.0, 1.0 - self.used_mah / self.capacity_mah)
        # a gently curved discharge curve: flat in the middle, dropping at the ends
        cell = self.CELL_EMPTY_V + (self.CELL_FULL_V - self.CELL_EMPTY_V) * (0.15 + 0.7 * soc + 0.15 * soc**3)
        cell = min(cell, self.CELL_FULL_V)
        if self.failed_cell:
            cell = min(cell, 3.45)
        return cell * self.cells

    def current_for(self, power_w: float) -> float:
        """Amps drawn for `power_w` at the terminals: P = I (V - I R), the smaller root."""
        rest = self.resting_voltage()
        r = self.RESISTANCE_PER_CELL * self.cells
        disc = rest * rest - 4.0 * r * power_w
        return (rest - disc**0.5) / (2.0 * r) if disc > 0 else rest / (2.0 * r)

    def step(self, power_w: float, dt: float) -> None:
        current = self.current_for(power_w)
        self.current_a = current
        self.voltage = self.resting_voltage() - current * self.RESISTANCE_PER_CELL * self.cells
        self.used_mah += current * dt / 3.6
        self.energy_j += power_w * dt

    def swap(self) -> None:
        self.used_mah = 0.0
        self.energy_j = 0.0
        self.failed_cell = False
        self.voltage = self.resting_voltage()


def power_needed(
    *,
    flying: bool,
    armed: bool,
    mass_kg: float,
    empty_mass_kg: float,
    hover_power_w: float,
    airspeed_m_s: float,
    climb_m_s: float,
) -> float:
    """Electrical power in watts for the motors and avionics; `hover_power_w` is the hover
    power at `empty_mass_kg`, and induced power grows with mass^1.5."""
    if not armed:
        return AVIONICS_W
    if not flying:
        return AVIONICS_W + IDLE_W
    hover = hover_power_w * (mass_kg / empty_mass_kg) ** 1.5
    drag = 1.0 + DRAG_PER_M2_S2 * airspeed_m_s * airspeed_m_s
    climb = max(climb_m_s, 0.0) * mass_kg * G / CLIMB_EFFICIENCY
    return AVIONICS_W + hover * drag + climb


def hover_time_s(
    power_w: float, capacity_mah: float, cells: int, low_cell_v: float = LOW_CELL_V, used_mah: float = 0.0
) -> float:
    """Seconds a pack with `used_mah` drawn gives `power_w` before its resting voltage falls
    to `low_cell_v` a cell (where the low-battery failsafe fires), integrated over the charge."""
    b = Battery(capacity_mah, cells)
    b.used_mah = used_mah
    step_mah = capacity_mah / 1000.0
    t = 0.0
    while b.resting_voltage() > low_cell_v * cells and b.used_mah < capacity_mah:
        t += step_mah * 3.6 / b.current_for(power_w)
        b.used_mah += step_mah
    return t


def hover_power_for(
    *,
    endurance_s: float,
    mass_kg: float,
    empty_mass_kg: float,
    capacity_mah: float,
    cells: int,
    low_cell_v: float = LOW_CELL_V,
) -> float:
    """The `hover_power_w` (at `empty_mass_kg`) of a copter that hovers `endurance_s` at
    `mass_kg` on a charged pack before the low-battery failsafe: how a drone preset's rated
    endurance becomes the simulator's power model."""
    if not (endurance_s > 0 and mass_kg > 0 and empty_mass_kg > 0 and capacity_mah > 0 and cells >= 1):
        raise SimError("drone endurance, masses, battery capacity and cells must be positive")
    r = Battery.RESISTANCE_PER_CELL * cells
    lo, hi = 0.0, (Battery.CELL_FULL_V * cells) ** 2 / (4.0 * r)  # hi: the most the pack can give
    for _ in range(40):  # hover time falls as power grows: bisect
        mid = (lo + hi) / 2
        if hover_time_s(mid, capacity_mah, cells, low_cell_v) > endurance_s:
            lo = mid
        else:
            hi = mid
    total = (lo + hi) / 2
    return max(total - AVIONICS_W, 1.0) / (mass_kg / empty_mass_kg) ** 1.5
