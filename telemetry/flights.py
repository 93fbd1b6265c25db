"""Flights cut from the autopilot's heartbeats (arm to disarm) and sorties grouped into jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

from telemetry.messages import MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS


@dataclass(frozen=True)
class Flight:
    id: int
    sysid: int
    start_us: int
    end_us: int | None
    job_id: str | None
    drone_id: str | None

    @property
    def closed(self) -> bool:
        return self.end_us is not None


def utc_iso(t_us: int | None) -> str | None:
    if t_us is None:
        return None
    return datetime.fromtimestamp(t_us / 1e6, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def arm_segments(rows: list[tuple[int, int]]) -> list[tuple[int, int | None]]:
    """(t_us, armed) heartbeats in time order -> [(start_us, end_us | None)]."""
    out: list[tuple[int, int | None]] = []
    start = None
    for t, armed in rows:
        if armed and start is None:
            start = t
        elif not armed and start is not None:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, None))
    return out


def rebuild_flights(db: sqlite_utils.Database, sysid: int | None = None) -> int:
    """Derive flights from every autopilot heartbeat stored (idempotent); returns how many exist.

    Only heartbeats of an autopilot count (a ground station's own heartbeats are
    logged too, but never arm). Existing flights keep their job; an open flight gets
    its end once the disarm is seen.
    """
    where = "autopilot != ? AND type != ?"
    args: list = [MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS]
    if sysid is not None:
        sysids = [sysid]
    else:
        sysids = [r[0] for r in db.execute(f"SELECT DISTINCT sysid FROM heartbeats WHERE {where}", args)]
    conn = db.conn
    for sid in sysids:
        rows = db.execute(
            f"SELECT t_us, armed FROM heartbeats WHERE {where} AND sysid = ? ORDER BY t_us",
            [*args, sid]).fetchall()
        drone = db.execute("SELECT id FROM drones WHERE mav_sysid = ? ORDER BY id LIMIT 1", [sid]).fetchone()
        for start, end in arm_segments(rows):
            conn.execute(
                "INSERT INTO flights (sysid, drone_id, start_us, end_us, start_utc, end_utc, duration_s) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sysid, start_us) DO UPDATE SET "
                "end_us = excluded.end_us, end_utc = excluded.end_utc, duration_s = excluded.duration_s, "
                "drone_id = COALESCE(flights.drone_id, excluded.drone_id)",
                (sid, drone[0] if drone else None, start, end, utc_iso(start), utc_iso(end),
                 None if end is None else (end - start) / 1e6))
    return db.execute("SELECT COUNT(*) FROM flights").fetchone()[0]


def list_flights(db: sqlite_utils.Database, *, unassigned: bool = False) -> list[Flight]:
    sql = "SELECT id, sysid, start_us, end_us, job_id, drone_id FROM flights"
    if unassigned:
        sql += " WHERE job_id IS NULL"
    return [Flight(*r) for r in db.execute(sql + " ORDER BY start_us")]


def group_sorties(flights: list[Flight], max_gap_s: float) -> list[list[Flight]]:
    """Consecutive closed flights of one vehicle with at most `max_gap_s` on the ground between them."""
    groups: list[list[Flight]] = []
    for f in sorted((f for f in flights if f.closed), key=lambda f: (f.sysid, f.start_us)):
        last = groups[-1][-1] if groups else None
        if last and last.sysid == f.sysid and (f.start_us - last.end_us) <= max_gap_s * 1e6:
            groups[-1].append(f)
        else:
            groups.append([f])
    return sorted(groups, key=lambda g: g[0].start_us)
