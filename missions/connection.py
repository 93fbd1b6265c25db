"""A connection string: checked, opened (pymavlink), and opened again after a loss.

What can never be a live link is refused before anything is opened (a malformed
HOST:PORT, a file pymavlink would replay or run); what cannot be reached now is
`LinkUnavailable`, which `Vehicle.connect` waits out until its timeout and a
`LinkKeeper` tries again later.  The flying and the logging ground station (`fly`,
`log`) hold their link through a `LinkKeeper`: one link layer, the recorder one more
listener on it.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterable
from gettext import gettext as _
from typing import TYPE_CHECKING, Any, Protocol

from missions.dialect import DIALECT, mavlink, mavutil
from missions.errors import MissionError, SigningError
from missions.signing import LINK_ID

if TYPE_CHECKING:
    from missions.link import Vehicle
    from missions.retry import RetryPolicy
    from missions.signing import SigningKey

GCS_COMPONENT = mavlink.MAV_COMP_ID_MISSIONPLANNER  # 190

_NETWORK_PREFIXES = ("tcp:", "tcpin:", "udp:", "udpin:", "udpout:", "udpbcast:")


class LinkUnavailable(MissionError):
    """The link cannot be opened now (nothing listens, unreachable, device gone): a
    logger tries again later; `refused` says nothing listens there."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


def check_url(url: str) -> None:
    """Refuse what can never be a live link, before anything is opened: a malformed
    HOST:PORT, and what pymavlink would open as something else (an existing file is
    replayed as a log or, under a bin/ folder, executed; an unknown word is taken for a
    serial port)."""
    if url.startswith(_NETWORK_PREFIXES):
        prefix, rest = url.split(":", 1)
        host, colon, port = rest.rpartition(":")
        if not colon or ":" in host or not port.isdigit():
            raise MissionError(
                _("cannot connect to {url}: bad link URL (expected {prefix}:HOST:PORT)").format(url=url, prefix=prefix)
            )
        if int(port) > 65535:
            raise MissionError(_("cannot connect to {url}: bad link URL (port must be 0-65535)").format(url=url))
        return
    if os.name == "nt" and url.upper().startswith("COM"):
        return
    try:
        mode = os.stat(url).st_mode
    except OSError:
        raise MissionError(
            _(
                "cannot connect to {url}: neither a connection string (tcp:HOST:PORT, udp:HOST:PORT, "
                "udpout:HOST:PORT) nor a serial device"
            ).format(url=url)
        ) from None
    if stat.S_ISREG(mode):
        raise MissionError(
            _(
                "cannot connect to {url}: a file, not a link (not a serial device either; "
                "load a .tlog with `agrodrone import`)"
            ).format(url=url)
        )
    if not stat.S_ISCHR(mode):
        raise MissionError(_("cannot connect to {url}: not a serial device").format(url=url))


class _TcpClient(mavutil.mavtcp):
    """pymavlink's TCP client with a bounded connect: its own blocks for minutes on a host
    that never answers, and neither Ctrl-C nor `log --duration` could stop it meanwhile."""

    connect_timeout_s = 5.0

    def do_connect(self) -> None:
        self.port = socket.create_connection(self.destination_addr, timeout=self.connect_timeout_s)
        self.port.setblocking(False)
        self.port.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def open_connection(
    url: str, *, baud: int = 57600, source_system: int = 255, source_component: int = GCS_COMPONENT
) -> Any:
    """The pymavlink connection for `url`, opened once: LinkUnavailable when it cannot
    be reached now, MissionError when it can never work."""
    check_url(url)
    try:
        if url.startswith("tcp:"):
            mavutil.set_dialect(DIALECT)
            return _TcpClient(url[4:], source_system=source_system, source_component=source_component, retries=0)
        return mavutil.mavlink_connection(
            url,
            baud=baud,
            source_system=source_system,
            source_component=source_component,
            dialect=DIALECT,
            retries=0,
            autoreconnect=False,
        )
    except ImportError as exc:  # pymavlink imports pyserial only for a serial device
        raise MissionError(
            f"cannot connect to {url}: a serial link needs the pyserial package "
            f"({exc.msg}); install it with `pip install pyserial`"
        ) from None
    except ConnectionRefusedError:
        raise LinkUnavailable(
            _(
                "cannot connect to {url}: connection refused (nothing listens there: "
                "is the vehicle, SITL or `agrodrone sim` running on that port?)"
            ).format(url=url),
            refused=True,
        ) from None
    except OSError as exc:
        raise LinkUnavailable(f"cannot connect to {url}: {exc.strerror or exc}") from None
    except (ValueError, OverflowError) as exc:
        raise MissionError(f"cannot connect to {url}: {exc}") from None


class _Heard(Protocol):
    last_heartbeat: float  # monotonic time of the vehicle's last heartbeat (flight.Watch)


class _Limits(Protocol):
    link_timeout_s: float  # no heartbeat for this long: the link is lost (flight.FlightLimits)


class LinkKeeper:
    """The current Vehicle for a connection string, opened again after the link drops.

    `fly` connects, hands its Vehicle over and asks `alive()` while it watches a sortie;
    `log` lets `hold()` keep the link until stopped.  The listeners (the telemetry
    recorder, the flight watch) hear every Vehicle from its first message on, so logging
    goes on across a reconnection; a reconnection never re-arms or commands anything:
    what the vehicle does without us is its own failsafe's business.  `connects` counts
    links opened, `losses` links found lost, `problem` says what went wrong last.
    """

    def __init__(
        self,
        vehicle: Vehicle | None,
        url: str,
        listeners: Iterable[Callable[[Any], None]] = (),
        *,
        passive: bool = False,
        streams: bool = False,
        policy: RetryPolicy | None = None,
        baud: int = 57600,
        on_event: Callable[[str], None] | None = None,
        key: SigningKey | None = None,
        link_id: int = LINK_ID,
    ) -> None:
        self.url = url
        self.link_id = link_id  # the signing link id (LINK_ID; `log` beside `fly`: LOG_LINK_ID)
        self.key = key if vehicle is None or vehicle.signing is None else vehicle.signing.key
        self.listeners = list(listeners)
        self.passive = passive
        self.streams = streams and not passive  # ask each new link for STREAM_RATES
        self.policy = policy or (vehicle.policy if vehicle is not None else None)
        self.baud = baud
        self.say = on_event or (lambda _text: None)
        self.connects = 0 if vehicle is None else 1
        self.losses = 0
        self.problem = ""
        self._vehicle = vehicle
        self._counted: Vehicle | None = None  # the lost Vehicle already counted
        if vehicle is not None:
            for cb in self.listeners:
                vehicle.add_listener(cb)

    @classmethod
    def for_url(cls, url: str, listeners: Iterable[Callable[[Any], None]] = (), **options: Any) -> LinkKeeper:
        """A keeper that opens the link itself (`hold`)."""
        return cls(None, url, listeners, **options)

    @property
    def vehicle(self) -> Vehicle:
        if self._vehicle is None:
            raise MissionError(f"not connected to {self.url} yet")
        return self._vehicle

    def alive(self, watch: _Heard, limits: _Limits) -> bool:
        """Reopen a lost link (waiting 1 s for the heartbeat, tried again at the next
        call); alive while the vehicle's heartbeat is fresh."""
        v = self._vehicle
        if v is None or v.lost:
            if v is not None:
                self._count_loss(v)
            self._open(heartbeat_s=1.0)
            v = self._vehicle
        return v is not None and not v.lost and time.monotonic() - watch.last_heartbeat <= limits.link_timeout_s

    def hold(self, stop: threading.Event, *, silence_s: float = 5.0, retry_s: float = 1.0) -> None:
        """Keep a link open until `stop` is set, then close it: a link closed, or silent
        for `silence_s`, is lost and opened again `retry_s` later, as is one that cannot
        be reached yet.  A URL that can never work raises MissionError at once, and a
        vehicle that does not sign with the drone's key SigningError (nothing it sends is
        taken, so there is nothing to log)."""
        check_url(self.url)
        try:
            while not stop.is_set():
                v = self._vehicle
                if v is not None and v.signing is not None and v.signing.hopeless():
                    raise SigningError(v.signing_refusal())
                if v is not None and not v.lost:
                    if time.monotonic() - v.last_message_at <= silence_s:
                        stop.wait(0.1)
                        continue
                    refused = v.signing.refusal() if v.signing is not None else None
                    v.lost = refused or _("no message for {s:g} s").format(s=silence_s)
                if v is not None and v is not self._counted:
                    self._count_loss(v)
                elif not self._open(heartbeat_s=None):
                    stop.wait(retry_s)
                    continue
                if self._vehicle is not None and self._vehicle.lost:
                    stop.wait(retry_s)
        finally:
            self.close()

    def _count_loss(self, v: Vehicle) -> None:
        if v is self._counted:
            return
        self._counted = v
        self.losses += 1
        self.problem = _("link lost ({reason})").format(reason=v.lost)
        self.say(_("{problem}; reconnecting").format(problem=self.problem))
        v.close()

    def _open(self, heartbeat_s: float | None) -> bool:
        """One attempt to open the link; with `heartbeat_s`, it counts only once the
        vehicle's heartbeat came within that time."""
        from missions.link import Vehicle  # link.py opens its connections here

        try:
            v = Vehicle.connect(
                self.url,
                timeout=heartbeat_s or 0.0,
                baud=self.baud,
                policy=self.policy,
                passive=self.passive,
                listeners=self.listeners,
                heartbeat=heartbeat_s is not None,
                key=self.key,
                link_id=self.link_id,
            )
        except LinkUnavailable as exc:
            self.problem = str(exc)
            self.say(_("{problem}; retrying").format(problem=self.problem))
            return False
        except MissionError as exc:
            if heartbeat_s is None:
                raise  # cannot ever work (the URL was checked; e.g. no pyserial)
            self.problem = str(exc)
            return False
        self._vehicle = v
        self.connects += 1
        self.say(_("connected to {url}").format(url=self.url))
        if self.streams:
            threading.Thread(target=self._ask_streams, args=(v,), name="stream-request", daemon=True).start()
        return True

    @staticmethod
    def _ask_streams(v: Vehicle) -> None:
        """Ask for STREAM_RATES once the vehicle's heartbeat is heard; in its own thread,
        so a vehicle that does not answer commands never holds up listening."""
        while not (v.lost or v.closed):
            try:
                v.wait_heartbeat(5.0)
            except SigningError:
                return  # nothing we send would be taken; hold() reports it when the link goes quiet
            except MissionError:
                continue
            v.request_streams()
            return

    def close(self) -> None:
        if self._vehicle is not None:
            self._vehicle.close()
