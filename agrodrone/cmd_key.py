"""`agrodrone key`: each drone's MAVLink signing key: create, install, rotate, remove, list.

The keys live in the operator's own folder (missions.keystore), the vehicle side is
missions.keys; this module parses, calls and prints. A secret is never printed: only
its fingerprint, which the operator can compare between two laptops.
"""

from __future__ import annotations

from gettext import gettext as _

import click


def connect_option(required: bool):
    return click.option(
        "--connect",
        "url",
        metavar="URL",
        required=required,
        help="the drone's link, e.g. its USB port /dev/ttyACM0 or tcp:127.0.0.1:5760",
    )


timeout_option = click.option(
    "--timeout", default=30.0, show_default=True, help="seconds to wait for the vehicle's heartbeat"
)


def _store():
    from missions.keystore import KeyStore

    return KeyStore()


@click.group("key")
def key_group() -> None:
    """Signing keys: only ground stations with a drone's key can command it (MAVLink 2 signing)."""


@key_group.command("create")
@click.argument("drone")
@connect_option(required=False)
@timeout_option
def create(drone: str, url: str | None, timeout: float) -> None:
    """Make a new secret key for DRONE, keep it readable only by you, and install it
    on the vehicle when --connect is given (over USB, or while the vehicle has no key)."""
    from missions import MissionError, keys
    from missions.signing import SigningKey

    store = _store()
    key = SigningKey.generate()
    path = store.save(drone, key)
    click.echo(
        _("key for {drone}: {fingerprint} (kept in {path})").format(drone=drone, fingerprint=key.fingerprint, path=path)
    )
    if url is not None:
        try:
            keys.install(store, drone, url, timeout=timeout)
        except MissionError as exc:
            raise MissionError(
                _("{reason}; the key is kept: install it with `agrodrone key install {drone} --connect URL`").format(
                    reason=exc, drone=drone
                )
            ) from None
        click.echo(
            _("installed on the vehicle at {url}: it now signs with {fingerprint}").format(
                url=url, fingerprint=key.fingerprint
            )
        )


@key_group.command("install")
@click.argument("drone")
@connect_option(required=True)
@timeout_option
def install(drone: str, url: str, timeout: float) -> None:
    """Install DRONE's key on the vehicle (e.g. a new flight controller): over its USB
    port, or over any link while it has no key yet."""
    from missions import keys

    change = keys.install(_store(), drone, url, timeout=timeout)
    click.echo(
        _("installed on the vehicle at {url}: it now signs with {fingerprint}").format(
            url=url, fingerprint=change.fingerprint
        )
    )


@key_group.command("rotate")
@click.argument("drone")
@connect_option(required=True)
@timeout_option
def rotate(drone: str, url: str, timeout: float) -> None:
    """Replace DRONE's key with a new one, over a link signed with the current key."""
    from missions import keys

    change = keys.rotate(_store(), drone, url, timeout=timeout)
    click.echo(
        _("key for {drone}: {old} replaced by {new}").format(drone=drone, old=change.previous, new=change.fingerprint)
    )


@key_group.command("remove")
@click.argument("drone")
@connect_option(required=False)
@timeout_option
def remove(drone: str, url: str | None, timeout: float) -> None:
    """Switch signing off on the vehicle and forget DRONE's key; without --connect only
    forget it here (the vehicle keeps signing with it)."""
    from missions import keys

    change = keys.remove(_store(), drone, url, timeout=timeout)
    if url is not None:
        click.echo(
            _("signing switched off on the vehicle at {url}; key {old} forgotten").format(url=url, old=change.previous)
        )
    else:
        click.echo(
            _("key {old} of {drone} forgotten here; the vehicle still has it").format(old=change.previous, drone=drone)
        )


@key_group.command("list")
def list_keys() -> None:
    """The drones that have a key here, with their fingerprints (never the secrets)."""
    store = _store()
    names = store.names()
    if not names:
        click.echo(_("no keys in {dir}").format(dir=store.dir))
        return
    for name in names:
        key = store.load(name)
        pending = store.get(name, pending=True)
        line = f"{name}\t{key.fingerprint}"
        if pending is not None:
            line += "\t" + _("(rotation to {fingerprint} not finished)").format(fingerprint=pending.fingerprint)
        click.echo(line)
