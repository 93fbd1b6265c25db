"""MAVLink 2 message signing: its rules (shared with the simulated vehicle, sim/signing.py)
and the ground station's side of it (pymavlink), as ArduPilot does it.

A drone's secret is 32 bytes shared with its autopilot (SETUP_SIGNING installs it there).
Once a link has it, every packet sent carries a link id, a 48-bit timestamp (10 µs units
since 2015-01-01) and the first 6 bytes of SHA-256(secret + packet); pymavlink drops what
arrives unsigned, signed with another secret, or with a timestamp not newer than the last
one of its stream (a replay). ArduPilot's GCS_Signing.cpp does the same on the vehicle and
still accepts RADIO_STATUS and RADIO unsigned (a telemetry radio's own reports: the radio
cannot sign); so do we. What was dropped is counted by cause, so a refusal can say why.
Packets are checked in ArduPilot's order (mavlink_signature_check): the signature first,
then the stream's timestamp; pymavlink moves the stream's timestamp first, so a packet
signed with another key could make genuine ones look like replays.

Each program signs with a fixed link id (1; `log` beside it 2): ArduPilot keeps at most 16
streams (link id, system, component) until it reboots, so a new id per connection would
lock a ground station out after 16 connections.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from gettext import gettext as _
from typing import Any

from missions.dialect import mavlink

KEY_BYTES = 32
EPOCH_2015 = 1420070400  # MAVLink signing timestamps count from 2015-01-01 00:00 UTC
TICKS_PER_S = 100_000  # in units of 10 µs
NEW_STREAM_WINDOW = 60 * TICKS_PER_S  # a new stream may start at most this far behind us
LINK_ID = 1  # fly, upload, key; `log` beside them signs as LOG_LINK_ID
LOG_LINK_ID = 2
# packets dropped as unsigned or wrongly signed, with none good, before a signed link stops
# waiting for the heartbeat: a vehicle sends several a second, so this takes under a second
REFUSALS_BEFORE_GIVING_UP = 5
ACCEPT_UNSIGNED = frozenset({mavlink.MAVLINK_MSG_ID_RADIO_STATUS, mavlink.MAVLINK_MSG_ID_RADIO})


@dataclass(frozen=True)
class SigningKey:
    """A drone's secret. Its repr never shows the secret; `fingerprint` names it safely."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise ValueError(f"a signing key is {KEY_BYTES} bytes")
        if not any(self.secret):
            raise ValueError("an all-zero key switches signing off; it cannot be a drone's key")

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @property
    def fingerprint(self) -> str:
        """Eight bytes of SHA-256 of the secret, for the operator to compare (it reveals
        nothing usable about the secret)."""
        digest = hashlib.sha256(b"agrodrone signing key\x00" + self.secret).hexdigest()[:16]
        return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def timestamp_now(unix_s: float | None = None) -> int:
    """The signing timestamp of a moment (now by default): 10 µs units since 2015."""
    t = time.time() if unix_s is None else unix_s
    return int(max(t - EPOCH_2015, 0) * TICKS_PER_S)


def check_signature(
    state: Any, msgbuf: bytearray, src_system: int, src_component: int, *, max_streams: int | None = None
) -> str | None:
    """mavlink_signature_check() on pymavlink's signing `state`, in ArduPilot's order: None
    when the packet is accepted (its stream and our timestamp move on), else why not:
    "wrong_key" or "stale" (not newer than its stream, or a new stream too far behind us,
    or no room for another stream)."""
    if state.secret_key is None:
        return "wrong_key"
    digest = hashlib.sha256(state.secret_key + bytes(msgbuf[:-6])).digest()[:6]
    if not hmac.compare_digest(digest, bytes(msgbuf[-6:])):
        return "wrong_key"
    stream = (msgbuf[-13], src_system, src_component)
    stamp = int.from_bytes(msgbuf[-12:-6], "little")
    last = state.stream_timestamps.get(stream)
    if last is None:
        full = max_streams is not None and len(state.stream_timestamps) >= max_streams
        if full or stamp + NEW_STREAM_WINDOW < state.timestamp:
            return "stale"
    elif stamp <= last:
        return "stale"
    state.stream_timestamps[stream] = stamp
    state.timestamp = max(state.timestamp, stamp)
    return None


def setup_signing_message(target_system: int, target_component: int, key: SigningKey | None) -> Any:
    """SETUP_SIGNING installing `key` with the current time; None sends the all-zero key
    and timestamp that switch signing off on the vehicle."""
    secret = key.secret if key is not None else bytes(KEY_BYTES)
    stamp = timestamp_now() if key is not None else 0
    return mavlink.MAVLink_setup_signing_message(target_system, target_component, list(secret), stamp)


@dataclass
class SigningMonitor:
    """What pymavlink dropped on one signed link, by cause, and whether anything signed
    with our key came at all."""

    key: SigningKey
    unsigned: int = 0
    wrong_key: int = 0
    stale: int = 0  # right key, timestamp not newer than its stream's: a replay or a clock far behind
    _pending: str | None = None
    _conn: Any = None

    @property
    def good(self) -> int:
        return int(self._conn.mav.signing.goodsig_count) if self._conn is not None else 0

    def hopeless(self) -> bool:
        """Enough dropped and nothing good: the vehicle does not use our key."""
        return self.unsigned + self.wrong_key >= REFUSALS_BEFORE_GIVING_UP and not self.good

    def refusal(self) -> str | None:
        """Why the vehicle's packets were not accepted, or None when nothing was dropped."""
        if self.wrong_key:
            return _(
                "the vehicle's packets are signed with another key than {fingerprint} "
                "(another drone, or its key was changed without us)"
            ).format(fingerprint=self.key.fingerprint)
        if self.unsigned:
            return _(
                "the vehicle's packets are not signed: key {fingerprint} is not installed on it "
                "(`agrodrone key install`)"
            ).format(fingerprint=self.key.fingerprint)
        if self.stale:
            return _("the vehicle's signed packets carry old timestamps (replayed, or its clock is far behind)")
        return None

    # pymavlink's hooks ---------------------------------------------------------------
    def _check(self, msgbuf: bytearray, src_system: int, src_component: int) -> bool:
        self._pending = check_signature(self._conn.mav.signing, msgbuf, src_system, src_component)
        return self._pending is None

    def _allow(self, _mav: Any, msg_id: int) -> bool:
        cause, self._pending = self._pending or "unsigned", None
        if msg_id in ACCEPT_UNSIGNED:
            return True
        setattr(self, cause, getattr(self, cause) + 1)
        return False


def enable(conn: Any, key: SigningKey, link_id: int = LINK_ID) -> SigningMonitor:
    """Sign what `conn` (a pymavlink connection) sends and check what it receives."""
    monitor = SigningMonitor(key, _conn=conn)
    conn.setup_signing(
        key.secret,
        sign_outgoing=True,
        allow_unsigned_callback=monitor._allow,
        initial_timestamp=timestamp_now(),
        link_id=link_id,
    )
    conn.mav.check_signature = monitor._check
    return monitor


def is_signed(msg: Any) -> bool:
    """Whether a received message carried a signature (checked or not)."""
    try:
        return bool(msg.get_header().incompat_flags & mavlink.MAVLINK_IFLAG_SIGNED)
    except AttributeError:
        return False
