"""`agrodrone sim` as a user runs it: a real process, a real TCP port, Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

from sim_groundstation import GroundStation

AGRODRONE = [sys.executable, "-m", "agrodrone"]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*AGRODRONE, *args], capture_output=True, text=True, timeout=60)


def test_sim_runs_in_foreground_until_ctrl_c(tmp_path: Path):
    truth = tmp_path / "truth.jsonl"
    proc = subprocess.Popen(
        [
            *AGRODRONE,
            "sim",
            "--listen",
            "tcp:127.0.0.1:0",
            "--speedup",
            "20",
            "--boot-delay",
            "2",
            "--wind",
            "3,45",
            "--tank",
            "8",
            "--truth",
            str(truth),
            "--param",
            "WPNAV_SPEED=600",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"listening on (tcp:127\.0\.0\.1:\d+)", line)
        assert match, line
        gcs = GroundStation(match.group(1), speedup=20)
        try:
            assert gcs.wait_position(gcs.wall(30)) is not None
            assert gcs.get_param("WPNAV_SPEED") == 600
            assert gcs.get_param("SIM_SPR_TANK") == 8
            wind = gcs.recv({"WIND"}, 5)
            assert abs(wind.speed - 3) < 0.01 and abs(wind.direction - 45) < 0.5
        finally:
            gcs.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped at" in err and "Traceback" not in err
    lines = [json.loads(x) for x in truth.read_text().splitlines()]
    assert lines[-1]["type"] == "summary" and lines[-1]["tank_l"] == 8
    assert any(x["type"] == "sample" for x in lines)


def test_bad_options_are_one_error_line(tmp_path: Path):
    (tmp_path / "no-reload.json").write_text(json.dumps({"format": "agrodrone-plan", "params": {"tank_l": 10}}))
    (tmp_path / "bad-sprayer.json").write_text(
        json.dumps(
            {
                "format": "agrodrone-plan",
                "sprayer": [1],
                "reload": {"lon": 105.7, "lat": 21.7},
                "params": {"tank_l": 10},
            }
        )
    )
    for args in (
        ["--home", "95,0"],
        ["--wind", "fast"],
        ["--loss", "1.5"],
        ["--param", "NO_SUCH=1"],
        ["--listen", "udp:127.0.0.1:5760"],
        ["--speedup", "0"],
        ["--speedup", "inf"],
        ["--out", "udp:nohost.invalid:14550"],
        ["--plan", str(tmp_path / "no-reload.json")],
        ["--plan", str(tmp_path / "bad-sprayer.json")],
    ):
        result = _run("sim", *args)
        assert result.returncode == 2, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)


def test_port_in_use_is_a_user_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        result = _run("sim", "--listen", f"tcp:127.0.0.1:{port}")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot listen on") and "Traceback" not in result.stderr
