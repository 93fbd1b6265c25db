"""`agrodrone report --db postgresql://...`: the same indicators and HTML as on the SQLite files.

One set of queries serves both databases (telemetry/reports/indicators.py, telemetry/province/query.py);
these tests sync the same data into the province and compare every report file byte for byte."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cli_support import run_cli
from province_support import cooperative_db, pg, province  # noqa: F401
from psycopg.conninfo import conninfo_to_dict
from reports_support import cached_sample_db

from telemetry import open_db
from telemetry.province import add_member, open_province, sync
from telemetry.reports import build_report

pytestmark = pytest.mark.timeout(180)
DAY = date(2027, 1, 15)


def _sync(path, url, **kw):
    db = open_db(path, create=False)
    try:
        return sync(db, url, **kw)
    finally:
        db.conn.close()


def _both(sqlite_path, url, **kw) -> tuple[dict, dict]:
    db = open_db(sqlite_path, create=False)
    try:
        mine = build_report(db, source="same", generated=DAY, **kw)
    finally:
        db.conn.close()
    pdb = open_province(url)
    try:
        theirs = build_report(pdb, source="same", generated=DAY, **kw)
    finally:
        pdb.close()
    return mine, theirs


@pytest.fixture(scope="module")
def sample_province(tmp_path_factory, pg):
    """The report tests' sample province (registry, 5 jobs flown over 4 sample fields), synced."""
    path = cached_sample_db(tmp_path_factory)
    url = pg.create_database("sample_reports")
    _sync(path, url)
    return path, url


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"period": "2026-Q4"},
        {"unit": "tn-dai-tu", "lang": "en"},
        {"cooperative": "htx-co-lung"},
        {"cooperative": "htx-co-lung", "lang": "en"},
        {"cooperative": "htx-che-tan-cuong", "period": "2026-11"},
    ],
    ids=["unit", "quarter", "district-en", "coop", "coop-en", "coop-month"],
)
def test_reports_are_the_same_on_sqlite_and_on_the_province(sample_province, kw) -> None:
    mine, theirs = _both(*sample_province, **kw)
    assert sorted(theirs) == sorted(mine)
    for name in mine:
        assert theirs[name] == mine[name], name
    doc = json.loads(mine["report.json"])
    assert doc["tables"]  # something was measured


def test_the_numbers_are_the_same_on_many_records(tmp_path, pg) -> None:
    url = pg.create_database("many")
    paths = []
    for k, (coop, unit) in enumerate([("htx-a", "tn-dt-cl"), ("htx-b", "tn-pb-x"), ("htx-c", "tn-dt")]):
        paths.append(cooperative_db(tmp_path / f"{coop}.db", coop, 60 + 20 * k, unit=unit, seed=k))
        _sync(paths[-1], url)
    merged = cooperative_db(tmp_path / "all.db", "htx-a", 0, unit="tn-dt-cl")  # the same data in one file
    import sqlite3

    with sqlite3.connect(merged) as c:
        for p in paths:
            c.execute("ATTACH ? AS src", [str(p)])
            for t in (
                "cooperatives",
                "operators",
                "drones",
                "fields",
                "products",
                "jobs",
                "flights",
                "spray_records",
                "record_chain",
            ):
                cols = ", ".join(
                    r[1]
                    for r in c.execute(f"PRAGMA table_info({t})")
                    if not (r[1] == "id" and t in ("flights", "spray_records"))
                )
                c.execute(f"INSERT OR IGNORE INTO {t} ({cols}) SELECT {cols} FROM src.{t}")
            c.commit()
            c.execute("DETACH src")
    for kw in ({"unit": "tn", "period": "2026"}, {"unit": "tn-dt", "period": "2026-Q2"}):
        mine, theirs = _both(merged, url, **kw)
        for name in ("report.json", "indicators.csv", "cooperatives.csv", "months.csv", "drones.csv", "report.html"):
            assert theirs[name] == mine[name], (kw, name)


def test_row_level_security_scopes_the_report(sample_province, pg, monkeypatch) -> None:
    path, url = sample_province
    add_member(url, "rep_co_lung", cooperative="htx-co-lung", password="pw1")
    add_member(url, "rep_officer", unit="tn-dai-tu", password="pw2")
    db = conninfo_to_dict(url)["dbname"]
    monkeypatch.setenv("PGPASSWORD", "pw1")
    # no period given: the report covers the days with records in its scope, whoever runs it
    mine, theirs = _both(path, pg.url(db, "rep_co_lung"), cooperative="htx-co-lung")
    assert theirs == mine
    pdb = open_province(pg.url(db, "rep_co_lung"))
    try:
        from telemetry.errors import TelemetryError

        with pytest.raises(TelemetryError, match="unknown cooperative 'htx-dai-tu'"):
            build_report(pdb, cooperative="htx-dai-tu", generated=DAY)
    finally:
        pdb.close()
    monkeypatch.setenv("PGPASSWORD", "pw2")
    mine, theirs = _both(path, pg.url(db, "rep_officer"), unit="tn-dai-tu")
    for part in ("period", "tables"):
        assert json.loads(theirs["report.json"])[part] == json.loads(mine["report.json"])[part], part


def test_report_command_reads_the_province(sample_province, tmp_path, capsys) -> None:
    _path, url = sample_province
    code, out, err = run_cli(["report", "--db", url, "--out", str(tmp_path / "r"), "--period", "2026"], capsys)
    assert code == 0, err
    assert "unit report for" in out and (tmp_path / "r" / "report.html").exists()
    assert "postgres@socket/sample_reports" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    code, out, err = run_cli(
        ["report", "--db", url.replace("sample_reports", "nosuch"), "--out", str(tmp_path / "x")], capsys
    )
    assert code == 2 and err.startswith("error: cannot connect") and err.count("\n") == 1
    empty = tmp_path.name.replace("-", "_")[:40]
    pg_url = url.replace("sample_reports", empty)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{empty}"')
    code, out, err = run_cli(["report", "--db", pg_url, "--out", str(tmp_path / "y")], capsys)
    assert code == 2 and "no agrodrone province schema" in err
