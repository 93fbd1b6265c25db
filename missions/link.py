"""A live MAVLink link to one vehicle (pymavlink): heartbeat, ids, listeners, waiting.

One background thread reads the connection.  Every message goes to the listeners
(`listeners=` at birth, `add_listener`: the telemetry recorder, the flight watch) and to
the inboxes of the exchanges waiting for it, so a mission upload and a telemetry
recorder share the link without stealing each other's messages (one connection,
services and listeners on it, as in MAVSDK).  The thread also sends the ground
station's HEARTBEAT once a second (ArduPilot learns a UDP peer's address from it, and
it keeps the GCS failsafe quiet), unless the link is `passive` (only listening, as
`agrodrone log --passive` beside another ground station).

The vehicle's system and component ids come from its heartbeat; pymavlink's guessed
target_component can be 0.  The services are methods here and live in their own
modules: transfer.py (missions, fences, rally points), command.py, params.py; their
resend loop is retry.py's.  Connection strings are checked and opened, and a lost link
opened again (`LinkKeeper`), in connection.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from gettext import gettext as _
from typing import Any

from missions import command as _command
from missions import params as _params
from missions import transfer as _transfer
from missions.connection import (
    GCS_COMPONENT,
    LinkKeeper,  # noqa: F401  (here too: the link layer's keeper)
    LinkUnavailable,
    open_connection,
)
from missions.dialect import mavlink
from missions.errors import MissionError, SigningError
from missions.items import MissionItem
from missions.retry import Inbox, RetryPolicy, RttEstimator
from missions.signing import LINK_ID, SigningKey, SigningMonitor, is_signed
from missions.signing import enable as enable_signing

# The telemetry a spray record needs, in Hz of vehicle time: the one table every ground
# station in agrodrone asks for (fly, log).
STREAM_RATES: dict[str, float] = {
    "GLOBAL_POSITION_INT": 5,
    "SERVO_OUTPUT_RAW": 20,  # the pump's switch points: 5 cm at 1 m/s, 25 cm at 5 m/s
    "GPS_RAW_INT": 2,
    "SYS_STATUS": 1,
    "BATTERY_STATUS": 1,
    "WIND": 1,
    "VFR_HUD": 2,
    "MISSION_CURRENT": 2,
    "ATTITUDE": 2,
    "HOME_POSITION": 0.2,
}


class Vehicle:
    """One vehicle over one pymavlink connection; see the module docstring."""

    def __init__(
        self,
        conn: Any,
        *,
        policy: RetryPolicy | None = None,
        passive: bool = False,
        listeners: Iterable[Callable[[Any], None]] = (),
        key: SigningKey | None = None,
        trusted: bool = False,
        link_id: int = LINK_ID,
    ) -> None:
        self.conn = conn
        self.passive = passive  # send nothing at all, not even the heartbeat
        # a wire to the autopilot's USB port (ArduPilot's channel 0 takes unsigned packets
        # even when it has a key): `key install` may talk unsigned to a vehicle that signs
        self.trusted = trusted
        # signed both ways from the first byte on (before the reader thread starts)
        self.signing: SigningMonitor | None = enable_signing(conn, key, link_id) if key is not None else None
        self.policy = policy or RetryPolicy()
        self.rtt = RttEstimator(self.policy)
        self.target_system = 0
        self.target_component = 0
        self.heartbeat: Any = None
        self.lost: str = ""
        self.stats = {"resends": 0, "duplicates": 0}
        self._send_lock = threading.Lock()
        self._inbox_lock = threading.Lock()
        self._inboxes: list[Inbox] = []
        self._listeners: list[Callable[[Any], None]] = list(listeners)  # from the first message on
        self._closed = threading.Event()
        self.last_message_at = time.monotonic()
        self._last_hb_sent = 0.0
        self.listener_errors: list[str] = []
        conn.handle_eof = self._on_eof  # pymavlink would print and spin on a closed TCP peer
        conn.handle_disconnect = self._on_eof
        self._thread = threading.Thread(target=self._run, name="mavlink-reader", daemon=True)
        self._thread.start()

    # -- connecting -------------------------------------------------------------------
    @classmethod
    def connect(
        cls,
        url: str,
        *,
        timeout: float = 30.0,
        source_system: int = 255,
        source_component: int = GCS_COMPONENT,
        baud: int = 57600,
        policy: RetryPolicy | None = None,
        on_wait: Callable[[str], None] | None = None,
        passive: bool = False,
        listeners: Iterable[Callable[[Any], None]] = (),
        heartbeat: bool = True,
        key: SigningKey | None = None,
        trusted: bool = False,
        link_id: int = LINK_ID,
    ) -> Vehicle:
        """Open a pymavlink connection string (tcp:, udp:, udpout:, serial device) and
        wait up to `timeout` s for the vehicle's heartbeat (not with `heartbeat=False`).

        A refused TCP connection fails at once (nothing listens there); a link that is up
        but silent is a vehicle still booting, and `on_wait` is told once that we wait.
        `listeners` hear every message from the first one on; a `passive` link sends
        nothing (no heartbeat, and `send` refuses). With a `key` the link is signed both
        ways and a vehicle whose packets are not signed with it is refused (SigningError);
        without one, a vehicle that signs is refused too (it would drop what we send)."""
        deadline = time.monotonic() + timeout
        conn = None
        while conn is None:
            try:
                conn = open_connection(url, baud=baud, source_system=source_system, source_component=source_component)
            except LinkUnavailable as exc:
                if exc.refused or time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
        v = cls(conn, policy=policy, passive=passive, listeners=listeners, key=key, trusted=trusted, link_id=link_id)
        if not heartbeat:
            return v
        try:
            if on_wait is not None and v.heartbeat is None:
                try:
                    v.wait_heartbeat(min(2.0, max(0.0, deadline - time.monotonic())))
                except SigningError:
                    raise
                except MissionError:
                    on_wait(
                        _(
                            "connected to {url}; waiting up to {s:.0f} s for the vehicle's heartbeat (still booting?)"
                        ).format(url=url, s=max(0.0, deadline - time.monotonic()))
                    )
            v.wait_heartbeat(max(0.0, deadline - time.monotonic()))
        except BaseException:
            v.close()
            raise
        return v

    def wait_heartbeat(self, timeout: float = 30.0) -> Any:
        """The first heartbeat of an autopilot (not of another ground station).

        On a signed link, heartbeats dropped as unsigned or wrongly signed end the wait
        early with the reason (SigningError) rather than as a silent vehicle."""

        deadline = time.monotonic() + timeout
        m = self.heartbeat
        with self.inbox(["HEARTBEAT"], match=_command.is_autopilot, any_system=True) as box:
            while m is None:
                m = box.get(max(0.0, min(0.25, deadline - time.monotonic())))
                if m is None and self.signing is not None and self.signing.hopeless():
                    raise SigningError(self.signing_refusal())
                if m is None and time.monotonic() >= deadline:
                    break
        if m is None:
            if self.signing is not None and self.signing.refusal():
                raise SigningError(self.signing_refusal())
            raise MissionError(
                _("no heartbeat from a vehicle on {address} within {s:.0f} s").format(
                    address=self.conn.address, s=timeout
                )
            )
        if self.signing is None and not (self.passive or self.trusted) and is_signed(m):
            raise SigningError(
                _(
                    "the vehicle on {address} signs its packets and would drop ours: "
                    "name the drone whose key it has (--drone NAME; `agrodrone key list`)"
                ).format(address=self.conn.address)
            )
        if not self.target_system:
            self.target_system = m.get_srcSystem()
            self.target_component = m.get_srcComponent()
            self.heartbeat = m
        return m

    def wait_position(self, timeout: float = 120.0) -> tuple[float, float, float]:
        return _command.wait_position(self, timeout)

    # -- plumbing ---------------------------------------------------------------------
    def signing_refusal(self) -> str:
        assert self.signing is not None
        return _("refusing the vehicle on {address}: {reason}").format(
            address=self.conn.address, reason=self.signing.refusal() or "?"
        )

    def send(self, msg: Any) -> None:
        if self.passive:
            raise MissionError("a passive link sends nothing (agrodrone log --passive)")
        with self._send_lock:
            self.conn.mav.send(msg)

    def inbox(
        self, types: Iterable[str], *, match: Callable[[Any], bool] | None = None, any_system: bool = False
    ) -> Inbox:
        """Start queueing messages of `types` (from the vehicle, unless any_system) for
        one exchange; use as a context manager, subscribe before sending the request."""
        if not any_system:
            inner = match

            def match(m: Any, _inner: Callable[[Any], bool] | None = inner) -> bool:  # noqa: F811
                if m.get_srcSystem() != self.target_system:
                    return False
                tgt = getattr(m, "target_system", 0)
                if tgt and tgt != self.conn.mav.srcSystem:
                    return False  # meant for another ground station on the same link
                return _inner is None or _inner(m)

        box = Inbox(self, types, match)
        with self._inbox_lock:
            self._inboxes.append(box)
        return box

    def _drop_inbox(self, box: Inbox) -> None:
        with self._inbox_lock:
            if box in self._inboxes:
                self._inboxes.remove(box)

    def add_listener(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(msg)` for every message the link receives (from the reader thread)."""
        with self._inbox_lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[Any], None]) -> None:
        with self._inbox_lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _on_eof(self) -> None:
        self.lost = f"{self.conn.address} closed the connection"
        try:
            self.conn.port.close()
        except Exception:
            pass

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _dispatch(self, m: Any) -> None:
        self.last_message_at = time.monotonic()
        mtype = m.get_type()
        if (
            mtype == "HEARTBEAT"
            and self.target_system
            and m.get_srcSystem() == self.target_system
            and m.get_srcComponent() == self.target_component
        ):
            self.heartbeat = m
        with self._inbox_lock:
            boxes = [b for b in self._inboxes if mtype in b.types]
            listeners = list(self._listeners)
        for b in boxes:
            try:
                if b.match is None or b.match(m):
                    b.q.put(m)
            except AttributeError:
                pass
        for cb in listeners:
            try:
                cb(m)
            except Exception as exc:  # a broken listener must not stop the link
                if len(self.listener_errors) < 20:
                    self.listener_errors.append(f"{getattr(cb, '__name__', cb)}: {exc!r}")

    def _send_heartbeat(self) -> None:
        now = time.monotonic()
        if now - self._last_hb_sent >= 1.0:
            self._last_hb_sent = now
            try:
                self.send(
                    mavlink.MAVLink_heartbeat_message(
                        mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, mavlink.MAV_STATE_ACTIVE, 3
                    )
                )
            except OSError:
                pass

    def _run(self) -> None:
        conn = self.conn
        while not self.lost:
            closing = self._closed.is_set()
            if not self.passive and not closing:
                self._send_heartbeat()
            try:
                m = conn.recv_msg()
            except (OSError, ValueError) as exc:
                if not closing:
                    self.lost = f"{conn.address}: {exc}"
                break
            if m is None:
                if closing:
                    break  # what arrived before close() was dispatched: a logger loses nothing
                conn.select(0.05)
                continue
            self._dispatch(m)
        if self.lost:
            self._drain()

    def _drain(self) -> None:
        """Messages pymavlink had already read when the peer closed the link: dispatched,
        not dropped (a logger keeps everything sent before the close)."""
        for _attempt in range(10_000):
            try:
                m = self.conn.mav.parse_char(b"")
            except Exception:  # a torn last frame: nothing more to get
                return
            if m is None:
                return
            self._dispatch(m)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2.0)
        try:
            self.conn.close()
        except Exception:
            pass

    def __enter__(self) -> Vehicle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services (see transfer.py, command.py, params.py) ------------------------------
    def upload(self, items: list[MissionItem], mission_type: str = "mission") -> _transfer.TransferReport:
        return _transfer.upload(self, items, mission_type)

    def download(self, mission_type: str = "mission") -> list[MissionItem]:
        return _transfer.download(self, mission_type)

    def upload_verified(self, items: list[MissionItem], mission_type: str = "mission") -> _transfer.TransferReport:
        return _transfer.upload_verified(self, items, mission_type)

    def clear(self, mission_type: str = "mission") -> None:
        _transfer.clear(self, mission_type)

    def set_params(self, values: dict[str, float]) -> dict[str, float]:
        return _params.set_params(self, values)

    def get_param(self, name: str) -> float:
        return _params.get_param(self, name)

    def command(self, command: int, *params: float, timeout: float | None = None) -> Any:
        return _command.command_long(self, command, *params, timeout=timeout)

    def set_mode(self, mode: str | int, timeout: float | None = None) -> None:
        _command.set_mode(self, mode, timeout=timeout)

    def arm(self, *, force: bool = False, timeout: float | None = None) -> None:
        _command.arm(self, force=force, timeout=timeout)

    def disarm(self, *, force: bool = False, timeout: float | None = None) -> None:
        _command.disarm(self, force=force, timeout=timeout)

    def mission_start(self, first: int = 0, last: int = 0) -> None:
        _command.mission_start(self, first, last)

    def set_current(self, seq: int) -> None:
        _command.set_current(self, seq)

    def request_message(self, message: str | int, *params: float) -> None:
        _command.request_message(self, message, *params)

    def set_message_interval(self, message: str | int, hz: float) -> None:
        _command.set_message_interval(self, message, hz)

    def request_streams(self, rates: dict[str, float] | None = None) -> None:
        """Ask for the telemetry the record needs (STREAM_RATES); an autopilot that
        refuses one keeps its default rate for it."""
        for name, hz in (rates or STREAM_RATES).items():
            try:
                self.set_message_interval(name, hz)
            except MissionError:
                pass

    @property
    def mode(self) -> str:
        return _command.mode_name(self.heartbeat.custom_mode) if self.heartbeat is not None else ""

    @property
    def armed(self) -> bool:
        return bool(self.heartbeat is not None and self.heartbeat.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
