"""Connecting to the province's PostgreSQL: the URL as given, passwords only from the standard places.

The URL goes to psycopg (libpq) unchanged, so every libpq option in it is honoured: TLS
(`sslmode=verify-full`, `sslrootcert=...`), `host=/run/postgresql` for a socket, a `service=`
from pg_service.conf. A password written into the URL is refused: it would show in the
process list and the shell history. libpq finds it in the standard places instead:
PGPASSFILE (default ~/.pgpass), the service file (PGSERVICEFILE), or PGPASSWORD.
Every failure to connect is a ProvinceError with one line saying why.
"""

from __future__ import annotations

import re
from gettext import gettext as _
from typing import Any

from telemetry.errors import TelemetryError

SCHEMA = "agrodrone"  # the province's tables live in their own schema
URL_SCHEMES = ("postgresql://", "postgres://")


class ProvinceError(TelemetryError):
    """The province database cannot be reached, refuses us, or refuses what we send (one line)."""


def is_url(text: str) -> bool:
    """Whether a --db/--to argument names a PostgreSQL database rather than a SQLite file."""
    return text.strip().lower().startswith(URL_SCHEMES)


def check_url(url: str) -> dict[str, str]:
    """The URL's libpq parameters; a malformed URL or one carrying a password is refused."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    if not is_url(url):
        raise ProvinceError(
            _("{url!r} is not a PostgreSQL URL (write postgresql://USER@HOST/DATABASE)").format(url=url)
        )
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise ProvinceError(
            _("{url}: not a usable PostgreSQL URL ({reason})").format(url=url, reason=_first_line(exc))
        ) from None
    if params.get("password"):
        raise ProvinceError(
            _(
                "{url}: remove the password from the URL (it would show in the process list and "
                "the shell history); put it in ~/.pgpass or PGPASSFILE, a service file, or "
                "PGPASSWORD"
            ).format(url=redact(url))
        )
    return {k: str(v) for k, v in params.items()}


def redact(url: str) -> str:
    """The URL without any password in it, for messages and reports."""
    url = re.sub(r"(://[^/@:]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def label(url: str) -> str:
    """A short name for the database in messages: user@host/database."""
    try:
        p = check_url(url)
    except ProvinceError:
        return redact(url)
    host = p.get("host") or "localhost"
    if host.startswith("/"):
        host = "socket"
    return f"{p.get('user', '')}{'@' if p.get('user') else ''}{host}/{p.get('dbname', '')}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def connect(url: str, *, autocommit: bool = False) -> Any:
    """An open psycopg connection with the province schema first on the search path.

    NUMERIC results (PostgreSQL's SUM of integers) come back as int or float, as SQLite
    gives them, so the same code reads either database."""
    import os

    import psycopg

    check_url(url)
    extra: dict[str, Any] = {}
    if "connect_timeout" not in url and not os.environ.get("PGCONNECT_TIMEOUT"):
        extra["connect_timeout"] = 15  # an address that never answers is an error, not a hang
    try:
        conn = psycopg.connect(url, autocommit=autocommit, **extra)
    except psycopg.Error as exc:
        raise ProvinceError(
            _("cannot connect to {db}: {reason}").format(db=label(url), reason=_first_line(exc))
        ) from None
    _numbers_as_python(conn)
    try:
        conn.execute(f"SET search_path = {SCHEMA}, public")
        if not autocommit:
            conn.commit()
    except psycopg.Error as exc:
        conn.close()
        raise ProvinceError(_("{db}: {reason}").format(db=label(url), reason=_first_line(exc))) from None
    return conn


def _numbers_as_python(conn: Any) -> None:
    from psycopg.adapt import Loader

    class NumericLoader(Loader):
        def load(self, data: Any) -> int | float:
            text = bytes(data).decode()
            return int(text) if re.fullmatch(r"-?\d+", text) else float(text)

    conn.adapters.register_loader("numeric", NumericLoader)


def server_message(exc: BaseException) -> str:
    """What the server said, on one line (its primary message, without libpq's decoration)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return " ".join((primary or _first_line(exc)).split())
