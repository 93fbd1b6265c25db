"""Import a .tlog (MAVProxy, QGroundControl, Mission Planner or our own) into the database.

The whole file goes in one transaction: a failed import leaves nothing behind. A file
seen before (same SHA-256) is not read again, and every message row has a unique key
(sysid, compid, receive time, sequence), so overlapping files never duplicate a row.
"""

from __future__ import annotations

import hashlib
import mmap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import sqlite_utils

from telemetry.errors import TelemetryError
from telemetry.ingest.flights import rebuild_flights
from telemetry.ingest.messages import BY_ID, MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS
from telemetry.ingest.schema import open_db
from telemetry.ingest.store import MessageBatch
from telemetry.ingest.tlog import ScanStats, scan
from telemetry.records.refdata import claim_sysid, ensure_row, insert_row, update_row

BATCH = 20_000


@dataclass
class ImportReport:
    path: str
    sha256: str
    messages: int = 0  # well-formed MAVLink records in the file
    stored: int = 0  # new rows written (0 on a repeated import)
    duplicates: int = 0  # logged-type messages already in the database
    skipped_bytes: int = 0  # corrupt or truncated bytes passed over
    bad_crc: int = 0
    flights: int = 0  # flights in the database after the import
    already_imported: bool = False
    source_id: int | None = None
    by_table: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.already_imported:
            return f"{self.path}: already imported (source {self.source_id}); nothing added"
        s = (
            f"{self.path}: {self.messages} messages, {self.stored} rows stored, "
            f"{self.duplicates} duplicates, {self.flights} flights in database"
        )
        if self.skipped_bytes:
            s += f", {self.skipped_bytes} corrupt bytes skipped"
        return s


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_tlog(
    path: str | Path,
    db: str | Path | sqlite_utils.Database,
    *,
    cooperative: str | None = None,
    drone: str | None = None,
) -> ImportReport:
    """Load one tlog; corrupt bytes are skipped and counted, a file with no MAVLink at all is an error."""
    path = Path(path)
    if not path.is_file():
        raise TelemetryError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise TelemetryError(f"{path}: empty file, not a tlog")
    if not isinstance(db, sqlite_utils.Database):
        db = open_db(db)
    digest = _sha256(path)
    report = ImportReport(str(path), digest)
    row = db.execute("SELECT id FROM sources WHERE sha256 = ?", [digest]).fetchone()
    if row:
        report.already_imported, report.source_id = True, row[0]
        return report

    stats = ScanStats()
    conn = db.conn
    autopilot_sysid = None
    try:
        with conn:  # one transaction for the whole file
            ensure_row(db, "cooperatives", cooperative)
            ensure_row(db, "drones", drone, cooperative_id=cooperative)
            source_id = insert_row(
                db,
                "sources",
                {
                    "kind": "tlog",
                    "path": str(path.resolve()),
                    "sha256": digest,
                    "size_bytes": size,
                    "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "cooperative_id": cooperative,
                    "drone_id": drone,
                },
            )
            batch = MessageBatch()
            queued = 0
            msg: Any  # a decoded pymavlink message (scan() types it as object)
            with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                # scan() only indexes and slices, which an mmap does as bytes do
                for t_us, msg in scan(cast(bytes, data), set(BY_ID), stats):
                    if batch.add(source_id, t_us, msg):
                        queued += 1
                        report.by_table[BY_ID[msg.get_msgId()].table] = (
                            report.by_table.get(BY_ID[msg.get_msgId()].table, 0) + 1
                        )
                        if (
                            autopilot_sysid is None
                            and msg.get_msgId() == 0
                            and msg.autopilot != MAV_AUTOPILOT_INVALID
                            and msg.type != MAV_TYPE_GCS
                        ):
                            autopilot_sysid = msg.get_srcSystem()
                    if batch.count >= BATCH:
                        report.stored += batch.write(conn)
                report.stored += batch.write(conn)
            report.messages, report.skipped_bytes, report.bad_crc = stats.messages, stats.skipped_bytes, stats.bad_crc
            report.duplicates = queued - report.stored
            if stats.messages == 0:
                raise TelemetryError(f"{path}: not a tlog: no MAVLink record found in {size} bytes")
            claim_sysid(db, drone, autopilot_sysid)
            update_row(
                db,
                "sources",
                "id",
                source_id,
                {
                    "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "messages": stats.messages,
                    "stored": report.stored,
                    "skipped_bytes": stats.skipped_bytes,
                },
            )
            report.flights = rebuild_flights(db)
            report.source_id = source_id
    except (OSError, ValueError) as exc:
        raise TelemetryError(f"{path}: cannot read ({exc})") from None
    return report
