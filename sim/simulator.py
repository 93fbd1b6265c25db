"""The simulator loop: simulated time, the physics tick, the links, streams and ground truth."""

from __future__ import annotations

import math
import threading
import time

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim import messages, modes
from sim.commands import CommandHandler
from sim.config import SimConfig
from sim.errors import SimError
from sim.events import (
    SEV_INFO,
    Event,
    HomeChanged,
    MissionCurrentChanged,
    MissionItemReached,
    ModeChanged,
    ParamChanged,
    StatusText,
)
from sim.link import LinkServer, Peer
from sim.mission import FENCE, HOME_PLACEHOLDER, MISSION, RALLY
from sim.params import ParamStore, default_params
from sim.signing import VehicleSigning
from sim.transfer import MissionTransfers
from sim.truth import Truth, TruthRecorder
from sim.vehicle import Copter

MIN_LOOP_WALL_S = 0.004  # the loop wakes at most ~250 times a wall second
MAX_LAG_SIM_S = 2.0  # if the machine cannot keep up, simulated time slows down rather than jumps
PARAM_BURST = 40  # PARAM_VALUEs sent per loop while answering PARAM_REQUEST_LIST


class Simulator:
    """One simulated copter behind a MAVLink server; run() is the loop, start() runs it in a thread."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.cut_until: float | None = None  # SimHandle.cut_link
        self.params = ParamStore(
            default_params(
                battery_mah=cfg.battery_mah,
                battery_cells=cfg.battery_cells,
                tank_l=cfg.tank_l,
                pump_max_l_min=cfg.pump_max_l_min,
                wind_m_s=cfg.wind_m_s,
                wind_dir_deg=cfg.wind_dir_deg,
                gust_m_s=cfg.gust_m_s,
                speedup=cfg.speedup,
            )
        )
        for name, value in cfg.params:
            if name not in self.params:
                raise SimError(f"parameter {name}: the simulator has no such parameter")
            self.params.set(name, value, notify=False)
        self.sysid = int(self.params["MAV_SYSID"])  # as ArduPilot, read once at boot
        self._rates = cfg.stream_rates()
        self.stores = {MISSION: [HOME_PLACEHOLDER], FENCE: [], RALLY: []}
        self.copter = Copter(cfg, self.params, self.stores)
        try:
            self.truth_recorder = TruthRecorder(cfg.truth_path, cfg.truth_hz)
        except OSError as exc:
            raise SimError(f"cannot write the ground truth to {cfg.truth_path}: {exc.strerror or exc}") from None
        # No calendar of its own: GPS time is the wall clock at start plus the simulated seconds.
        self.unix0 = time.time()
        self.signing = VehicleSigning.at_boot(cfg.signing_key, self.unix0)
        try:
            self.link = LinkServer(
                cfg.listen, cfg.udp_out, cfg.faults, cfg.seed, usb=cfg.usb, signing=self.signing, sysid=self.sysid
            )
        except BaseException:
            self.truth_recorder.discard()
            raise
        self.transfers = MissionTransfers(self)
        self.commands = CommandHandler(self)
        self._dt = 1.0 / cfg.tick_hz
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._param_queues: dict[int, list[int]] = {}  # id(peer) -> param indexes still to send
        self._calls: list = []  # functions other threads want run inside the loop
        self._calls_lock = threading.Lock()
        self.ready = threading.Event()  # set once the position estimate is there
        self.error: BaseException | None = None
        for peer in self.link.peers:  # UDP outputs stream from the start
            self._init_peer(peer)
        self.copter.say(SEV_INFO, "ArduCopter V4.7.0 (agrodrone sim)")
        self.copter.say(SEV_INFO, "Frame: QUAD/X")

    # ------------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        return self.link.port

    @property
    def url(self) -> str:
        return f"tcp:{self.link.host}:{self.link.port}"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self._run_guarded, name="agrodrone-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def call(self, fn) -> None:
        """Run fn(simulator) inside the loop thread (thread-safe way to poke the copter)."""
        with self._calls_lock:
            self._calls.append(fn)

    def _run_guarded(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # keep it for the handle; the thread must not die silently
            self.error = exc
            raise

    def run(self) -> None:
        """The loop, until stop(): physics in fixed steps of sim time, I/O in between."""
        speedup = self.cfg.speedup
        dt = self._dt
        wall0 = time.monotonic()
        sim0 = self.copter.t
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                target = sim0 + (now - wall0) * speedup
                if target - self.copter.t > MAX_LAG_SIM_S:
                    sim0, wall0 = self.copter.t, now  # fall behind gracefully
                    target = self.copter.t
                while self.copter.t + dt <= target + 1e-9:
                    self._tick(dt)
                    # streams go out at the simulated moment they are due, with the state of that
                    # moment, also when a busy machine makes the loop catch up several ticks at once
                    self._send_streams(now)
                self._run_calls()
                self._send_params()
                self.transfers.update(now)
                self.link.flush(now)
                next_step_wall = wall0 + (self.copter.t + dt - sim0) / speedup
                timeout = max(next_step_wall - time.monotonic(), MIN_LOOP_WALL_S)
                received, joined = self.link.poll(min(timeout, 0.05), self._link_cut())
                for peer in joined:
                    self._init_peer(peer)
                for peer, msg in received:
                    self._handle(peer, msg)
                for peer_id in list(self._param_queues):
                    if not any(id(p) == peer_id for p in self.link.peers):
                        self._param_queues.pop(peer_id, None)
        finally:
            self.truth_recorder.close()
            self.link.close()

    def _run_calls(self) -> None:
        if not self._calls:
            return
        with self._calls_lock:
            calls, self._calls = self._calls, []
        for fn in calls:
            fn(self)
        self.drain_outbox()

    # ------------------------------------------------------------------ the tick
    def _tick(self, dt: float) -> None:
        c = self.copter
        c.step(dt)
        self.truth_recorder.record(c, dt)
        if c.ekf_ok and not self.ready.is_set():
            self.signing.gps_time(self.unix0 + c.t)  # AP_RTC set from the GPS at its first fix
            self.ready.set()
        self.drain_outbox()

    def drain_outbox(self) -> None:
        """Send what the copter reported since the last call, in order. The ground truth looks
        too: a command (arm, a mode) changes the copter between two ticks, at this moment."""
        self.truth_recorder.record(self.copter, 0.0)
        for event in self.copter.take_events():
            self._on_event(event)

    def _on_event(self, event: Event) -> None:
        """One vehicle event: the MAVLink every client hears at once, and the ground-truth line."""
        c = self.copter
        match event:
            case StatusText(severity, text):
                self.broadcast(messages.statustext(severity, text))
                self.truth_recorder.event(c.t, text)
            case MissionItemReached(seq):
                self.broadcast(messages.mission_item_reached(seq))
                self.truth_recorder.event(c.t, f"reached #{seq}")
            case MissionCurrentChanged():
                self.broadcast(messages.mission_current(c))
            case HomeChanged():
                built = messages.home_position(c)
                if built is not None:
                    self.broadcast(built)
            case ParamChanged(name):
                self._broadcast_param(name)
            case ModeChanged(mode):
                self.broadcast(messages.heartbeat(c))
                self.truth_recorder.event(c.t, f"mode {modes.NAMES.get(mode, mode)}")
            case _:
                raise TypeError(f"unknown vehicle event {event!r}")

    def mission_current_changed(self) -> None:
        self.broadcast(messages.mission_current(self.copter))

    def _link_cut(self) -> bool:
        f = self.cfg.faults
        t = self.copter.t
        if self.cut_until is not None and t < self.cut_until:
            return True
        return f.link_cut_at_s is not None and f.link_cut_at_s <= t < f.link_cut_at_s + f.link_cut_s

    # ------------------------------------------------------------------ sending
    def send(self, peer: Peer, msg) -> None:
        if peer.alive:
            peer.send(msg, time.monotonic(), self._link_cut())

    def broadcast(self, msg) -> None:
        now = time.monotonic()
        cut = self._link_cut()
        for peer in self.link.peers:
            if peer.alive:
                peer.send(msg, now, cut)

    def set_rate(self, peer: Peer, name: str, hz: float) -> None:
        """A stream goes out on a grid of its period in simulated time, the same for every
        ground station: two that joined at different moments hear the same samples."""
        interval = 1.0 / hz if hz > 0 else 0.0
        peer.intervals[name] = interval
        step = max(interval, self._stream_floor())
        peer.next_due[name] = math.ceil(self.copter.t / step - 1e-9) * step if step > 0 else self.copter.t

    def _stream_floor(self) -> float:
        """The shortest period a stream may have, in simulated seconds (max_wall_hz)."""
        return self.cfg.speedup / self.cfg.max_wall_hz if self.cfg.max_wall_hz > 0 else 0.0

    def _init_peer(self, peer: Peer) -> None:
        for name, hz in self._rates.items():
            self.set_rate(peer, name, hz)

    def _send_streams(self, now: float) -> None:
        c = self.copter
        t = c.t
        floor = self._stream_floor()
        cut = self._link_cut()
        built: dict[str, object] = {}
        for peer in self.link.peers:
            if not peer.alive:
                continue
            for name, interval in peer.intervals.items():
                if interval <= 0 or t < peer.next_due.get(name, 0.0):
                    continue
                if name not in built:
                    built[name] = messages.STREAM_BUILDERS[name](c)
                msg = built[name]
                step = max(interval, floor)
                due = peer.next_due.get(name, t) + step
                peer.next_due[name] = due if due > t else t + step
                if msg is not None:
                    peer.send(msg, now, cut)

    # ------------------------------------------------------------------ params
    def _param_value(self, name: str):
        p = self.params
        return mavlink.MAVLink_param_value_message(name.encode("ascii"), p[name], p.ptype(name), len(p), p.index(name))

    def _broadcast_param(self, name: str) -> None:
        self.broadcast(self._param_value(name))

    def _send_params(self) -> None:
        if not self._param_queues:
            return
        for peer in list(self.link.peers):
            queue = self._param_queues.get(id(peer))
            if not queue:
                continue
            for _ in range(min(PARAM_BURST, len(queue))):
                name = self.params.name_at(queue.pop(0))
                if name:
                    self.send(peer, self._param_value(name))
            if not queue:
                self._param_queues.pop(id(peer), None)

    # ------------------------------------------------------------------ receiving
    def _handle(self, peer: Peer, msg) -> None:
        kind = msg.get_type()
        if kind == "HEARTBEAT":
            peer.gcs_sysid, peer.gcs_compid = msg.get_srcSystem(), msg.get_srcComponent()
            return
        try:
            if self.transfers.handle(peer, msg):
                pass
            elif kind == "COMMAND_LONG":
                self.commands.command(peer, msg)
            elif kind == "COMMAND_INT":
                self.commands.command(peer, msg, is_int=True)
            elif kind == "SET_MODE":
                self.commands.set_mode_message(peer, msg)
            elif kind == "REQUEST_DATA_STREAM":
                self.commands.request_data_stream(peer, msg)
            elif kind == "SET_POSITION_TARGET_GLOBAL_INT":
                self.commands.position_target(peer, msg)
            elif kind == "PARAM_REQUEST_LIST":
                if msg.target_system in (0, self.sysid):
                    self._param_queues[id(peer)] = list(range(len(self.params)))
            elif kind == "PARAM_REQUEST_READ":
                self._param_read(peer, msg)
            elif kind == "PARAM_SET":
                self._param_set(msg)
            elif kind == "SETUP_SIGNING":
                self.signing.setup_signing(msg, self.sysid)
            # anything else: ignored, as ArduPilot ignores messages it has no handler for
        except (AttributeError, ValueError, TypeError, UnicodeDecodeError, OverflowError):
            # a well-framed message with nonsense in it must not take the vehicle down
            return
        self.drain_outbox()

    @staticmethod
    def _param_name(raw) -> str:
        if isinstance(raw, bytes):
            raw = raw.decode("ascii", "replace")
        return raw.split("\x00", 1)[0].strip()

    def _param_read(self, peer: Peer, msg) -> None:
        if msg.target_system not in (0, self.sysid):
            return
        name = self._param_name(msg.param_id) if msg.param_index < 0 else self.params.name_at(msg.param_index)
        if name and name in self.params:
            self.send(peer, self._param_value(name))

    def _param_set(self, msg) -> None:
        if msg.target_system not in (0, self.sysid):
            return
        name = self._param_name(msg.param_id)
        if name not in self.params or name in ("MIS_TOTAL", "SIM_SPEEDUP"):
            if name in self.params:  # read-only: answer with the value kept
                self._broadcast_param(name)
            return
        self.params.set(name, msg.param_value)
        self._broadcast_param(name)

    # ------------------------------------------------------------------ ground truth
    def truth(self) -> Truth:
        return self.truth_recorder.snapshot()
