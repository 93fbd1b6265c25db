"""Reporting periods: a month, a quarter, a year or a date range, as whole local days.

Records keep UTC; a period is a span of local days in the cooperative's time zone, so its
bounds are turned into UTC only at the query (`Period.utc_bounds`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from gettext import gettext as _
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fields.model import DEFAULT_TZ
from telemetry.errors import TelemetryError


@dataclass(frozen=True)
class Period:
    """Whole local days from `start` to `end`, both included."""

    kind: str  # month | quarter | year | range
    start: date
    end: date
    key: str  # 2026-10, 2026-Q4, 2026, 2026-10-01..2026-12-31

    def utc_bounds(self, tz: str = DEFAULT_TZ) -> tuple[str, str]:
        """[first local midnight, the midnight after the last day) as UTC ISO strings, as records store them."""
        local = zone(tz)

        def utc(d: date) -> str:
            t = datetime.combine(d, time(0), local).astimezone(timezone.utc)
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")

        return utc(self.start), utc(self.end + timedelta(days=1))

    def months(self) -> list[str]:
        """Every calendar month the period touches, as YYYY-MM."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise TelemetryError(f"unknown time zone {tz!r}") from None


def parse_date(text: str) -> date:
    """YYYY-MM-DD or dd/mm/yyyy."""
    text = text.strip()
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        d, m, y = (int(x) for x in text.split("/"))
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        y, m, d = (int(x) for x in text.split("-"))
    else:
        raise TelemetryError(_("bad date {text!r} (use YYYY-MM-DD or dd/mm/yyyy)").format(text=text))
    try:
        return date(y, m, d)
    except ValueError:  # 31/02/2026: "day is out of range for month"
        raise TelemetryError(_("bad date {text!r}: no such day").format(text=text)) from None


def parse_period(period: str | None = None, date_from: str | None = None, date_to: str | None = None) -> Period:
    """`2026-10` (month), `2026-Q4` (quarter), `2026` (year), or a --from/--to date range."""
    if period is not None and (date_from or date_to):
        raise TelemetryError("give either --period or --from/--to, not both")
    if period is not None:
        text = period.strip().upper()
        if m := re.fullmatch(r"(\d{4})", text):
            y = int(m[1])
            return Period("year", date(y, 1, 1), date(y, 12, 31), f"{y}")
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            y, q = int(m[1]), int(m[2])
            last = 3 * q
            return Period("quarter", date(y, last - 2, 1), date(y, last, calendar.monthrange(y, last)[1]), f"{y}-Q{q}")
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            y, mo = int(m[1]), int(m[2])
            if 1 <= mo <= 12:
                return Period("month", date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), f"{y}-{mo:02d}")
        raise TelemetryError(f"bad period {period!r} (use 2026, 2026-Q4 or 2026-10, or --from/--to)")
    given = [parse_date(d) for d in (date_from, date_to) if d]  # a bad date is named before a missing one
    if not date_from or not date_to:
        raise TelemetryError(_("a date range needs both --from and --to"))
    a, b = given
    if b < a:
        raise TelemetryError(f"--to {b.isoformat()} is before --from {a.isoformat()}")
    return Period("range", a, b, f"{a.isoformat()}..{b.isoformat()}")


def local_today(tz: str) -> date:
    """Today in the report's time zone (a report made at 6 am in Hanoi is dated that day, not UTC's)."""
    return datetime.now(zone(tz)).date()


__all__ = ["DEFAULT_TZ", "Period", "parse_period", "parse_date", "local_today"]
