"""Start ArduPilot's own Copter SITL (named by ARDUPILOT_SITL) set up as a sprayer, and stop it.

Nothing here downloads or builds ArduPilot: point ARDUPILOT_SITL at an `arducopter` binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sim.config import DEFAULT_HOME
from sim.errors import SimError
from sim.params import PUMP_SERVO, SPINNER_SERVO

BASE_PORT = 5760

SPRAYER_DEFAULTS = {
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
    "BATT_FS_LOW_ACT": 2,
}


def sitl_binary() -> str | None:
    """The SITL binary from ARDUPILOT_SITL, if it is set."""
    return os.environ.get("ARDUPILOT_SITL") or None


def defaults_text(extra: dict[str, float] | None = None) -> str:
    """The parameter file handed to SITL with --defaults (one `NAME VALUE` a line)."""
    values = {**SPRAYER_DEFAULTS, **(extra or {})}
    return "".join(f"{k} {v}\n" for k, v in values.items())


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_instance() -> int:
    # SITL instance I serves MAVLink on 5760+10*I (and 5762/5763 +10*I); pick one whose ports are free
    for instance in range(1, 60):
        base = BASE_PORT + 10 * instance
        if all(_port_free(base + k) for k in (0, 2, 3)):
            return instance
    raise SimError("no free SITL instance port between 5770 and 6350")


class SitlProcess:
    """A running ArduCopter SITL; .url is where a ground station connects."""

    def __init__(self, proc: subprocess.Popen, workdir: str, port: int) -> None:
        self.proc = proc
        self.workdir = workdir
        self.port = port
        self.url = f"tcp:127.0.0.1:{port}"

    def truth(self):
        """The real SITL keeps its own ground truth (its logs); none is available in-process."""
        return None

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until SITL reports a position (GLOBAL_POSITION_INT with a non-zero fix)."""
        from pymavlink import mavutil

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SimError(f"SITL exited with status {self.proc.returncode}: see {self.workdir}/sitl.log")
            try:
                link = mavutil.mavlink_connection(self.url, source_system=254, autoreconnect=False)
            except OSError:
                time.sleep(0.5)
                continue
            try:
                link.wait_heartbeat(timeout=10)
                link.mav.request_data_stream_send(link.target_system, link.target_component,
                                                  mavutil.mavlink.MAV_DATA_STREAM_POSITION, 4, 1)
                while time.monotonic() < deadline:
                    msg = link.recv_match(type="GLOBAL_POSITION_INT", blocking=True, timeout=2)
                    if msg is not None and (msg.lat != 0 or msg.lon != 0):
                        return True
                    if self.proc.poll() is not None:
                        break
            finally:
                link.close()
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "SitlProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_sitl(*, binary: str | None = None, speedup: float = 1.0,
               home: tuple[float, float, float] = DEFAULT_HOME, params: dict[str, float] | None = None,
               wait: bool = True, timeout: float = 180.0) -> SitlProcess:
    """Start `arducopter --model quad` wiped, with the sprayer simulation on, and wait until ready."""
    binary = binary or sitl_binary()
    if not binary:
        raise SimError("ARDUPILOT_SITL is not set: name an ArduCopter SITL binary (arducopter)")
    if not Path(binary).is_file() or not os.access(binary, os.X_OK):
        raise SimError(f"ARDUPILOT_SITL={binary}: not an executable file")
    workdir = tempfile.mkdtemp(prefix="agrodrone-sitl-")
    defaults = Path(workdir) / "sprayer.parm"
    defaults.write_text(defaults_text(params), encoding="utf-8")
    instance = _free_instance()
    lat, lon, alt = home
    cmd = [binary, "--model", "quad", "--speedup", str(speedup), "--defaults", str(defaults), "-w",
           "--home", f"{lat},{lon},{alt},0", "-I", str(instance), "--serial0", "tcp:0"]
    log = open(Path(workdir) / "sitl.log", "wb")
    try:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as exc:
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise SimError(f"cannot start SITL {binary}: {exc}") from None
    log.close()
    handle = SitlProcess(proc, workdir, BASE_PORT + 10 * instance)
    if wait:
        try:
            ok = handle.wait_ready(timeout)
        except BaseException:
            handle.stop()
            raise
        if not ok:
            handle.stop()
            raise SimError(f"SITL gave no position within {timeout:.0f} s")
    return handle
