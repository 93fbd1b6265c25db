"""A drone's signing key on the vehicle: install, rotate and remove it (SETUP_SIGNING).

ArduPilot takes SETUP_SIGNING unsigned while it has no key, and always over channel 0
(SERIAL0, the USB port: a wire in the operator's hand); once it has a key, anywhere else
only signed with that key. It never answers SETUP_SIGNING, so every change is checked by
connecting again with the new key (or with none, after removal) and asking for
AUTOPILOT_VERSION (its ACK proves the vehicle took what we signed). The local key file
changes only once the vehicle is heard using the new key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from gettext import gettext as _

from missions.errors import MissionError, SigningError
from missions.keystore import KeyStore
from missions.link import Vehicle
from missions.signing import SigningKey, setup_signing_message

SETUP_REPEATS = 2  # no answer comes; a second copy covers one lost packet (a repeat is harmless)


@dataclass(frozen=True)
class KeyChange:
    drone: str
    fingerprint: str | None  # the key now on the vehicle (None: signing off)
    previous: str | None = None  # the key it replaced, when known


def _send_setup(v: Vehicle, key: SigningKey | None) -> None:
    for _k in range(SETUP_REPEATS):
        v.send(setup_signing_message(v.target_system, v.target_component, key))
        time.sleep(0.3)


def verify(url: str, key: SigningKey | None, *, timeout: float = 30.0, baud: int = 57600) -> None:
    """Connect with `key` (None: unsigned) and have a command acknowledged: SigningError
    when the vehicle's packets do not match, MissionError when it does not answer."""
    with Vehicle.connect(url, timeout=timeout, baud=baud, key=key) as v:
        v.request_message("AUTOPILOT_VERSION")


def install(store: KeyStore, drone: str, url: str, *, timeout: float = 30.0, baud: int = 57600) -> KeyChange:
    """Put the drone's stored key on the vehicle over a trusted link (USB, or a vehicle
    with no key yet), then check the vehicle signs with it."""
    key = store.load(drone)
    with Vehicle.connect(url, timeout=timeout, baud=baud, trusted=True) as v:
        _send_setup(v, key)
    try:
        verify(url, key, timeout=timeout, baud=baud)
    except SigningError as exc:
        raise MissionError(
            _(
                "the vehicle did not take key {fingerprint} ({reason}). It already had another key and this "
                "link is not its USB port: connect by USB, or rotate from the key it has"
            ).format(fingerprint=key.fingerprint, reason=exc)
        ) from None
    return KeyChange(drone, key.fingerprint)


def rotate(store: KeyStore, drone: str, url: str, *, timeout: float = 30.0, baud: int = 57600) -> KeyChange:
    """Replace the drone's key with a new one over a link signed with the current key.

    The new key is saved as pending first; a rotation cut half-way (the vehicle took the
    new key but we never heard it) is finished by running it again."""
    old = store.load(drone)
    new = store.get(drone, pending=True)
    if new is None:
        new = SigningKey.generate()
        store.save(drone, new, pending=True)
    try:
        v = Vehicle.connect(url, timeout=timeout, baud=baud, key=old)
    except SigningError:
        verify(url, new, timeout=timeout, baud=baud)  # an earlier rotation got there
        store.promote(drone)
        return KeyChange(drone, new.fingerprint, old.fingerprint)
    with v:
        _send_setup(v, new)
    try:
        verify(url, new, timeout=timeout, baud=baud)
    except MissionError as exc:
        raise MissionError(
            _(
                "the vehicle did not confirm the new key ({reason}); key {old} stays the drone's key and the new "
                "one waits in {path}: run `agrodrone key rotate {drone}` again"
            ).format(reason=exc, old=old.fingerprint, path=store.path(drone, pending=True), drone=drone)
        ) from None
    store.promote(drone)
    return KeyChange(drone, new.fingerprint, old.fingerprint)


def remove(store: KeyStore, drone: str, url: str | None, *, timeout: float = 30.0, baud: int = 57600) -> KeyChange:
    """Switch signing off on the vehicle (all-zero key, over the signed link) and forget
    the key; without `url`, only forget it here (the vehicle keeps its key)."""
    old = store.load(drone)
    if url is not None:
        with Vehicle.connect(url, timeout=timeout, baud=baud, key=old) as v:
            _send_setup(v, None)
        verify(url, None, timeout=timeout, baud=baud)
    store.remove(drone)
    store.remove(drone, pending=True)
    return KeyChange(drone, None, old.fingerprint)
