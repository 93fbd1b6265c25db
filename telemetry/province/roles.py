"""Who may do what at the province: a login role per cooperative and per extension officer.

A cooperative's role is a member of `agrodrone_cooperative` and is tied to one cooperative
in `agrodrone.members`: row-level security lets it add and read only that cooperative's
rows. An officer's role is a member of `agrodrone_officer` and tied to a unit: it reads
every cooperative placed in that unit's subtree (following old -> new unit mappings) and
adds nothing. Only the schema's owner (the province administrator) manages members.
Passwords never pass on a command line: they are prompted for and sent as a SCRAM
verifier computed here, so the clear text reaches neither the server nor its logs.
"""

from __future__ import annotations

from gettext import gettext as _
from typing import Any

from telemetry.province.connect import ProvinceError, connect, server_message
from telemetry.province.schema import COOP_ROLE, OFFICER_ROLE, SCHEMA, SchemaState, ensure_province_schema


def init_province(url: str, *, postgis: bool | None = None) -> SchemaState:
    """Create (or migrate) the province schema, its group roles and policies."""
    conn = connect(url)
    try:
        return ensure_province_schema(conn, postgis=postgis)
    finally:
        conn.close()


def add_member(
    url: str, role: str, *, cooperative: str | None = None, unit: str | None = None, password: str | None = None
) -> bool:
    """Tie `role` (created as a login role when missing) to a cooperative or, as an officer, to a unit.

    Returns True when the role was created. `password` (from a prompt, never argv) is stored
    as a SCRAM-SHA-256 verifier."""
    import psycopg
    from psycopg import sql

    if (cooperative is None) == (unit is None):
        raise ProvinceError(_("give either a cooperative or a unit"))
    conn = connect(url)
    try:
        ensure_province_schema(conn)
        created = not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        ident = sql.Identifier(role)
        if created:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        group = COOP_ROLE if cooperative else OFFICER_ROLE
        other = OFFICER_ROLE if cooperative else COOP_ROLE
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), ident))
        conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), ident))
        conn.execute(
            f"INSERT INTO {SCHEMA}.members VALUES (%s, %s, %s, %s) ON CONFLICT (role_name) DO UPDATE "
            "SET kind = EXCLUDED.kind, cooperative_id = EXCLUDED.cooperative_id, unit_id = EXCLUDED.unit_id",
            [role, "cooperative" if cooperative else "officer", cooperative, unit],
        )
        if password is not None:
            verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(verifier)))
        conn.commit()
        return created
    except psycopg.Error as exc:
        conn.rollback()
        raise ProvinceError(
            _("cannot set up role {role}: {reason}").format(role=role, reason=server_message(exc))
        ) from None
    finally:
        conn.close()


def members(url: str) -> list[tuple[str, str, str]]:
    """(role, kind, cooperative or unit) for every member the caller may see (the owner sees all)."""
    import psycopg

    conn = connect(url)
    try:
        return [
            tuple(r)
            for r in conn.execute(
                f"SELECT role_name, kind, COALESCE(cooperative_id, unit_id) FROM {SCHEMA}.members ORDER BY 1"
            )
        ]
    except psycopg.Error as exc:
        raise ProvinceError(_("cannot list the roles: {reason}").format(reason=server_message(exc))) from None
    finally:
        conn.close()


def whoami(conn: Any) -> tuple[str | None, str | None]:
    """('cooperative', id), ('officer', unit) or (None, None) for a role that is neither (the administrator)."""
    row = conn.execute(
        f"SELECT kind, COALESCE(cooperative_id, unit_id) FROM {SCHEMA}.members WHERE role_name = current_user"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)
