"""The MAVLink links: a TCP server for several ground stations, an optional trusted "USB" port,
UDP outputs, and seeded link faults."""

from __future__ import annotations

import random
import selectors
import socket
from collections import deque
from typing import cast

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.config import Faults, parse_endpoint
from sim.errors import SimError
from sim.signing import VehicleSigning

MAX_BACKLOG = 512 * 1024  # bytes queued for a client that does not read; more are dropped


class Peer:
    """One ground station: its own MAVLink sequence numbers, parser, stream rates and faults.

    What is sent and what is heard draw from separate seeded generators, so the n-th frame
    sent is lost (or doubled) under a given seed however many frames the ground station
    sent meanwhile: its timing is the wall clock's, and must not change the vehicle's losses.
    `channel` is ArduPilot's channel number, the link id it signs with; channel 0 (SERIAL0,
    USB) is trusted: heard even unsigned.
    """

    sock: socket.socket  # set by each kind of peer

    def __init__(self, name: str, faults: Faults, rng: random.Random, signing: VehicleSigning, channel: int) -> None:
        self.name = name
        self.signing = signing
        self.channel = channel
        self.trusted = channel == 0
        self.mav = _fresh_parser(None, signing, self.trusted)
        self.faults = faults
        self.rng = rng
        self.rng_in = random.Random(rng.getrandbits(64))
        self.outbuf = bytearray()
        self._held: bytes | None = None
        self._delayed: deque[tuple[float, bytes]] = deque()
        self.intervals: dict[str, float] = {}  # stream name -> seconds of sim time (0 = off)
        self.next_due: dict[str, float] = {}
        self.gcs_sysid = 255
        self.gcs_compid = 190
        self.alive = True
        self.dropped = 0

    # outgoing ------------------------------------------------------------
    def send(self, msg, now_wall: float, cut: bool) -> None:
        self.signing.state.link_id = self.channel  # one signing state; each channel signs as itself
        data = msg.pack(self.mav)
        self.mav.seq = (self.mav.seq + 1) % 256  # a lost frame still used its sequence number
        if cut:
            self.dropped += 1
            return
        f = self.faults
        rng = self.rng
        if f.loss and rng.random() < f.loss:
            self.dropped += 1
            return
        frames = [data]
        if f.duplicate and rng.random() < f.duplicate:
            frames.append(data)
        if f.reorder:
            if self._held is not None:
                frames.append(self._held)
                self._held = None
            elif rng.random() < f.reorder:
                self._held = data
                frames.remove(data)
        for frame in frames:
            if f.latency_s > 0:
                self._delayed.append((now_wall + f.latency_s, frame))
            else:
                self._queue(frame)

    def _queue(self, frame: bytes) -> None:
        if len(self.outbuf) + len(frame) > MAX_BACKLOG:
            self.dropped += 1
            return
        self.outbuf += frame

    def release_delayed(self, now_wall: float) -> None:
        while self._delayed and self._delayed[0][0] <= now_wall:
            self._queue(self._delayed.popleft()[1])

    def flush(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    # incoming ------------------------------------------------------------
    def parse(self, data: bytes, cut: bool) -> list:
        try:
            msgs = self.mav.parse_buffer(data) or []
        except Exception:  # a parser confused by garbage: start it afresh, keep the link
            self.mav = _fresh_parser(self.mav, self.signing, self.trusted)
            return []
        good = []
        for m in msgs:
            if m.get_type() == "BAD_DATA":
                continue
            if cut or (self.faults.loss and self.rng_in.random() < self.faults.loss):
                continue
            good.append(m)
        return good

    def close(self) -> None:
        self.alive = False


def _fresh_parser(old: mavlink.MAVLink | None, signing: VehicleSigning, trusted: bool) -> mavlink.MAVLink:
    """A parser (and packer) for a peer: a new one keeps the old one's sequence number and the
    vehicle's signing state, so garbage on a link never switches signing off there."""
    mav = mavlink.MAVLink(None, srcSystem=old.srcSystem if old is not None else 1, srcComponent=1)
    mav.robust_parsing = True
    if old is not None:
        mav.seq = old.seq
    signing.attach(mav, trusted)
    return mav


class TcpPeer(Peer):
    def __init__(
        self, sock: socket.socket, addr, faults: Faults, rng: random.Random, signing: VehicleSigning, channel: int
    ) -> None:
        super().__init__(f"{'usb' if channel == 0 else 'tcp'}:{addr[0]}:{addr[1]}", faults, rng, signing, channel)
        self.sock = sock

    def flush(self) -> None:
        if not self.outbuf or not self.alive:
            return
        try:
            sent = self.sock.send(self.outbuf)
            del self.outbuf[:sent]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close()

    def close(self) -> None:
        if self.alive:
            self.alive = False
            try:
                self.sock.close()
            except OSError:
                pass


class UdpPeer(Peer):
    """A UDP output (like SITL's --out): we send to it and accept what it sends back."""

    def __init__(
        self,
        sock: socket.socket,
        addr: tuple[str, int],
        faults: Faults,
        rng: random.Random,
        signing: VehicleSigning,
        channel: int,
    ) -> None:
        super().__init__(f"udp:{addr[0]}:{addr[1]}", faults, rng, signing, channel)
        self.sock = sock
        self.addr = addr

    def _queue(self, frame: bytes) -> None:
        try:
            self.sock.sendto(frame, self.addr)
        except OSError:
            self.dropped += 1

    def flush(self) -> None:
        pass


def _resolve_udp(out: str) -> tuple[str, int]:
    """'udp:HOST:PORT' -> (IPv4 address, port), resolved once: a name that does not resolve
    is the user's mistake now, not a silently dropped frame at every send."""
    _, host, port = parse_endpoint(out, kinds=("udp", "udpout"))
    try:
        # AF_INET: the address is (host, port)
        return cast("tuple[str, int]", socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4][:2])
    except OSError as exc:
        raise SimError(f"cannot send to {out}: {exc.strerror or exc}") from None


def _listen(endpoint: str) -> socket.socket:
    _, host, port = parse_endpoint(endpoint, kinds=("tcp",))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SimError(f"cannot listen on {endpoint}: {exc.strerror or exc}") from None
    sock.listen(8)
    sock.setblocking(False)
    return sock


class LinkServer:
    """Accepts TCP clients on `listen` (port 0 picks a free one) and, when given, trusted ones on
    `usb` (ArduPilot's SERIAL0); keeps the UDP outputs. Every link shares the vehicle's signing."""

    def __init__(
        self,
        listen: str,
        udp_out: tuple[str, ...],
        faults: Faults,
        seed: int,
        *,
        usb: str | None = None,
        signing: VehicleSigning | None = None,
        sysid: int = 1,
    ) -> None:
        parse_endpoint(listen, kinds=("tcp",))
        outputs = [_resolve_udp(out) for out in udp_out]  # before binding: a bad name leaves nothing open
        self.faults = faults
        self.signing = signing if signing is not None else VehicleSigning()
        self.sysid = sysid  # MAV_SYSID: the system id every frame is sent from
        self._seed = seed
        self._count = 0
        self._channels = 0  # channels numbered as they come, 1..255; 0 is the usb port's
        self.listener = _listen(listen)
        self.usb_listener: socket.socket | None = None
        if usb is not None:
            try:
                self.usb_listener = _listen(usb)
            except SimError:
                self.listener.close()
                raise
        self.sel = selectors.DefaultSelector()
        self.host, self.port = self.listener.getsockname()[:2]
        self.usb_host: str | None = None
        self.usb_port: int | None = None
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        if self.usb_listener is not None:
            self.usb_host, self.usb_port = self.usb_listener.getsockname()[:2]
            self.sel.register(self.usb_listener, selectors.EVENT_READ, None)
        self.peers: list[Peer] = []
        for addr in outputs:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            s.bind(("127.0.0.1" if addr[0].startswith("127.") else "0.0.0.0", 0))
            peer = UdpPeer(s, addr, faults, self._rng(), self.signing, self._channel())
            peer.mav.srcSystem = sysid
            self.peers.append(peer)
            self.sel.register(s, selectors.EVENT_READ, peer)

    @property
    def usb_url(self) -> str | None:
        return None if self.usb_port is None else f"tcp:{self.usb_host}:{self.usb_port}"

    def _channel(self) -> int:
        self._channels = self._channels % 255 + 1
        return self._channels

    def _rng(self) -> random.Random:
        self._count += 1
        return random.Random(self._seed * 1000003 + self._count)

    def poll(self, timeout: float, cut: bool) -> tuple[list[tuple[Peer, object]], list[Peer]]:
        """Wait up to `timeout` s; return (messages received, peers that just connected)."""
        received: list[tuple[Peer, object]] = []
        joined: list[Peer] = []
        for key, _ in self.sel.select(timeout):
            if key.data is None:
                self._accept(cast(socket.socket, key.fileobj), joined)
                continue
            peer: Peer = key.data
            try:
                if isinstance(peer, UdpPeer):
                    data, _addr = peer.sock.recvfrom(65536)
                else:
                    data = peer.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data and isinstance(peer, TcpPeer):
                self._drop(peer)
                continue
            for msg in peer.parse(data, cut):
                received.append((peer, msg))
        return received, joined

    def _accept(self, listener: socket.socket, joined: list[Peer]) -> None:
        while True:
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            channel = 0 if listener is self.usb_listener else self._channel()
            peer = TcpPeer(sock, addr, self.faults, self._rng(), self.signing, channel)
            peer.mav.srcSystem = self.sysid
            self.peers.append(peer)
            self.sel.register(sock, selectors.EVENT_READ, peer)
            joined.append(peer)

    def _drop(self, peer: Peer) -> None:
        try:
            self.sel.unregister(peer.sock)
        except (KeyError, ValueError, OSError):
            pass
        peer.close()
        if peer in self.peers:
            self.peers.remove(peer)

    def flush(self, now_wall: float) -> None:
        for peer in list(self.peers):
            peer.release_delayed(now_wall)
            peer.flush()
            if not peer.alive:
                self._drop(peer)

    def close(self) -> None:
        for peer in list(self.peers):
            self._drop(peer)
            if isinstance(peer, UdpPeer):
                peer.sock.close()
        for listener in (self.listener, self.usb_listener):
            if listener is None:
                continue
            try:
                self.sel.unregister(listener)
            except (KeyError, ValueError):
                pass
            listener.close()
        self.sel.close()
