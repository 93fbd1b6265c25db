"""The parameter table a ground station sees (names and defaults follow ArduCopter)."""

from __future__ import annotations

from collections.abc import Callable

# MAV_PARAM_TYPE values
UINT8, INT8, UINT16, INT16, UINT32, INT32, REAL32 = 1, 2, 3, 4, 5, 6, 9
_INT_RANGES = {
    UINT8: (0, 255),
    INT8: (-128, 127),
    UINT16: (0, 65535),
    INT16: (-32768, 32767),
    UINT32: (0, 2**32 - 1),
    INT32: (-(2**31), 2**31 - 1),
}

# Servo outputs of the simulated quad: motors on 1-4 (functions 33-36), pump and spinner
# where the SITL harness puts them (see sim/sitl.py), the rest unassigned.
PUMP_SERVO = 9
SPINNER_SERVO = 10
SPRAYER_PUMP_FUNCTION = 22
SPRAYER_SPINNER_FUNCTION = 23
MOTOR_FUNCTIONS = (33, 34, 35, 36)


def default_params(
    *,
    battery_mah: float,
    battery_cells: int,
    tank_l: float,
    pump_max_l_min: float,
    wind_m_s: float,
    wind_dir_deg: float,
    gust_m_s: float,
    speedup: float,
) -> dict[str, tuple[float, int]]:
    """ArduCopter defaults for what a spray ground station touches, plus the simulator's own SIM_*."""
    p: dict[str, tuple[float, int]] = {
        "MAV_SYSID": (1, UINT8),  # SYSID_THISMAV before ArduPilot 4.7; read at boot
        "FRAME_CLASS": (1, INT8),
        "FRAME_TYPE": (1, INT8),
        "ARMING_CHECK": (1, INT32),
        "DISARM_DELAY": (10, INT8),
        "AUTO_OPTIONS": (0, INT32),
        "MIS_RESTART": (0, INT8),
        "MIS_TOTAL": (0, INT16),
        "FS_EKF_ACTION": (1, INT8),
        "FS_GCS_ENABLE": (0, INT8),
        "WP_YAW_BEHAVIOR": (2, INT8),
        # navigation (cm, cm/s, cm/s/s as in AC_WPNav)
        "WPNAV_SPEED": (1000, REAL32),
        "WPNAV_SPEED_UP": (250, REAL32),
        "WPNAV_SPEED_DN": (150, REAL32),
        "WPNAV_ACCEL": (250, REAL32),
        "WPNAV_ACCEL_Z": (100, REAL32),
        "WPNAV_RADIUS": (200, REAL32),
        "WPNAV_JERK": (1.0, REAL32),  # m/s/s/s: the S-curve's jerk (sim/scurve.py)
        "WPNAV_ACCEL_C": (0, REAL32),  # cornering acceleration, 0 = twice WPNAV_ACCEL
        "WP_RADIUS": (2.0, REAL32),  # metres; kept in step with WPNAV_RADIUS
        "LAND_SPEED": (50, INT16),
        "LAND_SPEED_HIGH": (0, INT16),
        "LAND_ALT_LOW": (1000, INT16),
        "RTL_ALT": (1500, INT32),
        "RTL_ALT_FINAL": (0, INT16),
        "RTL_SPEED": (0, INT16),
        "RTL_LOIT_TIME": (5000, INT32),
        "RTL_CLIMB_MIN": (0, INT16),
        # geofence (AC_Fence): stored and echoed so a ground station can set it; not enforced
        "FENCE_ENABLE": (0, INT8),
        "FENCE_TYPE": (7, INT8),
        "FENCE_ACTION": (1, INT8),
        "FENCE_ALT_MAX": (100, REAL32),
        "FENCE_RADIUS": (300, REAL32),
        "FENCE_MARGIN": (2, REAL32),
        "FENCE_TOTAL": (0, INT8),
        # sprayer (AC_Sprayer)
        "SPRAY_ENABLE": (1, INT8),
        "SPRAY_PUMP_RATE": (10.0, REAL32),
        "SPRAY_SPEED_MIN": (100, INT16),
        "SPRAY_PUMP_MIN": (0, INT8),
        "SPRAY_SPINNER": (1300, INT16),
        # battery (AP_BattMonitor)
        "BATT_MONITOR": (4, INT8),
        "BATT_CAPACITY": (battery_mah, INT32),
        "BATT_LOW_VOLT": (round(3.6 * battery_cells, 2), REAL32),
        "BATT_CRT_VOLT": (round(3.5 * battery_cells, 2), REAL32),
        "BATT_LOW_MAH": (0, REAL32),
        "BATT_CRT_MAH": (0, REAL32),
        "BATT_FS_LOW_ACT": (2, INT8),  # RTL (ArduPilot ships 0 = none; spray drones set RTL)
        "BATT_FS_CRT_ACT": (1, INT8),  # LAND
        "BATT_LOW_TIMER": (10, INT8),
        "BATT_ARM_VOLT": (0, REAL32),
        "BATT_ARM_MAH": (0, INT32),
        # the sprayer simulation as in SITL, and the simulator's own settings
        "SIM_SPR_ENABLE": (1, INT8),
        "SIM_SPR_PUMP": (PUMP_SERVO, INT8),
        "SIM_SPR_SPIN": (SPINNER_SERVO, INT8),
        "SIM_SPR_TANK": (tank_l, REAL32),  # tank capacity, litres
        "SIM_SPR_QMAX": (pump_max_l_min, REAL32),  # pump flow at 2000 us, L/min
        "SIM_SPR_FILL": (0, INT8),  # write 1: the operator refills the tank
        "SIM_BATT_SWAP": (0, INT8),  # write 1: the operator fits a charged battery
        "SIM_BATT_CELLS": (battery_cells, INT8),
        "SIM_WIND_SPD": (wind_m_s, REAL32),
        "SIM_WIND_DIR": (wind_dir_deg, REAL32),
        "SIM_WIND_TURB": (gust_m_s, REAL32),
        "SIM_GPS_DISABLE": (0, INT8),
        "SIM_BATT_FAIL": (0, INT8),
        "SIM_SPEEDUP": (speedup, REAL32),
    }
    for n in range(1, 17):
        if n <= 4:
            function = MOTOR_FUNCTIONS[n - 1]
        elif n == PUMP_SERVO:
            function = SPRAYER_PUMP_FUNCTION
        elif n == SPINNER_SERVO:
            function = SPRAYER_SPINNER_FUNCTION
        else:
            function = 0
        # The pump ESC is calibrated 1000..2000 us, as SIM_Sprayer reads it.
        lo, hi = (1000, 2000) if n in (PUMP_SERVO, SPINNER_SERVO) or n <= 4 else (1100, 1900)
        p[f"SERVO{n}_FUNCTION"] = (function, INT16)
        p[f"SERVO{n}_MIN"] = (lo, INT16)
        p[f"SERVO{n}_MAX"] = (hi, INT16)
        p[f"SERVO{n}_TRIM"] = (1500, INT16)
        p[f"SERVO{n}_REVERSED"] = (0, INT8)
    return p


class ParamStore:
    """Named values with MAVLink types; set() coerces like AP_Param (integers round, ranges clamp)."""

    def __init__(self, defaults: dict[str, tuple[float, int]]) -> None:
        self._values: dict[str, float] = {k: float(v) for k, (v, _) in defaults.items()}
        self._types: dict[str, int] = {k: t for k, (_, t) in defaults.items()}
        self._order: list[str] = sorted(self._values)
        self._index = {name: i for i, name in enumerate(self._order)}
        self._listeners: list[Callable[[str, float], None]] = []

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __len__(self) -> int:
        return len(self._order)

    def names(self) -> list[str]:
        return list(self._order)

    def index(self, name: str) -> int:
        return self._index[name]

    def name_at(self, index: int) -> str | None:
        return self._order[index] if 0 <= index < len(self._order) else None

    def ptype(self, name: str) -> int:
        return self._types[name]

    def on_change(self, fn: Callable[[str, float], None]) -> None:
        self._listeners.append(fn)

    def set(self, name: str, value: float, *, notify: bool = True) -> float:
        """Store a value (KeyError for an unknown name) and return what was stored."""
        if name not in self._values:
            raise KeyError(name)
        ptype = self._types[name]
        value = float(value)
        if value != value:  # NaN: AP_Param refuses it and keeps the old value
            return self._values[name]
        if ptype in _INT_RANGES:
            lo, hi = _INT_RANGES[ptype]
            value = float(min(max(round(value), lo), hi))
        self._values[name] = value
        if notify:
            for fn in self._listeners:
                fn(name, value)
        return value
