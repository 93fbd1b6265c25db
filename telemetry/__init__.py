"""Telemetry, in three layers over one SQLite schema:

- `telemetry.ingest`: the schema and its clock, live logging (a listener on missions.link), .tlog import, flights;
- `telemetry.records`: as-applied maps, hash-chained spray records, jobs, exports;
- `telemetry.reports`: the unit registry, indicators in SQL, HTML/CSV/JSON reports;

and `telemetry.province`, the province's PostgreSQL. Sockets are the link layer's, not ours.
"""

from fields.model import DEFAULT_TZ
from telemetry.errors import TelemetryError
from telemetry.ingest.flights import Flight, list_flights, rebuild_flights
from telemetry.ingest.importer import ImportReport, import_tlog
from telemetry.ingest.recorder import Recorder
from telemetry.ingest.schema import SCHEMA_VERSION, ensure_schema, open_db
from telemetry.ingest.tlog import TlogWriter
from telemetry.records.asapplied import PumpCalibration
from telemetry.records.chain import ChainReport, verify_chain
from telemetry.records.export import FORMATS, export_records
from telemetry.records.job import JobRecorder
from telemetry.records.read import get_record, list_records
from telemetry.records.record import create_record
from telemetry.reports import build_report
from telemetry.reports.indicators import Indicators, Targets, UnitIndicators
from telemetry.reports.period import Period, parse_period
from telemetry.reports.registry import RegistryReport, load_registry, unit_tree

__all__ = [
    "TelemetryError",
    "open_db",
    "ensure_schema",
    "SCHEMA_VERSION",
    "import_tlog",
    "ImportReport",
    "TlogWriter",
    "Recorder",
    "JobRecorder",
    "Flight",
    "list_flights",
    "rebuild_flights",
    "PumpCalibration",
    "create_record",
    "get_record",
    "list_records",
    "DEFAULT_TZ",
    "export_records",
    "FORMATS",
    "verify_chain",
    "ChainReport",
    "load_registry",
    "RegistryReport",
    "unit_tree",
    "Indicators",
    "Period",
    "Targets",
    "UnitIndicators",
    "parse_period",
    "build_report",
]
