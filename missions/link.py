"""A live MAVLink link to one vehicle (pymavlink): heartbeat, ids, listeners, waiting.

One background thread reads the connection.  Every message goes to the listeners
(`add_listener`: the telemetry recorder and the progress display) and to the
inboxes of the exchanges waiting for it, so a mission upload and a telemetry
recorder share the link without stealing each other's messages.  The thread also
sends the ground station's HEARTBEAT once a second (ArduPilot learns a UDP peer's
address from it, and it keeps the GCS failsafe quiet).

The vehicle's system and component ids come from its heartbeat; pymavlink's guessed
target_component can be 0.  The services are methods here and live in their own
modules: transfer.py (missions, fences, rally points), command.py, params.py.
"""

from __future__ import annotations

from gettext import gettext as _

import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from missions import command as _command
from missions import params as _params
from missions import transfer as _transfer
from missions.dialect import DIALECT, mavlink, mavutil
from missions.errors import MissionError
from missions.items import MissionItem
from missions.retry import RetryPolicy, RttEstimator

GCS_COMPONENT = mavlink.MAV_COMP_ID_MISSIONPLANNER  # 190

# The telemetry a spray record needs, in Hz of vehicle time: the one table every ground
# station in agrodrone asks for (fly, log).
STREAM_RATES: dict[str, float] = {
    "GLOBAL_POSITION_INT": 5, "SERVO_OUTPUT_RAW": 5, "GPS_RAW_INT": 2, "SYS_STATUS": 1, "BATTERY_STATUS": 1,
    "WIND": 1, "VFR_HUD": 2, "MISSION_CURRENT": 2, "ATTITUDE": 2, "HOME_POSITION": 0.2,
}


_NETWORK_PREFIXES = ("tcp:", "tcpin:", "udp:", "udpin:", "udpout:", "udpbcast:")


def _check_url(url: str) -> None:
    """Refuse what pymavlink would open as something other than a live link: an existing
    file is replayed as a log (or, under a bin/ folder, executed), and an unknown word is
    taken for a serial port."""
    if url.startswith(_NETWORK_PREFIXES) or (os.name == "nt" and url.upper().startswith("COM")):
        return
    try:
        mode = os.stat(url).st_mode
    except OSError:
        raise MissionError(f"cannot connect to {url}: neither a connection string (tcp:HOST:PORT, udp:HOST:PORT, "
                           "udpout:HOST:PORT) nor a serial device") from None
    if not stat.S_ISCHR(mode):
        raise MissionError(f"cannot connect to {url}: not a serial device")


class Inbox:
    """Messages of some types from the vehicle, queued for one waiting exchange."""

    def __init__(self, vehicle: "Vehicle", types: Iterable[str], match: Callable[[Any], bool] | None) -> None:
        self.vehicle = vehicle
        self.types = frozenset(types)
        self.match = match
        self.q: queue.Queue[Any] = queue.Queue()

    def get(self, timeout: float) -> Any | None:
        """The next message, or None after `timeout` seconds (raises if the link is lost)."""
        try:
            return self.q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            if self.vehicle.lost:
                raise MissionError(f"link lost: {self.vehicle.lost}") from None
            return None

    def __enter__(self) -> "Inbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.vehicle._drop_inbox(self)


class Vehicle:
    """One vehicle over one pymavlink connection; see the module docstring."""

    def __init__(self, conn: Any, *, policy: RetryPolicy | None = None) -> None:
        self.conn = conn
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
        self._listeners: list[Callable[[Any], None]] = []
        self._closed = threading.Event()
        self._last_hb_sent = 0.0
        self.listener_errors: list[str] = []
        conn.handle_eof = self._on_eof  # pymavlink would print and spin on a closed TCP peer
        conn.handle_disconnect = self._on_eof
        self._thread = threading.Thread(target=self._run, name="mavlink-reader", daemon=True)
        self._thread.start()

    # -- connecting -------------------------------------------------------------------
    @classmethod
    def connect(cls, url: str, *, timeout: float = 30.0, source_system: int = 255,
                source_component: int = GCS_COMPONENT, baud: int = 57600,
                policy: RetryPolicy | None = None,
                on_wait: Callable[[str], None] | None = None) -> "Vehicle":
        """Open a pymavlink connection string (tcp:, udp:, udpout:, serial device) and
        wait up to `timeout` s for the vehicle's heartbeat.

        A refused TCP connection fails at once (nothing listens there); a link that is up
        but silent is a vehicle still booting, and `on_wait` is told once that we wait."""
        _check_url(url)
        deadline = time.monotonic() + timeout
        conn = None
        while conn is None:
            try:
                conn = mavutil.mavlink_connection(url, baud=baud, source_system=source_system,
                                                  source_component=source_component, dialect=DIALECT,
                                                  retries=0, autoreconnect=False)
            except ImportError as exc:  # pymavlink imports pyserial only for a serial device
                raise MissionError(f"cannot connect to {url}: a serial link needs the pyserial package "
                                   f"({exc.msg}); install it with `pip install pyserial`") from None
            except ConnectionRefusedError:
                raise MissionError(_("cannot connect to {url}: connection refused (nothing listens there: "
                                     "is the vehicle, SITL or `agrodrone sim` running on that port?)").format(
                                         url=url)) from None
            except (OSError, ValueError, OverflowError) as exc:
                last_error = getattr(exc, "strerror", None) or str(exc)
                if not isinstance(exc, OSError) or time.monotonic() >= deadline:
                    raise MissionError(f"cannot connect to {url}: {last_error}") from None
                time.sleep(0.2)
        v = cls(conn, policy=policy)
        try:
            if on_wait is not None and v.heartbeat is None:
                try:
                    v.wait_heartbeat(min(2.0, max(0.0, deadline - time.monotonic())))
                except MissionError:
                    on_wait(_("connected to {url}; waiting up to {s:.0f} s for the vehicle's heartbeat "
                              "(still booting?)").format(url=url, s=max(0.0, deadline - time.monotonic())))
            v.wait_heartbeat(max(0.0, deadline - time.monotonic()))
        except BaseException:
            v.close()
            raise
        return v

    def wait_heartbeat(self, timeout: float = 30.0) -> Any:
        """The first heartbeat of an autopilot (not of another ground station)."""
        def is_autopilot(m: Any) -> bool:
            return m.type != mavlink.MAV_TYPE_GCS and m.autopilot != mavlink.MAV_AUTOPILOT_INVALID

        with self.inbox(["HEARTBEAT"], match=is_autopilot, any_system=True) as box:
            m = self.heartbeat if self.heartbeat is not None else box.get(timeout)
        if m is None:
            raise MissionError(_("no heartbeat from a vehicle on {address} within {s:.0f} s").format(
                address=self.conn.address, s=timeout))
        if not self.target_system:
            self.target_system = m.get_srcSystem()
            self.target_component = m.get_srcComponent()
            self.heartbeat = m
        return m

    def wait_position(self, timeout: float = 120.0) -> tuple[float, float, float]:
        """Wait for a position estimate (GLOBAL_POSITION_INT with non-zero lat/lon):
        right after boot an autopilot ignores or cancels requests and refuses to arm."""
        deadline = time.monotonic() + timeout
        next_ask = 0.0
        with self.inbox(["GLOBAL_POSITION_INT"]) as box:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    raise MissionError(f"no position estimate from the vehicle within {timeout:.0f} s "
                                       "(GLOBAL_POSITION_INT stayed at 0,0 or was not sent)")
                if now >= next_ask:  # ask for the streams, as MAVProxy does; harmless if already on
                    self.send(mavlink.MAVLink_request_data_stream_message(
                        self.target_system, self.target_component, mavlink.MAV_DATA_STREAM_ALL, 4, 1))
                    next_ask = now + 2.0
                m = box.get(min(0.5, deadline - now))
                if m is not None and (m.lat != 0 or m.lon != 0):
                    return m.lat / 1e7, m.lon / 1e7, m.relative_alt / 1000.0

    # -- plumbing ---------------------------------------------------------------------
    def send(self, msg: Any) -> None:
        with self._send_lock:
            self.conn.mav.send(msg)

    def inbox(self, types: Iterable[str], *, match: Callable[[Any], bool] | None = None,
              any_system: bool = False) -> Inbox:
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

    def _dispatch(self, m: Any) -> None:
        mtype = m.get_type()
        if mtype == "HEARTBEAT" and self.target_system and m.get_srcSystem() == self.target_system \
                and m.get_srcComponent() == self.target_component:
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
                self.send(mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID,
                                                            0, 0, mavlink.MAV_STATE_ACTIVE, 3))
            except OSError:
                pass

    def _run(self) -> None:
        conn = self.conn
        while not self._closed.is_set() and not self.lost:
            self._send_heartbeat()
            try:
                m = conn.recv_msg()
            except (OSError, ValueError) as exc:
                if self._closed.is_set():
                    break
                self.lost = f"{conn.address}: {exc}"
                break
            if m is None:
                conn.select(0.05)
                continue
            self._dispatch(m)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2.0)
        try:
            self.conn.close()
        except Exception:
            pass

    def __enter__(self) -> "Vehicle":
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
