"""One clock for flights and records: the vehicle's own, anchored to UTC once per source and boot.

Every logged row has a receive time `t_us` (the logger's wall clock, or the tlog record's
stamp) and most also carry the vehicle's clock (`time_boot_ms`, `time_usec`). The two
disagree whenever the vehicle runs faster than the wall: ArduPilot SITL or `agrodrone sim`
with a speed-up. A record that cut flights on one clock and timed the pump on the other
came out with spraying before take-off and more spray time than flight time. So flights,
spray intervals and their durations all use the vehicle clock, and its UTC is
`vehicle time + offset`, with one offset per boot:

- The clock is GLOBAL_POSITION_INT.time_boot_ms: always streamed, and the map is built on it.
- A boot starts at the first position of a source (one tlog, one live session) and again when
  time_boot_ms goes back (a reboot) or stood still through a long silence (a reboot while
  the link was down). Its offset is that position's receive time minus its vehicle time.
  The anchors are found while the rows are written (`ClockTracker`, in stream order), so a
  live session and the import of its tlog, which hold the same rows, get the same times.
- HEARTBEAT, which says when the vehicle armed, has no vehicle time: it gets the vehicle time
  interpolated between the positions received just before and after it (same source and
  boot); with only one of them, extrapolated from it at the wall clock's rate.

On a real drone the speed-up is 1: the offset is the link latency and nothing changes. At a
speed-up N the vehicle's UTC runs N times faster than the wall, from the session's start.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

REBOOT_BACK_MS = 1_000  # time_boot_ms going back by more than this is a new boot (less: reordering)
SILENT_SLIP_US = 30_000_000  # the wall ran this much longer than the vehicle across a gap: a reboot
PAIR_WINDOW_US = 60_000_000  # a heartbeat takes its vehicle time from positions at most this far away

CLOCK_ROW = ("source_id", "sysid", "t_us", "time_boot_ms", "offset_us")


class ClockTracker:
    """Follows time_boot_ms of each vehicle in one source's stream and notes where each boot starts."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[int, int]] = {}  # sysid -> (t_us, time_boot_ms) of its last position

    def observe(self, source_id: int, sysid: int, t_us: int, boot_ms: int | None) -> tuple | None:
        """One position in stream order; returns a `clocks` row (CLOCK_ROW order) when it starts a boot."""
        if boot_ms is None:
            return None
        last = self._last.get(sysid)
        self._last[sysid] = (t_us, boot_ms)
        if last is not None:
            t0, b0 = last
            if boot_ms >= b0 - REBOOT_BACK_MS and (t_us - t0) - (boot_ms - b0) * 1000 <= SILENT_SLIP_US:
                return None
        return (source_id, sysid, t_us, boot_ms, t_us - boot_ms * 1000)


def backfill_clocks(db: sqlite_utils.Database) -> int:
    """Anchor the positions already stored (a database from before the clocks table); returns rows added."""
    rows, tracker, current = [], ClockTracker(), None
    for source_id, sysid, t_us, boot_ms in db.execute(
        "SELECT source_id, sysid, t_us, time_boot_ms FROM positions WHERE source_id IS NOT NULL "
        "ORDER BY source_id, t_us"
    ):
        if source_id != current:
            tracker, current = ClockTracker(), source_id
        row = tracker.observe(source_id, sysid, t_us, boot_ms)
        if row:
            rows.append(row)
    db.conn.executemany(
        f"INSERT OR IGNORE INTO clocks ({', '.join(CLOCK_ROW)}) VALUES ({', '.join('?' * len(CLOCK_ROW))})", rows
    )
    return len(rows)


@dataclass(frozen=True)
class FlightClock:
    """The clock a flight is measured on: vehicle seconds since boot (or receive seconds when
    the log has no vehicle time) and the offset that turns it into UTC."""

    start_s: float
    end_s: float | None
    offset_us: int
    vehicle: bool

    def utc_us(self, t_s: float) -> int:
        return int(round(t_s * 1e6)) + self.offset_us

    @property
    def duration_s(self) -> float | None:
        return None if self.end_s is None else round(self.end_s - self.start_s, 6)


def _offset(db: sqlite_utils.Database, sysid: int, source_id: int, t_us: int) -> int | None:
    row = db.execute(
        "SELECT offset_us FROM clocks WHERE source_id = ? AND sysid = ? AND t_us <= ? ORDER BY t_us DESC LIMIT 1",
        [source_id, sysid, t_us],
    ).fetchone()
    return None if row is None else row[0]


def vehicle_time(db: sqlite_utils.Database, sysid: int, source_id: int, t_us: int) -> tuple[float, int] | None:
    """(vehicle ms, UTC offset µs) at receive time `t_us` of a source, from the positions around it."""
    near = []
    for op, order in (("<=", "DESC"), (">=", "ASC")):
        row = db.execute(
            f"SELECT t_us, time_boot_ms FROM positions WHERE sysid = ? AND source_id = ? AND t_us {op} ? "
            f"AND t_us BETWEEN ? AND ? AND time_boot_ms IS NOT NULL ORDER BY t_us {order} LIMIT 1",
            [sysid, source_id, t_us, t_us - PAIR_WINDOW_US, t_us + PAIR_WINDOW_US],
        ).fetchone()
        if row is not None:
            off = _offset(db, sysid, source_id, row[0])
            if off is not None:
                near.append((row[0], row[1], off))
    if not near:
        return None
    if len(near) == 2 and near[0][2] == near[1][2] and near[0][1] <= near[1][1] and near[1][0] > near[0][0]:
        (ta, va, off), (tb, vb, _) = near
        return va + (vb - va) * (t_us - ta) / (tb - ta), off
    t, v, off = min(near, key=lambda n: abs(n[0] - t_us))
    return v + (t_us - t) / 1000.0, off


def flight_clock(
    db: sqlite_utils.Database, sysid: int, start: tuple[int, int], end: tuple[int, int] | None
) -> tuple[int, int | None, int] | None:
    """(start ms, end ms or None, offset µs) of a flight from its arm and disarm heartbeats
    ((t_us, source_id) each); None when the log has no usable vehicle time around them.
    The whole flight uses the clock of its arm (an autopilot does not reboot while armed)."""
    a = vehicle_time(db, sysid, start[1], start[0])
    if a is None:
        return None
    if end is None:
        return round(a[0]), None, a[1]
    b = vehicle_time(db, sysid, end[1], end[0])
    if b is None or b[0] < a[0] or (end[1] == start[1] and b[1] != a[1]):  # not on the arm's boot
        return None
    return round(a[0]), round(b[0]), a[1]
