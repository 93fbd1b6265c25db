"""Logging a live MAVLink link: connect, ask for the streams, hand every message to a Recorder,
reconnect after a link loss. Sockets live here, at the edge."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from telemetry.errors import TelemetryError

# What a ground station asks ArduPilot for (Hz); the record needs position and servo often.
STREAM_RATES = {"GLOBAL_POSITION_INT": 10, "SERVO_OUTPUT_RAW": 10, "HEARTBEAT": 1, "GPS_RAW_INT": 2,
                "VFR_HUD": 2, "ATTITUDE": 4, "SYS_STATUS": 1, "BATTERY_STATUS": 1, "MISSION_CURRENT": 1,
                "WIND": 1, "HOME_POSITION": 0.2}


class _TcpLink:
    """A TCP client link that reports EOF instead of printing it (pymavlink's tcp link prints)."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(0.5)
        self.mav = mavlink.MAVLink(self, srcSystem=255, srcComponent=190)
        self.mav.robust_parsing = True

    def write(self, buf: bytes) -> None:
        self.sock.sendall(buf)

    def recv_msgs(self) -> list:
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return []
        if not data:
            raise ConnectionError("link closed by the vehicle")
        now = time.time()
        msgs = self.mav.parse_buffer(data) or []
        for i, m in enumerate(msgs):  # one read, several messages: keep their receive times distinct
            m._timestamp = now + i * 1e-6
        return msgs

    def close(self) -> None:
        self.sock.close()


class _MavutilLink:
    """Any other pymavlink URL (udp:, udpin:, serial device)."""

    def __init__(self, url: str) -> None:
        self.conn = mavutil.mavlink_connection(url, source_system=255, source_component=190,
                                               dialect="ardupilotmega")
        self.mav = self.conn.mav

    def recv_msgs(self) -> list:
        m = self.conn.recv_match(blocking=True, timeout=0.5)
        return [m] if m is not None else []

    def close(self) -> None:
        self.conn.close()


def open_link(url: str, timeout: float = 5.0):
    """Connect to `url`. OSError means "not reachable now" (the logger retries); a URL that
    can never work is a TelemetryError."""
    if url.startswith("tcp:"):
        try:
            host, port = url[4:].rsplit(":", 1)
            return _TcpLink(host, int(port), timeout)
        except ValueError:
            raise TelemetryError(f"bad link URL {url!r} (expected tcp:HOST:PORT)") from None
    if Path(url).is_file():  # pymavlink would replay a log file, or run an executable one
        raise TelemetryError(f"{url}: a file, not a link (load .tlog files with `agrodrone import`)")
    try:
        return _MavutilLink(url)
    except ModuleNotFoundError as exc:  # serial devices need pyserial, which is optional
        raise TelemetryError(f"{url}: this link needs the Python module {exc.name!r} (not installed)") from None
    except ValueError as exc:
        raise TelemetryError(f"bad link URL {url!r} ({exc})") from None


@dataclass
class LinkStats:
    connects: int = 0
    losses: int = 0
    messages: int = 0


def request_streams(mav, target_system: int, target_component: int, rates: dict[str, float]) -> None:
    """Ask for the logged messages the way a ground station does (both the old and new protocol)."""
    mav.request_data_stream_send(target_system, target_component, mavlink.MAV_DATA_STREAM_ALL,
                                 int(max(rates.values())), 1)
    for name, hz in rates.items():
        msgid = getattr(mavlink, f"MAVLINK_MSG_ID_{name}")
        mav.command_long_send(target_system, target_component, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, 0,
                              msgid, int(1e6 / hz), 0, 0, 0, 0, 0)


def run_logger(url: str, handle: Callable[[object], None], stop: threading.Event, *,
               link_timeout_s: float = 5.0, retry_s: float = 1.0, passive: bool = False,
               rates: dict[str, float] | None = None,
               on_event: Callable[[str], None] | None = None) -> LinkStats:
    """Log `url` until `stop` is set, reconnecting after a loss; each message goes to `handle`."""
    rates = rates or STREAM_RATES
    stats = LinkStats()
    say = on_event or (lambda s: None)
    while not stop.is_set():
        try:
            link = open_link(url)
        except (OSError, ConnectionError) as exc:
            say(f"cannot connect to {url} ({exc}); retrying")
            stop.wait(retry_s)
            continue
        stats.connects += 1
        say(f"connected to {url}")
        last_rx = time.monotonic()
        last_hb = 0.0
        requested = passive
        try:
            while not stop.is_set():
                msgs = link.recv_msgs()
                now = time.monotonic()
                for m in msgs:
                    if m.get_type() == "BAD_DATA":
                        continue
                    stats.messages += 1
                    handle(m)
                    if not requested and m.get_type() == "HEARTBEAT" and m.type != mavlink.MAV_TYPE_GCS:
                        request_streams(link.mav, m.get_srcSystem(), m.get_srcComponent(), rates)
                        requested = True
                if msgs:
                    last_rx = now
                elif now - last_rx > link_timeout_s:
                    raise ConnectionError(f"no message for {link_timeout_s:g} s")
                if not passive and now - last_hb >= 1.0:
                    link.mav.heartbeat_send(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID, 0, 0, 0)
                    last_hb = now
        except (OSError, ConnectionError) as exc:
            stats.losses += 1
            say(f"link lost ({exc}); reconnecting")
            stop.wait(retry_s)
        finally:
            link.close()
    return stats
