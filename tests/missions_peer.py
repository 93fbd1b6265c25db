"""A scripted MAVLink vehicle for the missions tests and bench (not a simulator).

It listens on a real TCP socket on 127.0.0.1 and speaks real MAVLink 2 (pymavlink,
ardupilotmega) the way ArduCopter does for what missions/ uses: heartbeat, a
position that stays 0,0 while "booting", the mission protocol per mission_type as in
ArduPilot's MissionItemProtocol (MISSION_REQUEST like 4.7, 1 s re-request, 8 s
upload timeout -> OPERATION_CANCELLED, INVALID_SEQUENCE for a repeated item, ERROR
for an item when no upload is open, item 0 reported as its own home), PARAM_SET /
PARAM_VALUE, and COMMAND_LONG for arming, modes, mission start and current item.

Faults, from a seeded random generator, on both directions: `loss` (drop),
`duplicate`, `reorder` (hold a message back behind the next one) and `delay_s`.
`silent` stops all answers except heartbeats; `fail_count_with` answers every
MISSION_COUNT with that MISSION_ACK result; `scramble` asks for items in a shuffled
order with repeats (allowed by the protocol, not what ArduPilot does).
"""

from __future__ import annotations

import os
import random
import select
import socket
import threading
import time
from dataclasses import dataclass, field

os.environ.setdefault("MAVLINK20", "1")
from pymavlink.dialects.v20 import ardupilotmega as mavlink  # noqa: E402

_INT_FRAME_BASE = {5: 0, 6: 3, 11: 10}


@dataclass
class Faults:
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay_s: float = 0.0
    seed: int = 0


@dataclass
class _List:
    items: list = field(default_factory=list)
    receiving: bool = False
    request_i: int = 0
    request_last: int = -1
    staged: list = field(default_factory=list)
    last_receive: float = 0.0
    last_request: float = 0.0
    order: list = field(default_factory=list)  # scramble mode: seqs still to ask for


class ScriptedVehicle:
    """Start with `with ScriptedVehicle(...) as peer:`; connect to `peer.url`."""

    def __init__(
        self,
        *,
        faults: Faults | None = None,
        boot_s: float = 0.0,
        silent: bool = False,
        fail_count_with: int | None = None,
        scramble: bool = False,
        max_items: int = 724,
        rerequest_s: float = 1.0,
        upload_timeout_s: float = 8.0,
        home: tuple[float, float] = (21.7046, 105.7312),
        sysid: int = 1,
        compid: int = 1,
        known_params: dict[str, float] | None = None,
    ) -> None:
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.boot_s, self.silent, self.fail_count_with = boot_s, silent, fail_count_with
        self.scramble, self.max_items = scramble, max_items
        self.rerequest_s, self.upload_timeout_s = rerequest_s, upload_timeout_s
        self.home = home
        self.mav = mavlink.MAVLink(None, srcSystem=sysid, srcComponent=compid)
        self.mav.robust_parsing = True
        self.lists = {0: _List(), 1: _List(), 2: _List()}
        self.params: dict[str, float] = {
            "SPRAY_ENABLE": 0,
            "SPRAY_PUMP_RATE": 10,
            "SPRAY_SPEED_MIN": 100,
            "SPRAY_PUMP_MIN": 0,
            "SERVO9_FUNCTION": 0,
            "WPNAV_SPEED": 1000,
            "WPNAV_RADIUS": 200,
            "FENCE_ENABLE": 0,
            "FENCE_TYPE": 7,
            "FENCE_ACTION": 1,
            "FENCE_ALT_MAX": 100,
        }
        if known_params:
            self.params.update(known_params)
        self.custom_mode, self.armed, self.current_seq = 0, False, 0
        self.received: list[str] = []  # types of every message that got through
        self.counts = {"requests_sent": 0, "dropped_in": 0, "dropped_out": 0}
        self._srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(1)
        self.port = self._srv.getsockname()[1]
        self.url = f"tcp:127.0.0.1:{self.port}"
        self._sock: socket.socket | None = None
        self._out: list[tuple[float, bytes]] = []  # (send time, frame)
        self._held: bytes | None = None
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="scripted-vehicle", daemon=True)
        self._thread.start()

    # -- lifecycle
    def __enter__(self) -> ScriptedVehicle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        for s in (self._sock, self._srv):
            if s is not None:
                s.close()

    @property
    def booted(self) -> bool:
        return time.monotonic() - self._t0 >= self.boot_s

    # -- sending with faults
    def send(self, msg, *, reliable: bool = False) -> None:
        frame = msg.pack(self.mav)
        f = self.faults
        if not reliable and self.rng.random() < f.loss:
            self.counts["dropped_out"] += 1
            return
        copies = 2 if (not reliable and self.rng.random() < f.duplicate) else 1
        for _ in range(copies):
            if not reliable and self._held is None and self.rng.random() < f.reorder:
                self._held = frame  # goes out after the next message
                continue
            self._out.append((time.monotonic() + f.delay_s, frame))
            if self._held is not None:
                self._out.append((time.monotonic() + f.delay_s, self._held))
                self._held = None

    def _flush(self) -> None:
        now = time.monotonic()
        ready = [fr for t, fr in self._out if t <= now]
        self._out = [(t, fr) for t, fr in self._out if t > now]
        if self._held is not None and not self._out:
            ready.append(self._held)
            self._held = None
        if ready and self._sock is not None:
            try:
                self._sock.sendall(b"".join(ready))
            except OSError:
                self._drop_client()

    def _drop_client(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    # -- main loop
    def _run(self) -> None:
        next_hb = next_pos = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if self._sock is None:
                r, _, _ = select.select([self._srv], [], [], 0.02)
                if r:
                    self._sock, _ = self._srv.accept()
                    self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                continue
            if now >= next_hb:
                next_hb = now + 1.0
                base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (
                    mavlink.MAV_MODE_FLAG_SAFETY_ARMED if self.armed else 0
                )
                self.send(
                    mavlink.MAVLink_heartbeat_message(
                        mavlink.MAV_TYPE_HEXAROTOR,
                        mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                        base,
                        self.custom_mode,
                        mavlink.MAV_STATE_STANDBY,
                        3,
                    ),
                    reliable=True,
                )
            if now >= next_pos:
                next_pos = now + 0.25
                lat, lon = self.home if self.booted else (0.0, 0.0)
                self.send(
                    mavlink.MAVLink_global_position_int_message(
                        int((now - self._t0) * 1000), int(lat * 1e7), int(lon * 1e7), 0, 0, 0, 0, 0, 0
                    ),
                    reliable=True,
                )
            self._timers(now)
            self._flush()
            if self._sock is None:  # the client went away while we were sending
                continue
            wait = 0.01 if self._out or self._held else 0.05
            try:
                r, _, _ = select.select([self._sock], [], [], wait)
            except (OSError, ValueError, TypeError):
                self._drop_client()
                continue
            if not r:
                continue
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._drop_client()
                continue
            for m in self.mav.parse_buffer(data) or []:
                if m.get_type() == "BAD_DATA":
                    continue
                if self.rng.random() < self.faults.loss:
                    self.counts["dropped_in"] += 1
                    continue
                self.received.append(m.get_type())
                self._handle(m)
            self._flush()

    # -- ArduPilot behaviour
    def _ack(self, m, result: int, mt: int) -> None:
        self.send(mavlink.MAVLink_mission_ack_message(m.get_srcSystem(), m.get_srcComponent(), result, mt))

    def _request(self, lst: _List, mt: int, seq: int) -> None:
        self.counts["requests_sent"] += 1
        lst.last_request = time.monotonic()
        self.send(mavlink.MAVLink_mission_request_message(255, 190, seq, mt))

    def _next_wanted(self, lst: _List) -> int:
        return lst.order[0] if self.scramble and lst.order else lst.request_i

    def _timers(self, now: float) -> None:
        for mt, lst in self.lists.items():
            if not lst.receiving:
                continue
            if now - lst.last_receive > self.upload_timeout_s:
                lst.receiving = False
                self.send(mavlink.MAVLink_mission_ack_message(255, 190, mavlink.MAV_MISSION_OPERATION_CANCELLED, mt))
            elif now - lst.last_request > self.rerequest_s:
                self._request(lst, mt, self._next_wanted(lst))

    def _handle(self, m) -> None:
        t = m.get_type()
        if not self.booted or (self.silent and t != "HEARTBEAT"):
            return  # booting: requests are ignored, as ArduPilot does before it is ready
        mt = getattr(m, "mission_type", 0)
        if t == "MISSION_COUNT":
            lst = self.lists[mt]
            if self.fail_count_with is not None:
                return self._ack(m, self.fail_count_with, mt)
            if m.count > self.max_items:
                return self._ack(m, mavlink.MAV_MISSION_NO_SPACE, mt)
            lst.staged = [None] * m.count
            if m.count == 0:
                lst.items = []
                return self._ack(m, mavlink.MAV_MISSION_ACCEPTED, mt)
            lst.receiving, lst.request_i, lst.request_last = True, 0, m.count - 1
            lst.last_receive = time.monotonic()
            if self.scramble:
                order = list(range(m.count))
                self.rng.shuffle(order)
                extra = [self.rng.randrange(m.count) for _ in range(max(1, m.count // 5))]
                lst.order = order + extra
            self._request(lst, mt, self._next_wanted(lst))
        elif t in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            lst = self.lists[mt]
            if not lst.receiving:
                return self._ack(m, mavlink.MAV_MISSION_ERROR, mt)
            if m.seq != self._next_wanted(lst):
                return self._ack(m, mavlink.MAV_MISSION_INVALID_SEQUENCE, mt)
            lst.staged[m.seq] = m
            lst.last_receive = time.monotonic()
            if self.scramble:
                lst.order.pop(0)
                done = not lst.order
            else:
                lst.request_i += 1
                done = lst.request_i > lst.request_last
            if done:
                lst.items = lst.staged
                lst.receiving = False
                return self._ack(m, mavlink.MAV_MISSION_ACCEPTED, mt)
            self._request(lst, mt, self._next_wanted(lst))
        elif t == "MISSION_REQUEST_LIST":
            lst = self.lists[mt]
            if lst.receiving:
                return self._ack(m, mavlink.MAV_MISSION_DENIED, mt)
            self.send(
                mavlink.MAVLink_mission_count_message(m.get_srcSystem(), m.get_srcComponent(), len(lst.items), mt)
            )
        elif t in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            lst = self.lists[mt]
            if lst.receiving:
                return self._ack(m, mavlink.MAV_MISSION_DENIED, mt)
            if m.seq >= len(lst.items):
                return self._ack(m, mavlink.MAV_MISSION_INVALID_SEQUENCE, mt)
            it = lst.items[m.seq]
            x, y, z, frame = it.x, it.y, it.z, _INT_FRAME_BASE.get(it.frame, it.frame)
            if mt == 0 and m.seq == 0:
                x, y, z, frame = int(self.home[0] * 1e7), int(self.home[1] * 1e7), 0.0, 0
            if mt == 0 and it.command >= 100 and it.command < 5000:
                frame = 3  # ArduPilot reports DO commands in its default frame
            self.send(
                mavlink.MAVLink_mission_item_int_message(
                    m.get_srcSystem(),
                    m.get_srcComponent(),
                    m.seq,
                    frame,
                    it.command,
                    0,
                    1,
                    it.param1,
                    it.param2,
                    it.param3,
                    it.param4,
                    x,
                    y,
                    z,
                    mt,
                )
            )
        elif t == "MISSION_CLEAR_ALL":
            lst = self.lists[mt]
            ok = not lst.receiving
            if ok:
                lst.items = []
            self._ack(m, mavlink.MAV_MISSION_ACCEPTED if ok else mavlink.MAV_MISSION_ERROR, mt)
        elif t == "PARAM_SET":
            name = m.param_id if isinstance(m.param_id, str) else m.param_id.decode()
            name = name.rstrip("\x00")
            if name not in self.params:
                return  # ArduPilot is silent about unknown parameters
            value = float(m.param_value)
            if name in (
                "SPRAY_ENABLE",
                "FENCE_ENABLE",
                "FENCE_TYPE",
                "FENCE_ACTION",
                "SPRAY_SPEED_MIN",
                "SPRAY_PUMP_MIN",
            ) or name.endswith("_FUNCTION"):
                value = float(round(value))
            self.params[name] = value
            self._param_value(name)
        elif t == "PARAM_REQUEST_READ":
            name = m.param_id if isinstance(m.param_id, str) else m.param_id.decode()
            name = name.rstrip("\x00")
            if name in self.params:
                self._param_value(name)
        elif t == "COMMAND_LONG":
            self._command(m)

    def _param_value(self, name: str) -> None:
        names = sorted(self.params)
        self.send(
            mavlink.MAVLink_param_value_message(name.encode(), self.params[name], 9, len(names), names.index(name))
        )

    def _command(self, m) -> None:
        c = m.command
        result = mavlink.MAV_RESULT_ACCEPTED
        if c == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
            if m.param1 == 1:
                if self.custom_mode not in (4, 3, 5, 0):
                    result = mavlink.MAV_RESULT_FAILED
                else:
                    self.armed = True
            else:
                self.armed = False
        elif c == mavlink.MAV_CMD_DO_SET_MODE:
            self.custom_mode = int(m.param2)
        elif c == mavlink.MAV_CMD_MISSION_START:
            if not self.armed or len(self.lists[0].items) < 2:
                result = mavlink.MAV_RESULT_FAILED
            else:
                self.custom_mode = 3
        elif c == mavlink.MAV_CMD_DO_SET_MISSION_CURRENT:
            if int(m.param1) >= len(self.lists[0].items):
                result = mavlink.MAV_RESULT_DENIED
            else:
                self.current_seq = int(m.param1)
                self.send(mavlink.MAVLink_mission_current_message(self.current_seq))
        elif c in (mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, mavlink.MAV_CMD_REQUEST_MESSAGE):
            pass
        else:
            result = mavlink.MAV_RESULT_UNSUPPORTED
        self.send(mavlink.MAVLink_command_ack_message(c, result, 0, 0, m.get_srcSystem(), m.get_srcComponent()))

    def stored(self, mt: int = 0):
        return list(self.lists[mt].items)
