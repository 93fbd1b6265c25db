"""Importing tlogs as MAVProxy, QGroundControl and Mission Planner write them; corrupt input."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from pymavlink import mavutil
from synthetic import write_flights
from telemetry_support import T0_US, rect_plan

from telemetry import TelemetryError, import_tlog, list_flights, open_db

ROOT = Path(__file__).resolve().parent.parent
AGRODRONE = [sys.executable, "-m", "agrodrone"]  # run from ROOT (see _run)


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(AGRODRONE + args, capture_output=True, text=True, cwd=ROOT)


def _tlog(path: Path, style: str = "mavproxy", sorties: int = 2) -> list:
    _, swaths = rect_plan(w=60, h=20)
    return write_flights(path, [swaths] * sorties, start_us=T0_US, style=style, gap_s=120)


def _count_with_pymavlink(path: Path) -> dict[str, int]:
    """pymavlink's own tlog reader, as MAVExplorer uses it: the file must be a standard tlog."""
    m = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
    counts: dict[str, int] = {}
    while (msg := m.recv_match()) is not None:
        counts[msg.get_type()] = counts.get(msg.get_type(), 0) + 1
    return counts


@pytest.mark.parametrize("style", ["mavproxy", "qgc", "missionplanner", "signed"])
def test_import_each_tool_style_matches_pymavlink_reader(tmp_path, style):
    path = tmp_path / f"{style}.tlog"
    truths = _tlog(path, style)
    counts = _count_with_pymavlink(path)
    assert sum(counts.values()) == sum(t.messages for t in truths)
    db = open_db(tmp_path / "t.db")
    rep = import_tlog(path, db)
    assert rep.messages == sum(counts.values())
    assert rep.skipped_bytes == 0 and rep.bad_crc == 0
    assert db["positions"].count == counts["GLOBAL_POSITION_INT"]
    assert db["servo"].count == counts["SERVO_OUTPUT_RAW"]
    assert db["heartbeats"].count == counts["HEARTBEAT"]  # the ground station's own heartbeats are kept
    flights = list_flights(db)
    assert len(flights) == 2 and all(f.closed for f in flights)
    assert flights[0].start_us == T0_US
    # receive time and vehicle time are both kept
    t_us, boot_ms = db.execute("SELECT t_us, time_boot_ms FROM positions ORDER BY t_us LIMIT 1").fetchone()
    assert t_us == T0_US + 200 and boot_ms == 60_000


def test_reimport_duplicates_nothing_even_under_another_name(tmp_path):
    path = tmp_path / "a.tlog"
    _tlog(path)
    db = open_db(tmp_path / "t.db")
    first = import_tlog(path, db)
    n = db["positions"].count
    again = import_tlog(path, db)
    assert again.already_imported and again.stored == 0
    copy = tmp_path / "copy.tlog"
    copy.write_bytes(path.read_bytes() + path.read_bytes()[:5000])  # same data, different file hash
    third = import_tlog(copy, db)
    assert not third.already_imported and third.stored == 0 and third.duplicates > 0
    assert db["positions"].count == n and first.stored > 0
    assert len(list_flights(db)) == 2


def test_corrupt_bytes_are_skipped_and_counted(tmp_path):
    path = tmp_path / "a.tlog"
    _tlog(path)
    data = bytearray(path.read_bytes())
    clean = import_tlog(path, open_db(tmp_path / "clean.db"))
    rng = random.Random(7)
    for pos in rng.sample(range(100, len(data) - 100), 40):
        data[pos] ^= 0x5A
    data[5000:5000] = os.urandom(333)  # a burst of garbage
    bad = tmp_path / "bad.tlog"
    bad.write_bytes(bytes(data[:-17]))  # and truncated mid-record
    rep = import_tlog(bad, open_db(tmp_path / "bad.db"))
    assert rep.skipped_bytes >= 333 + 17 - 30
    assert clean.messages - 90 <= rep.messages < clean.messages
    assert rep.flights == 2


def test_random_empty_and_missing_files_are_errors(tmp_path):
    db = open_db(tmp_path / "t.db")
    rnd = tmp_path / "random.tlog"
    rnd.write_bytes(random.Random(1).randbytes(50_000))
    with pytest.raises(TelemetryError, match="not a tlog"):
        import_tlog(rnd, db)
    assert db["sources"].count == 0  # nothing half-imported
    empty = tmp_path / "empty.tlog"
    empty.write_bytes(b"")
    with pytest.raises(TelemetryError, match="empty"):
        import_tlog(empty, db)
    with pytest.raises(TelemetryError, match="no such file"):
        import_tlog(tmp_path / "missing.tlog", db)


def test_cli_import_reports_warning_and_one_line_error(tmp_path):
    path = tmp_path / "a.tlog"
    _tlog(path, sorties=1)
    data = path.read_bytes()
    bad = tmp_path / "trunc.tlog"
    bad.write_bytes(data[: len(data) // 2 + 3])
    db = tmp_path / "t.db"
    r = _run(["import", str(bad), "--db", str(db)])
    assert r.returncode == 0, r.stderr
    assert "rows stored" in r.stdout
    assert r.stderr.startswith("warning:") and "corrupt bytes skipped" in r.stderr
    rnd = tmp_path / "random.tlog"
    rnd.write_bytes(random.Random(2).randbytes(20_000))
    r = _run(["import", str(rnd), "--db", str(db)])
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert db.exists()  # the existing database keeps what it had
    new = tmp_path / "new.db"
    r = _run(["import", str(rnd), "--db", str(new)])
    assert r.returncode == 2 and "not a tlog" in r.stderr
    assert not list(tmp_path.glob("new.db*"))  # no empty database (nor -wal/-shm) left behind
