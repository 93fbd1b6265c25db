"""`agrodrone sync`: a cooperative's SQLite file into the province's PostgreSQL.

Everything is checked before anything is sent: each cooperative's chain in the file
(telemetry/province/local.py) and that it continues the head the province accepted.
Then reference data goes in one transaction, and records with their jobs and flights
in batches, one transaction each, so a sync cut at any point leaves whole batches and
the next run continues from the accepted head. Rows are keyed by natural ids (and
records by cooperative and chain position), so nothing arrives twice; a second run
adds nothing and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from gettext import gettext as _
from pathlib import Path
from typing import Any

import sqlite_utils

from telemetry.ingest.schema import RECORD_COLUMNS
from telemetry.province.connect import ProvinceError, connect, label, server_message
from telemetry.province.gate import chain_refusal
from telemetry.province.local import (
    file_cooperatives,
    jobs_and_flights,
    local_chain,
    local_sources,
    reference_rows,
    registry_rows,
    typed,
)
from telemetry.province.roles import whoami
from telemetry.province.schema import CLOCK_COLUMNS, OWN_MUTABLE, RAW_TABLES, REFERENCE, SCHEMA, ensure_province_schema

BATCH_RECORDS = 250
RAW_CHUNK = 5000


@dataclass
class SyncReport:
    """What one sync sent: rows new at the province per table, rows corrected, records per cooperative."""

    database: str
    geometry: str = "geojson"
    cooperatives: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # chains in the file that belong to other roles
    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    records: dict[str, tuple[int, int]] = field(default_factory=dict)  # coop -> (first, last) chain_seq sent
    heads: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # coop -> accepted head after
    batches: int = 0

    def add(self, table: str, n: int, *, updated: int = 0) -> None:
        if n:
            self.new[table] = self.new.get(table, 0) + n
        if updated:
            self.updated[table] = self.updated.get(table, 0) + updated

    @property
    def nothing_new(self) -> bool:
        return not self.new and not self.updated

    def lines(self) -> list[str]:
        """The summary the command prints, one line per cooperative plus reference data."""
        out = []
        for coop in self.cooperatives:
            n, head = self.heads.get(coop, (0, None))
            if coop in self.records:
                a, b = self.records[coop]
                out.append(
                    _(
                        "{coop}: sent records #{a}..#{b} ({n} new); the province accepted the chain up to "
                        "#{head} {hash}"
                    ).format(coop=coop, a=a, b=b, n=b - a + 1, head=n, hash=(head or "")[:12])
                )
            else:
                out.append(
                    _("{coop}: no new record; the province holds #{head} {hash}").format(
                        coop=coop, head=n, hash=(head or "")[:12]
                    )
                )
        rows = [f"{t} {k}" for t, k in sorted(self.new.items()) if t != "spray_records"]
        if rows:
            out.append(_("new rows: {rows}").format(rows=", ".join(rows)))
        if self.updated:
            out.append(
                _("corrected rows: {rows}").format(rows=", ".join(f"{t} {k}" for t, k in sorted(self.updated.items())))
            )
        for coop in self.skipped:
            out.append(_("{coop}: not sent (its chain belongs to another cooperative's role)").format(coop=coop))
        if self.nothing_new:
            out.append(_("nothing new: {db} already had everything").format(db=self.database))
        return out


def sync(
    db: sqlite_utils.Database,
    url: str,
    *,
    cooperatives: list[str] | None = None,
    raw: bool = False,
    batch_records: int = BATCH_RECORDS,
    postgis: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyncReport:
    """Push the file's cooperative data into the province database at `url`; see the module docstring."""
    import psycopg

    conn = connect(url)
    report = SyncReport(label(url))
    try:
        report.geometry = ensure_province_schema(conn, postgis=postgis).geometry
        plan = _plan(conn, db, cooperatives, report)
        _send_reference(conn, db, plan, report)
        for coop, (records, start) in plan.items():
            _send_records(conn, db, coop, records[start:], report, batch_records, progress)
        if raw:
            only = len(file_cooperatives(db)) <= 1
            for coop in plan:
                _send_raw(conn, db, coop, only, report, progress)
        for coop in plan:
            report.heads[coop] = _head(conn, coop)
        return report
    except psycopg.OperationalError as exc:
        raise ProvinceError(
            _(
                "lost the connection to {db} after {n} batch(es) ({reason}); what was sent is whole: "
                "run sync again to continue"
            ).format(db=report.database, n=report.batches, reason=server_message(exc))
        ) from None
    finally:
        conn.close()


def _member(conn: Any) -> tuple[str | None, str | None]:
    kind = whoami(conn)
    conn.rollback()
    return kind


def _head(conn: Any, coop: str) -> tuple[int, str | None]:
    row = conn.execute(
        f"SELECT length, head_hash FROM {SCHEMA}.chain_heads WHERE cooperative_id = %s", [coop]
    ).fetchone()
    conn.rollback()
    return (row[0], row[1]) if row else (0, None)


def _plan(
    conn: Any, db: sqlite_utils.Database, asked: list[str] | None, report: SyncReport
) -> dict[str, tuple[list[dict], int]]:
    """Which chains to send and from where: every check is made here, before anything is sent."""
    kind, own = _member(conn)
    in_file = file_cooperatives(db)
    if kind == "officer":
        raise ProvinceError(
            _(
                "this role is an extension officer's (unit {unit}): officers read the province "
                "database, cooperatives sync into it"
            ).format(unit=own)
        )
    if kind == "cooperative":
        assert own is not None  # members: a cooperative role always names its cooperative
        if asked and set(asked) != {own}:
            raise ProvinceError(
                _("this role syncs cooperative {own} only, not {asked}").format(
                    own=own, asked=", ".join(c for c in asked if c != own)
                )
            )
        coops = [own]
        report.skipped = [c for c in in_file if c != own]
    else:
        coops = list(asked) if asked else in_file
    plan = {}
    for coop in coops:
        records = local_chain(db, coop)
        length, head = _head(conn, coop)
        if length > len(records):
            first = _province_job(conn, coop, len(records) + 1)
            raise ProvinceError(
                _(
                    "refusing to sync {coop}: the province accepted {n} record(s), this database has "
                    "{m}: record #{seq} (job {job}) and after were deleted here, or the chain was "
                    "removed; nothing was sent"
                ).format(coop=coop, n=length, m=len(records), seq=len(records) + 1, job=first)
            )
        if length and records[length - 1]["hash"] != head:
            theirs = dict(
                conn.execute(
                    f"SELECT chain_seq, hash FROM {SCHEMA}.spray_records WHERE cooperative_id = %s ORDER BY chain_seq",
                    [coop],
                ).fetchall()
            )
            conn.rollback()
            r = next(r for r in records if theirs.get(r["chain_seq"]) != r["hash"])
            raise ProvinceError(
                _(
                    "refusing to sync {coop}: record {id} (#{seq}, job {job}) is not the record the "
                    "province accepted as #{seq} (the chain was rewritten here from there); nothing "
                    "was sent"
                ).format(coop=coop, id=r["id"], seq=r["chain_seq"], job=r["job_id"])
            )
        plan[coop] = (records, length)
    report.cooperatives = coops
    return plan


def _province_job(conn: Any, coop: str, seq: int) -> str:
    row = conn.execute(
        f"SELECT job_id FROM {SCHEMA}.spray_records WHERE cooperative_id = %s AND chain_seq = %s", [coop, seq]
    ).fetchone()
    conn.rollback()
    return row[0] if row else "?"


def _insert_sql(table: str, columns: list[str], key: tuple[str, ...], *, update: bool) -> str:
    cols = ", ".join(columns)
    sql = f"INSERT INTO {SCHEMA}.{table} AS t ({cols}) VALUES ({', '.join(['%s'] * len(columns))}) "
    rest = [c for c in columns if c not in key]
    if update and rest:
        sql += (
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = EXCLUDED.{c}" for c in rest)
            + f" WHERE ({', '.join('t.' + c for c in rest)}) IS DISTINCT FROM "
            f"({', '.join('EXCLUDED.' + c for c in rest)}) RETURNING (xmax = 0)"
        )
    else:
        sql += f"ON CONFLICT ({', '.join(key)}) DO NOTHING RETURNING true"
    return sql


def _upsert(conn: Any, table: str, rows: list[dict], key: tuple[str, ...], *, update: bool, report: SyncReport) -> None:
    """Insert rows the province lacks (and correct changed ones when `update`), counting both."""
    if not rows:
        return
    columns = list(rows[0])
    new = changed = 0
    with conn.cursor() as cur:
        cur.executemany(
            _insert_sql(table, columns, key, update=update), [[r[c] for c in columns] for r in rows], returning=True
        )
        while True:
            for (inserted,) in cur.fetchall():
                new, changed = (new + 1, changed) if inserted else (new, changed + 1)
            if not cur.nextset():
                break
    report.add(table, new, updated=changed)


def _refused(exc: BaseException, what: str) -> ProvinceError:
    reason = chain_refusal(exc) or server_message(exc)
    return ProvinceError(_("the province refused {what}: {reason}").format(what=what, reason=reason))


def _send_reference(conn: Any, db: sqlite_utils.Database, plan: dict, report: SyncReport) -> None:
    """Registry, products and each cooperative's operators, drones and fields: one transaction.
    Rows the province has are corrected where they changed: the registry by its administrator,
    operators, drones and fields by their own cooperative."""
    import psycopg

    kind, _own = _member(conn)
    try:
        reg = registry_rows(db, list(plan) if kind == "cooperative" else None)
        for coop in plan:
            if not any(r["id"] == coop for r in reg["cooperatives"]):
                reg["cooperatives"].append({c: (coop if c == "id" else None) for c in REFERENCE["cooperatives"][0]})
        for table in ("units", "unit_mappings", "cooperatives"):  # the province's own registry: only its
            # administrator corrects it (a renamed cooperative, a new unit name); a cooperative's file only adds
            _upsert(conn, table, reg[table], REFERENCE[table][1], update=kind is None, report=report)
        for coop, (records, _start) in plan.items():
            for table, rows in reference_rows(db, coop, records).items():
                _upsert(conn, table, rows, REFERENCE[table][1], update=table in OWN_MUTABLE, report=report)
        conn.commit()
    except psycopg.errors.InsufficientPrivilege as exc:
        conn.rollback()
        raise _refused(exc, _("the reference data (this role may add only its own cooperative's rows)")) from None
    except psycopg.DataError as exc:
        conn.rollback()
        raise _refused(exc, _("the reference data")) from None
    except psycopg.IntegrityError as exc:
        conn.rollback()
        raise _refused(exc, _("the reference data")) from None


def _products(conn: Any, products: list[dict], report: SyncReport) -> dict[tuple, int]:
    rows = [
        {
            "name": p["name"],
            "registration": p["registration"],
            "active_substance": p["active_substance"],
            "formulation": p["formulation"],
        }
        for p in products
        if p["name"]
    ]
    _upsert(conn, "products", rows, ("name", "registration"), update=False, report=report)
    return {(n, r): i for i, n, r in conn.execute(f"SELECT id, name, registration FROM {SCHEMA}.products")}


def _send_records(
    conn: Any,
    db: sqlite_utils.Database,
    coop: str,
    records: list[dict],
    report: SyncReport,
    batch: int,
    progress: Callable[[str], None] | None,
) -> None:
    """Records after the accepted head with their jobs and flights, one transaction per batch."""
    import psycopg

    cols = list(RECORD_COLUMNS)
    record_sql = f"INSERT INTO {SCHEMA}.spray_records ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    for k in range(0, len(records), batch):
        part = records[k : k + batch]
        try:
            jobs, flights, products = jobs_and_flights(db, coop, [r["job_id"] for r in part])
            ids = _products(conn, products, report)
            for j in jobs:
                j["product_id"] = ids.get(j.pop("product")) if j.get("product") else j.pop("product")
            _upsert(conn, "jobs", jobs, ("cooperative_id", "id"), update=False, report=report)
            _upsert(conn, "flights", flights, ("cooperative_id", "sysid", "start_us"), update=False, report=report)
            with conn.cursor() as cur:
                cur.executemany(record_sql, [[typed(r[c], RECORD_COLUMNS[c]) for c in cols] for r in part])
            conn.commit()
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            conn.rollback()
            what = _("records #{a}..#{b} of {coop}").format(a=part[0]["chain_seq"], b=part[-1]["chain_seq"], coop=coop)
            raise _refused(exc, what) from None
        report.batches += 1
        report.add("spray_records", len(part))
        first = report.records.get(coop, (part[0]["chain_seq"], 0))[0]
        report.records[coop] = (first, part[-1]["chain_seq"])
        if progress:
            progress(
                _("{coop}: records #{a}..#{b} accepted").format(
                    coop=coop, a=part[0]["chain_seq"], b=part[-1]["chain_seq"]
                )
            )


def _send_raw(
    conn: Any,
    db: sqlite_utils.Database,
    coop: str,
    only_coop: bool,
    report: SyncReport,
    progress: Callable[[str], None] | None,
) -> None:
    """Raw telemetry of the cooperative's sources, chunk by chunk; a table already complete is skipped."""
    import psycopg

    sources = local_sources(db, coop, only_coop)
    if not sources:
        return
    try:
        _upsert(
            conn,
            "sources",
            [{k: v for k, v in s.items() if k != "_local_id"} for s in sources],
            ("cooperative_id", "source_key"),
            update=False,
            report=report,
        )
        ids = dict(conn.execute(f"SELECT source_key, id FROM {SCHEMA}.sources WHERE cooperative_id = %s", [coop]))
        conn.commit()
        tables = {
            "clocks": (CLOCK_COLUMNS, ("cooperative_id", "source_id", "sysid", "t_us")),
            **{t: (c, ("cooperative_id", "sysid", "compid", "t_us", "seq")) for t, c in RAW_TABLES.items()},
        }
        for s in sources:
            pid = ids[s["source_key"]]
            for table, (columns, key) in tables.items():
                local_n = db.execute(f"SELECT COUNT(*) FROM {table} WHERE source_id = ?", [s["_local_id"]]).fetchone()[
                    0
                ]
                have = conn.execute(
                    f"SELECT COUNT(*) FROM {SCHEMA}.{table} WHERE cooperative_id = %s AND source_id = %s", [coop, pid]
                ).fetchone()[0]
                conn.rollback()
                if local_n == have:
                    continue
                names = [c for c in columns if c not in ("cooperative_id", "source_id")]
                sql = _insert_sql(table, list(columns), key, update=False).replace(" RETURNING true", "")
                cur = db.execute(
                    f"SELECT {', '.join(names)} FROM {table} WHERE source_id = ? ORDER BY id", [s["_local_id"]]
                )
                while chunk := cur.fetchmany(RAW_CHUNK):
                    with conn.cursor() as pc:
                        pc.executemany(
                            sql, [[coop, pid, *(typed(v, columns[n]) for n, v in zip(names, row))] for row in chunk]
                        )
                        added = max(pc.rowcount, 0)
                    conn.commit()
                    report.add(table, added)
                if progress:
                    progress(
                        _("{coop}: raw {table} of source {source} sent").format(
                            coop=coop, table=table, source=Path(s["path"] or "").name or s["source_key"][:12]
                        )
                    )
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        conn.rollback()
        raise _refused(exc, _("the raw telemetry of {coop}").format(coop=coop)) from None
