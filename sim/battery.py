"""A flight battery whose drain follows the power a loaded copter needs."""

from __future__ import annotations

G = 9.80665


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

    def step(self, power_w: float, dt: float) -> None:
        rest = self.resting_voltage()
        r = self.RESISTANCE_PER_CELL * self.cells
        # solve P = I * (V - I R) for the smaller root
        disc = rest * rest - 4.0 * r * power_w
        current = (rest - disc**0.5) / (2.0 * r) if disc > 0 else rest / (2.0 * r)
        self.current_a = current
        self.voltage = rest - current * r
        self.used_mah += current * dt / 3.6
        self.energy_j += power_w * dt

    def swap(self) -> None:
        self.used_mah = 0.0
        self.energy_j = 0.0
        self.failed_cell = False
        self.voltage = self.resting_voltage()


def power_needed(*, flying: bool, armed: bool, mass_kg: float, empty_mass_kg: float,
                 airspeed_m_s: float, climb_m_s: float) -> float:
    """Electrical power in watts for the motors and avionics."""
    avionics = 15.0
    if not armed:
        return avionics
    if not flying:
        return avionics + 60.0  # motors at spin-when-armed
    hover = 160.0 * empty_mass_kg * (mass_kg / empty_mass_kg) ** 1.5
    drag = 1.0 + 0.002 * airspeed_m_s * airspeed_m_s
    climb = max(climb_m_s, 0.0) * mass_kg * G / 0.6
    return avionics + hover * drag + climb
