"""Reports for extension officers and the province: the unit registry, indicators computed in SQL,
and self-contained HTML (Vietnamese first) plus CSV and JSON.

    files = build_report(db, unit="tn", period="2026-Q4", lang="vi")   # {"report.html": ..., ...}
"""

from telemetry.reports.build import build_report, resolve_period
from telemetry.reports.cooperative import build_cooperative_report, check_chain
from telemetry.reports.i18n import LANGS, Lang
from telemetry.reports.indicators import Indicators, Targets, UnitIndicators
from telemetry.reports.period import Period, parse_period
from telemetry.reports.registry import RegistryReport, load_registry, unit_tree
from telemetry.reports.unit import build_unit_report

__all__ = [
    "build_report",
    "resolve_period",
    "build_unit_report",
    "build_cooperative_report",
    "check_chain",
    "LANGS",
    "Lang",
    "Indicators",
    "Targets",
    "UnitIndicators",
    "Period",
    "parse_period",
    "RegistryReport",
    "load_registry",
    "unit_tree",
]
