"""Live logging: every message of a link into SQLite and into a standard .tlog beside it.

`handle(msg)` is cheap (append to a batch under a lock); a background thread writes
and commits the batch every `commit_interval` seconds, so a killed logger loses at
most that much. WAL mode keeps the file consistent whatever moment the kill comes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from telemetry.ingest.flights import rebuild_flights
from telemetry.ingest.messages import ARMED_FLAG, MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS
from telemetry.ingest.schema import discard_db, open_db
from telemetry.ingest.store import MessageBatch
from telemetry.ingest.tlog import TlogWriter
from telemetry.records.refdata import claim_sysid, ensure_row, insert_row, update_row


def default_tlog_path(db_path: str | Path) -> Path:
    """`<db stem>-<UTC time>.tlog` in the database's folder."""
    db_path = Path(db_path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return db_path.with_name(f"{db_path.stem}-{stamp}.tlog")


class Recorder:
    """Feed it pymavlink messages (e.g. as a Vehicle listener); it logs them until `close()`."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        tlog_path: str | Path | None = None,
        cooperative: str | None = None,
        drone: str | None = None,
        commit_interval: float = 0.5,
        write_tlog: bool = True,
    ) -> None:
        self.db_path = Path(db_path)
        self.created_db = not self.db_path.exists()
        self.db = open_db(db_path)
        self.tlog_path = Path(tlog_path) if tlog_path else (default_tlog_path(db_path) if write_tlog else None)
        self._tlog = TlogWriter(self.tlog_path) if self.tlog_path else None
        self.drone = drone
        self.cooperative = cooperative
        self.messages = 0
        self.stored = 0
        self.bad = 0
        self._lock = threading.RLock()
        self._batch = MessageBatch()
        self._armed: dict[int, bool] = {}
        self._dirty_sysids: set[int] = set()
        self._names: dict[int, str] = {}  # sysid -> the drone flying as it, when a link named it
        self._closed = False
        with self.db.conn:
            ensure_row(self.db, "cooperatives", cooperative)
            ensure_row(self.db, "drones", drone, cooperative_id=cooperative)
            self.source_id = insert_row(
                self.db,
                "sources",
                {
                    "kind": "live",
                    "path": str(self.tlog_path.resolve()) if self.tlog_path else None,
                    "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "cooperative_id": cooperative,
                    "drone_id": drone,
                    "messages": 0,
                    "stored": 0,
                    "skipped_bytes": 0,
                },
            )
        self.commit_interval = commit_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telemetry-flush", daemon=True)
        self._thread.start()

    def handle(self, msg) -> None:
        """Log one received message (all types go to the tlog; the logged types also to SQLite)."""
        if msg is None or self._closed:
            return
        if msg.get_type() == "BAD_DATA":
            self.bad += 1
            return
        t = getattr(msg, "_timestamp", None) or time.time()
        t_us = int(t * 1e6)
        with self._lock:
            self.messages += 1
            if self._tlog is not None:
                buf = msg.get_msgbuf()
                if buf:
                    self._tlog.write(t_us, bytes(buf))
            if (
                self._batch.add(self.source_id, t_us, msg)
                and msg.get_msgId() == 0
                and msg.autopilot != MAV_AUTOPILOT_INVALID
                and msg.type != MAV_TYPE_GCS
            ):
                sysid = msg.get_srcSystem()
                armed = bool(msg.base_mode & ARMED_FLAG)
                if self._armed.get(sysid) != armed:
                    self._armed[sysid] = armed
                    self._dirty_sysids.add(sysid)

    def name_sysid(self, sysid: int, drone: str | None) -> None:
        """The drone flying as `sysid` (a fleet job: one drone per link, JobRecorder.handle_for);
        claimed for it at the next flush, so its flights are named after it."""
        if not drone:
            return
        with self._lock:
            self._names[sysid] = drone
            self._dirty_sysids.add(sysid)

    def vehicle_sysids(self) -> set[int]:
        """The system ids of every vehicle (autopilot) heard so far."""
        with self._lock:
            return set(self._armed)

    def flush(self) -> None:
        """Write and commit everything received so far; flush the tlog to the OS."""
        with self._lock:
            if self._tlog is not None:
                self._tlog.flush()
            conn = self.db.conn
            with conn:
                self.stored += self._batch.write(conn)
                for sysid in self._dirty_sysids:
                    drone = self._names.get(sysid, self.drone)
                    if drone != self.drone:
                        ensure_row(self.db, "drones", drone, cooperative_id=self.cooperative)
                    claim_sysid(self.db, drone, sysid)
                    rebuild_flights(self.db, sysid)
                self._dirty_sysids.clear()
                update_row(
                    self.db,
                    "sources",
                    "id",
                    self.source_id,
                    {"messages": self.messages, "stored": self.stored, "skipped_bytes": self.bad},
                )

    def _run(self) -> None:
        while not self._stop.wait(self.commit_interval):
            try:
                self.flush()
            except Exception:  # a busy database must not kill the flusher; the next round retries
                pass

    def close(self) -> None:
        """Final flush, close the tlog and the database (idempotent)."""
        if self._closed:
            return
        self._stop.set()
        self._thread.join()
        self.flush()
        with self._lock:
            self._closed = True
            with self.db.conn:
                update_row(
                    self.db,
                    "sources",
                    "id",
                    self.source_id,
                    {"finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")},
                )
            if self._tlog is not None:
                self._tlog.close()
            self.db.conn.close()

    def discard_if_empty(self) -> None:
        """Close; if nothing was logged, remove the tlog and a database this recorder
        created (a link that never answered leaves no empty files behind)."""
        self.close()
        if self.messages:
            return
        if self.tlog_path is not None and self.tlog_path.exists() and self.tlog_path.stat().st_size == 0:
            self.tlog_path.unlink()
        if self.created_db:
            discard_db(self.db_path)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
