"""Start ArduPilot's own Copter SITL (named by ARDUPILOT_SITL) set up as a spray drone, and stop it.

Nothing here downloads or builds ArduPilot: point ARDUPILOT_SITL at an `arducopter` binary.
It is started as ArduPilot's README says (`--model +`, wiped with `-w`, SERIAL0 a TCP server)
with the defaults below instead of ArduPilot's `copter.parm`, so a checkout needs nothing
else: the frame, the accelerometer calibration the pre-arm checks want, an analog battery
monitor, the sprayer on SERVO9 and SITL's sprayer simulation.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from sim.config import DEFAULT_HOME
from sim.errors import SimError
from sim.params import PUMP_SERVO, SPINNER_SERVO

BASE_PORT = 5760

# What ArduPilot's copter.parm sets that a wiped SITL needs to arm: a frame class
# (else "PreArm: Motors: Check frame class and type"), accelerometer offsets and scales
# that count as calibrated (else "3D Accel calibration needed"), and a battery monitor.
VEHICLE_DEFAULTS: dict[str, float] = {
    "FRAME_CLASS": 1,  # quad
    "FRAME_TYPE": 0,  # plus, matching --model +
    "BATT_MONITOR": 4,  # analog voltage and current
    **{
        f"INS_ACC{n}{kind}_{axis}": value
        for n in ("", "2")
        for kind, value in (("OFFS", 0.001), ("SCAL", 1.001))
        for axis in "XYZ"
    },
}

SPRAYER_DEFAULTS: dict[str, float] = {
    "SPRAY_ENABLE": 1,
    f"SERVO{PUMP_SERVO}_FUNCTION": 22,
    f"SERVO{PUMP_SERVO}_MIN": 1000,
    f"SERVO{PUMP_SERVO}_MAX": 2000,
    f"SERVO{SPINNER_SERVO}_FUNCTION": 23,
    f"SERVO{SPINNER_SERVO}_MIN": 1000,
    f"SERVO{SPINNER_SERVO}_MAX": 2000,
    "SIM_SPR_ENABLE": 1,
    "SIM_SPR_PUMP": PUMP_SERVO,
    "SIM_SPR_SPIN": SPINNER_SERVO,
    "BATT_FS_LOW_ACT": 2,  # RTL on a low battery, as a spray drone is set up
}

# SITL's "+" quad hovers on about 30.5 A at 12.6 V (measured on ArduCopter 4.7 SITL with
# BATT_MONITOR 4); cruising at spray speed draws about the same. BATT_CAPACITY for an
# endurance of E seconds is therefore HOVER_CURRENT_A * E / 3.6 mAh.
HOVER_CURRENT_A = 30.5


def battery_params(endurance_s: float, low_s: float) -> dict[str, float]:
    """Battery parameters that give SITL's quad a spray drone's endurance: the capacity that
    lasts `endurance_s` from full, and the low-battery failsafe (RTL) when `low_s` is left.
    For a plan: its drone's endurance, and less than its battery reserve."""
    mah_per_s = HOVER_CURRENT_A / 3.6
    return {"BATT_CAPACITY": round(mah_per_s * endurance_s), "BATT_LOW_MAH": round(mah_per_s * low_s)}


def battery_params_for_plan(plan) -> dict[str, float]:
    """SITL's battery for a plan's drone (a planner.PlanDocument or a plan.json dict).
    SITL's quad draws the same current whatever its load, so it is sized by time: the
    drone's endurance, or the plan's longest sortie plus its reserve when a light tank lets a
    sortie fly longer than that; the failsafe at half the reserve, below what the planner keeps."""
    from planner import as_document

    doc = as_document(plan)
    reserve = float(doc.params.battery_reserve_s or 60.0)
    longest = max((float(s.flight_time_s or 0.0) for s in doc.sorties), default=0.0)
    assert doc.drone is not None  # SITL is sized from the plan's drone section
    return battery_params(max(float(doc.drone.endurance_s or 600.0), longest + reserve), reserve / 2)


TERRAIN_SPACING_M = 5  # SITL's terrain grid for a hill plan: 28 x 32 points a block, 140 x 160 m


def sitl_for_plan(plan, altitude_m: float = 30.0, drone: int | None = None) -> dict:
    """`start_sitl` settings that put SITL at a plan's reload point with its drone's battery and,
    for a terrain plan, over its ground: home at the DEM's height there, SIM_TERRAIN on (SITL's
    ground is then the terrain `fly` serves it) on a grid fine enough for a hill. For one
    `drone` of a plan for several: its part's reload point and battery, and MAV_SYSID = drone."""
    from planner import as_document

    doc = as_document(plan)
    if drone is not None:
        doc = doc.for_drone(drone)
    params = battery_params_for_plan(doc)
    if drone is not None:
        params["MAV_SYSID"] = drone
    if doc.terrain is not None:
        altitude_m = float(doc.terrain.reload_elev_m)
        params.update({"SIM_TERRAIN": 1, "TERRAIN_SPACING": TERRAIN_SPACING_M})
    return {"home": (doc.reload.lat, doc.reload.lon, altitude_m), "params": params}


def sitl_binary() -> str | None:
    """The SITL binary from ARDUPILOT_SITL, if it is set."""
    return os.environ.get("ARDUPILOT_SITL") or None


def skip_reason() -> str | None:
    """Why SITL tests cannot run here, or None when they can."""
    binary = sitl_binary()
    if not binary:
        return "ARDUPILOT_SITL is not set (name an ArduCopter SITL binary to fly the real ArduPilot)"
    if not Path(binary).is_file() or not os.access(binary, os.X_OK):
        return f"ARDUPILOT_SITL={binary} is not an executable file"
    return None


def defaults_text(extra: dict[str, float] | None = None) -> str:
    """The parameter file handed to SITL with --defaults (one `NAME VALUE` a line)."""
    values = {**VEHICLE_DEFAULTS, **SPRAYER_DEFAULTS, **(extra or {})}
    return "".join(f"{k} {v}\n" for k, v in values.items())


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_instances(first: int = 1):
    """SITL instance I serves MAVLink on 5760+10*I (also +2, +3) and its physics on UDP
    5501+10*I; yield the instances whose ports look free and that no SITL of ours holds (a
    race with another program's starter is caught when SITL fails to bind, and the next
    instance is tried)."""
    ours = {h.instance for h in _RUNNING}
    for instance in range(first, 60):
        base = BASE_PORT + 10 * instance
        if instance not in ours and all(_port_free(base + k) for k in (0, 2, 3)):
            yield instance


_RUNNING: set[SitlProcess] = set()
# Held from choosing an instance until its SITL listens: two threads starting SITL at once
# would otherwise both pick the first free instance, and the one whose SITL cannot bind
# would find the other's port listening and take it for its own.
_LAUNCHING = threading.Lock()


@atexit.register
def _stop_all() -> None:  # a test run that dies still leaves no SITL behind
    for handle in list(_RUNNING):
        handle.stop()


class SitlProcess:
    """A running ArduCopter SITL; .url is where a ground station connects."""

    def __init__(self, proc: subprocess.Popen, workdir: str, instance: int, speedup: float) -> None:
        self.proc = proc
        self.workdir = workdir
        self.instance = instance
        self.port = BASE_PORT + 10 * instance
        self.speedup = speedup
        self.url = f"tcp:127.0.0.1:{self.port}"
        _RUNNING.add(self)

    def truth(self):
        """The real SITL keeps its own ground truth (its logs); none is available in-process."""
        return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (Path(self.workdir) / "sitl.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _listening(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until SITL reports a position and its pre-arm checks pass (SYS_STATUS's
        PREARM_CHECK bit, what a ground station shows as "ready to arm")."""
        from pymavlink import mavutil

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SimError(f"SITL exited with status {self.proc.returncode}:\n{self.log_tail()}")
            if not self._listening():
                time.sleep(0.2)
                continue
            link = mavutil.mavlink_connection(self.url, source_system=254, autoreconnect=False)
            try:
                if link.wait_heartbeat(timeout=10) is None:
                    continue
                link.mav.request_data_stream_send(
                    link.target_system, link.target_component, mavutil.mavlink.MAV_DATA_STREAM_ALL, 4, 1
                )
                positioned = ready = False
                while time.monotonic() < deadline and not (positioned and ready):
                    msg = link.recv_match(type=["GLOBAL_POSITION_INT", "SYS_STATUS"], blocking=True, timeout=2)
                    if msg is None:
                        if self.proc.poll() is not None:
                            break
                        continue
                    if msg.get_type() == "GLOBAL_POSITION_INT":
                        positioned = positioned or msg.lat != 0 or msg.lon != 0
                    else:
                        ready = bool(msg.onboard_control_sensors_health & mavutil.mavlink.MAV_SYS_STATUS_PREARM_CHECK)
                if positioned and ready:
                    return self.proc.poll() is None  # not another SITL that answered on our port
            except OSError:
                time.sleep(0.5)
            finally:
                link.close()
        return False

    def stop(self, *, keep_workdir: bool = False) -> None:
        """Stop SITL (its whole process group) and remove its working folder."""
        _RUNNING.discard(self)
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SitlProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _launch(
    binary: str, workdir: str, instance: int, speedup: float, home: tuple[float, float, float], defaults: Path
) -> SitlProcess:
    lat, lon, alt = home
    cmd = [
        binary,
        "-w",
        "--model",
        "+",
        "--serial0",
        "tcp:0",
        "--speedup",
        f"{speedup:g}",
        "-I",
        str(instance),
        "--home",
        f"{lat},{lon},{alt},0",
        "--defaults",
        str(defaults),
    ]
    with open(Path(workdir) / "sitl.log", "wb") as log:
        try:
            proc = subprocess.Popen(
                cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        except OSError as exc:
            raise SimError(f"cannot start SITL {binary}: {exc}") from None
    return SitlProcess(proc, workdir, instance, speedup)


def start_sitl(
    *,
    binary: str | None = None,
    speedup: float = 10.0,
    home: tuple[float, float, float] = DEFAULT_HOME,
    params: dict[str, float] | None = None,
    wait: bool = True,
    timeout: float = 180.0,
) -> SitlProcess:
    """Start ArduCopter SITL wiped, as a spray quad, on a free instance; wait until it is
    ready to arm. `params` are added to (or override) the defaults above."""
    binary = binary or sitl_binary()
    if not binary:
        raise SimError("ARDUPILOT_SITL is not set: name an ArduCopter SITL binary (arducopter)")
    if not Path(binary).is_file() or not os.access(binary, os.X_OK):
        raise SimError(f"ARDUPILOT_SITL={binary}: not an executable file")
    workdir = tempfile.mkdtemp(prefix="agrodrone-sitl-")
    defaults = Path(workdir) / "agrodrone.parm"
    defaults.write_text(defaults_text(params), encoding="utf-8")
    handle = None
    try:
        with _LAUNCHING:
            for instance in _free_instances():
                handle = _launch(binary, workdir, instance, speedup, home, defaults)
                deadline = time.monotonic() + 20.0
                while handle.proc.poll() is None and not handle._listening() and time.monotonic() < deadline:
                    time.sleep(0.1)
                if handle.proc.poll() is None and handle._listening():
                    break
                handle.stop(keep_workdir=True)
                handle = None
        if handle is None:
            raise SimError("no free SITL instance: ports 5770-6350 are taken")
        if wait and not handle.wait_ready(timeout):
            raise SimError(f"SITL was not ready to arm within {timeout:.0f} s:\n{handle.log_tail()}")
    except BaseException:
        if handle is not None:
            handle.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return handle
