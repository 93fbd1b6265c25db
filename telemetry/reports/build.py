"""Choose what a report covers (unit or cooperative, period) and refuse requests that cannot be answered."""

from __future__ import annotations

import sqlite3
from datetime import date

import sqlite_utils

from fields.model import DEFAULT_TZ
from telemetry.errors import TelemetryError
from telemetry.reports.cooperative import build_cooperative_report
from telemetry.reports.i18n import Lang
from telemetry.reports.indicators import (
    Period,
    Targets,
    current_roots,
    local_today,
    parse_period,
    records_span,
    root_units,
)
from telemetry.reports.unit import build_unit_report


def resolve_period(
    db: sqlite_utils.Database,
    period: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    *,
    unit: str | None = None,
    cooperative: str | None = None,
) -> Period:
    """The period asked for, or every day with records in the report's scope when none is; a
    period with no record at all is an error."""
    asked = period is not None or date_from or date_to
    p = parse_period(period, date_from, date_to) if asked else None  # a bad date is named first
    span = records_span(db)
    if span is None:
        raise TelemetryError("the database holds no spray record yet (create them with `agrodrone records create`)")
    if p is None:  # a scope with no record (or unknown: named by the report) falls back to every record's days
        span = records_span(db, unit=unit, cooperative=cooperative) or span
    if p is None:
        return parse_period(date_from=span[0], date_to=span[1])
    if p.end.isoformat() < span[0] or p.start.isoformat() > span[1]:
        raise TelemetryError(f"no spray record in {p.key} (records run from {span[0]} to {span[1]})")
    return p


def build_report(
    db: sqlite_utils.Database,
    *,
    unit: str | None = None,
    cooperative: str | None = None,
    period: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    lang: str = "vi",
    targets: Targets | None = None,
    tz: str = DEFAULT_TZ,
    source: str = "",
    generated: date | None = None,
    sao: str = "bac",
) -> dict[str, str]:
    """The report files (name -> text) for a unit (default: the one top-level unit) or a cooperative;
    areas in ha and the local unit `sao` (bac, trung or nam: fields.model.LOCAL_UNITS)."""
    Lang(lang, sao)  # an unknown language or unit fails before any work
    if unit and cooperative:
        raise TelemetryError("give either --unit or --cooperative, not both")
    try:
        return _build(db, unit, cooperative, period, date_from, date_to, lang, targets, tz, source, generated, sao)
    except sqlite3.DatabaseError as exc:
        raise TelemetryError(f"{source or 'the database'}: cannot be read ({exc})") from None


def _build(db, unit, cooperative, period, date_from, date_to, lang, targets, tz, source, generated, sao):
    if period is not None or date_from or date_to:
        parse_period(period, date_from, date_to)  # a bad date is named before anything else
    generated = generated or local_today(tz)
    if cooperative:
        p = resolve_period(db, period, date_from, date_to, cooperative=cooperative)
        return build_cooperative_report(
            db, cooperative, p, lang=lang, tz=tz, source=source, generated=generated, sao=sao
        )
    if unit is None:
        roots = root_units(db)
        if not roots:
            raise TelemetryError(
                "no administrative unit holds a cooperative: load the registry with "
                "`agrodrone registry load` or choose --cooperative"
            )
        if len(roots) > 1:  # both trees loaded: the one in force today (the 2025 one)
            roots = current_roots(db, generated) or roots
        if len(roots) > 1:
            raise TelemetryError(f"several top-level units ({', '.join(roots)}): choose one with --unit")
        unit = roots[0]
    p = resolve_period(db, period, date_from, date_to, unit=unit)
    return build_unit_report(
        db, unit, p, lang=lang, targets=targets, tz=tz, source=source, generated=generated, sao=sao
    )
