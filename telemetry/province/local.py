"""What a cooperative's SQLite file holds for the province, read and checked before anything is sent.

The chain is checked here with the rules of telemetry/records/chain.py, limited to one cooperative,
so a record edited or deleted since it was made is refused with its name before the
province sees it; the province checks again on arrival (telemetry/province/schema.py).
Values are typed as the hash typed them (REAL as float, INTEGER as int, TEXT as str), so
what the province stores is exactly what was hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from gettext import gettext as _
from typing import Any

import sqlite_utils

from telemetry.ingest.schema import RECORD_COLUMNS
from telemetry.province.connect import ProvinceError
from telemetry.province.schema import FLIGHT_COLUMNS, JOB_COLUMNS, REFERENCE, SOURCE_COLUMNS
from telemetry.records.chain import record_hash


def typed(value: Any, kind: type) -> Any:
    """A SQLite value as the column's declared type (SQLite stores whatever it is given)."""
    if value is None:
        return None
    if kind is float:
        return float(value)
    if kind is int:
        return int(value)
    return str(value)


def _rows(db: sqlite_utils.Database, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[dict]:
    cur = db.execute(sql, args)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _has(db: sqlite_utils.Database, table: str) -> bool:
    return table in db.table_names()


def file_cooperatives(db: sqlite_utils.Database) -> list[str]:
    """Cooperatives whose chain, jobs or own equipment the file holds (a registry alone is not a chain)."""
    found: set[str] = set()
    for sql in (
        "SELECT DISTINCT cooperative_id FROM spray_records",
        "SELECT cooperative_id FROM record_chain",
        "SELECT DISTINCT cooperative_id FROM jobs",
        "SELECT DISTINCT cooperative_id FROM drones",
        "SELECT DISTINCT cooperative_id FROM fields",
        "SELECT DISTINCT cooperative_id FROM operators",
    ):
        found.update(r[0] for r in db.execute(sql) if r[0])
    return sorted(found)


def _name(r: dict) -> str:
    return _("record {id} ({coop} #{seq}, job {job})").format(
        id=r["id"], coop=r["cooperative_id"], seq=r["chain_seq"], job=r["job_id"]
    )


def local_chain(db: sqlite_utils.Database, coop: str) -> list[dict]:
    """The cooperative's records in chain order, typed; ProvinceError naming the first problem if the
    chain does not verify (an edit, a deletion, a head that disagrees, a job whose record is gone)."""
    cols = list(RECORD_COLUMNS)
    records = [
        {c: typed(v, RECORD_COLUMNS[c]) for c, v in r.items()}
        for r in _rows(
            db, f"SELECT {', '.join(cols)} FROM spray_records WHERE cooperative_id = ? ORDER BY chain_seq", [coop]
        )
    ]
    problems: list[str] = []
    prev, expected = None, 1
    for r in records:
        if r["chain_seq"] != expected:
            problems.append(
                _("{record}: record(s) #{a}..#{b} before it are missing (deleted)").format(
                    record=_name(r), a=expected, b=r["chain_seq"] - 1
                )
            )
        if r["prev_hash"] != prev:
            problems.append(
                _("{record}: does not link to the record before it (a record before it was deleted or altered)").format(
                    record=_name(r)
                )
            )
        if record_hash(r, r["prev_hash"]) != r["hash"]:
            problems.append(
                _("{record}: its content does not match its hash (edited after it was made)").format(record=_name(r))
            )
        prev, expected = r["hash"], r["chain_seq"] + 1
    head = db.execute("SELECT length, head_hash FROM record_chain WHERE cooperative_id = ?", [coop]).fetchone()
    length, head_hash = head if head else (0, None)
    if length != (records[-1]["chain_seq"] if records else 0) or head_hash != prev:
        problems.append(
            _(
                "{coop}: the chain head says {n} record(s) but the records end at #{m} (the newest "
                "record(s) were deleted or the chain altered)"
            ).format(coop=coop, n=length, m=records[-1]["chain_seq"] if records else 0)
        )
    for (job,) in db.execute(
        "SELECT j.id FROM jobs j LEFT JOIN spray_records r ON r.job_id = j.id "
        "WHERE j.cooperative_id = ? AND r.id IS NULL ORDER BY j.id",
        [coop],
    ):
        problems.append(_("{coop}: job {job} has no spray record (its record was deleted)").format(coop=coop, job=job))
    if problems:
        more = (
            _(" (and {n} more problem(s): `agrodrone records verify` lists them)").format(n=len(problems) - 1)
            if len(problems) > 1
            else ""
        )
        raise ProvinceError(
            _("refusing to sync {coop}: {problem}{more}; nothing was sent").format(
                coop=coop, problem=problems[0], more=more
            )
        )
    return records


def reference_rows(db: sqlite_utils.Database, coop: str, records: list[dict]) -> dict[str, list[dict]]:
    """The cooperative's operators, drones and fields (its own and those its records name), as its rows."""
    out: dict[str, list[dict]] = {}
    for table, ref in (("operators", "operator_id"), ("drones", "drone_id"), ("fields", "field_id")):
        columns = REFERENCE[table][0]
        named = sorted({r[ref] for r in records if r[ref]} | (_fleet_drones(records) if table == "drones" else set()))
        rows = _rows(
            db,
            f"SELECT * FROM {table} WHERE cooperative_id = ? OR id IN (SELECT value FROM json_each(?))",
            [coop, _json(named)],
        )
        out[table] = [
            {c: coop if c == "cooperative_id" else typed(r.get(c), t) for c, t in columns.items()} for r in rows
        ]
    return out


def _fleet_drones(records: list[dict]) -> set[str]:
    """The drones a fleet job's records name besides their first (drones_json)."""
    import json

    parts = [d for r in records if r.get("drones_json") for d in json.loads(r["drones_json"])]
    return {d["drone_id"] for d in parts if d["drone_id"]}


def _json(values: list) -> str:
    import json

    return json.dumps(values)


def registry_rows(db: sqlite_utils.Database, cooperatives: list[str] | None) -> dict[str, list[dict]]:
    """Units and unit mappings in the file, and the cooperatives' rows (`None`: every one in the file)."""
    out = {}
    for table in ("units", "unit_mappings", "cooperatives"):
        columns = REFERENCE[table][0]
        rows = _rows(db, f"SELECT * FROM {table} ORDER BY 1")
        if table == "cooperatives" and cooperatives is not None:
            have = {r["id"] for r in rows}
            rows = [r for r in rows if r["id"] in cooperatives] + [{"id": c} for c in cooperatives if c not in have]
        out[table] = [{c: typed(r.get(c), t) for c, t in columns.items()} for r in rows]
    return out


def jobs_and_flights(
    db: sqlite_utils.Database, coop: str, job_ids: list[str]
) -> tuple[list[dict], list[dict], list[dict]]:
    """The jobs named, their flights, and the products they used (name, registration, ...)."""
    ids = _json(job_ids)
    jobs = _rows(
        db,
        "SELECT j.*, p.name AS product_name, p.registration AS product_registration "
        "FROM jobs j LEFT JOIN products p ON p.id = j.product_id "
        "WHERE j.id IN (SELECT value FROM json_each(?))",
        [ids],
    )
    flights = _rows(
        db, "SELECT * FROM flights WHERE job_id IN (SELECT value FROM json_each(?)) ORDER BY sysid, start_us", [ids]
    )
    products = _rows(
        db,
        "SELECT DISTINCT p.name, p.registration, p.active_substance, p.formulation FROM products p "
        "JOIN jobs j ON j.product_id = p.id WHERE j.id IN (SELECT value FROM json_each(?))",
        [ids],
    )
    job_rows = []
    for j in jobs:
        row = {c: typed(j.get(c), t) for c, t in JOB_COLUMNS.items() if c != "product_id"}
        row["cooperative_id"] = coop
        row["product"] = (j["product_name"], j["product_registration"]) if j["product_name"] else None
        job_rows.append(row)
    flight_rows = [
        {c: coop if c == "cooperative_id" else typed(f.get(c), t) for c, t in FLIGHT_COLUMNS.items()} for f in flights
    ]
    return job_rows, flight_rows, products


def local_sources(db: sqlite_utils.Database, coop: str, only_coop: bool) -> list[dict]:
    """The raw-telemetry sources of the cooperative: its own, and those with no cooperative that hold
    positions of its jobs' flights (any, when the file holds no other cooperative's chain)."""
    flown = {
        r[0]
        for r in db.execute(
            "SELECT DISTINCT p.source_id FROM flights f JOIN jobs j ON j.id = f.job_id "
            "JOIN positions p ON p.sysid = f.sysid AND p.t_us BETWEEN f.start_us AND f.end_us "
            "WHERE j.cooperative_id = ?",
            [coop],
        )
    }
    out = []
    for r in _rows(db, "SELECT * FROM sources ORDER BY id"):
        mine = r["cooperative_id"] == coop or (r["cooperative_id"] is None and (only_coop or r["id"] in flown))
        if not mine:
            continue
        row = {c: typed(r.get(c), t) for c, t in SOURCE_COLUMNS.items() if c not in ("cooperative_id", "source_key")}
        row["cooperative_id"] = coop
        row["source_key"] = r["sha256"] or f"{r['kind']}:{r['started_utc']}:{r['path']}:{r['id']}"
        row["_local_id"] = r["id"]
        out.append(row)
    return out
