"""Live logging over a real TCP MAVLink link: reconnect, the tlog beside the database, SIGTERM and SIGKILL.

The logger is `agrodrone log`'s: a telemetry Recorder listening on the link layer's
LinkKeeper (missions/connection.py). The link's far end is FakeVehicleServer
(tests/telemetry_support.py): a real socket sending real MAVLink 2 frames whose every
message is recorded, so the test knows exactly what the logger must hold. The flown-field
accuracy test against the simulator is in
test_telemetry_sim.py.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from pymavlink import mavutil
from telemetry_support import FakeVehicleServer

from missions.connection import LinkKeeper
from telemetry import Recorder, list_flights, open_db

ROOT = Path(__file__).resolve().parent.parent


def _wait(cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_recorder_logs_reconnects_and_writes_a_standard_tlog(tmp_path):
    server = FakeVehicleServer(hz=50)
    tlog = tmp_path / "live.tlog"
    rec = Recorder(tmp_path / "t.db", tlog_path=tlog, cooperative="htx-t", drone="d1")
    stop = threading.Event()
    link = LinkKeeper.for_url(server.url, [rec.handle], streams=True)
    th = threading.Thread(target=link.hold, args=(stop,), kwargs={"silence_s": 3, "retry_s": 0.2})
    th.start()
    try:
        assert _wait(lambda: server.counter > 50)
        server.drop()  # link loss: the server closes the connection
        assert _wait(lambda: len(server.sent) > 0 and server.counter > 150)
    finally:
        time.sleep(0.3)
        stop.set()
        th.join(10)
        server.close()
        rec.close()
    assert link.connects >= 2 and link.losses >= 1
    db = open_db(tmp_path / "t.db")
    got = {r[0] for r in db.execute("SELECT time_boot_ms FROM positions")}
    sent = {k for _, k in server.sent}
    assert sent - got == set()  # nothing lost across the reconnect (sent before close = received)
    assert db.execute("SELECT COUNT(*) FROM positions").fetchone()[0] == len(sent)
    # receive and vehicle time are both there; sources row says where the tlog is
    row = db.execute("SELECT t_us, time_boot_ms FROM positions ORDER BY t_us LIMIT 1").fetchone()
    assert row[0] > 1.6e15 and row[1] == 0
    assert db.execute("SELECT kind, path, messages FROM sources").fetchone()[:2] == ("live", str(tlog.resolve()))
    assert db.execute("SELECT mav_sysid FROM drones WHERE id = 'd1'").fetchone()[0] == 1
    assert len(list_flights(db)) == 1  # armed the whole time: one open flight
    # the .tlog opens in pymavlink (MAVExplorer / mavlogdump) with the same messages
    m = mavutil.mavlink_connection(str(tlog), dialect="ardupilotmega")
    n = 0
    while m.recv_match(type="GLOBAL_POSITION_INT") is not None:
        n += 1
    assert n == len(sent)
    # importing the live tlog afterwards duplicates nothing
    from telemetry import import_tlog

    rep = import_tlog(tlog, db)
    assert rep.stored == 0 and rep.duplicates > 0


class _TwoStations:
    """A TCP peer carrying another ground station (system 200, its heartbeat first) and a
    copter (system 7), both streaming positions; it keeps what the logger sends."""

    def __init__(self) -> None:
        import socket

        self.srv = socket.create_server(("127.0.0.1", 0))
        self.url = f"tcp:127.0.0.1:{self.srv.getsockname()[1]}"
        self.received: list = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from pymavlink.dialects.v20 import ardupilotmega as mav

        client, _ = self.srv.accept()
        client.settimeout(0.02)
        gcs, copter, parser = mav.MAVLink(None, 200, 190), mav.MAVLink(None, 7, 1), mav.MAVLink(None, 255, 0)
        k = 0
        with client:
            while not self._stop.is_set():
                frames = (
                    [
                        gcs.heartbeat_encode(mav.MAV_TYPE_GCS, mav.MAV_AUTOPILOT_INVALID, 0, 0, 4, 3).pack(gcs),
                        copter.heartbeat_encode(
                            mav.MAV_TYPE_QUADROTOR, mav.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, 0, 3, 3
                        ).pack(copter),
                    ]
                    if k % 20 == 0
                    else []
                )
                frames += [
                    m.global_position_int_encode(k * 50, 217046000, 1057312000, 0, 0, 0, 0, 0, 0).pack(m)
                    for m in (copter, gcs)
                ]
                client.sendall(b"".join(frames))
                k += 1
                try:
                    self.received += parser.parse_buffer(client.recv(4096)) or []
                except OSError:
                    pass
                time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.srv.close()


def _log_two_stations(tmp_path: Path, passive: bool) -> tuple[_TwoStations, Recorder]:
    peer = _TwoStations()
    rec = Recorder(tmp_path / f"{passive}.db", write_tlog=False)
    link = LinkKeeper.for_url(peer.url, [rec.handle], passive=passive, streams=True)
    stop = threading.Event()
    th = threading.Thread(target=link.hold, args=(stop,))
    th.start()
    try:
        time.sleep(3.0)
    finally:
        stop.set()
        th.join(10)
        peer.close()
        rec.close()
    return peer, rec


def test_passive_logging_sends_nothing_and_logs_every_system(tmp_path):
    peer, rec = _log_two_stations(tmp_path, passive=True)
    assert peer.received == []
    db = open_db(tmp_path / "True.db")
    assert {r[0] for r in db.execute("SELECT DISTINCT sysid FROM positions")} == {7, 200}


def test_active_logging_asks_the_copter_not_the_other_ground_station(tmp_path):
    peer, rec = _log_two_stations(tmp_path, passive=False)
    types = [m.get_type() for m in peer.received]
    assert "HEARTBEAT" in types
    asks = [m for m in peer.received if m.get_type() == "COMMAND_LONG"]
    assert asks and {(m.target_system, m.target_component) for m in asks} == {(7, 1)}
    db = open_db(tmp_path / "False.db")
    assert {r[0] for r in db.execute("SELECT DISTINCT sysid FROM positions")} == {7, 200}


def _logger(db: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "agrodrone", "log", "--connect", url, "--db", str(db), "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT COUNT(*) FROM positions").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_sigkill_at_random_moments_keeps_a_sound_database(tmp_path):
    """SIGKILL the logger 3 times; each time the DB passes integrity_check and holds what came >1 s before."""
    db = tmp_path / "t.db"
    rng = random.Random(int.from_bytes(os.urandom(4), "little"))
    slack = 1.0  # scheduling on a busy 2-core machine, on top of the 1 s guarantee
    for round_ in range(3):
        server = FakeVehicleServer(hz=50)
        before = _count(db)
        proc = _logger(db, server.url)
        try:
            assert _wait(lambda: _count(db) > before, timeout=60), proc.stderr.read() if proc.poll() else ""
            time.sleep(2.1 + rng.uniform(0.0, 2.0))  # a random moment, with >1 s of history to check
            t_kill = time.time()
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
            server.close()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        got = {
            r[0]
            for r in conn.execute(
                "SELECT p.time_boot_ms FROM positions p JOIN sources s ON s.id = p.source_id WHERE s.id = ?",
                [round_ + 1],
            )
        }
        conn.close()
        due = {k for t, k in server.sent if t < t_kill - 1.0 - slack}
        assert due and due <= got, f"round {round_}: {len(due - got)} messages older than 1 s lost"


def test_sigterm_flushes_everything(tmp_path):
    server = FakeVehicleServer(hz=50)
    db = tmp_path / "t.db"
    proc = _logger(db, server.url)
    try:
        assert _wait(lambda: _count(db) > 20, timeout=60)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        sent_before_exit = {k for _, k in server.sent}
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0, err
    assert "messages logged" in out
    conn = sqlite3.connect(db)
    got = {r[0] for r in conn.execute("SELECT time_boot_ms FROM positions")}
    finished = conn.execute("SELECT finished_utc FROM sources").fetchone()[0]
    conn.close()
    assert finished is not None
    # everything the logger received is stored: all but the last few sent while it shut down
    assert len(got) >= len(sent_before_exit) - 60 and got <= sent_before_exit
    assert max(got) >= max(sent_before_exit) - 60
    tlogs = list(tmp_path.glob("t-*.tlog"))
    assert len(tlogs) == 1 and tlogs[0].stat().st_size > 0


def test_a_link_that_can_never_work_is_one_error_line_and_leaves_no_files(tmp_path):
    a_file = tmp_path / "old.tlog"
    a_file.write_bytes(b"\0" * 100)
    for url, message in (
        ("udp:127.0.0.1:notaport", "bad link URL"),
        ("tcp:nocolon", "bad link URL"),
        (str(a_file), "a file, not a link"),
    ):
        db = tmp_path / "l.db"
        t0 = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "agrodrone", "log", "--connect", url, "--db", str(db), "--duration", "120"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert r.stderr.splitlines()[-1].startswith("error: ") and "Traceback" not in r.stderr
        assert time.monotonic() - t0 < 30  # does not wait out --duration
        assert sorted(p.name for p in tmp_path.iterdir()) == ["old.tlog"]  # no empty database or tlog
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "agrodrone",
            "log",
            "--connect",
            "tcp:127.0.0.1:1",
            "--db",
            str(tmp_path / "l.db"),
            "--duration",
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--duration" in r.stderr and not (tmp_path / "l.db").exists()
