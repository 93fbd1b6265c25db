"""Flights cut from the autopilot's heartbeats (arm to disarm) and sorties grouped into jobs.

A flight is found by receive time (`start_us`, `end_us`: which rows belong to it) and
measured on the vehicle clock (`start_boot_ms`, `end_boot_ms`, `clock_offset_us`; see
telemetry/ingest/clock.py), so its UTC times and duration agree with the spray times taken from
the same vehicle clock, whatever the simulator's speed-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import cast

import sqlite_utils

from telemetry.ingest.clock import FlightClock, flight_clock
from telemetry.ingest.messages import MAV_AUTOPILOT_INVALID, MAV_TYPE_GCS

FLIGHT_COLUMNS = "id, sysid, start_us, end_us, job_id, drone_id, start_boot_ms, end_boot_ms, clock_offset_us"


@dataclass(frozen=True)
class Flight:
    id: int
    sysid: int
    start_us: int  # receive times: which logged rows belong to the flight
    end_us: int | None
    job_id: str | None
    drone_id: str | None
    start_boot_ms: int | None = None  # vehicle clock at arm and disarm (None: the log has none)
    end_boot_ms: int | None = None
    clock_offset_us: int | None = None  # UTC µs = vehicle µs + this

    @property
    def closed(self) -> bool:
        return self.end_us is not None

    @property
    def clock(self) -> FlightClock:
        """The flight on the vehicle clock, or on receive time for a log without vehicle time."""
        if (
            self.start_boot_ms is not None
            and self.clock_offset_us is not None
            and (self.end_us is None or self.end_boot_ms is not None)
        ):
            return FlightClock(
                self.start_boot_ms / 1e3,
                None if self.end_boot_ms is None else self.end_boot_ms / 1e3,
                self.clock_offset_us,
                True,
            )
        return FlightClock(self.start_us / 1e6, None if self.end_us is None else self.end_us / 1e6, 0, False)

    @property
    def start_utc_us(self) -> int:
        return self.clock.utc_us(self.clock.start_s)

    @property
    def end_utc_us(self) -> int | None:
        c = self.clock
        return None if c.end_s is None else c.utc_us(c.end_s)


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
    its end once the disarm is seen. A closed flight already on the vehicle clock is left
    as it is once a position received after its disarm is stored (its times can no longer
    change), and so is a flight in a job (its record was made with the times it has); this
    also keeps a live logger's rebuild at each arm and disarm cheap.
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
            f"SELECT t_us, armed, source_id FROM heartbeats WHERE {where} AND sysid = ? ORDER BY t_us", [*args, sid]
        ).fetchall()
        source = {t: src for t, _, src in rows}
        last_pos = db.execute("SELECT MAX(t_us) FROM positions WHERE sysid = ?", [sid]).fetchone()[0] or 0
        done = {
            r[0]: r[1]
            for r in db.execute(  # a position after the disarm: its vehicle time is final
                "SELECT start_us, end_us FROM flights WHERE sysid = ? AND end_us IS NOT NULL "
                "AND (job_id IS NOT NULL OR (start_boot_ms IS NOT NULL AND end_us < ?))",
                [sid, last_pos],
            )
        }
        drone = db.execute("SELECT id FROM drones WHERE mav_sysid = ? ORDER BY id LIMIT 1", [sid]).fetchone()
        for start, end in arm_segments([r[:2] for r in rows]):
            if end is not None and done.get(start) == end:
                continue
            stamp = flight_clock(db, sid, (start, source[start]), None if end is None else (end, source[end]))
            f = Flight(0, sid, start, end, None, None, *(stamp or (None, None, None)))
            conn.execute(
                "INSERT INTO flights (sysid, drone_id, start_us, end_us, start_utc, end_utc, duration_s, "
                "start_boot_ms, end_boot_ms, clock_offset_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(sysid, start_us) DO UPDATE SET end_us = excluded.end_us, "
                "start_utc = excluded.start_utc, end_utc = excluded.end_utc, duration_s = excluded.duration_s, "
                "start_boot_ms = excluded.start_boot_ms, end_boot_ms = excluded.end_boot_ms, "
                "clock_offset_us = excluded.clock_offset_us, drone_id = COALESCE(flights.drone_id, excluded.drone_id)",
                (
                    sid,
                    drone[0] if drone else None,
                    start,
                    end,
                    utc_iso(f.start_utc_us),
                    utc_iso(f.end_utc_us),
                    f.clock.duration_s,
                    f.start_boot_ms,
                    f.end_boot_ms,
                    f.clock_offset_us,
                ),
            )
    return db.execute("SELECT COUNT(*) FROM flights").fetchone()[0]


def list_flights(db: sqlite_utils.Database, *, unassigned: bool = False) -> list[Flight]:
    sql = f"SELECT {FLIGHT_COLUMNS} FROM flights"
    if unassigned:
        sql += " WHERE job_id IS NULL"
    return [Flight(*r) for r in db.execute(sql + " ORDER BY start_us")]


def group_sorties(flights: list[Flight], max_gap_s: float) -> list[list[Flight]]:
    """Consecutive closed flights of one vehicle with at most `max_gap_s` on the ground between them
    (on the clock the flights are measured on: at a simulator's speed-up, its ground time)."""
    groups: list[list[Flight]] = []
    for f in sorted((f for f in flights if f.closed), key=lambda f: (f.sysid, f.start_us)):
        last = groups[-1][-1] if groups else None
        # only closed flights are grouped, so last.end_utc_us is set
        if last and last.sysid == f.sysid and (f.start_utc_us - cast(int, last.end_utc_us)) <= max_gap_s * 1e6:
            groups[-1].append(f)
        else:
            groups.append([f])
    return sorted(groups, key=lambda g: g[0].start_us)
