"""MAVLink 2 message signing on the simulated vehicle, as ArduPilot's GCS_Signing.cpp does it.

ArduPilot keeps ONE signing state for the whole vehicle: one secret, one timestamp and one
table of stream timestamps that every channel points at, so a packet captured on one link and
replayed on another is still a replay. We do the same by giving every peer's pymavlink parser
the same `MAVLinkSigning` object. Without a key everything is accepted and nothing is signed.
With one, every packet sent is signed and a packet that arrives unsigned, signed with another
key or not newer than the last of its stream is dropped without a word, except on channel 0
(USB, a trusted wire) and for a telemetry radio's own reports (RADIO_STATUS, RADIO).
"""

from __future__ import annotations

import weakref
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from missions.signing import ACCEPT_UNSIGNED, TICKS_PER_S, check_signature, timestamp_now

# load_signing_key() starts 60 s past the stored timestamp: ArduPilot saves it every 30 s,
# so a timestamp signed before a reboot is never used again after it.
ACTIVATION_MARGIN = 60 * TICKS_PER_S
MAX_STREAMS = 16  # MAVLINK_MAX_SIGNING_STREAMS: further new streams are refused until reboot


def timestamp_at(unix_s: float) -> int:
    """The signing timestamp of a UNIX time, in whole seconds as update_signing_timestamp() has it."""
    return timestamp_now(float(int(unix_s)))


class VehicleSigning:
    """The vehicle's one signing state, shared by the parsers and packers of every link."""

    def __init__(self, key: bytes | None = None, stored_timestamp: int = 0) -> None:
        self.state = mavlink.MAVLinkSigning()
        self.state.allow_unsigned_callback = self._accept_unsigned
        self._trusted: weakref.WeakSet[Any] = weakref.WeakSet()  # parsers of channel-0 peers
        if key is not None:
            self.install(key, stored_timestamp)

    @classmethod
    def at_boot(cls, key: bytes | None, unix_s: float) -> VehicleSigning:
        """The state after a boot at `unix_s` with `key` already stored: the simulator keeps no
        storage, so the key counts as saved with the boot's timestamp, as if just before it."""
        return cls(key, timestamp_at(unix_s))

    @property
    def active(self) -> bool:
        return self.state.secret_key is not None

    def attach(self, mav: Any, trusted: bool) -> None:
        """Make a peer's parser/packer use the vehicle's state (also a parser made afresh)."""
        mav.signing = self.state
        mav.check_signature = self._check
        if trusted:
            self._trusted.add(mav)

    def install(self, key: bytes, stored_timestamp: int) -> None:
        """What SETUP_SIGNING does: store the key and activate it at once on every channel;
        the all-zero key with timestamp 0 switches signing off. The stream table is kept,
        as ArduPilot keeps it."""
        s = self.state
        s.timestamp = stored_timestamp + ACTIVATION_MARGIN
        if stored_timestamp == 0 and not any(key):
            s.secret_key = None
            s.sign_outgoing = False
        else:
            s.secret_key = bytes(key)
            s.sign_outgoing = True

    def setup_signing(self, msg: Any, sysid: int) -> None:
        """A SETUP_SIGNING the link accepted, for this vehicle: install it, answering nothing
        (ArduPilot sends no ACK)."""
        if msg.target_system in (0, sysid):
            self.install(bytes(msg.secret_key), int(msg.initial_timestamp))

    def gps_time(self, unix_s: float) -> None:
        """GPS time is known: raise the timestamp to it (never lower), when signing is on."""
        stamp = timestamp_at(unix_s)
        if self.active and stamp > self.state.timestamp:
            self.state.timestamp = stamp

    # pymavlink's hooks -----------------------------------------------------------------
    def _check(self, msgbuf: bytearray, src_system: int, src_component: int) -> bool:
        """mavlink_signature_check(), in ArduPilot's order, with its limit of streams."""
        return check_signature(self.state, msgbuf, src_system, src_component, max_streams=MAX_STREAMS) is None

    def _accept_unsigned(self, mav: Any, msg_id: int) -> bool:
        """ArduPilot's accept_unsigned_callback: everything on channel 0, radio reports anywhere."""
        return mav in self._trusted or msg_id in ACCEPT_UNSIGNED
