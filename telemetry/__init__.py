"""Telemetry: recording a live link (a listener on missions.link) and .tlog import into SQLite,
flights, as-applied maps and spray records. Sockets are the link layer's, not ours."""

from telemetry.asapplied import PumpCalibration
from telemetry.chain import ChainReport, verify_chain
from telemetry.errors import TelemetryError
from telemetry.export import FORMATS, export_records
from telemetry.flights import Flight, list_flights, rebuild_flights
from telemetry.importer import ImportReport, import_tlog
from telemetry.job import JobRecorder
from telemetry.recorder import Recorder
from telemetry.records import DEFAULT_TZ, create_record, get_record, list_records
from telemetry.schema import SCHEMA_VERSION, ensure_schema, open_db
from telemetry.tlog import TlogWriter
from telemetry.indicators import Indicators, Period, Targets, UnitIndicators, parse_period
from telemetry.registry import RegistryReport, load_registry, unit_tree
from telemetry.report import build_report

__all__ = [
    "TelemetryError", "open_db", "ensure_schema", "SCHEMA_VERSION",
    "import_tlog", "ImportReport", "TlogWriter", "Recorder", "JobRecorder",
    "Flight", "list_flights", "rebuild_flights",
    "PumpCalibration", "create_record", "get_record", "list_records", "DEFAULT_TZ",
    "export_records", "FORMATS", "verify_chain", "ChainReport",
    "load_registry", "RegistryReport", "unit_tree", "Indicators", "Period", "Targets", "UnitIndicators",
    "parse_period", "build_report",
]
