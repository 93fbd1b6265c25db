"""Tamper evidence: each spray record's SHA-256 covers its content and the previous record's hash.

The chain is per cooperative (chain_seq 1, 2, ...). Editing any hashed column breaks
that record's hash; deleting a record leaves a hole in chain_seq and a prev_hash that
no longer matches; deleting the newest record disagrees with record_chain's head; a
job (or a flight assigned to one) whose record is gone shows too. Deleting or rewriting
a whole chain consistently, head included, can only be caught from outside the file:
a receipt of the chain heads (`receipt`) kept elsewhere (sent to the extension officer,
later the province database) is checked by `check_receipt`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import sqlite_utils

from telemetry.ingest.record_columns import AGL_COLUMNS, DOSE_COLUMNS, FLEET_COLUMNS, RECORD_COLUMNS

UNHASHED = {"id", "hash", "prev_hash"}
HASHED_COLUMNS = [c for c in RECORD_COLUMNS if c not in UNHASHED]
# Added after records were first hashed: omitted while empty, so older records keep their hashes.
LATE_COLUMNS = frozenset(DOSE_COLUMNS) | frozenset(AGL_COLUMNS) | frozenset(FLEET_COLUMNS)


def canonical(record: dict) -> str:
    """The exact text that is hashed: hashed columns only, typed as stored, sorted keys, compact."""
    out = {}
    for col in HASHED_COLUMNS:
        v = record.get(col)
        if v is None and col in LATE_COLUMNS:
            continue
        if v is not None:
            kind = RECORD_COLUMNS[col]
            # + 0.0: SQLite stores a REAL -0.0 as 0, so a hashed -0.0 would not survive the round trip
            v = float(v) + 0.0 if kind is float else int(v) if kind is int else str(v)
        out[col] = v
    return json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(record: dict, prev_hash: str | None) -> str:
    return hashlib.sha256(((prev_hash or "") + canonical(record)).encode("utf-8")).hexdigest()


@dataclass
class ChainReport:
    records: int = 0
    cooperatives: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(db: sqlite_utils.Database) -> ChainReport:
    """Recompute every hash and check every link; each problem is one line naming the record."""
    report = ChainReport()
    cols = list(RECORD_COLUMNS)
    rows = [
        dict(zip(cols, r))
        for r in db.execute(f"SELECT {', '.join(cols)} FROM spray_records ORDER BY cooperative_id, chain_seq")
    ]
    heads = {r[0]: (r[1], r[2]) for r in db.execute("SELECT cooperative_id, length, head_hash FROM record_chain")}
    by_coop: dict[str, list[dict]] = {}
    for r in rows:
        by_coop.setdefault(r["cooperative_id"], []).append(r)
    report.records, report.cooperatives = len(rows), len(set(by_coop) | set(heads))
    for coop in sorted(set(by_coop) | set(heads)):
        chain = by_coop.get(coop, [])
        prev_hash, expected_seq = None, 1
        for r in chain:
            label = f"record {r['id']} ({coop} #{r['chain_seq']})"
            if r["chain_seq"] != expected_seq:
                report.problems.append(
                    f"{coop}: record(s) #{expected_seq}..#{r['chain_seq'] - 1} missing (deleted) before {label}"
                )
            if r["prev_hash"] != prev_hash:
                report.problems.append(
                    f"{label}: previous-hash link broken (a record before it was deleted or altered)"
                )
            if record_hash(r, r["prev_hash"]) != r["hash"]:
                report.problems.append(f"{label}: content does not match its hash (edited)")
            prev_hash, expected_seq = r["hash"], r["chain_seq"] + 1
        length, head = heads.get(coop, (0, None))
        last_seq = chain[-1]["chain_seq"] if chain else 0
        if length != last_seq or head != prev_hash:
            report.problems.append(
                f"{coop}: chain head says {length} record(s) ending {str(head)[:12]}, table ends at "
                f"#{last_seq} {str(prev_hash)[:12]} (newest record(s) deleted or chain altered)"
            )
    for job, coop in db.execute(
        "SELECT j.id, j.cooperative_id FROM jobs j LEFT JOIN spray_records r "
        "ON r.job_id = j.id WHERE r.id IS NULL ORDER BY j.id"
    ):
        report.problems.append(f"{coop}: job {job} has no spray record (its record was deleted)")
    for job, n in db.execute(
        "SELECT f.job_id, COUNT(*) FROM flights f LEFT JOIN jobs j ON j.id = f.job_id "
        "WHERE f.job_id IS NOT NULL AND j.id IS NULL GROUP BY f.job_id ORDER BY f.job_id"
    ):
        report.problems.append(f"job {job}: {n} flight(s) flown for it, but the job and its record are gone")
    return report


RECEIPT_FORMAT = "agrodrone-chain-receipt"


def receipt(db: sqlite_utils.Database, issued_utc: str) -> dict:
    """The chain heads as they are now: per cooperative, its length and newest hash, with
    a digest over them, to be kept outside this database."""
    heads = {
        coop: {"length": n, "head_hash": h}
        for coop, n, h in db.execute(
            "SELECT cooperative_id, length, head_hash FROM record_chain ORDER BY cooperative_id"
        )
    }
    body = {"format": RECEIPT_FORMAT, "version": 1, "issued_utc": issued_utc, "chains": heads}
    body["digest"] = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return body


def check_receipt(db: sqlite_utils.Database, rec: dict) -> list[str]:
    """What the database lost or rewrote since `rec` was issued: every chain it names must
    still hold the same record at the same place (a chain may have grown since)."""
    if not isinstance(rec, dict) or rec.get("format") != RECEIPT_FORMAT or not isinstance(rec.get("chains"), dict):
        raise ValueError("not an agrodrone chain receipt")
    body = {k: v for k, v in rec.items() if k != "digest"}
    if hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest() != rec.get("digest"):
        raise ValueError("the receipt's digest does not match its content (the receipt was edited)")
    problems = []
    for coop, head in sorted(rec["chains"].items()):
        row = db.execute(
            "SELECT hash FROM spray_records WHERE cooperative_id = ? AND chain_seq = ?", [coop, head["length"]]
        ).fetchone()
        if row is None:
            problems.append(
                f"{coop}: the receipt of {rec.get('issued_utc')} has {head['length']} record(s) "
                "ending " + str(head["head_hash"])[:12] + f", but record #{head['length']} is gone"
            )
        elif row[0] != head["head_hash"]:
            problems.append(
                f"{coop}: record #{head['length']} is not the one the receipt of "
                f"{rec.get('issued_utc')} names (the chain was rewritten)"
            )
    return problems
