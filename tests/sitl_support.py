"""Helpers for flying plans on ArduPilot's own Copter SITL in tests.

`start_for(plan_dir)` starts SITL at the plan's reload point with a battery sized from the
plan's drone. `Observer` is a second ground station on SITL's second MAVLink port (a
plain pymavlink link, as another laptop on the field would be) that tells a test where the
copter is in its mission and plays tricks on it (a forced failsafe). `Relay` sits between
`agrodrone` and SITL on real TCP sockets and goes silent on demand: a radio link that drops
out, which SITL itself cannot do.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

from pymavlink import mavutil

import sim

SPEEDUP = 20.0
mavlink = mavutil.mavlink


def load_plan(plan_dir: Path) -> dict:
    return json.loads((plan_dir / "plan.json").read_text(encoding="utf-8"))


def start_for(plan_dir: Path, *, speedup: float = SPEEDUP) -> sim.SitlProcess:
    """SITL at the plan's reload point with a battery for the plan's drone."""
    return sim.start_sitl(speedup=speedup, **sim.sitl_for_plan(load_plan(plan_dir)))


class Observer:
    """A second ground station on SITL's port +2 (or at `url`: the embedded simulator takes a
    second client on its own port), reading in a thread."""

    def __init__(self, handle: sim.SitlProcess | None = None, url: str | None = None) -> None:
        assert handle is not None or url is not None
        self.link = mavutil.mavlink_connection(
            url or f"tcp:127.0.0.1:{handle.port + 2}",  # type: ignore[union-attr]
            source_system=250,
            source_component=191,
            autoreconnect=False,
        )
        hb = self.link.wait_heartbeat(timeout=30)
        assert hb is not None, "no heartbeat on SITL's second port"
        self.sysid, self.compid = hb.get_srcSystem(), hb.get_srcComponent()
        self.mode = hb.custom_mode
        self.armed = False
        self.seq = 0
        self.pump_pwm = 0
        self.params: dict[str, float] = {}
        self._stop = threading.Event()
        self.link.mav.request_data_stream_send(self.sysid, self.compid, mavlink.MAV_DATA_STREAM_ALL, 4, 1)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                m = self.link.recv_match(blocking=True, timeout=0.2)
            except OSError:
                return
            if m is None or m.get_srcSystem() != self.sysid:
                continue
            kind = m.get_type()
            if kind == "HEARTBEAT" and m.get_srcComponent() == self.compid:
                self.mode = m.custom_mode
                self.armed = bool(m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            elif kind == "MISSION_CURRENT":
                self.seq = m.seq
            elif kind == "SERVO_OUTPUT_RAW":
                self.pump_pwm = m.servo9_raw
            elif kind == "PARAM_VALUE":
                self.params[m.param_id] = m.param_value

    def wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def wait_spraying(self, min_seq: int = 6, timeout: float = 120.0) -> None:
        """Until the copter is in AUTO past item `min_seq` with the pump running."""
        self.wait(
            lambda: self.armed and self.mode == 3 and self.seq >= min_seq and self.pump_pwm > 1050,
            timeout,
            f"spraying past mission item {min_seq}",
        )

    def wait_swath_start(self, min_seq: int, timeout: float = 120.0) -> None:
        """Until the pump switches on at the start of a swath past item `min_seq`: the most
        time (the whole swath) before the copter reaches that swath's end."""
        self.wait(
            lambda: self.armed and self.mode == 3 and self.seq >= min_seq and self.pump_pwm <= 1050,
            timeout,
            f"the pump off between swaths past mission item {min_seq}",
        )
        self.wait(lambda: self.pump_pwm > 1050, timeout, "the pump on at the next swath's start")

    def force_battery_failsafe(self, min_seq: int = 20, timeout: float = 300.0) -> None:
        """At the start of a swath past item `min_seq`: a battery that suddenly counts as low, so
        ArduPilot's own low-battery failsafe (RTL) cuts the sortie in the middle of a swath;
        the next battery (after the RTL) is a good one again."""
        low = self.get_param("BATT_LOW_MAH")
        self.wait_swath_start(min_seq=min_seq, timeout=timeout)
        self.set_param("BATT_LOW_MAH", self.get_param("BATT_CAPACITY") + 1000)
        self.wait(lambda: self.mode == 6, 60, "the failsafe RTL")
        self.set_param("BATT_LOW_MAH", low)

    def set_param(self, name: str, value: float, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        self.params.pop(name, None)
        while self.params.get(name) != value:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} not set to {value}")
            self.link.mav.param_set_send(
                self.sysid, self.compid, name.encode(), float(value), mavlink.MAV_PARAM_TYPE_REAL32
            )
            time.sleep(0.5)

    def get_param(self, name: str, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        self.params.pop(name, None)
        while name not in self.params:
            if time.monotonic() > deadline:
                raise AssertionError(f"no value for {name}")
            self.link.mav.param_request_read_send(self.sysid, self.compid, name.encode(), -1)
            time.sleep(0.5)
        return self.params[name]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.link.close()

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Relay:
    """A TCP relay to `target_port` that forwards both ways until told to go silent."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp:127.0.0.1:{self.server.getsockname()[1]}"
        self._silent_until = 0.0
        self._closed = threading.Event()
        self._socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def silence(self, seconds: float) -> None:
        """Drop every byte both ways for `seconds` of wall time (the sockets stay open)."""
        self._silent_until = time.monotonic() + seconds

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        while not self._closed.is_set():
            try:
                data = src.recv(65536)
            except OSError:
                break
            if not data:
                break
            if time.monotonic() >= self._silent_until:
                try:
                    dst.sendall(data)
                except OSError:
                    break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._closed.set()
        self.server.close()
        for s in self._socks:
            s.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
