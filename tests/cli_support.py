"""Running the agrodrone command line in-process, as a user would call it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agrodrone.cli import main


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `agrodrone ARGV`; main() always exits."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


AGRODRONE = [sys.executable, "-m", "agrodrone"]


def run_agrodrone(*args: str, cwd: Path, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    """`agrodrone ARGS` in a subprocess (a real process: signals, exit codes, a terminal width)."""
    proc = subprocess.run(
        [*AGRODRONE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"agrodrone {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def db_rows(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()
