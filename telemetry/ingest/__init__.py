"""Ingest: the SQLite schema and its one clock, live logging (a listener on missions.link) and
.tlog import, decoded messages and the flights found in them."""

from telemetry.ingest.flights import Flight, list_flights, rebuild_flights
from telemetry.ingest.importer import ImportReport, import_tlog
from telemetry.ingest.recorder import Recorder
from telemetry.ingest.schema import SCHEMA_VERSION, ensure_schema, open_db
from telemetry.ingest.tlog import TlogWriter

__all__ = [
    "Flight",
    "list_flights",
    "rebuild_flights",
    "ImportReport",
    "import_tlog",
    "Recorder",
    "SCHEMA_VERSION",
    "ensure_schema",
    "open_db",
    "TlogWriter",
]
