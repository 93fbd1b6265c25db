"""`agrodrone log`: record a live MAVLink link into SQLite and a .tlog until Ctrl-C or SIGTERM.

The logger is one more listener on the link layer the flying ground station uses
(missions.connection.LinkKeeper over missions.link.Vehicle): the same URL checks, the
same stream rates, the same reconnection; `telemetry.Recorder.handle` hears every
message of every system on the link.
"""

from __future__ import annotations

import signal
import threading
from gettext import gettext as _

import click


@click.command("log")
@click.option("--connect", "url", required=True, help="MAVLink link, e.g. tcp:127.0.0.1:5760 or udpin:0.0.0.0:14550")
@click.option(
    "--db", "db_path", required=True, type=click.Path(dir_okay=False), help="SQLite database (created if new)"
)
@click.option("--cooperative", default=None, help="cooperative id the flights belong to")
@click.option(
    "--drone",
    default=None,
    help="drone id (its MAVLink system id is learnt from the link); its signing key, if any, checks the link",
)
@click.option(
    "--tlog",
    "tlog_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="raw .tlog to append to [default: <db>-<UTC time>.tlog next to the database]",
)
@click.option("--passive", is_flag=True, help="only listen: send no heartbeat and no stream requests")
@click.option(
    "--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="stop after this many seconds"
)
@click.option("--quiet", is_flag=True, help="no connection messages")
def log(
    url: str,
    db_path: str,
    cooperative: str | None,
    drone: str | None,
    tlog_path: str | None,
    passive: bool,
    duration: float | None,
    quiet: bool,
) -> None:
    """Log every message of interest with receive and vehicle time; reconnects after a link loss."""
    from agrodrone.errors import UserError
    from missions.connection import LinkKeeper, check_url
    from missions.keystore import key_for
    from missions.signing import LOG_LINK_ID
    from telemetry import Recorder

    stop = threading.Event()
    timer = threading.Timer(duration, stop.set) if duration is not None else None

    def say(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    check_url(url)  # a URL that can never work leaves no files behind
    key = key_for(drone)
    recorder = Recorder(db_path, tlog_path=tlog_path, cooperative=cooperative, drone=drone)
    # active: heartbeat and STREAM_RATES, as `fly` asks; passive: beside another ground station, silent
    link = LinkKeeper.for_url(
        url, [recorder.handle], passive=passive, streams=True, on_event=say, key=key, link_id=LOG_LINK_ID
    )
    say(_("logging to {db} and {tlog}").format(db=db_path, tlog=recorder.tlog_path))
    if key is not None:
        say(_("the link is signed with key {fingerprint}").format(fingerprint=key.fingerprint))
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    if timer is not None:
        timer.start()
    try:
        link.hold(stop)
    except BaseException:
        recorder.discard_if_empty()
        raise
    finally:
        if timer is not None:
            timer.cancel()  # else a failed logger would wait out --duration before exiting
        recorder.close()
        for s, h in previous.items():
            signal.signal(s, h)
    if link.connects == 0 or recorder.messages == 0:
        recorder.discard_if_empty()
        what = (
            _("nothing was logged: {url} never answered")
            if link.connects == 0
            else _("nothing was logged: {url} sent no MAVLink message")
        ).format(url=url)
        raise UserError(what + (_(" (last: {event})").format(event=link.problem) if link.problem else ""))
    click.echo(
        f"{recorder.messages} messages logged ({recorder.stored} rows), "
        f"{link.connects} connection(s), {link.losses} link loss(es); tlog {recorder.tlog_path}"
    )
