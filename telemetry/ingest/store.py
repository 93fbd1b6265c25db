"""Batched inserts of message rows: many rows per statement, one transaction per batch.

A batch also follows each vehicle's clock in stream order (telemetry/ingest/clock.py): live
logging and tlog import both write through it, so the same stream gets the same anchors.
"""

from __future__ import annotations

import sqlite3

from telemetry.ingest.clock import CLOCK_ROW, ClockTracker
from telemetry.ingest.messages import BY_ID, BY_TABLE, COMMON_COLUMNS, SPECS, insert_sql

_SQL = {s.msgid: insert_sql(s) for s in SPECS}
_CLOCK_SQL = f"INSERT OR IGNORE INTO clocks ({', '.join(CLOCK_ROW)}) VALUES ({', '.join('?' * len(CLOCK_ROW))})"
_POSITION = BY_TABLE["positions"].msgid
N_COMMON = len(COMMON_COLUMNS)


class MessageBatch:
    """Rows waiting to be written, grouped by message type; one batch per source (tlog or session)."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple]] = {}
        self.count = 0
        self.clock = ClockTracker()
        self.clock_rows: list[tuple] = []

    def add(self, source_id: int, t_us: int, msg) -> bool:
        """Queue one decoded pymavlink message; False when its type is not logged."""
        spec = BY_ID.get(msg.get_msgId())
        if spec is None:
            return False
        try:
            values = spec.row(msg)
        except (AttributeError, TypeError, ValueError):
            return False
        sysid = msg.get_srcSystem()
        self.rows.setdefault(spec.msgid, []).append(
            (source_id, t_us, sysid, msg.get_srcComponent(), msg.get_seq(), *values)
        )
        self.count += 1
        if spec.msgid == _POSITION:
            anchor = self.clock.observe(source_id, sysid, t_us, values[0])
            if anchor:
                self.clock_rows.append(anchor)
        return True

    def write(self, conn: sqlite3.Connection) -> int:
        """Insert everything queued (duplicates ignored); returns rows actually stored. No commit."""
        stored = 0
        for msgid, rows in self.rows.items():
            before = conn.total_changes
            conn.executemany(_SQL[msgid], rows)
            stored += conn.total_changes - before
        conn.executemany(_CLOCK_SQL, self.clock_rows)
        self.clock_rows.clear()
        self.rows.clear()
        self.count = 0
        return stored
