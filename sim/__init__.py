"""A MAVLink spray copter that behaves like ArduPilot Copter SITL, and a harness for the real SITL.

with sim.start_sim(speedup=20, boot_delay_s=2) as s:
    link = mavutil.mavlink_connection(s.url)   # fly it like a real ArduCopter
    ...
    s.truth().sprayed_l                          # what really came out of the tank
"""

from sim.config import (
    DEFAULT_HOME,
    Faults,
    SimConfig,
    drone_settings,
    make_config,
    parse_home,
    parse_wind,
    plan_settings,
)
from sim.errors import SimError
from sim.handle import SimHandle, start_sim
from sim.mission import Item, MissionRunner
from sim.simulator import Simulator
from sim.sitl import SitlProcess, battery_params, battery_params_for_plan, sitl_binary, sitl_for_plan, start_sitl
from sim.truth import Truth, TruthSample, read_truth

__all__ = [
    "DEFAULT_HOME",
    "Faults",
    "SimConfig",
    "SimError",
    "SimHandle",
    "Simulator",
    "SitlProcess",
    "Truth",
    "TruthSample",
    "Item",
    "MissionRunner",
    "make_config",
    "parse_home",
    "parse_wind",
    "read_truth",
    "sitl_binary",
    "start_sim",
    "start_sitl",
    "battery_params",
    "battery_params_for_plan",
    "sitl_for_plan",
    "plan_settings",
    "drone_settings",
]
