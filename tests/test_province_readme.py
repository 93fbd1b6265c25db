"""The README's province commands, run in order against a throwaway PostgreSQL.

The commands name `province.example`; here that becomes the session cluster's socket, the
administrator a role that owns the database (PostGIS installed by the superuser, as a DBA
would), and the passwords come from a PGPASSFILE and the prompts' standard input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from province_support import pg, province_rows  # noqa: F401
from reports_support import cached_sample_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "readme-pw"


def province_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The province database", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.timeout(240)
def test_the_readme_province_commands_run(pg, tmp_path, tmp_path_factory) -> None:
    from pg_cluster import postgis_available

    commands = province_commands()
    assert any(c.startswith("agrodrone sync") for c in commands)
    pg.sql(f"CREATE ROLE agrodrone_admin LOGIN CREATEROLE PASSWORD '{PASSWORD}'")
    pg.sql("CREATE DATABASE readme OWNER agrodrone_admin")
    if postgis_available():
        pg.sql("CREATE EXTENSION postgis", db="readme")
    (tmp_path / "out").mkdir()
    shutil.copy(cached_sample_db(tmp_path_factory), tmp_path / "out" / "agrodrone.db")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("".join(f"*:*:*:{r}:{PASSWORD}\n" for r in ("agrodrone_admin", "htx_dai_tu", "ktnn_dai_tu")))
    pgpass.chmod(0o600)
    env = {
        **os.environ,
        "PGPASSFILE": str(pgpass),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("PGPASSWORD", None)
    for command in commands:
        command = command.replace("province.example/agrodrone?sslmode=verify-full", f"/readme?host={pg.socket}")
        proc = subprocess.run(
            ["bash", "-c", f"export PGPASSFILE={pgpass}; {command}"],
            cwd=tmp_path,
            env=env,
            input=f"{PASSWORD}\n{PASSWORD}\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"$ {command}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        if command.startswith("export "):
            name, value = command[len("export ") :].split("=", 1)
            env[name] = value.strip("'\"")
    admin = pg.url("readme")
    assert province_rows(admin, "SELECT cooperative_id, length FROM chain_heads") == [("htx-dai-tu", 1)]
    assert province_rows(admin, "SELECT COUNT(*) FROM positions")[0][0] > 0  # the --raw sync
    assert province_rows(admin, "SELECT COUNT(*) FROM sources") == [(1,)]  # its own tlog, not the others
    assert (tmp_path / "out" / "report-province" / "report.html").exists()
