"""MAVLink 2 message signing as ArduPilot enforces it, on the simulator and on ArduPilot's SITL.

Written from the MAVLink signing documents (mavlink.io, "Message Signing"; ArduPilot's
"MAVLink2 Signing" page) with plain pymavlink connections, not with our `missions` package:
the vehicle signs everything once a key is installed, and drops silently what arrives
unsigned, signed with another key or replayed (a timestamp not newer than its stream's),
except on the trusted channel 0 (SERIAL0, USB). The same scenario runs on both vehicles;
SITL's is skipped, with the reason, when ARDUPILOT_SITL does not name an arducopter binary.

"Nothing happened" is never waited out: the vehicle answers one link in order, so after the
packet under test we read a marker parameter, and whatever the packet caused (an answer, a
changed value) has arrived by the time the marker's answer does.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import run_cli

os.environ.setdefault("MAVLINK20", "1")
from pymavlink import mavutil  # noqa: E402

from sim import SimConfig, SimError, start_sim, start_sitl  # noqa: E402

mavlink = mavutil.mavlink
KEY = hashlib.sha256(b"agrodrone test drone key").digest()
WRONG = hashlib.sha256(b"another drone's key").digest()
PARAM = "SPRAY_PUMP_RATE"  # harmless on the ground; both vehicles have it
MARKER = "SPRAY_SPEED_MIN"  # read after a packet under test: its answer comes after the packet's effects
ANSWER_S = 20.0  # generous for a slow busy machine; every wait ends as soon as its answer arrives
EPOCH_2015 = 1420070400


def stamp_now() -> int:
    """A signing timestamp: 10 µs units since 2015-01-01 UTC."""
    return int((time.time() - EPOCH_2015) * 100_000)


def is_signed(msg) -> bool:
    return bool(msg.get_header().incompat_flags & mavlink.MAVLINK_IFLAG_SIGNED)


def link_id(msg) -> int:
    """The link id of a signed packet: the first byte of its 13-byte signature block."""
    return msg.get_msgbuf()[-13]


def param_set(name: str, value: float):
    return mavlink.MAVLink_param_set_message(1, 1, name.encode(), value, mavlink.MAV_PARAM_TYPE_REAL32)


def param_read(name: str):
    return mavlink.MAVLink_param_request_read_message(1, 1, name.encode(), -1)


class Link:
    """One ground-station connection (sysid 255, compid 190) and what it heard."""

    def __init__(self, url: str) -> None:
        self.conn = mavutil.mavlink_connection(url, source_system=255, source_component=190, autoreconnect=False)
        self.values: list[tuple[str, float]] = []  # PARAM_VALUEs heard since the last sync
        self.texts: list[str] = []

    def close(self) -> None:
        self.conn.close()

    def sign(self, key: bytes, link_id: int) -> None:
        """Sign what we send; hear only what is signed with `key` (no unsigned callback)."""
        self.conn.setup_signing(key, sign_outgoing=True, link_id=link_id, initial_timestamp=stamp_now())

    def send(self, msg, *, signed: bool = True) -> bytes:
        """Pack `msg` with this connection (signed if it signs and `signed`), write it, return the bytes."""
        signing = self.conn.mav.signing
        was = signing.sign_outgoing
        signing.sign_outgoing = was and signed
        try:
            data = msg.pack(self.conn.mav)
        finally:
            signing.sign_outgoing = was
        self.conn.write(data)
        return data

    def forge(self, msg, key: bytes) -> bytes:
        """`msg` signed with another key on this connection's stream, 1 s ahead of it: a vehicle
        that let it move the stream's timestamp would then refuse our genuine packets."""
        mav = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
        mav.signing.secret_key = key
        mav.signing.sign_outgoing = True
        mav.signing.link_id = self.conn.mav.signing.link_id
        mav.signing.timestamp = self.conn.mav.signing.timestamp + 100_000
        data = msg.pack(mav)
        self.conn.write(data)
        return data

    def wait(self, accept: Callable[[object], bool], timeout: float = ANSWER_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.conn.recv_match(blocking=True, timeout=min(0.5, max(deadline - time.monotonic(), 0.01)))
            if msg is None:
                continue
            kind = msg.get_type()
            if kind == "PARAM_VALUE":
                self.values.append((msg.param_id, msg.param_value))
            elif kind == "STATUSTEXT":
                self.texts.append(msg.text)
            if accept(msg):
                return msg
        return None

    def heartbeat(self, *, signed: bool | None = None, timeout: float = ANSWER_S):
        return self.wait(
            lambda m: m.get_type() == "HEARTBEAT" and m.get_srcSystem() == 1 and signed in (None, is_signed(m)),
            timeout,
        )

    def value(self, name: str, value: float | None = None, timeout: float = ANSWER_S) -> float | None:
        """The next PARAM_VALUE of `name` (with `value`, if given); None if none came in time."""
        msg = self.wait(
            lambda m: m.get_type() == "PARAM_VALUE" and m.param_id == name and value in (None, m.param_value),
            timeout,
        )
        return None if msg is None else msg.param_value

    def sync(self) -> list[float]:
        """Read MARKER (signed, if we sign) and return the values of PARAM heard until its answer;
        starts a new list for the next call."""
        self.send(param_read(MARKER))
        assert self.value(MARKER) is not None, f"no answer to a read of {MARKER}"
        heard = [v for name, v in self.values if name == PARAM]
        self.values.clear()
        return heard

    def read(self, name: str = PARAM) -> list[float]:
        """Read PARAM back (signed) and return every value of it heard up to the marker's answer."""
        self.send(param_read(name))
        return self.sync()


@dataclass
class Vehicle:
    trusted: str  # channel 0 (SERIAL0, USB): heard even unsigned
    radios: tuple[str, str]  # two other links (telemetry radios)


@contextmanager
def embedded() -> Iterator[Vehicle]:
    with start_sim(speedup=10, boot_delay_s=1, usb="tcp:127.0.0.1:0") as s:
        assert s.usb_url is not None
        yield Vehicle(s.usb_url, (s.url, s.url))  # two connections to the radio port: two links


@contextmanager
def ardupilot() -> Iterator[Vehicle]:
    sitl = start_sitl(speedup=10, wait=False)  # SERIAL0 on .port; SERIAL1 and SERIAL2 on +2 and +3
    try:
        yield Vehicle(sitl.url, (f"tcp:127.0.0.1:{sitl.port + 2}", f"tcp:127.0.0.1:{sitl.port + 3}"))
    finally:
        sitl.stop()


VEHICLES = [
    pytest.param(embedded, id="sim"),
    pytest.param(ardupilot, id="sitl", marks=[pytest.mark.sitl]),
]


@pytest.mark.parametrize("vehicle", VEHICLES)
def test_the_vehicle_enforces_signing_as_ardupilot_does(vehicle: Callable[[], AbstractContextManager[Vehicle]]):
    links: list[Link] = []

    def link(url: str) -> Link:
        links.append(Link(url))
        return links[-1]

    with vehicle() as v:
        try:
            usb = link(v.trusted)
            hb = usb.heartbeat(timeout=60)
            assert hb is not None and not is_signed(hb), "the vehicle should start unsigned, with no key"
            usb.sync()
            before = usb.read()[-1]

            # the key, installed over the trusted port; from then on everything is signed
            usb.send(mavlink.MAVLink_setup_signing_message(1, 0, list(KEY), stamp_now()))
            hb = usb.heartbeat(signed=True)
            assert hb is not None
            a = link(v.radios[0])
            a.sign(KEY, link_id=1)
            radio_hb = a.heartbeat()
            assert radio_hb is not None, "no heartbeat signed with the key on a radio"
            assert link_id(hb) == 0 and link_id(radio_hb) != 0  # each channel signs with its number

            # an unsigned read gets no answer (a signed one after it does)
            a.send(param_read(PARAM), signed=False)
            assert a.sync() == []
            # an unsigned set, and one signed with another key, change nothing
            a.send(param_set(PARAM, before + 1), signed=False)
            assert set(a.read()) == {before}
            a.forge(param_set(PARAM, before + 2), WRONG)
            assert set(a.read()) == {before}
            # a correctly signed set works
            a.send(param_set(PARAM, before + 3))
            assert a.value(PARAM, before + 3) is not None
            assert set(a.read()) == {before + 3}

            # a captured signed set works once; replayed after a newer one, on this link or
            # another, it changes nothing (one stream table for the whole vehicle)
            captured = a.send(param_set(PARAM, before + 4))
            assert a.value(PARAM, before + 4) is not None
            a.send(param_set(PARAM, before + 5))
            assert a.value(PARAM, before + 5) is not None
            a.sync()
            a.conn.write(captured)
            assert set(a.read()) == {before + 5}
            b = link(v.radios[1])
            b.sign(KEY, link_id=2)
            assert b.heartbeat() is not None  # a link that joins later is signed too
            b.sync()
            b.conn.write(captured)
            assert set(b.read()) == {before + 5}

            # the trusted port is heard unsigned
            usb.send(param_set(PARAM, before + 6), signed=False)
            assert usb.value(PARAM, before + 6) is not None
            assert set(b.read()) == {before + 6}

            # the all-zero key with timestamp 0, signed, over a radio, switches signing off
            a.send(mavlink.MAVLink_setup_signing_message(1, 0, [0] * 32, 0))
            a.conn.disable_signing()
            assert a.heartbeat(signed=False) is not None, "still signing after the all-zero key"
            b.conn.disable_signing()
            b.send(param_read(PARAM), signed=False)
            assert b.value(PARAM) == before + 6
            usb.send(param_set(PARAM, before), signed=False)  # leave it as found
            assert usb.value(PARAM, before) is not None

            # dropped silently: nothing said about signing
            said = [t for each in links for t in each.texts if "sign" in t.lower()]
            assert said == []
        finally:
            for each in links:
                each.close()


def test_a_key_given_at_boot_is_installed_from_the_start():
    with start_sim(speedup=10, boot_delay_s=1, usb="tcp:127.0.0.1:0", signing_key=KEY) as s:
        assert s.usb_url is not None
        radio, usb = Link(s.url), Link(s.usb_url)
        try:
            hb = usb.heartbeat()
            assert hb is not None and is_signed(hb)
            radio.sign(KEY, link_id=3)
            assert radio.heartbeat() is not None, "the heartbeat is not signed with the boot key"
            radio.send(param_read(PARAM), signed=False)
            assert radio.sync() == []
            assert radio.read() == [10.0]
            usb.send(param_read(PARAM))  # our side does not sign: heard on the trusted port
            assert usb.value(PARAM) == 10.0
        finally:
            radio.close()
            usb.close()


@pytest.mark.parametrize("key", [KEY[:31], KEY + b"\x01", bytes(32), KEY.hex()], ids=["short", "long", "zero", "text"])
def test_a_bad_key_is_refused_without_showing_it(key):
    with pytest.raises(SimError, match="signing key") as exc:
        SimConfig(signing_key=key)
    assert KEY.hex()[:8] not in str(exc.value) and "\\x" not in str(exc.value)


def test_the_key_is_not_in_the_config_repr():
    text = repr(SimConfig(signing_key=KEY))
    assert "signing_key" not in text and KEY.hex()[:8] not in text and repr(KEY)[:12] not in text


def test_a_fresh_parser_keeps_signing():
    from sim.link import _fresh_parser
    from sim.signing import VehicleSigning

    signing = VehicleSigning(KEY, stamp_now())
    old = _fresh_parser(None, signing, trusted=False)
    old.seq = 7
    new = _fresh_parser(old, signing, trusted=False)
    assert new.seq == 7 and new.signing is signing.state
    data = mavlink.MAVLink_heartbeat_message(2, 3, 0, 0, 0, 3).pack(new)
    assert data[2] & mavlink.MAVLINK_IFLAG_SIGNED


def test_sim_drone_option_loads_its_key(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("AGRODRONE_KEYS", str(tmp_path / "keys"))
    for args in (["--drone", "nosuch"], ["--usb", "udp:127.0.0.1:14550"]):
        code, _, err = run_cli(["sim", *args, "--listen", "tcp:127.0.0.1:0"], capsys)
        assert code == 2, err
        (line,) = err.strip().splitlines()
        assert line.startswith("error: ") and args[1] in line

    from missions.keystore import KeyStore  # the CLI's own key store, to give it a key
    from missions.signing import SigningKey

    KeyStore(tmp_path / "keys").save("d1", SigningKey(KEY))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agrodrone", "sim", "--drone", "d1", "--listen", "tcp:127.0.0.1:0"]
        + ["--usb", "tcp:127.0.0.1:0", "--speedup", "10", "--boot-delay", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AGRODRONE_KEYS": str(tmp_path / "keys")},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "listening on tcp:" in line and "trusted on tcp:" in line, line
        assert KEY.hex()[:8] not in line
        url = line.split("listening on ", 1)[1].split(",", 1)[0]
        radio = Link(url)
        try:
            radio.sign(KEY, link_id=4)
            assert radio.heartbeat() is not None
        finally:
            radio.close()
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
