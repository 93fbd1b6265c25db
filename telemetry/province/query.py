"""The indicator and report queries on the province database: one set of queries for both databases.

telemetry/reports/indicators.py and telemetry/reports/ are written once, in SQL that SQLite and
PostgreSQL both run the same way (CASE instead of summed booleans, NULLIF before a
division, NULLS FIRST where SQLite puts NULLs first, full GROUP BY lists). What is left is
spelling, translated here: `?` and `:name` parameters, `[table]` quoting, SQLite's `char()`
and the unary `+` it uses as a planner hint. ProvinceDB answers `execute()` like a
sqlite_utils Database, so the report code takes either. Row-level security applies: a
cooperative's role reports on its own records, an officer's on its units.
"""

from __future__ import annotations

import re
from gettext import gettext as _
from typing import Any

from telemetry.province.connect import SCHEMA, ProvinceError, connect, label, server_message
from telemetry.province.schema import PROVINCE_SCHEMA_VERSION, province_state

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_HINT = re.compile(r"(?<=[\s(=,])\+(?=[A-Za-z_])")  # SQLite's `+column`: use no index on it
_BRACKET = re.compile(r"\[([A-Za-z_]\w*)\]")
# The period's records (telemetry/reports/indicators.py's `rec`) are read once from the covering index and
# kept: PostgreSQL cannot estimate how many cooperatives the recursive unit tree yields, and when it
# guesses "two" it fetches every wide record row through the primary key instead.
_REC = re.compile(r"\brec AS \(")


def to_postgres(sql: str, params: Any = None) -> str:
    """The same statement in PostgreSQL's spelling (psycopg's %s / %(name)s parameters)."""
    sql = _HINT.sub("", sql)
    sql = _REC.sub("rec AS MATERIALIZED (", sql)
    sql = _BRACKET.sub(r'"\1"', sql)
    sql = re.sub(r"\bchar\(", "chr(", sql)
    if params is None:
        return sql
    sql = sql.replace("%", "%%")
    if isinstance(params, dict):
        return _NAMED.sub(r"%(\1)s", sql)
    return sql.replace("?", "%s")


class ProvinceDB:
    """A read connection to the province that the indicator and report code can use like a SQLite one."""

    keyed_by_cooperative = True  # operators, drones, fields and jobs are keyed by (cooperative_id, id) here

    def __init__(self, conn: Any, name: str) -> None:
        self.conn = conn
        self.name = name

    def execute(self, sql: str, params: Any = None) -> Any:
        import psycopg

        if params is not None and not isinstance(params, dict):
            params = list(params)
        try:
            return self.conn.execute(to_postgres(sql, params), params)
        except psycopg.Error as exc:
            raise ProvinceError(_("{db}: {reason}").format(db=self.name, reason=server_message(exc))) from None

    def close(self) -> None:
        self.conn.close()


def open_province(url: str) -> ProvinceDB:
    """The province database for reading; refused when it has no (or a newer) agrodrone schema."""
    conn = connect(url, autocommit=True)
    conn.execute("SET work_mem = '32MB'")  # the month and drone tables group 100,000 rows in memory
    name = label(url)
    state = province_state(conn)
    if state is None:
        conn.close()
        raise ProvinceError(
            _(
                "{db}: no agrodrone province schema (sync a cooperative into it, or run `agrodrone province init`)"
            ).format(db=name)
        )
    if state.version > PROVINCE_SCHEMA_VERSION:
        conn.close()
        raise ProvinceError(
            _("the province schema is version {v}, newer than this agrodrone ({mine}): update agrodrone").format(
                v=state.version, mine=PROVINCE_SCHEMA_VERSION
            )
        )
    return ProvinceDB(conn, name)


__all__ = ["ProvinceDB", "open_province", "to_postgres", "SCHEMA"]
