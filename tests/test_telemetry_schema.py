"""The schema is created and migrated by code, in WAL mode, with foreign keys and indexes."""

from __future__ import annotations

import sqlite3

import pytest

from telemetry import SCHEMA_VERSION, TelemetryError, open_db
from telemetry.ingest.messages import SPECS


def test_new_database_has_every_table_wal_and_version(tmp_path):
    db = open_db(tmp_path / "t.db")
    names = set(db.table_names())
    for t in [
        "cooperatives",
        "operators",
        "drones",
        "fields",
        "products",
        "jobs",
        "flights",
        "spray_records",
        "units",
        "unit_mappings",
        "sources",
        "record_chain",
        "schema_version",
    ]:
        assert t in names
    assert {s.table for s in SPECS} <= names
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    coop_cols = {c.name for c in db["cooperatives"].columns}
    assert {"unit_id", "raw_material_area", "linkage_model", "main_products"} <= coop_cols
    assert {c.name for c in db["units"].columns} >= {"id", "name", "level", "parent_id"}
    assert {"uq_positions_key", "ix_positions_time"} <= {i.name for i in db["positions"].indexes}
    fks = {(fk.column, fk.other_table) for fk in db["spray_records"].foreign_keys}
    assert ("job_id", "jobs") in fks and ("cooperative_id", "cooperatives") in fks


def test_reopen_is_a_no_op_and_foreign_keys_are_enforced(tmp_path):
    path = tmp_path / "t.db"
    open_db(path).conn.close()
    db = open_db(path)
    assert db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO operators (id, cooperative_id) VALUES ('op', 'no-such-coop')")


def test_newer_schema_and_non_database_are_one_line_errors(tmp_path):
    path = tmp_path / "t.db"
    db = open_db(path)
    with db.conn:
        db.execute("INSERT INTO schema_version VALUES (?, 'x')", [SCHEMA_VERSION + 1])
    db.conn.close()
    with pytest.raises(TelemetryError, match="newer"):
        open_db(path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TelemetryError, match="not a usable SQLite database"):
        open_db(junk)


def test_reading_refuses_an_empty_or_foreign_file_and_leaves_it_untouched(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(TelemetryError, match="not an agrodrone telemetry database"):
        open_db(empty, create=False)
    assert empty.stat().st_size == 0  # no schema was written into it
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(TelemetryError, match="not an agrodrone telemetry database"):
        open_db(foreign, create=False)
    conn = sqlite3.connect(foreign)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["t"]
    conn.close()
    with pytest.raises(TelemetryError, match="no such database"):
        open_db(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
