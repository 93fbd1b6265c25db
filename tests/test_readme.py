"""Every `$ ` command in the README's console blocks, run in order against the simulator.

The README is the newcomer's page; if a command in it stops working, this test fails.
(`make demo` is covered by tests/test_demo.py and `make test` is this suite itself.)
The commands run in a scratch folder holding links to the bundled sample data, with the
simulator's port swapped for a free one so a real SITL on 5760 is never disturbed.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def readme_commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [line[2:].strip() for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def test_readme_has_the_whole_workflow() -> None:
    commands = readme_commands()
    for step in ("fields check", "plan ", "sim ", "upload ", "fly ", "records verify", "import ", "report "):
        assert any(f"agrodrone {step}" in c for c in commands), step
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


def test_every_readme_command_runs(tmp_path: Path) -> None:
    for name in ("fields", "telemetry"):
        (tmp_path / name).symlink_to(ROOT / name)
    port = _free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "COLUMNS": "120",
        "AGRODRONE_KEYS": str(tmp_path / "keys"),  # the signing keys the README makes, not the user's
    }
    background: list[subprocess.Popen] = []
    try:
        for command in readme_commands():
            command = command.replace("5760", str(port))
            if command.endswith("&"):
                background.append(
                    subprocess.Popen(
                        ["bash", "-c", command[:-1]],
                        cwd=tmp_path,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                )
                _wait_for_port(port)
                continue
            proc = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
            )
            assert proc.returncode == 0, f"$ {command}\n{proc.stdout}\n{proc.stderr}"
            assert "Traceback" not in proc.stderr, f"$ {command}\n{proc.stderr}"
    finally:
        for p in background:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    # what the commands were meant to produce
    assert (tmp_path / "out" / "paddies" / "mission.plan").is_file()
    assert (tmp_path / "out" / "records.geojson").is_file()
    assert (tmp_path / "out" / "report-unit" / "report.html").is_file()
    assert (tmp_path / "out" / "report-coop" / "report.html").is_file()
    assert list((tmp_path / "out").glob("agrodrone-*.tlog"))
