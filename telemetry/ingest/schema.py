"""The SQLite schema, created and migrated by code; docs/schema.md describes every table.

`open_db` is the one way in: WAL journal (a reader never blocks the logger, a killed
logger never corrupts the file), foreign keys on, and the schema brought to
SCHEMA_VERSION by running the missing migrations in order; a migration's version row
is written only after all of its steps succeeded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from telemetry.errors import TelemetryError
from telemetry.ingest.clock import backfill_clocks
from telemetry.ingest.messages import COMMON_COLUMNS, SPECS, MessageSpec
from telemetry.ingest.record_columns import (  # noqa: F401 (the schema's public names)
    AGL_COLUMNS,
    DOSE_COLUMNS,
    FLEET_COLUMNS,
    RECORD_COLUMNS,
    RECORD_COLUMNS_V1,
)

SCHEMA_VERSION = 6


def open_db(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (or create) a telemetry database with WAL, foreign keys and the current schema.

    With `create=False` (commands that only read or append records) the file must
    already be an agrodrone database: an empty file or another program's SQLite file
    is refused before anything is written into it.
    """
    path = Path(path)
    if path.is_dir():
        raise TelemetryError(f"{path}: is a folder, not a database file")
    if not create:
        _check_existing(path)
    try:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        ensure_schema(db)
    except sqlite3.DatabaseError as exc:
        raise TelemetryError(f"{path}: not a usable SQLite database ({exc})") from None
    return db


def _check_existing(path: Path) -> None:
    """Refuse a missing, damaged or foreign file without writing to it (read-only look)."""
    if not path.is_file():
        raise TelemetryError(f"{path}: no such database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise TelemetryError(f"{path}: not a usable SQLite database ({exc})") from None
    if not {"schema_version", "spray_records"} <= tables:
        raise TelemetryError(f"{path}: not an agrodrone telemetry database (no spray_records table)")


def discard_db(path: str | Path) -> None:
    """Delete a database with its WAL and shared-memory files (a new one a failed command created)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def new_or_nothing(path: str | Path) -> Iterator[sqlite_utils.Database]:
    """The database at `path`, created if need be; when the block fails, a database it
    created is removed again, so a failed command leaves no empty database behind."""
    new = not Path(path).exists()
    db = open_db(path)
    try:
        yield db
    except BaseException:
        db.conn.close()
        if new:
            discard_db(path)
        raise
    db.conn.close()


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def ensure_schema(db: sqlite_utils.Database) -> int:
    """Run every migration the database has not seen yet; returns the resulting version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise TelemetryError(f"database schema version {current} is newer than this agrodrone ({SCHEMA_VERSION})")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with db.conn:
            MIGRATIONS[version](db)
            db.table("schema_version").insert(
                {"version": version, "applied_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            )
    return SCHEMA_VERSION


def _v1(db: sqlite_utils.Database) -> None:
    """Reference data, raw messages, flights, jobs and the spray-record chain."""
    db.table("schema_version").create({"version": int, "applied_utc": str}, pk="version")

    # Reference data. units/unit_mappings/cooperative attributes feed the province's indicators.
    db.table("units").create(
        {"id": str, "name": str, "level": str, "parent_id": str, "valid_from": str, "valid_to": str},
        pk="id",
        foreign_keys=[("parent_id", "units", "id")],
    )
    db.table("unit_mappings").create(
        {"old_id": str, "new_id": str, "effective_date": str, "note": str},
        pk=("old_id", "new_id"),
        foreign_keys=[("old_id", "units", "id"), ("new_id", "units", "id")],
    )
    db.table("cooperatives").create(
        {
            "id": str,
            "name": str,
            "unit_id": str,
            "raw_material_area": int,
            "linkage_model": int,
            "main_products": str,
            "address": str,
            "tax_code": str,
        },
        pk="id",
        foreign_keys=[("unit_id", "units", "id")],
    )
    db.table("operators").create(
        {"id": str, "name": str, "cooperative_id": str, "licence": str, "phone": str},
        pk="id",
        foreign_keys=[("cooperative_id", "cooperatives", "id")],
    )
    db.table("drones").create(
        {
            "id": str,
            "name": str,
            "cooperative_id": str,
            "model": str,
            "serial": str,
            "mav_sysid": int,
            "tank_l": float,
            "swath_m": float,
            "pump_max_l_min": float,
            "pump_servo": int,
            "pwm_off": int,
            "pwm_full": int,
        },
        pk="id",
        foreign_keys=[("cooperative_id", "cooperatives", "id")],
    )
    db.table("fields").create(
        {
            "id": str,
            "name": str,
            "cooperative_id": str,
            "unit_id": str,
            "crop": str,
            "eppo": str,
            "area_ha": float,
            "area_sao": float,
            "sprayable_ha": float,
            "utm_epsg": int,
            "boundary_geojson": str,
            "properties_json": str,
        },
        pk="id",
        foreign_keys=[("cooperative_id", "cooperatives", "id"), ("unit_id", "units", "id")],
    )
    db.table("products").create(
        {"id": int, "name": str, "registration": str, "active_substance": str, "formulation": str}, pk="id"
    )
    db.table("products").create_index(["name", "registration"], unique=True)

    # Where the messages came from: one row per imported tlog (by content hash) or live session.
    db.table("sources").create(
        {
            "id": int,
            "kind": str,
            "path": str,
            "sha256": str,
            "size_bytes": int,
            "started_utc": str,
            "finished_utc": str,
            "messages": int,
            "stored": int,
            "skipped_bytes": int,
            "cooperative_id": str,
            "drone_id": str,
        },
        pk="id",
        foreign_keys=[("cooperative_id", "cooperatives", "id"), ("drone_id", "drones", "id")],
    )
    db.table("sources").create_index(["sha256"], unique=True)

    for spec in SPECS:
        if spec.since == 1:
            _message_table(db, spec)

    # Jobs: the sorties flown for one plan on one field.
    db.table("jobs").create(
        {
            "id": str,
            "cooperative_id": str,
            "field_id": str,
            "operator_id": str,
            "drone_id": str,
            "product_id": int,
            "crop": str,
            "eppo": str,
            "growth_stage": str,
            "tank_mix": str,
            "target_dose_l_ha": float,
            "plan_sha256": str,
            "plan_json": str,
            "created_utc": str,
            "note": str,
        },
        pk="id",
        foreign_keys=[
            ("cooperative_id", "cooperatives", "id"),
            ("field_id", "fields", "id"),
            ("operator_id", "operators", "id"),
            ("drone_id", "drones", "id"),
            ("product_id", "products", "id"),
        ],
    )
    db.table("jobs").create_index(["cooperative_id"])
    db.table("jobs").create_index(["field_id"])

    # Flights: arm to disarm of one vehicle (sysid), cut from the heartbeats.
    db.table("flights").create(
        {
            "id": int,
            "sysid": int,
            "drone_id": str,
            "start_us": int,
            "end_us": int,
            "start_utc": str,
            "end_utc": str,
            "duration_s": float,
            "job_id": str,
            "sortie": int,
        },
        pk="id",
        foreign_keys=[("drone_id", "drones", "id"), ("job_id", "jobs", "id")],
    )
    db.table("flights").create_index(["sysid", "start_us"], unique=True)
    db.table("flights").create_index(["job_id"])

    # Spray records: one per job, hash-chained per cooperative (see telemetry/records/chain.py).
    db.table("spray_records").create(
        RECORD_COLUMNS_V1,
        pk="id",
        foreign_keys=[
            ("job_id", "jobs", "id"),
            ("cooperative_id", "cooperatives", "id"),
            ("field_id", "fields", "id"),
            ("drone_id", "drones", "id"),
            ("operator_id", "operators", "id"),
        ],
        not_null={"job_id", "cooperative_id", "chain_seq", "hash"},
    )
    db.table("spray_records").create_index(["job_id"], unique=True)
    db.table("spray_records").create_index(["cooperative_id", "chain_seq"], unique=True)
    db.table("spray_records").create_index(["cooperative_id", "start_utc"])
    db.table("spray_records").create_index(["field_id"])
    db.table("record_chain").create(
        {"cooperative_id": str, "length": int, "head_hash": str},
        pk="cooperative_id",
        foreign_keys=[("cooperative_id", "cooperatives", "id")],
    )


def _message_table(db: sqlite_utils.Database, spec: MessageSpec) -> None:
    """One logged message's table with its unique key and its time index."""
    cols = {"id": int, **COMMON_COLUMNS, **spec.columns}
    db.table(spec.table).create(
        cols, pk="id", foreign_keys=[("source_id", "sources", "id")], not_null={"t_us", "sysid", "compid", "seq"}
    )
    db.table(spec.table).create_index(
        ["sysid", "compid", "t_us", "seq"], unique=True, index_name=f"uq_{spec.table}_key"
    )
    db.table(spec.table).create_index(["sysid", "t_us"], index_name=f"ix_{spec.table}_time")


def _v2(db: sqlite_utils.Database) -> None:
    """Reports: a covering index, so indicators over a period read it instead of the wide record rows."""
    db.table("spray_records").create_index(
        list(PERIOD_INDEX_COLUMNS), index_name="ix_spray_records_period", if_not_exists=True
    )


# Every column the indicator queries read (telemetry/reports/indicators.py), period first.
PERIOD_INDEX_COLUMNS = (
    "start_utc",
    "cooperative_id",
    "drone_id",
    "flights",
    "area_ha",
    "volume_l",
    "achieved_dose_l_ha",
    "target_dose_l_ha",
    "dose_deviation_pct",
    "start_local",
)


def _v3(db: sqlite_utils.Database) -> None:
    """One clock per record: where each vehicle boot starts in a source, and flights on the vehicle clock.

    Positions already stored are anchored here; their flights move to the vehicle clock at
    the next rebuild_flights (import, records), except flights already in a job.
    """
    db.table("clocks").create(
        {"id": int, "source_id": int, "sysid": int, "t_us": int, "time_boot_ms": int, "offset_us": int},
        pk="id",
        foreign_keys=[("source_id", "sources", "id")],
        not_null={"source_id", "sysid", "t_us", "time_boot_ms", "offset_us"},
    )
    db.table("clocks").create_index(["source_id", "sysid", "t_us"], unique=True, index_name="uq_clocks_key")
    for col in ("start_boot_ms", "end_boot_ms", "clock_offset_us"):
        db.table("flights").add_column(col, int)
    backfill_clocks(db)


def _v4(db: sqlite_utils.Database) -> None:
    """Records: the dose map (cells, how many are off the target, each swath's dose)."""
    have = db.table("spray_records").columns_dict
    for col, kind in DOSE_COLUMNS.items():
        if col not in have:  # a file rolled back by hand may keep them
            db.table("spray_records").add_column(col, kind)


def _v5(db: sqlite_utils.Database) -> None:
    """Terrain following: TERRAIN_REPORT logged, and the records' height above ground."""
    for spec in SPECS:
        if spec.since == 5 and spec.table not in db.table_names():
            _message_table(db, spec)
    have = db.table("spray_records").columns_dict
    for col, kind in AGL_COLUMNS.items():
        if col not in have:
            db.table("spray_records").add_column(col, kind)


def _v6(db: sqlite_utils.Database) -> None:
    """Fleet jobs: the records' drones' parts (several drones on one job, telemetry/records/fleet.py)."""
    have = db.table("spray_records").columns_dict
    for col, kind in FLEET_COLUMNS.items():
        if col not in have:
            db.table("spray_records").add_column(col, kind)


MIGRATIONS: dict[int, Callable[[sqlite_utils.Database], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6}
