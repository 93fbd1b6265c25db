"""Simulator settings and seeded faults, and the parsers the command line shares."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from missions.signing import KEY_BYTES
from sim.battery import hover_power_for
from sim.errors import SimError

if TYPE_CHECKING:
    from fields.terrain import Terrain
    from planner.document import PlanDocument

DEFAULT_HOME = (21.7046, 105.7312, 0.0)  # lat, lon, alt (m AMSL): a Thai Nguyen rice field
# Hover power at the empty mass that gives the default copter (14 kg, 22 Ah 12S, 10 L tank)
# the generic-10l-hex preset's 600 s hovering full before the low-battery failsafe:
# sim.battery.hover_power_for(endurance_s=600, mass_kg=24, empty_mass_kg=14, capacity_mah=22000,
# cells=12); tests/test_sim_battery.py keeps the two in step.
DEFAULT_HOVER_POWER_W = 1946.3

# Streamed messages and their default rates in Hz of simulated time (per client; a client
# changes its own with SET_MESSAGE_INTERVAL or REQUEST_DATA_STREAM).
DEFAULT_STREAMS: dict[str, float] = {
    "HEARTBEAT": 1.0,
    "GLOBAL_POSITION_INT": 4.0,
    "GPS_RAW_INT": 2.0,
    "ATTITUDE": 4.0,
    "VFR_HUD": 4.0,
    "SYS_STATUS": 1.0,
    "BATTERY_STATUS": 1.0,
    "MISSION_CURRENT": 1.0,
    "SERVO_OUTPUT_RAW": 4.0,
    "HOME_POSITION": 0.2,
    "WIND": 1.0,
    "TERRAIN_REPORT": 1.0,  # sent only with a DEM (terrain data), as ArduCopter does
}


@dataclass(frozen=True)
class Faults:
    """Reproducible link and vehicle faults (probabilities per frame; times in simulated seconds)."""

    loss: float = 0.0  # frames dropped, both directions
    duplicate: float = 0.0  # outgoing frames sent twice
    reorder: float = 0.0  # outgoing frames held back behind the next one
    latency_s: float = 0.0  # wall-clock delay added to outgoing frames
    link_cut_at_s: float | None = None  # all traffic dropped from this sim time ...
    link_cut_s: float = 0.0  # ... for this long
    gps_loss_at_s: float | None = None
    gps_loss_s: float = 0.0  # 0 = until the end
    battery_failure_at_s: float | None = None  # the pack fails: its voltage sags below critical

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise SimError(f"fault {name}={v}: a probability must be in [0, 1)")
        for name in ("latency_s", "link_cut_s", "gps_loss_s"):
            if getattr(self, name) < 0:
                raise SimError(f"fault {name}={getattr(self, name)}: must not be negative")


@dataclass(frozen=True)
class SimConfig:
    """Everything that shapes one simulator run; the defaults make a 10 L spray quad."""

    listen: str = "tcp:127.0.0.1:5760"
    udp_out: tuple[str, ...] = ()
    usb: str | None = None  # a second TCP endpoint whose clients are channel 0 (SERIAL0, USB): trusted
    # a MAVLink 2 signing key installed before this boot (32 bytes); never in a repr or a log
    signing_key: bytes | None = field(default=None, repr=False)
    speedup: float = 1.0
    home: tuple[float, float, float] = DEFAULT_HOME  # with a DEM, the altitude is the DEM's there
    # the ground (a DEM, fields.dem_files.load_dem); None: flat at the home altitude
    terrain: Terrain | None = field(default=None, repr=False, compare=False)
    tank_l: float = 10.0
    tank_fill_l: float | None = None  # litres in the tank at start (None: full)
    pump_max_l_min: float = 2.4
    wind_m_s: float = 0.0
    wind_dir_deg: float = 0.0  # direction the wind blows FROM, degrees
    gust_m_s: float = 0.0  # standard deviation of the seeded gusts
    boot_delay_s: float = 20.0  # sim seconds without a position estimate after boot
    rc_mode_delay_s: float = 3.0  # the simulated RC selects STABILIZE this long after boot
    battery_mah: float = 22000.0
    battery_cells: int = 12
    empty_mass_kg: float = 14.0  # take-off mass with the battery and an empty tank
    hover_power_w: float = DEFAULT_HOVER_POWER_W  # electrical hover power at empty_mass_kg
    seed: int = 0
    faults: Faults = field(default_factory=Faults)
    truth_path: str | None = None
    truth_hz: float = 5.0
    streams: tuple[tuple[str, float], ...] = ()  # overrides of DEFAULT_STREAMS
    params: tuple[tuple[str, float], ...] = ()  # parameter values set at boot
    tick_hz: float = 25.0  # physics steps per simulated second
    max_wall_hz: float = 50.0  # a stream is never sent more often than this per wall second
    upload_timeout_s: float = 8.0  # wall seconds a stalled mission upload waits (AP: 8 s)
    request_resend_s: float = 1.0  # wall seconds before an unanswered MISSION_REQUEST is re-sent

    def __post_init__(self) -> None:
        for name in (
            "speedup",
            "tank_l",
            "pump_max_l_min",
            "wind_m_s",
            "gust_m_s",
            "boot_delay_s",
            "battery_mah",
            "empty_mass_kg",
            "hover_power_w",
        ):
            if not math.isfinite(getattr(self, name)):
                raise SimError(f"{name} {getattr(self, name)}: must be a finite number")
        if not self.speedup > 0:
            raise SimError(f"speedup {self.speedup}: must be positive")
        if not self.tank_l > 0:
            raise SimError(f"tank {self.tank_l} L: must be positive")
        if not self.pump_max_l_min > 0:
            raise SimError(f"pump maximum {self.pump_max_l_min} L/min: must be positive")
        if self.tank_fill_l is not None and not 0 <= self.tank_fill_l <= self.tank_l:
            raise SimError(f"tank fill {self.tank_fill_l} L: must be between 0 and the tank size")
        if self.wind_m_s < 0 or self.gust_m_s < 0:
            raise SimError("wind and gust speeds must not be negative")
        lat, lon, _ = self.home
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise SimError(f"home {lat},{lon}: not a WGS84 latitude,longitude")
        if self.boot_delay_s < 0 or self.tick_hz <= 0 or self.battery_mah <= 0 or self.battery_cells < 1:
            raise SimError("boot delay, tick rate, battery capacity and cells must be positive")
        if not (self.empty_mass_kg > 0 and self.hover_power_w > 0):
            raise SimError("empty mass and hover power must be positive")
        parse_endpoint(self.listen, kinds=("tcp",))
        if self.usb is not None:
            parse_endpoint(self.usb, kinds=("tcp",))
        if self.signing_key is not None:
            check_signing_key(self.signing_key)
        for out in self.udp_out:
            parse_endpoint(out, kinds=("udp", "udpout"))

    def stream_rates(self) -> dict[str, float]:
        rates = dict(DEFAULT_STREAMS)
        for name, hz in self.streams:
            if name not in rates:
                raise SimError(f"stream {name}: not a streamed message ({', '.join(sorted(rates))})")
            rates[name] = float(hz)
        return rates


FAULT_NAMES = {f.name for f in fields(Faults)}
CONFIG_NAMES = {f.name for f in fields(SimConfig)}


def make_config(config: SimConfig | None = None, **overrides) -> SimConfig:
    """A SimConfig from keywords; fault names (loss=..., gps_loss_at_s=...) go into `faults`."""
    base = config or SimConfig()
    fault_kw = {k: overrides.pop(k) for k in list(overrides) if k in FAULT_NAMES}
    unknown = set(overrides) - CONFIG_NAMES
    if unknown:
        raise SimError(f"unknown simulator setting(s): {', '.join(sorted(unknown))}")
    if "home" in overrides:
        home = tuple(float(v) for v in overrides["home"])
        overrides["home"] = home if len(home) == 3 else (home[0], home[1], 0.0)
    for key in ("streams", "params"):
        if isinstance(overrides.get(key), dict):
            overrides[key] = tuple(overrides[key].items())
    if isinstance(overrides.get("udp_out"), str):
        overrides["udp_out"] = (overrides["udp_out"],)
    if fault_kw:
        overrides["faults"] = replace(overrides.get("faults", base.faults), **fault_kw)
    return replace(base, **overrides)


def check_signing_key(key: object) -> None:
    """A signing key is 32 bytes, not all zero (that key switches signing off); the message
    never shows the key itself."""
    if not isinstance(key, bytes):
        raise SimError(f"signing key: must be {KEY_BYTES} bytes, not a {type(key).__name__}")
    if len(key) != KEY_BYTES:
        raise SimError(f"signing key: must be {KEY_BYTES} bytes (got {len(key)})")
    if not any(key):
        raise SimError("signing key: all zero bytes switch signing off; that is not a key")


def parse_endpoint(text: str, *, kinds: tuple[str, ...]) -> tuple[str, str, int]:
    """'tcp:127.0.0.1:5760' -> ('tcp', '127.0.0.1', 5760); the port 0 asks for a free one."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in kinds:
        raise SimError(f"endpoint {text!r}: expected {'|'.join(kinds)}:HOST:PORT")
    kind, host, port_s = parts
    try:
        port = int(port_s)
    except ValueError:
        raise SimError(f"endpoint {text!r}: port {port_s!r} is not a number") from None
    if not 0 <= port <= 65535 or not host:
        raise SimError(f"endpoint {text!r}: bad host or port")
    return kind, host, port


def parse_home(text: str) -> tuple[float, float, float]:
    """'LAT,LON[,ALT]' -> (lat, lon, alt)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise SimError(f"home {text!r}: expected LAT,LON[,ALT] in degrees and metres") from None
    if len(values) not in (2, 3):
        raise SimError(f"home {text!r}: expected LAT,LON[,ALT]")
    lat, lon = values[:2]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SimError(f"home {text!r}: latitude must be within ±90 and longitude within ±180")
    return lat, lon, values[2] if len(values) == 3 else 0.0


def parse_wind(text: str) -> tuple[float, float]:
    """'M_S,DIR' -> (speed m/s, direction the wind comes from in degrees)."""
    try:
        speed, direction = (float(v) for v in text.split(","))
    except ValueError:
        raise SimError(f"wind {text!r}: expected SPEED_M_S,DIRECTION_DEG") from None
    if speed < 0:
        raise SimError(f"wind {text!r}: speed must not be negative")
    return speed, direction % 360.0


def plan_settings(plan: PlanDocument | dict) -> dict:
    """Simulator settings for a plan's drone: home at the reload point, its tank and pump, and its
    battery and mass with the hover power calibrated to its rated endurance, so the simulator's
    battery lasts as long as the planner assumed (docs/sim.md, "Battery")."""
    from planner.document import as_document, need

    doc = as_document(plan)
    settings: dict = {
        "home": (doc.reload.lat, doc.reload.lon, 0.0),
        "tank_l": float(need(doc.params.tank_l, "params", "tank_l")),
        "pump_max_l_min": float(need(doc.pump_max_l_min, "drone", "pump_max_l_min")),
    }
    d = doc.drone
    if d is not None and d.has_battery:  # plans written before these fields keep the defaults
        # has_battery: none of these is None
        assert d.battery_mah is not None and d.battery_cells is not None and d.empty_mass_kg is not None
        assert d.endurance_s is not None and d.endurance_mass_kg is not None
        mah, cells, empty_kg = float(d.battery_mah), int(d.battery_cells), float(d.empty_mass_kg)
        settings.update(
            battery_mah=mah,
            battery_cells=cells,
            empty_mass_kg=empty_kg,
            hover_power_w=hover_power_for(
                endurance_s=float(d.endurance_s),
                mass_kg=float(d.endurance_mass_kg),
                empty_mass_kg=empty_kg,
                capacity_mah=mah,
                cells=cells,
            ),
        )
    return settings


def drone_settings(plan: PlanDocument | dict, drone: int) -> dict:
    """Simulator settings for one drone of a plan for several (`plan --drones`): its part's
    reload point, tank, pump and battery, and its own MAVLink system id (MAV_SYSID = its number)."""
    from planner.document import as_document

    settings = plan_settings(as_document(plan).for_drone(drone))
    settings["params"] = {"MAV_SYSID": drone}
    return settings
