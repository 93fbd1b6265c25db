"""The province schema in PostgreSQL, created and migrated by code like telemetry/ingest/schema.py.

Everything lives in the schema `agrodrone`, versioned in `agrodrone.schema_version`.
Tables mirror the cooperative's SQLite tables (same column names, so the indicator and
report queries read either), keyed by natural ids that include the cooperative:
two cooperatives may both have a drone called `d1`. Text columns use the "C"
collation, so ordering and ISO-time comparisons are byte-wise, as in SQLite.

The province does not trust what arrives: an AFTER INSERT trigger on spray_records
recomputes each record's hash from its columns (the same canonical JSON as
telemetry/records/chain.py, built in SQL) and checks it links to the head it accepted last for
that cooperative, then advances the head in `chain_heads`. Row-level security
(docs/province.md) lets a cooperative's role add and read only its own rows and an
officer's role read the cooperatives in its units; no role is granted UPDATE or DELETE
on records, jobs, flights or chain heads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from gettext import gettext as _
from typing import Any

from telemetry.ingest.schema import AGL_COLUMNS, DOSE_COLUMNS, FLEET_COLUMNS, PERIOD_INDEX_COLUMNS, RECORD_COLUMNS_V1
from telemetry.province.connect import SCHEMA, ProvinceError, server_message
from telemetry.province.gate import accept_record, chain_gate, record_canonical
from telemetry.province.tables import (  # noqa: F401 (the schema's public names)
    CLOCK_COLUMNS,
    COOP_TABLES,
    FLIGHT_COLUMNS,
    JOB_COLUMNS,
    OWN_MUTABLE,
    RAW_SINCE,
    RAW_TABLES,
    REFERENCE,
    SHARED,
    SOURCE_COLUMNS,
)
from telemetry.records.chain import HASHED_COLUMNS

PROVINCE_SCHEMA_VERSION = 5
COOP_ROLE = "agrodrone_cooperative"  # group roles; each cooperative's or officer's login role is a member
OFFICER_ROLE = "agrodrone_officer"

TEXT = 'text COLLATE "C"'
_PG = {str: TEXT, int: "bigint", float: "double precision"}


def _cols(columns: dict[str, type]) -> str:
    return ", ".join(f"{c} {_PG[t]}" for c, t in columns.items())


@dataclass
class SchemaState:
    version: int
    geometry: str  # postgis | geojson
    created: bool = False


def province_state(conn: Any) -> SchemaState | None:
    """The schema's version and geometry mode, or None when the database has no province schema."""
    row = conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.schema_version"]).fetchone()
    if row[0] is None:
        return None
    version = conn.execute(f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA}.schema_version").fetchone()[0]
    geo = conn.execute(f"SELECT value FROM {SCHEMA}.settings WHERE key = 'geometry'").fetchone()
    return SchemaState(int(version), geo[0] if geo else "geojson")


def ensure_province_schema(conn: Any, *, postgis: bool | None = None) -> SchemaState:
    """Bring the province schema to PROVINCE_SCHEMA_VERSION (in one transaction, committed here).

    `postgis`: None uses PostGIS when the server has it (installing the extension if this
    role may), True requires it, False keeps geometry as GeoJSON text only."""
    import psycopg

    try:
        state = province_state(conn)
        if state is not None and state.version == PROVINCE_SCHEMA_VERSION:
            conn.rollback()
            return state
        if state is not None and state.version > PROVINCE_SCHEMA_VERSION:
            raise ProvinceError(
                _("the province schema is version {v}, newer than this agrodrone ({mine}): update agrodrone").format(
                    v=state.version, mine=PROVINCE_SCHEMA_VERSION
                )
            )
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('agrodrone province schema'))")
        state = province_state(conn)  # someone else may have just made it
        if state is None or state.version < PROVINCE_SCHEMA_VERSION:
            current = state.version if state else 0
            geometry = state.geometry if state else _geometry_mode(conn, postgis)
            for version in range(current + 1, PROVINCE_SCHEMA_VERSION + 1):
                MIGRATIONS[version](conn, geometry)
                conn.execute(
                    f"INSERT INTO {SCHEMA}.schema_version VALUES (%s, %s)",
                    [version, datetime.now(timezone.utc).isoformat(timespec="seconds")],
                )
            state = SchemaState(PROVINCE_SCHEMA_VERSION, geometry, created=True)
        conn.commit()
        return state
    except psycopg.errors.InsufficientPrivilege as exc:
        conn.rollback()
        raise ProvinceError(
            _(
                "the province database has no current agrodrone schema and this role may not create "
                "it ({reason}): the province administrator runs `agrodrone province init --db URL`"
            ).format(reason=server_message(exc))
        ) from None
    except psycopg.Error as exc:
        conn.rollback()
        raise ProvinceError(
            _("cannot create the province schema: {reason}").format(reason=server_message(exc))
        ) from None


def _geometry_mode(conn: Any, postgis: bool | None) -> str:
    """postgis when the extension is (or can be) installed and wanted, else geojson."""
    import psycopg

    if postgis is False:
        return "geojson"
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return "postgis"
    available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    if available:
        try:
            with conn.transaction():  # a savepoint: a refused CREATE EXTENSION leaves the rest intact
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            return "postgis"
        except psycopg.Error as exc:
            if postgis:
                raise ProvinceError(_("cannot install PostGIS: {reason}").format(reason=server_message(exc))) from None
            return "geojson"
    if postgis:
        raise ProvinceError(_("the server has no PostGIS extension (Debian: postgresql-15-postgis-3)"))
    return "geojson"


def _postgis_schema(conn: Any) -> str:
    return conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'"
    ).fetchone()[0]


def _geometry_column(name: str, source: str, ns: str) -> str:
    """A PostGIS column the server derives from the GeoJSON text (which stays: the hash covers it)."""
    return (
        f", {name} {ns}.geometry(Geometry, 4326) GENERATED ALWAYS AS "
        f"({ns}.ST_SetSRID({ns}.ST_GeomFromGeoJSON({source}), 4326)) STORED"
    )


def _v1(conn: Any, geometry: str) -> None:
    """Reference data, jobs, flights, chained records, raw telemetry, the chain gate and row-level security."""
    s = SCHEMA
    ns = _postgis_schema(conn) if geometry == "postgis" else ""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
    conn.execute(f"CREATE TABLE {s}.schema_version (version integer PRIMARY KEY, applied_utc text NOT NULL)")
    conn.execute(f"CREATE TABLE {s}.settings (key text PRIMARY KEY, value text)")
    conn.execute(f"INSERT INTO {s}.settings VALUES ('geometry', %s)", [geometry])
    conn.execute(
        f"CREATE TABLE {s}.members (role_name text PRIMARY KEY, kind text NOT NULL "
        "CHECK (kind IN ('cooperative', 'officer')), cooperative_id text COLLATE \"C\", "
        "unit_id text COLLATE \"C\", CHECK ((kind = 'cooperative') = (cooperative_id IS NOT NULL)), "
        "CHECK ((kind = 'officer') = (unit_id IS NOT NULL)))"
    )
    for table, (columns, key) in REFERENCE.items():
        extra = _geometry_column("boundary", "boundary_geojson", ns) if table == "fields" and ns else ""
        fk = f", FOREIGN KEY (cooperative_id) REFERENCES {s}.cooperatives (id)" if "cooperative_id" in columns else ""
        conn.execute(
            f"CREATE TABLE {s}.{table} ({_cols(columns)}{extra}, received_by text DEFAULT current_user, "
            f"PRIMARY KEY ({', '.join(key)}){fk})"
        )
    conn.execute(
        f"CREATE TABLE {s}.products (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name {TEXT}, "
        f"registration {TEXT}, active_substance {TEXT}, formulation {TEXT}, "
        "received_by text DEFAULT current_user, UNIQUE NULLS NOT DISTINCT (name, registration))"
    )
    conn.execute(
        f"CREATE TABLE {s}.jobs ({_cols(JOB_COLUMNS)}, received_by text DEFAULT current_user, "
        f"PRIMARY KEY (cooperative_id, id), FOREIGN KEY (cooperative_id) REFERENCES {s}.cooperatives (id), "
        f"FOREIGN KEY (product_id) REFERENCES {s}.products (id))"
    )
    conn.execute(
        f"CREATE TABLE {s}.flights ({_cols(FLIGHT_COLUMNS)}, PRIMARY KEY (cooperative_id, sysid, start_us), "
        f"FOREIGN KEY (cooperative_id, job_id) REFERENCES {s}.jobs (cooperative_id, id))"
    )
    record_cols = dict(RECORD_COLUMNS_V1)
    geo = (
        (_geometry_column("as_applied", "as_applied_geojson", ns) + _geometry_column("gaps", "gaps_geojson", ns))
        if ns
        else ""
    )
    conn.execute(
        f"CREATE TABLE {s}.spray_records ({_cols(record_cols)}{geo}, "
        "received_utc timestamptz NOT NULL DEFAULT now(), received_by text DEFAULT current_user, "
        "PRIMARY KEY (cooperative_id, chain_seq), UNIQUE (cooperative_id, job_id), "
        "CHECK (job_id IS NOT NULL AND hash IS NOT NULL AND chain_seq >= 1), "
        f"FOREIGN KEY (cooperative_id, job_id) REFERENCES {s}.jobs (cooperative_id, id))"
    )
    cover = [c for c in PERIOD_INDEX_COLUMNS if c != "start_utc"]
    conn.execute(f"CREATE INDEX ix_spray_records_period ON {s}.spray_records (start_utc) INCLUDE ({', '.join(cover)})")
    conn.execute(f"CREATE INDEX ix_spray_records_coop_start ON {s}.spray_records (cooperative_id, start_utc)")
    conn.execute(f"CREATE INDEX ix_spray_records_field ON {s}.spray_records (field_id)")
    if ns:
        conn.execute(f"CREATE INDEX ix_spray_records_as_applied ON {s}.spray_records USING gist (as_applied)")
        conn.execute(f"CREATE INDEX ix_fields_boundary ON {s}.fields USING gist (boundary)")
    conn.execute(
        f"CREATE TABLE {s}.chain_heads (cooperative_id {TEXT} PRIMARY KEY REFERENCES {s}.cooperatives (id), "
        "length integer NOT NULL, head_hash text NOT NULL, accepted_utc timestamptz NOT NULL, "
        "accepted_by text)"
    )
    # the name the chain checks read (telemetry/reports/cooperative.py), with the heads' row security
    conn.execute(
        f"CREATE VIEW {s}.record_chain WITH (security_invoker = true) AS "
        f"SELECT cooperative_id, length, head_hash FROM {s}.chain_heads"
    )
    # raw telemetry (sync --raw)
    conn.execute(
        f"CREATE TABLE {s}.sources (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        f"{_cols(SOURCE_COLUMNS)}, UNIQUE (cooperative_id, source_key), "
        f"FOREIGN KEY (cooperative_id) REFERENCES {s}.cooperatives (id))"
    )
    conn.execute(
        f"CREATE TABLE {s}.clocks ({_cols(CLOCK_COLUMNS)}, "
        f"PRIMARY KEY (cooperative_id, source_id, sysid, t_us), "
        f"FOREIGN KEY (source_id) REFERENCES {s}.sources (id))"
    )
    for table, columns in RAW_TABLES.items():
        if RAW_SINCE[table] == 1:
            _raw_table(conn, table, columns)
    chain_gate(conn)
    _security(conn)


def _raw_table(conn: Any, table: str, columns: dict[str, type], *, if_not_exists: bool = False) -> None:
    s = SCHEMA
    conn.execute(
        f"CREATE TABLE {'IF NOT EXISTS ' if if_not_exists else ''}{s}.{table} ({_cols(columns)}, "
        f"PRIMARY KEY (cooperative_id, sysid, compid, t_us, seq), "
        f"FOREIGN KEY (source_id) REFERENCES {s}.sources (id))"
    )


def _security(conn: Any) -> None:
    """Group roles, grants and row-level security (docs/province.md, "Roles")."""
    s = SCHEMA
    for role in (COOP_ROLE, OFFICER_ROLE):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            conn.execute(f"CREATE ROLE {role} NOLOGIN")
    conn.execute(f"""
CREATE FUNCTION {s}.member_cooperative(role name) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {s}, pg_temp AS $$
  SELECT cooperative_id FROM {s}.members WHERE role_name = role AND kind = 'cooperative' $$""")
    # The cooperatives a role may read: its own, or (an officer) every one placed in its unit's subtree,
    # following parents and old -> new unit mappings as the indicators do.
    conn.execute(f"""
CREATE FUNCTION {s}.readable_cooperatives(role name) RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = {s}, pg_temp AS $$
  WITH RECURSIVE m AS (SELECT kind, cooperative_id, unit_id FROM {s}.members WHERE role_name = role),
  edge(child, parent) AS (SELECT old_id, new_id FROM {s}.unit_mappings
                          UNION ALL SELECT id, parent_id FROM {s}.units WHERE parent_id IS NOT NULL),
  placed(coop, unit) AS (SELECT id, unit_id FROM {s}.cooperatives WHERE unit_id IS NOT NULL AND EXISTS
                           (SELECT 1 FROM m WHERE kind = 'officer')
                         UNION SELECT p.coop, e.parent FROM placed p JOIN edge e ON e.child = p.unit)
  SELECT cooperative_id FROM m WHERE kind = 'cooperative'
  UNION SELECT p.coop FROM placed p JOIN m ON m.kind = 'officer' AND p.unit = m.unit_id $$""")
    for fn in ("member_cooperative(name)", "readable_cooperatives(name)"):
        conn.execute(f"REVOKE ALL ON FUNCTION {s}.{fn} FROM PUBLIC")
        conn.execute(f"GRANT EXECUTE ON FUNCTION {s}.{fn} TO {COOP_ROLE}, {OFFICER_ROLE}")
    conn.execute(f"GRANT USAGE ON SCHEMA {s} TO {COOP_ROLE}, {OFFICER_ROLE}")
    conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {COOP_ROLE}, {OFFICER_ROLE}")
    raw = [t for t in RAW_TABLES if RAW_SINCE[t] == 1]
    adds = ["cooperatives", *SHARED, *OWN_MUTABLE, "jobs", "flights", "spray_records", "sources", "clocks", *raw]
    conn.execute(f"GRANT INSERT ON {', '.join(f'{s}.{t}' for t in adds)} TO {COOP_ROLE}")
    conn.execute(f"GRANT UPDATE ON {', '.join(f'{s}.{t}' for t in OWN_MUTABLE)} TO {COOP_ROLE}")
    readable = f"(SELECT {s}.readable_cooperatives(current_user))"
    mine = f"{s}.member_cooperative(current_user)"
    for table in COOP_TABLES:
        conn.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        conn.execute(f"CREATE POLICY read ON {s}.{table} FOR SELECT USING (cooperative_id IN {readable})")
        if table != "chain_heads":  # heads move only through the chain trigger
            conn.execute(f"CREATE POLICY add ON {s}.{table} FOR INSERT WITH CHECK (cooperative_id = {mine})")
    for table in OWN_MUTABLE:
        conn.execute(
            f"CREATE POLICY change ON {s}.{table} FOR UPDATE USING (cooperative_id = {mine}) "
            f"WITH CHECK (cooperative_id = {mine})"
        )
    conn.execute(f"ALTER TABLE {s}.cooperatives ENABLE ROW LEVEL SECURITY")
    conn.execute(f"CREATE POLICY read ON {s}.cooperatives FOR SELECT USING (id IN {readable})")
    conn.execute(f"CREATE POLICY add ON {s}.cooperatives FOR INSERT WITH CHECK (id = {mine})")
    for table in SHARED:
        conn.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        conn.execute(f"CREATE POLICY read ON {s}.{table} FOR SELECT USING (true)")
        conn.execute(f"CREATE POLICY add ON {s}.{table} FOR INSERT WITH CHECK (true)")
    conn.execute(f"ALTER TABLE {s}.members ENABLE ROW LEVEL SECURITY")
    conn.execute(f"CREATE POLICY read ON {s}.members FOR SELECT USING (role_name = current_user)")


def _v2(conn: Any, geometry: str) -> None:
    """Records: the dose map (SQLite schema v4), hashed once present."""
    for col, kind in DOSE_COLUMNS.items():
        conn.execute(f"ALTER TABLE {SCHEMA}.spray_records ADD COLUMN {col} {_PG[kind]}")
    record_canonical(conn, [c for c in HASHED_COLUMNS if c in RECORD_COLUMNS_V1 or c in DOSE_COLUMNS])


def _v3(conn: Any, geometry: str) -> None:
    """The chain trigger's refusals carry their facts as JSON, for the user's language."""
    accept_record(conn)


def _v4(conn: Any, geometry: str) -> None:
    """Terrain following: the records' height above ground (SQLite schema v5), hashed once present,
    and the raw TERRAIN_REPORT table with the same grants and row security as the other raw tables."""
    s = SCHEMA
    # every step can run again (a schema whose version row was lost is brought up to date)
    for col, kind in AGL_COLUMNS.items():
        conn.execute(f"ALTER TABLE {s}.spray_records ADD COLUMN IF NOT EXISTS {col} {_PG[kind]}")
    record_canonical(conn, [c for c in HASHED_COLUMNS if c not in FLEET_COLUMNS])
    mine = f"{s}.member_cooperative(current_user)"
    readable = f"(SELECT {s}.readable_cooperatives(current_user))"
    for table, columns in RAW_TABLES.items():
        if RAW_SINCE[table] != 4:
            continue
        _raw_table(conn, table, columns, if_not_exists=True)
        conn.execute(f"GRANT SELECT ON {s}.{table} TO {COOP_ROLE}, {OFFICER_ROLE}")
        conn.execute(f"GRANT INSERT ON {s}.{table} TO {COOP_ROLE}")
        conn.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        for policy in ("read", "add"):
            conn.execute(f"DROP POLICY IF EXISTS {policy} ON {s}.{table}")
        conn.execute(f"CREATE POLICY read ON {s}.{table} FOR SELECT USING (cooperative_id IN {readable})")
        conn.execute(f"CREATE POLICY add ON {s}.{table} FOR INSERT WITH CHECK (cooperative_id = {mine})")


def _v5(conn: Any, geometry: str) -> None:
    """Fleet jobs: the records' drones' parts (SQLite schema v6), hashed once present. Each step can
    run again; drones_geojson stays GeoJSON text (a FeatureCollection, not one PostGIS geometry)."""
    for col, kind in FLEET_COLUMNS.items():
        conn.execute(f"ALTER TABLE {SCHEMA}.spray_records ADD COLUMN IF NOT EXISTS {col} {_PG[kind]}")
    record_canonical(conn, HASHED_COLUMNS)


MIGRATIONS = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5}
