"""Reports for extension officers and the province: self-contained HTML (Vietnamese first) plus CSV and JSON.

    files = build_report(db, unit="tn", period="2026-Q4", lang="vi")   # {"report.html": ..., ...}
"""

from telemetry.report.build import build_report, resolve_period
from telemetry.report.cooperative import build_cooperative_report, check_chain
from telemetry.report.i18n import LANGS, Lang
from telemetry.report.unit import build_unit_report

__all__ = ["build_report", "resolve_period", "build_unit_report", "build_cooperative_report",
           "check_chain",
           "LANGS", "Lang"]
