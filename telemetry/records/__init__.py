"""Records: as-applied maps from the pump's own output, spray records chained by hash, the job
a live flight belongs to, reference rows (drones, products, operators) and exports."""

from telemetry.records.asapplied import PumpCalibration
from telemetry.records.chain import ChainReport, verify_chain
from telemetry.records.export import FORMATS, export_records
from telemetry.records.job import JobRecorder
from telemetry.records.read import get_record, list_records
from telemetry.records.record import create_record

__all__ = [
    "PumpCalibration",
    "ChainReport",
    "verify_chain",
    "FORMATS",
    "export_records",
    "JobRecorder",
    "create_record",
    "get_record",
    "list_records",
]
