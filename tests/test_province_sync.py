"""`agrodrone sync`: a cooperative's file into the province's PostgreSQL, whole, once, and checked.

Each test gets a fresh database in one throwaway cluster for the session (province_support.py);
without PostgreSQL's server binaries the tests are skipped, with the reason.
"""

from __future__ import annotations

import importlib
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from cli_support import run_cli
from province_support import append_records, cooperative_db, pg, province, province_rows, snapshot  # noqa: F401

from agrodrone.i18n import activate
from telemetry import open_db
from telemetry.province import ProvinceError, sync
from telemetry.records.chain import record_hash

sync_module = importlib.import_module("telemetry.province.sync")  # the package's `sync` is the function

pytestmark = pytest.mark.timeout(120)


def _sync(path: Path, url: str, **kw):
    db = open_db(path, create=False)
    try:
        return sync(db, url, **kw)
    finally:
        db.conn.close()


def test_sync_sends_everything_once_and_a_second_run_says_nothing_new(tmp_path, province, capsys) -> None:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 7)
    code, out, err = run_cli(["sync", "--db", str(coop), "--to", province], capsys)
    assert code == 0, err
    assert "htx-a: sent records #1..#7 (7 new)" in out
    assert "jobs 7" in out and "flights 7" in out and "units 5" in out and "cooperatives 1" in out
    assert "fields 3" in out and "drones 1" in out and "operators 1" in out and "products 1" in out
    assert province_rows(province, "SELECT length FROM chain_heads WHERE cooperative_id = 'htx-a'") == [(7,)]
    before = snapshot(province)
    code, out, err = run_cli(["sync", "--db", str(coop), "--to", province], capsys)
    assert code == 0, err
    assert "nothing new" in out and "htx-a: no new record; the province holds #7" in out
    assert snapshot(province) == before
    # new jobs the next day: only they go
    append_records(coop, "htx-a", 3)
    code, out, err = run_cli(["sync", "--db", str(coop), "--to", province], capsys)
    assert code == 0, err
    assert "htx-a: sent records #8..#10 (3 new)" in out and "units" not in out


def test_what_arrives_is_what_was_hashed(tmp_path, province) -> None:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 4)
    _sync(coop, province)
    local = open_db(coop, create=False)
    cols = [d[1] for d in local.execute("PRAGMA table_info(spray_records)") if d[1] != "id"]
    mine = [
        dict(zip(cols, r)) for r in local.execute(f"SELECT {', '.join(cols)} FROM spray_records ORDER BY chain_seq")
    ]
    theirs = [
        dict(zip(cols, r))
        for r in province_rows(province, f"SELECT {', '.join(cols)} FROM spray_records ORDER BY chain_seq")
    ]
    assert theirs == mine
    for r in theirs:
        assert record_hash(r, r["prev_hash"]) == r["hash"]


@pytest.mark.parametrize("postgis", [True, False], ids=["postgis", "geojson"])
def test_geometry_is_postgis_where_the_server_has_it_else_geojson_text(tmp_path, pg, postgis, capsys) -> None:
    from pg_cluster import postgis_available

    if postgis and not postgis_available():
        pytest.skip("PostGIS is not installed (Debian: postgresql-15-postgis-3)")
    url = pg.create_database(f"geo_{postgis}")
    code, out, err = run_cli(["province", "init", "--db", url] + ([] if postgis else ["--no-postgis"]), capsys)
    assert code == 0, err
    assert f"geometry as {'postgis' if postgis else 'geojson'}" in out
    _sync(cooperative_db(tmp_path / "htx.db", "htx-a", 3), url)
    cols = {
        r[0]
        for r in province_rows(
            url,
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_schema = 'agrodrone' AND table_name = 'spray_records'",
        )
    }
    assert "as_applied_geojson" in cols and "gaps_geojson" in cols  # the hashed text stays in both modes
    if postgis:
        assert {"as_applied", "gaps"} <= cols
        ((area, srid),) = province_rows(
            url, "SELECT SUM(ST_Area(as_applied::geography)), MIN(ST_SRID(as_applied)) FROM spray_records"
        )
        assert area > 1000 and srid == 4326
        assert province_rows(url, "SELECT COUNT(*) FROM fields WHERE boundary IS NOT NULL") == [(3,)]
    else:
        assert "as_applied" not in cols


def _cut_after(monkeypatch, batches: int, *, inside: bool) -> None:
    """Stop a sync after `batches` committed batches, between two (inside=False) or in the middle of
    the next batch's transaction (inside=True), as a killed process or a dropped link would."""
    calls = {"n": 0}
    real = sync_module._upsert

    def upsert(conn, table, rows, key, *, update, report):
        if table == "flights":
            if calls["n"] == batches and inside:
                raise KeyboardInterrupt
            calls["n"] += 1
        if table == "jobs" and calls["n"] == batches and not inside:
            raise KeyboardInterrupt
        return real(conn, table, rows, key, update=update, report=report)

    monkeypatch.setattr(sync_module, "_upsert", upsert)


@pytest.mark.parametrize("batches, inside", [(0, False), (0, True), (1, True), (2, False), (3, True)])
def test_a_sync_cut_anywhere_and_run_again_ends_with_the_same_data(tmp_path, pg, monkeypatch, batches, inside) -> None:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 9)
    whole = pg.create_database(f"whole_{batches}_{inside}")
    _sync(coop, whole, batch_records=2)
    cut = pg.create_database(f"cut_{batches}_{inside}")
    with monkeypatch.context() as m:
        _cut_after(m, batches, inside=inside)
        with pytest.raises(KeyboardInterrupt):
            _sync(coop, cut, batch_records=2)
    heads = province_rows(cut, "SELECT length FROM chain_heads")
    assert heads == ([(2 * batches,)] if batches else [])  # whole batches only
    report = _sync(coop, cut, batch_records=2)
    assert report.records["htx-a"] == (2 * batches + 1, 9)
    assert snapshot(cut) == snapshot(whole)


def test_raw_telemetry_only_with_raw(tmp_path, province, capsys) -> None:
    from reports_support import JOBS, build_sample_db

    path = build_sample_db(tmp_path / "one", jobs=[JOBS[3]])  # one cooperative, real tlog import
    code, out, err = run_cli(["sync", "--db", str(path), "--to", province, "--quiet"], capsys)
    assert code == 0, err and not err
    assert province_rows(province, "SELECT COUNT(*) FROM positions") == [(0,)]
    code, out, err = run_cli(["sync", "--db", str(path), "--to", province, "--raw"], capsys)
    assert code == 0, err
    local = sqlite3.connect(path)
    for table in ("positions", "servo", "heartbeats", "clocks"):
        n = local.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        assert n and province_rows(province, f"SELECT COUNT(*) FROM {table}") == [(n,)], table
        assert f"{table} {n}" in out
    assert province_rows(province, "SELECT COUNT(*) FROM sources") == [(1,)]
    code, out, err = run_cli(["sync", "--db", str(path), "--to", province, "--raw"], capsys)
    assert code == 0 and "nothing new" in out


# -- the chain, checked on arrival -----------------------------------------------------------------


def _synced(tmp_path, province, n: int = 5) -> tuple[Path, dict]:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", n)
    _sync(coop, province)
    return coop, snapshot(province)


def _refused(capsys, coop: Path, url: str, *extra: str) -> str:
    code, out, err = run_cli(["sync", "--db", str(coop), "--to", url, *extra], capsys)
    assert code == 2, out + err
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in err
    return line


def test_a_local_record_edited_after_the_sync_is_refused_by_name(tmp_path, province, capsys) -> None:
    coop, before = _synced(tmp_path, province)
    with sqlite3.connect(coop) as c:
        c.execute("UPDATE spray_records SET area_ha = area_ha * 2 WHERE chain_seq = 3")
    append_records(coop, "htx-a", 2)
    line = _refused(capsys, coop, province)
    assert "record 3 (htx-a #3, job htx-a-job-3)" in line and "edited" in line and "nothing was sent" in line
    assert snapshot(province) == before


def test_a_record_edited_with_its_hash_recomputed_is_refused(tmp_path, province, capsys) -> None:
    coop, before = _synced(tmp_path, province)
    db = open_db(coop)
    cols = [d[1] for d in db.execute("PRAGMA table_info(spray_records)")]
    r = dict(zip(cols, db.execute("SELECT * FROM spray_records WHERE chain_seq = 2").fetchone()))
    r["volume_l"] = 1.0
    with db.conn:
        db.conn.execute(
            "UPDATE spray_records SET volume_l = 1.0, hash = ? WHERE id = ?", [record_hash(r, r["prev_hash"]), r["id"]]
        )
    line = _refused(capsys, coop, province)
    assert "record 3 (htx-a #3, job htx-a-job-3): does not link to the record before it" in line
    assert snapshot(province) == before


def test_the_newest_records_deleted_are_refused(tmp_path, province, capsys) -> None:
    coop, before = _synced(tmp_path, province)
    with sqlite3.connect(coop) as c:  # deleted cleanly: the local chain still verifies on its own
        row = c.execute("SELECT hash FROM spray_records WHERE chain_seq = 3").fetchone()
        c.execute("DELETE FROM flights WHERE job_id IN (SELECT job_id FROM spray_records WHERE chain_seq > 3)")
        c.execute("DELETE FROM spray_records WHERE chain_seq > 3")
        c.execute("DELETE FROM jobs WHERE id IN ('htx-a-job-4', 'htx-a-job-5')")
        c.execute("UPDATE record_chain SET length = 3, head_hash = ?", [row[0]])
    line = _refused(capsys, coop, province)
    assert "the province accepted 5 record(s), this database has 3: record #4 (job htx-a-job-4)" in line
    assert snapshot(province) == before


def test_a_whole_chain_rewritten_is_refused(tmp_path, province, capsys) -> None:
    coop, before = _synced(tmp_path, province)
    db = open_db(coop)
    cols = [d[1] for d in db.execute("PRAGMA table_info(spray_records)")]
    rows = [dict(zip(cols, r)) for r in db.execute("SELECT * FROM spray_records ORDER BY chain_seq")]
    prev = None
    with db.conn:  # a consistent rewrite from #2 on: every hash recomputed, the head too
        for r in rows:
            if r["chain_seq"] >= 2:
                r["area_ha"] = round(r["area_ha"] + 0.1, 4)
            r["prev_hash"] = prev
            r["hash"] = prev = record_hash(r, prev)
            db.conn.execute(
                "UPDATE spray_records SET area_ha = ?, prev_hash = ?, hash = ? WHERE id = ?",
                [r["area_ha"], r["prev_hash"], r["hash"], r["id"]],
            )
        db.conn.execute("UPDATE record_chain SET head_hash = ?", [prev])
    line = _refused(capsys, coop, province)
    assert "record 2 (#2, job htx-a-job-2) is not the record the province accepted as #2" in line
    assert snapshot(province) == before


def test_a_whole_chain_removed_is_refused(tmp_path, province, capsys) -> None:
    coop, before = _synced(tmp_path, province)
    with sqlite3.connect(coop) as c:
        c.execute("DELETE FROM flights")
        c.execute("DELETE FROM spray_records")
        c.execute("DELETE FROM jobs")
        c.execute("DELETE FROM record_chain")
    line = _refused(capsys, coop, province)  # the file still names the cooperative (its drones, fields)
    assert "the province accepted 5 record(s), this database has 0: record #1 (job htx-a-job-1)" in line
    assert snapshot(province) == before


def test_the_province_itself_refuses_a_record_that_does_not_verify(tmp_path, province) -> None:
    """A client that skips the local checks (or plain SQL) meets the province's own check."""
    coop, before = _synced(tmp_path, province, n=3)
    append_records(coop, "htx-a", 1)
    with sqlite3.connect(coop) as c:
        c.execute("UPDATE spray_records SET notes = 'changed' WHERE chain_seq = 4")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sync_module, "local_chain", lambda db, coop: _unchecked(db, coop))
        with pytest.raises(ProvinceError, match=r"record htx-a #4 \(job htx-a-job-4\): its content does not match"):
            _sync(coop, province)
        restore = activate("vi")  # the server's refusal in the user's language, from its facts
        try:
            with pytest.raises(ProvinceError) as refused:
                _sync(coop, province)
        finally:
            restore()
        assert "bản ghi htx-a số 4 (đợt phun htx-a-job-4): nội dung không khớp với mã băm" in str(refused.value)
    assert snapshot(province) == before
    with psycopg.connect(province) as conn:  # a record out of turn, straight into the table
        conn.execute("INSERT INTO agrodrone.jobs (cooperative_id, id) VALUES ('htx-a', 'x')")
        with pytest.raises(psycopg.Error, match=r"record htx-a #7 \(job x\): .* the next one must be #4"):
            conn.execute(
                "INSERT INTO agrodrone.spray_records (job_id, cooperative_id, chain_seq, hash) "
                "VALUES ('x', 'htx-a', 7, 'ab')"
            )


def _unchecked(db, coop: str) -> list[dict]:
    from telemetry.ingest.schema import RECORD_COLUMNS
    from telemetry.province.local import typed

    cols = list(RECORD_COLUMNS)
    return [
        {c: typed(v, RECORD_COLUMNS[c]) for c, v in zip(cols, r)}
        for r in db.execute(
            f"SELECT {', '.join(cols)} FROM spray_records WHERE cooperative_id = ? ORDER BY chain_seq", [coop]
        )
    ]


# -- bad input: one line, exit 2, nothing half-written -----------------------------------------------


@pytest.mark.parametrize(
    "url, says",
    [
        ("htx.db", "is not a PostgreSQL URL"),
        ("postgresql://a@/b?nosuch=1", "not a usable PostgreSQL URL"),
        ("postgresql://a@/b?host=/x&sslmode=sometimes", 'invalid sslmode value: "sometimes"'),  # given to libpq as is
        ("postgresql://coop:secret@localhost/province", "remove the password from the URL"),
    ],
)
def test_a_bad_url_is_one_error_line(tmp_path, capsys, url, says) -> None:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 1)
    line = _refused(capsys, coop, url)
    assert says in line and "secret" not in line


def test_a_server_that_is_not_there_is_one_error_line(tmp_path, capsys) -> None:
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 1)
    line = _refused(capsys, coop, f"postgresql://postgres@/province?host={tmp_path}")
    assert "cannot connect to postgres@socket/province" in line


def test_a_missing_database_file_is_refused_before_connecting(tmp_path, capsys) -> None:
    line = _refused(capsys, tmp_path / "none.db", "postgresql://postgres@/province?host=/nowhere")
    assert "no such database" in line
    assert not (tmp_path / "none.db").exists()


def test_copy_of_a_synced_file_is_idempotent_too(tmp_path, province) -> None:
    coop, before = _synced(tmp_path, province)
    copy = tmp_path / "copy.db"
    shutil.copy(coop, copy)
    assert _sync(copy, province).nothing_new
    assert snapshot(province) == before


def test_the_province_formats_floats_as_python_does(province) -> None:
    """The province rebuilds the canonical JSON in SQL: its floats must read as Python's repr()."""
    import random
    import struct

    from telemetry.province import connect, ensure_province_schema

    rng = random.Random(5)
    xs = [
        0.0,
        -0.0,
        1e16,
        1e15,
        9999999999999998.0,
        1e-4,
        1e-5,
        0.00012,
        15.0,
        1e100,
        -1.5e-7,
        5e-324,
        1.7976931348623157e308,
        0.1 + 0.2,
        3.092535278770144e18,
        -8.44723533243552e18,
    ]
    for _ in range(3000):
        xs.append(struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0])
        xs.append(round(rng.uniform(-1e6, 1e6), rng.randint(0, 8)))
    xs = [x for x in xs if x == x and abs(x) != float("inf")]
    conn = connect(province)
    try:
        ensure_province_schema(conn)
        got = [
            r[0]
            for r in conn.execute(
                "SELECT agrodrone.py_float(x) FROM unnest(%s::float8[]) WITH ORDINALITY AS t(x, n) ORDER BY n", [xs]
            )
        ]
    finally:
        conn.close()
    assert [x for x, g in zip(xs, got) if g != repr(x)] == []


def test_a_negative_zero_is_hashed_as_the_zero_sqlite_keeps(tmp_path, province) -> None:
    """SQLite stores a REAL -0.0 as 0: a dose deviation that rounds to -0.0 must not break the chain."""
    assert record_hash({"dose_deviation_pct": -0.0}, None) == record_hash({"dose_deviation_pct": 0.0}, None)
    coop = cooperative_db(tmp_path / "htx.db", "htx-a", 0)
    import province_support

    real = province_support._records

    def with_negative_zero(*args, **kw):
        recs = real(*args, **kw)
        prev = None
        for r in recs:
            r["dose_deviation_pct"], r["prev_hash"] = -0.0, prev
            r["hash"] = prev = record_hash(r, prev)
        return recs

    with pytest.MonkeyPatch.context() as m:
        m.setattr(province_support, "_records", with_negative_zero)
        append_records(coop, "htx-a", 2)
    assert _sync(coop, province).records["htx-a"] == (1, 2)


def test_the_administrator_loads_the_registry_by_syncing_a_registry_file(tmp_path, province, capsys) -> None:
    from reports_support import REGISTRY_FILES

    from telemetry.reports.registry import load_registry

    db = open_db(tmp_path / "registry.db")
    load_registry(db, REGISTRY_FILES)
    n_units, n_coops = (db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("units", "cooperatives"))
    db.conn.close()
    code, out, err = run_cli(["sync", "--db", str(tmp_path / "registry.db"), "--to", province], capsys)
    assert code == 0, err
    assert f"units {n_units}" in out and f"cooperatives {n_coops}" in out
    assert province_rows(province, "SELECT COUNT(*) FROM spray_records") == [(0,)]
    # the registry corrected (a cooperative renamed) and synced again: the province follows
    with sqlite3.connect(tmp_path / "registry.db") as c:
        coop_id = c.execute("SELECT id FROM cooperatives ORDER BY id LIMIT 1").fetchone()[0]
        c.execute("UPDATE cooperatives SET name = 'HTX Đổi Tên' WHERE id = ?", [coop_id])
    code, out, err = run_cli(["sync", "--db", str(tmp_path / "registry.db"), "--to", province], capsys)
    assert code == 0 and "cooperatives 1" in out and "new rows" not in out, out + err
    assert province_rows(province, f"SELECT name FROM cooperatives WHERE id = '{coop_id}'") == [("HTX Đổi Tên",)]


def test_a_province_of_an_older_schema_is_upgraded_in_place(tmp_path, province) -> None:
    """Version 3 replaced the chain trigger's function, version 4 added height above ground, version 5
    the fleet jobs' drones: a version-2 province gets them all at the next sync."""
    coop, _before = _synced(tmp_path, province, n=2)
    with psycopg.connect(province) as conn:
        conn.execute("DELETE FROM agrodrone.schema_version WHERE version >= 3")
    append_records(coop, "htx-a", 1)
    assert _sync(coop, province).records["htx-a"] == (3, 3)
    assert province_rows(province, "SELECT max(version) FROM schema_version") == [(5,)]
