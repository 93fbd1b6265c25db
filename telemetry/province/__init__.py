"""The province database: cooperatives' SQLite files merge into one PostgreSQL (PostGIS where the
server has it); each cooperative sees only its own rows. docs/province.md tells the whole story.

    report = sync(open_db("htx.db", create=False), "postgresql://htx_dai_tu@province.example/agrodrone")
    db = open_province("postgresql://officer_tn@province.example/agrodrone")  # for indicators and reports
"""

from telemetry.province.connect import ProvinceError, check_url, connect, is_url, label, redact
from telemetry.province.query import ProvinceDB, open_province, to_postgres
from telemetry.province.roles import add_member, init_province, members
from telemetry.province.schema import PROVINCE_SCHEMA_VERSION, SchemaState, ensure_province_schema
from telemetry.province.sync import SyncReport, sync

__all__ = [
    "ProvinceError",
    "check_url",
    "connect",
    "is_url",
    "label",
    "redact",
    "add_member",
    "init_province",
    "members",
    "PROVINCE_SCHEMA_VERSION",
    "SchemaState",
    "ensure_province_schema",
    "SyncReport",
    "sync",
    "ProvinceDB",
    "open_province",
    "to_postgres",
]
