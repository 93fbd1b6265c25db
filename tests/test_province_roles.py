"""Roles and row-level security at the province: each cooperative adds and reads only its own rows,
an officer reads the cooperatives of its unit, nobody changes or deletes a record, and passwords
come only from the standard places. The refusals asserted here are the server's own."""

from __future__ import annotations

import os

import psycopg
import pytest
from cli_support import run_cli
from click.testing import CliRunner
from province_support import append_records, cooperative_db, pg, province, province_rows  # noqa: F401
from psycopg.conninfo import conninfo_to_dict

from telemetry import open_db
from telemetry.province import add_member, init_province, sync

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def roles(pg, province, tmp_path, monkeypatch):
    """A province with cooperatives htx-a (in Đại Từ) and htx-b (in Phú Bình) and an officer of Đại Từ,
    each a login role with a password; the superuser loads nothing but the schema."""
    init_province(province)
    db = conninfo_to_dict(province)["dbname"]
    add_member(province, "htx_a", cooperative="htx-a", password="pw-a")
    add_member(province, "htx_b", cooperative="htx-b", password="pw-b")
    add_member(province, "officer_dt", unit="tn-dt", password="pw-o")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("*:*:*:htx_a:pw-a\n*:*:*:htx_b:pw-b\n*:*:*:officer_dt:pw-o\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    a = cooperative_db(tmp_path / "a.db", "htx-a", 4, unit="tn-dt-cl")
    b = cooperative_db(tmp_path / "b.db", "htx-b", 3, unit="tn-pb-x")
    return {"url": lambda role: pg.url(db, role), "a": a, "b": b, "admin": province}


def _sync(path, url, **kw):
    db = open_db(path, create=False)
    try:
        return sync(db, url, **kw)
    finally:
        db.conn.close()


def _as(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SET search_path = agrodrone, public")
    return conn


def test_each_cooperative_syncs_as_its_own_role_with_the_password_from_pgpass(roles, capsys) -> None:
    code, out, err = run_cli(["sync", "--db", str(roles["a"]), "--to", roles["url"]("htx_a")], capsys)
    assert code == 0, err
    assert "htx-a: sent records #1..#4" in out
    code, out, err = run_cli(["sync", "--db", str(roles["b"]), "--to", roles["url"]("htx_b")], capsys)
    assert code == 0, err
    assert province_rows(roles["admin"], "SELECT cooperative_id, length, accepted_by FROM chain_heads ORDER BY 1") == [
        ("htx-a", 4, "htx_a"),
        ("htx-b", 3, "htx_b"),
    ]


def test_a_wrong_password_is_one_error_line_and_nothing_is_sent(roles, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSFILE", os.devnull)
    monkeypatch.setenv("PGPASSWORD", "not-it")
    code, out, err = run_cli(["sync", "--db", str(roles["a"]), "--to", roles["url"]("htx_a")], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: cannot connect to htx_a@socket/") and "password authentication failed" in err
    assert province_rows(roles["admin"], "SELECT COUNT(*) FROM spray_records") == [(0,)]


def test_a_cooperative_reads_only_its_own_rows(roles) -> None:
    _sync(roles["a"], roles["url"]("htx_a"))
    _sync(roles["b"], roles["url"]("htx_b"))
    with _as(roles["url"]("htx_a")) as conn:
        for table in ("spray_records", "jobs", "flights", "drones", "fields", "operators", "chain_heads"):
            assert {r[0] for r in conn.execute(f"SELECT cooperative_id FROM {table}")} == {"htx-a"}, table
        assert [r[0] for r in conn.execute("SELECT id FROM cooperatives")] == ["htx-a"]
        assert conn.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 5  # the registry is everyone's


def test_the_server_refuses_writing_another_cooperatives_rows_or_changing_a_record(roles) -> None:
    _sync(roles["a"], roles["url"]("htx_a"))
    _sync(roles["b"], roles["url"]("htx_b"))
    before = province_rows(roles["admin"], "SELECT * FROM spray_records ORDER BY cooperative_id, chain_seq")
    with _as(roles["url"]("htx_a")) as conn:
        refused = [
            # another cooperative's job and record
            "INSERT INTO jobs (cooperative_id, id) VALUES ('htx-b', 'forged')",
            "INSERT INTO spray_records (job_id, cooperative_id, chain_seq, hash) "
            "VALUES ('htx-b-job-1', 'htx-b', 4, 'x')",
            "INSERT INTO drones (cooperative_id, id) VALUES ('htx-b', 'd9')",
            # its own accepted record, job, flight and chain head
            "UPDATE spray_records SET area_ha = 99 WHERE cooperative_id = 'htx-a' AND chain_seq = 1",
            "DELETE FROM spray_records WHERE cooperative_id = 'htx-a'",
            "UPDATE jobs SET tank_mix = 'x' WHERE cooperative_id = 'htx-a'",
            "DELETE FROM flights",
            "UPDATE chain_heads SET length = 1",
            "INSERT INTO chain_heads VALUES ('htx-b', 1, 'x', now(), 'htx_a')",
            "DELETE FROM chain_heads",
            "TRUNCATE spray_records",
            "INSERT INTO members VALUES ('htx_a', 'officer', NULL, 'tn')",
        ]
        for statement in refused:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security|permission denied"):
                conn.execute(statement)
        # a second version of its accepted record #2, and a record that does not continue its chain
        conn.execute("INSERT INTO jobs (cooperative_id, id) VALUES ('htx-a', 'again')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO spray_records (id, job_id, cooperative_id, chain_seq, hash) "
                "VALUES (9, 'again', 'htx-a', 2, 'x')"
            )
        with pytest.raises(psycopg.Error, match=r"record htx-a #7 \(job again\).* the next one must be #5"):
            conn.execute(
                "INSERT INTO spray_records (id, job_id, cooperative_id, chain_seq, hash) "
                "VALUES (9, 'again', 'htx-a', 7, 'x')"
            )
        # another cooperative's reference rows are invisible, so not even an UPDATE finds them
        assert conn.execute("UPDATE drones SET name = 'mine' WHERE cooperative_id = 'htx-b'").rowcount == 0
    assert province_rows(roles["admin"], "SELECT * FROM spray_records ORDER BY cooperative_id, chain_seq") == before
    assert province_rows(roles["admin"], "SELECT name FROM drones WHERE cooperative_id = 'htx-b'") == [("Quad 20 L",)]


def test_an_officer_reads_every_cooperative_of_its_unit_and_writes_nothing(roles, capsys) -> None:
    _sync(roles["a"], roles["url"]("htx_a"))
    _sync(roles["b"], roles["url"]("htx_b"))
    with _as(roles["url"]("officer_dt")) as conn:
        assert {r[0] for r in conn.execute("SELECT cooperative_id FROM spray_records")} == {"htx-a"}
        assert conn.execute("SELECT COUNT(*) FROM spray_records").fetchone()[0] == 4
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO units (id, name, level) VALUES ('x', 'x', 'commune')")
    add_member(roles["admin"], "officer_tn", unit="tn", password="pw-t")
    with psycopg.connect(roles["url"]("officer_tn"), password="pw-t") as conn:  # the whole province
        conn.execute("SET search_path = agrodrone")
        assert conn.execute("SELECT COUNT(DISTINCT cooperative_id) FROM spray_records").fetchone()[0] == 2
    code, out, err = run_cli(["sync", "--db", str(roles["a"]), "--to", roles["url"]("officer_dt")], capsys)
    assert code == 2 and "officers read the province database" in err


def test_a_cooperative_role_sends_only_its_own_chain(roles, tmp_path, capsys) -> None:
    both = cooperative_db(tmp_path / "both.db", "htx-a", 2)
    append_records(both, "htx-b", 2)
    code, out, err = run_cli(["sync", "--db", str(both), "--to", roles["url"]("htx_a")], capsys)
    assert code == 0, err
    assert "htx-a: sent records #1..#2" in out and "htx-b: not sent" in out
    assert province_rows(roles["admin"], "SELECT DISTINCT cooperative_id FROM spray_records") == [("htx-a",)]
    code, out, err = run_cli(
        ["sync", "--db", str(both), "--to", roles["url"]("htx_a"), "--cooperative", "htx-b"], capsys
    )
    assert code == 2 and "this role syncs cooperative htx-a only, not htx-b" in err


def test_roles_are_made_with_a_prompted_password_never_an_argument(pg, province) -> None:
    from agrodrone.cli import cli

    runner = CliRunner()
    help_text = runner.invoke(cli, ["province", "cooperative", "--help"]).output
    assert "--password-prompt" in help_text and "--password " not in help_text
    done = runner.invoke(
        cli,
        ["province", "cooperative", "htx_c", "--db", province, "--cooperative", "htx-c", "--password-prompt"],
        input="s3cret\ns3cret\n",
    )
    assert done.exit_code == 0, done.output
    assert "role htx_c (created) syncs and reads cooperative htx-c" in done.output
    (verifier,) = province_rows(province, "SELECT rolpassword FROM pg_authid WHERE rolname = 'htx_c'")[0]
    assert verifier.startswith("SCRAM-SHA-256$") and "s3cret" not in verifier
    done = runner.invoke(cli, ["province", "roles", "--db", province])
    assert "htx_c\tcooperative\thtx-c" in done.output
    db = conninfo_to_dict(province)["dbname"]
    with psycopg.connect(pg.url(db, "htx_c"), password="s3cret") as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "htx_c"
