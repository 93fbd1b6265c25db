"""Batched inserts of message rows: many rows per statement, one transaction per batch."""

from __future__ import annotations

import sqlite3

from telemetry.messages import BY_ID, COMMON_COLUMNS, SPECS, insert_sql

_SQL = {s.msgid: insert_sql(s) for s in SPECS}
N_COMMON = len(COMMON_COLUMNS)


class MessageBatch:
    """Rows waiting to be written, grouped by message type."""

    def __init__(self) -> None:
        self.rows: dict[int, list[tuple]] = {}
        self.count = 0

    def add(self, source_id: int, t_us: int, msg) -> bool:
        """Queue one decoded pymavlink message; False when its type is not logged."""
        spec = BY_ID.get(msg.get_msgId())
        if spec is None:
            return False
        try:
            values = spec.row(msg)
        except (AttributeError, TypeError, ValueError):
            return False
        self.rows.setdefault(spec.msgid, []).append(
            (source_id, t_us, msg.get_srcSystem(), msg.get_srcComponent(), msg.get_seq(), *values))
        self.count += 1
        return True

    def write(self, conn: sqlite3.Connection) -> int:
        """Insert everything queued (duplicates ignored); returns rows actually stored. No commit."""
        stored = 0
        for msgid, rows in self.rows.items():
            before = conn.total_changes
            conn.executemany(_SQL[msgid], rows)
            stored += conn.total_changes - before
        self.rows.clear()
        self.count = 0
        return stored
