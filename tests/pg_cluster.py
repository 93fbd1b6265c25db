"""A throwaway PostgreSQL cluster on a Unix socket, for the province tests and bench/sync_bench.py.

PostgreSQL refuses to run as root, so as root the cluster is made and run as the `postgres`
user, in a temporary folder it can write. It listens on no TCP port (a socket only), is small
(few connections, little memory, no fsync: the data is thrown away) and is always stopped.
Local connections need a password (scram-sha-256) except for the superuser `postgres`, so the
tests can exercise PGPASSFILE, PGPASSWORD and a wrong password; `trust=True` lets every role in
without one (the bench).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def bin_dir() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: PG_BIN, Debian's newest, or PATH."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for c in candidates:
        if c and all((Path(c) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


def skip_reason() -> str | None:
    """Why the province tests cannot run here, or None when they can."""
    if bin_dir() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
            "apt-get install postgresql (PG_BIN may name their folder)"
        )
    if os.geteuid() == 0 and (shutil.which("runuser") is None or _uid("postgres") is None):
        return "running as root without a `postgres` user to run PostgreSQL as"
    return None


def _uid(name: str) -> int | None:
    import pwd

    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def postgis_available() -> bool:
    """Whether the PostGIS extension is installed for the server binaries in use."""
    b = bin_dir()
    if b is None:
        return False
    share = (
        subprocess.run([str(b / "pg_config"), "--sharedir"], capture_output=True, text=True).stdout.strip()
        if (b / "pg_config").exists()
        else f"/usr/share/postgresql/{b.parent.name}"
    )
    return Path(share, "extension", "postgis.control").exists()


class Cluster:
    """initdb + pg_ctl start in a temporary folder; `stop()` (or the with-block) removes it all."""

    def __init__(self, *, trust: bool = False) -> None:
        self.bin = bin_dir()
        if self.bin is None:
            raise RuntimeError(skip_reason())
        self.trust = trust
        self.root = Path(tempfile.mkdtemp(prefix="agrodrone-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "sock"
        self.socket.mkdir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            uid = _uid("postgres")
            for p in (self.root, self.socket):
                os.chown(p, uid, -1)
        self.running = False

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self) -> Cluster:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--auth-local=trust",
            "--auth-host=reject",
        )
        hba = "local all postgres trust\n" + (
            "local all all trust\n" if self.trust else "local all all scram-sha-256\n"
        )
        (self.data / "pg_hba.conf").write_text(hba)
        opts = (
            f"-k {self.socket} -c listen_addresses='' -c max_connections=30 -c shared_buffers=32MB "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c log_min_messages=warning "
            "-c password_encryption=scram-sha-256"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", opts, "-w", "start")
        self.running = True
        return self

    def stop(self) -> None:
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
                self.running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, db: str = "postgres", user: str = "postgres") -> str:
        """A libpq URL for the socket (no password: that comes from PGPASSFILE or the environment)."""
        return f"postgresql://{user}@/{db}?host={self.socket}"

    def sql(self, statement: str, db: str = "postgres") -> None:
        """Run SQL as the superuser (autocommit: CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)
