"""Where the drones' signing keys live: one file per drone, readable by the operator only.

The folder is `$AGRODRONE_KEYS`, else `$XDG_CONFIG_HOME/agrodrone/keys` (by default
`~/.config/agrodrone/keys`), mode 0700; each key is `<drone>.key`, mode 0600, written
whole or not at all. A key file others can read is refused, as ssh refuses such a private
key. A key being rotated waits in `<drone>.key.new` until the vehicle is heard signing
with it, so neither key is lost if the link drops half-way. Secrets never go into the
spray database, a tlog or a message: only their fingerprint does.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime, timezone
from gettext import gettext as _
from pathlib import Path

from missions.errors import MissionError
from missions.signing import SigningKey

KEYS_ENV = "AGRODRONE_KEYS"
FORMAT = "agrodrone-signing-key/1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def default_dir() -> Path:
    if os.environ.get(KEYS_ENV):
        return Path(os.environ[KEYS_ENV])
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "agrodrone" / "keys"


def check_name(drone: str) -> str:
    if not _NAME.fullmatch(drone):
        raise MissionError(
            _("bad drone name {name!r}: up to 64 letters, digits, '.', '_' or '-', not starting with a sign").format(
                name=drone
            )
        )
    return drone


class KeyStore:
    """The signing keys in one folder (see the module docstring)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_dir()

    def path(self, drone: str, *, pending: bool = False) -> Path:
        return self.dir / f"{check_name(drone)}.key{'.new' if pending else ''}"

    def names(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(p.name[: -len(".key")] for p in self.dir.glob("*.key") if _NAME.fullmatch(p.name[:-4]))

    def get(self, drone: str, *, pending: bool = False) -> SigningKey | None:
        path = self.path(drone, pending=pending)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError as exc:
            reason = exc.strerror
            raise MissionError(_("cannot read the key {path}: {reason}").format(path=path, reason=reason)) from None
        with os.fdopen(fd, encoding="utf-8") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise MissionError(
                    _("the key {path} can be read by others (mode {mode:o}): make it private with `chmod 600`").format(
                        path=path, mode=stat.S_IMODE(mode)
                    )
                )
            try:
                doc = json.load(fh)
                if doc.get("format") != FORMAT:
                    raise ValueError(f"format {doc.get('format')!r}")
                return SigningKey(bytes.fromhex(doc["secret"]))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise MissionError(_("the key {path} is damaged ({reason})").format(path=path, reason=exc)) from None

    def load(self, drone: str) -> SigningKey:
        key = self.get(drone)
        if key is None:
            raise MissionError(
                _("no signing key for drone {drone} in {dir} (create one: `agrodrone key create {drone}`)").format(
                    drone=drone, dir=self.dir
                )
            )
        return key

    def save(self, drone: str, key: SigningKey, *, pending: bool = False, replace: bool = False) -> Path:
        """Write the key (0600, atomically); an existing key is kept unless `replace`."""
        path = self.path(drone, pending=pending)
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise self._error(self.dir, exc) from None
        if not replace and path.exists():
            raise MissionError(
                _("drone {drone} already has a key ({path}); `agrodrone key rotate` replaces it").format(
                    drone=drone, path=path
                )
            )
        doc = {
            "format": FORMAT,
            "drone": drone,
            "secret": key.secret.hex(),
            "fingerprint": key.fingerprint,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=1)
                fh.write("\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise self._error(path, exc) from None
        return path

    def promote(self, drone: str) -> None:
        """The pending (rotated) key becomes the drone's key."""
        try:
            os.replace(self.path(drone, pending=True), self.path(drone))
        except OSError as exc:
            raise self._error(self.path(drone), exc) from None

    def remove(self, drone: str, *, pending: bool = False) -> bool:
        path = self.path(drone, pending=pending)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(path, exc) from None
        return True

    @staticmethod
    def _error(path: Path, exc: OSError) -> MissionError:
        return MissionError(_("cannot write the key {path}: {reason}").format(path=path, reason=exc.strerror or exc))


def key_for(drone: str | None, store: KeyStore | None = None) -> SigningKey | None:
    """The key a connecting command signs with: the named drone's, when it has one here."""
    if drone is None:
        return None
    return (store or KeyStore()).get(drone)
