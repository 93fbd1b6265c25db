"""Reading spray records back: one by id or job, or a cooperative's or a field's in time order."""

from __future__ import annotations

import sqlite_utils

from telemetry.errors import TelemetryError
from telemetry.ingest.record_columns import RECORD_COLUMNS


def get_record(db: sqlite_utils.Database, record_id: int | str) -> dict:
    cols = list(RECORD_COLUMNS)
    row = db.execute(
        f"SELECT {', '.join(cols)} FROM spray_records WHERE id = ? OR job_id = ?", [record_id, str(record_id)]
    ).fetchone()
    if row is None:
        raise TelemetryError(f"no spray record {record_id}")
    return dict(zip(cols, row))


def list_records(db: sqlite_utils.Database, *, cooperative: str | None = None, field: str | None = None) -> list[dict]:
    cols = list(RECORD_COLUMNS)
    where: list[str] = []
    args: list[str] = []
    if cooperative:
        where.append("cooperative_id = ?")
        args.append(cooperative)
    if field:
        where.append("field_id = ?")
        args.append(field)
    sql = f"SELECT {', '.join(cols)} FROM spray_records"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [dict(zip(cols, r)) for r in db.execute(sql + " ORDER BY start_utc, id", args)]
