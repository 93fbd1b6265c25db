"""Flying a plan sortie by sortie: go/no-go checks, arm, AUTO, watch, land, resume.

This is the mission service seen from the operator's side (MAVSDK's "action" and
"mission" together). It talks MAVLink only through `Vehicle`; what is logged, shown or
asked of the operator is the caller's business (callbacks), so the command line can put
a progress bar on it and the telemetry recorder can listen to the same link.

A sortie is done when the copter, having flown, is disarmed again (ArduPilot disarms
after LAND or a NAV_RETURN_TO_LAUNCH item). It is complete when every swath's end item
was reached; otherwise (failsafe RTL, operator's stop, lost link) the result says which
mission item to resume at (`MissionSet.resume_seq`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from missions.build import MissionSet
from missions.command import is_autopilot, mode_name
from missions.connection import LinkKeeper  # the link layer's; fly_sortie watches through it
from missions.dialect import mavlink
from missions.errors import MissionError
from missions.link import Vehicle
from missions.separation import DroneGuard, Pauser, wait_for_take_off
from missions.terrain import TerrainServer
from missions.upload import upload_sortie
from planner.dose import pump_fraction

if TYPE_CHECKING:
    from missions.connection import _Limits


@dataclass(frozen=True)
class FlightLimits:
    """What must hold before a take-off, and how long to wait for things."""

    wind_max_m_s: float = 3.0
    battery_min_pct: float = 80.0
    gps_fix_min: int = 3
    position_timeout_s: float = 120.0
    link_timeout_s: float = 5.0  # no heartbeat for this long: the link is lost
    link_giveup_s: float = 120.0  # lost for this long: stop watching (the vehicle's failsafe flies it)
    takeoff_timeout_s: float = 60.0  # armed but still on the ground after this long: give up
    wind_wait_s: float = 3.0  # how long to listen for a WIND estimate before the check
    terrain_wait_s: float = 45.0  # for the vehicle to load the plan's terrain (a block per 2 s)
    terrain_tolerance_m: float = 2.0  # its ground under it against the DEM's


@dataclass
class Check:
    """One line of the go/no-go list."""

    name: str
    ok: bool
    detail: str


class Watch:
    """The vehicle's latest state, kept up to date as a `Vehicle` listener.

    It also integrates what the pump put out (from SERVO_OUTPUT_RAW, in vehicle time)
    and the distance flown with the pump on, for the live progress display; the spray
    record is computed from the logged telemetry, not from these estimates.
    """

    def __init__(
        self,
        *,
        pump_servo: int = 9,
        pump_max_l_min: float = 0.0,
        spacing_m: float = 0.0,
        pwm_off: int = 1000,
        pwm_full: int = 2000,
    ) -> None:
        self.pump_servo = pump_servo
        self.pump_max_l_min = pump_max_l_min
        self.spacing_m = spacing_m  # between swath lines: each metre sprayed covers this much
        self.pwm_off, self.pwm_full = pwm_off, pwm_full
        self.sysid = 0
        self.mode = ""
        self.armed = False
        self.last_heartbeat = 0.0  # monotonic wall time
        self.lat = self.lon = 0.0
        self.rel_alt_m = 0.0
        self.groundspeed_m_s = 0.0
        self.fix_type = 0
        self.satellites = 0
        self.battery_pct: float | None = None
        self.battery_at = 0.0  # monotonic wall time of the last battery state
        self.voltage_v: float | None = None
        self.wind_m_s: float | None = None
        self.wind_max_m_s = 0.0
        self.mission_seq = 0
        self.last_reached = -1
        self.pump_pwm = 0
        self.litres = 0.0
        self.sprayed_m = 0.0
        self.last_spray: tuple[float, float] | None = None  # (lon, lat) last seen with the pump on
        self.statustext: deque[str] = deque(maxlen=20)
        self._servo_t_us: int | None = None
        self._pos: tuple[float, float, int] | None = None

    @property
    def pump_fraction(self) -> float:
        return pump_fraction(self.pump_pwm, self.pwm_off, self.pwm_full)

    @property
    def sprayed_ha(self) -> float:
        return self.sprayed_m * self.spacing_m / 10_000.0

    def reset_sortie(self) -> None:
        self.last_reached = -1
        self.mission_seq = 0
        self.last_spray = None

    def __call__(self, m: Any) -> None:
        t = m.get_type()
        if t == "HEARTBEAT":
            if not is_autopilot(m) or (self.sysid and m.get_srcSystem() != self.sysid):
                return
            self.sysid = m.get_srcSystem()
            self.mode = mode_name(m.custom_mode)
            self.armed = bool(m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            self.last_heartbeat = time.monotonic()
        elif t == "GLOBAL_POSITION_INT":
            self.lat, self.lon = m.lat / 1e7, m.lon / 1e7
            self.rel_alt_m = m.relative_alt / 1000.0
            self.groundspeed_m_s = math.hypot(m.vx, m.vy) / 100.0
            if self.pump_fraction > 0 and self.mode == "AUTO":  # a pump left on in RTL is no breakpoint
                if self._pos is not None:
                    self.sprayed_m += _distance_m(self._pos[:2], (self.lat, self.lon))
                self.last_spray = (self.lon, self.lat)
            self._pos = (self.lat, self.lon, m.time_boot_ms)
        elif t == "GPS_RAW_INT":
            self.fix_type, self.satellites = m.fix_type, m.satellites_visible
        elif t == "SYS_STATUS":
            if m.battery_remaining >= 0:
                self.battery_pct, self.battery_at = float(m.battery_remaining), time.monotonic()
            self.voltage_v = m.voltage_battery / 1000.0
        elif t == "BATTERY_STATUS":
            if m.battery_remaining >= 0:
                self.battery_pct, self.battery_at = float(m.battery_remaining), time.monotonic()
        elif t == "WIND":
            self.wind_m_s = float(m.speed)
            if self.armed:
                self.wind_max_m_s = max(self.wind_max_m_s, self.wind_m_s)
        elif t == "MISSION_CURRENT":
            self.mission_seq = m.seq
            if self.armed and m.seq > 1:
                self.last_reached = max(self.last_reached, m.seq - 1)
        elif t == "MISSION_ITEM_REACHED":
            self.last_reached = max(self.last_reached, m.seq)
        elif t == "SERVO_OUTPUT_RAW":
            if getattr(m, "port", 0) != 0:
                return
            pwm = getattr(m, f"servo{self.pump_servo}_raw", 0) or 0
            if self._servo_t_us is not None and m.time_usec > self._servo_t_us:
                dt_s = (m.time_usec - self._servo_t_us) / 1e6
                if dt_s < 5.0:  # a gap in the stream is not pumping time
                    self.litres += self.pump_fraction * self.pump_max_l_min * dt_s / 60.0
            self._servo_t_us = m.time_usec
            self.pump_pwm = pwm
        elif t == "STATUSTEXT":
            self.statustext.append(m.text)


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[0] + b[0]) / 2)
    return math.hypot((a[1] - b[1]) * 111_320.0 * math.cos(lat), (a[0] - b[0]) * 110_574.0)


def preflight(
    vehicle: Vehicle,
    watch: Watch,
    ms: MissionSet,
    *,
    tank_l: float | None,
    sortie_volume_l: float,
    limits: FlightLimits = FlightLimits(),
    terrain: TerrainServer | None = None,
) -> list[Check]:
    """The go/no-go list for one sortie; uploads and verifies what the sortie needs.

    Every check runs (an operator wants the whole list, not the first failure); nothing
    here arms the vehicle. With `terrain` (serving the plan's DEM on this link), the vehicle
    must hold the ground under it and under the mission just uploaded (ArduPilot asks for
    the terrain at each mission item): its "terrain" row comes after the upload.
    """
    checks: list[Check] = []
    started = time.monotonic()
    position: tuple[float, float] | None = None

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, ok, detail))

    alive = vehicle.heartbeat is not None and not vehicle.lost
    add(
        "link",
        alive,
        f"heartbeat from system {vehicle.target_system}, mode {vehicle.mode or '?'}"
        if alive
        else (vehicle.lost or "no heartbeat"),
    )
    if vehicle.signing is not None:
        sig = vehicle.signing
        dropped = sig.unsigned + sig.wrong_key
        add(
            "signing",
            sig.good > 0,
            f"signed both ways, key {sig.key.fingerprint}"
            + (f"; {dropped} packets dropped as unsigned or signed with another key" if dropped else ""),
        )
    else:
        add("signing", True, "off: anyone in radio range can command this drone (`agrodrone key create`, `install`)")
    try:
        lat, lon, _ = vehicle.wait_position(limits.position_timeout_s)
        position = (lat, lon)
        fix_ok = watch.fix_type >= limits.gps_fix_min or watch.fix_type == 0 and bool(lat or lon)
        add("gps", fix_ok, f"fix type {watch.fix_type}, {watch.satellites} satellites, position {lat:.6f}, {lon:.6f}")
    except MissionError as exc:
        add("gps", False, str(exc))
    while watch.battery_at < started and time.monotonic() - started < limits.wind_wait_s:
        time.sleep(0.05)  # a battery just swapped must be read again, not remembered
    if watch.battery_pct is None:
        add("battery", False, "no battery state received")
    else:
        add(
            "battery",
            watch.battery_pct >= limits.battery_min_pct,
            f"{watch.battery_pct:.0f} % (need {limits.battery_min_pct:.0f} %)"
            + (f", {watch.voltage_v:.1f} V" if watch.voltage_v else ""),
        )
    deadline = time.monotonic() + limits.wind_wait_s
    while watch.wind_m_s is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if watch.wind_m_s is None:
        add("wind", True, f"no wind estimate from the vehicle: check on site (limit {limits.wind_max_m_s:g} m/s)")
    else:
        add(
            "wind",
            watch.wind_m_s <= limits.wind_max_m_s,
            f"{watch.wind_m_s:.1f} m/s (limit {limits.wind_max_m_s:g} m/s)",
        )
    for step in upload_sortie(vehicle, ms, keep_going=True):
        name = {"params": "sprayer", "fence params": "fence on"}.get(step.step, step.step)
        timing = f" in {step.seconds:.2f} s" + (f", {step.resends} resends" if step.resends else "")
        add(name, step.ok, step.detail + (timing if step.ok and step.step in ("fence", "rally", "mission") else ""))
    if terrain is not None:
        add(
            "terrain", *terrain.check(position, timeout_s=limits.terrain_wait_s, tolerance_m=limits.terrain_tolerance_m)
        )
    if tank_l is None:
        add("tank", False, "tank volume not entered")
    else:
        add("tank", tank_l + 1e-9 >= sortie_volume_l, f"{tank_l:g} L loaded, sortie needs {sortie_volume_l:.1f} L")
    return checks


@dataclass
class SortieResult:
    """How one sortie ended."""

    sortie: int
    complete: bool
    reason: str = ""  # why it ended early ("" when complete)
    last_reached: int = -1
    resume_seq: int | None = None  # where to resume with DO_SET_MISSION_CURRENT when not complete
    resume_leg: int | None = None  # the sortie leg (a swath) that was cut short ...
    breakpoint: tuple[float, float] | None = None  # ... and where its spraying stopped (lon, lat)
    link_lost: bool = False
    statustext: list[str] = field(default_factory=list)


def _stop_pump(v: Vehicle) -> bool:
    """SPRAY_ENABLE=0: ArduCopter's AC_Sprayer does not look at the flight mode, so after a
    failsafe RTL or LAND in the middle of a swath the pump goes on following ground speed
    all the way home (seen on ArduCopter 4.7 SITL). The next sortie's pre-flight sets it
    back. True once the vehicle confirmed it."""
    try:
        v.set_params({"SPRAY_ENABLE": 0})
    except MissionError:
        return False  # tried again at the next poll
    return True


def fly_sortie(
    link: LinkKeeper,
    watch: Watch,
    ms: MissionSet,
    *,
    resume_seq: int | None = None,
    stop: threading.Event | None = None,
    on_tick: Callable[[Watch], None] | None = None,
    limits: FlightLimits = FlightLimits(),
    poll_s: float = 0.1,
    guard: DroneGuard | None = None,
    say: Callable[[str], None] | None = None,
) -> SortieResult:
    """Arm, start the uploaded mission (jumping to `resume_seq` once airborne), and
    watch until the copter has landed and disarmed.

    `stop` set by the caller (Ctrl-C) sends the copter home with RTL and keeps watching.
    `guard` (several drones on one job: missions/separation.py) says why the copter must wait:
    before take-off it is not armed, in AUTO its mission is paused (MAV_CMD_DO_PAUSE_CONTINUE)
    until the guard says nothing again, or sent home when it has waited too long; `say` tells
    the operator.
    """
    stop = stop or threading.Event()
    watch.reset_sortie()
    say = say or (lambda text: None)
    if guard is not None:
        first = ms.first_spray_point()
        wait_for_take_off(lambda: guard.hold(first), stop, say, poll_s)
    pauser = Pauser(guard, say) if guard is not None else None
    if pauser is not None:  # a hold must act within a few metres of flight
        poll_s = min(poll_s, 0.05)
    v = link.vehicle
    v.set_mode("GUIDED")
    v.arm()
    v.mission_start()
    t_armed = time.monotonic()
    airborne = False
    jumped = resume_seq is None
    reason = ""
    rtl_sent = False
    pump_stopped = False
    link_lost = False
    last_swath_end = ms.swaths[-1].end_seq if ms.swaths else 0
    while True:
        if on_tick:
            on_tick(watch)
        # FlightLimits is frozen: its link_timeout_s is read-only, which _Limits (a settable
        # attribute) does not say, though alive() only reads it
        if not link.alive(watch, cast("_Limits", limits)):
            link_lost = True  # the vehicle flies on by itself; a finished sortie still counts
            if time.monotonic() - watch.last_heartbeat > limits.link_giveup_s:
                reason = reason or f"link lost for more than {limits.link_giveup_s:.0f} s"
                break
            time.sleep(poll_s)
            continue
        v = link.vehicle
        if watch.armed and watch.rel_alt_m > 0.5:
            airborne = True
        if not jumped and airborne and watch.last_reached >= 1:
            v.set_current(resume_seq)  # type: ignore[arg-type]
            jumped = True
        if stop.is_set() and not rtl_sent:
            rtl_sent = True
            reason = reason or "stopped by the operator (RTL)"
            try:
                v.set_mode("RTL")
            except MissionError as exc:
                reason += f"; RTL not confirmed: {exc}"
        if pauser is not None and airborne:
            pauser.poll(v, watch.mode)
        if watch.mode in ("RTL", "LAND") and watch.last_reached < last_swath_end:
            if not rtl_sent:
                texts = "; ".join(list(watch.statustext)[-3:])
                reason = reason or f"vehicle switched to {watch.mode}" + (f" ({texts})" if texts else "")
            if not pump_stopped:
                pump_stopped = _stop_pump(v)
        if airborne and not watch.armed:
            break
        if not airborne and not watch.armed and time.monotonic() - t_armed > 3.0:
            raise MissionError(
                "the vehicle disarmed before taking off: " + ("; ".join(watch.statustext) or "no reason given")
            )
        if not airborne and time.monotonic() - t_armed > limits.takeoff_timeout_s:
            raise MissionError(f"no take-off within {limits.takeoff_timeout_s:.0f} s of arming")
        time.sleep(poll_s)
    complete = watch.last_reached >= last_swath_end and not reason
    result = SortieResult(
        sortie=ms.sortie,
        complete=complete,
        reason=reason,
        last_reached=watch.last_reached,
        link_lost=link_lost,
        statustext=list(watch.statustext),
    )
    if not complete:
        result.resume_seq = ms.resume_seq(watch.last_reached)
        cut = next((s for s in ms.swaths if watch.last_reached < s.end_seq), None)
        if cut is not None:
            result.resume_leg = cut.leg
            if watch.last_reached >= cut.start_seq:  # stopped inside this swath
                result.breakpoint = watch.last_spray
    return result
