"""The report's tables as CSV and JSON: machine-readable keys, dot decimals, the same rows as the HTML."""

from __future__ import annotations

import csv
import io
import json


def to_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """UTF-8 with a byte-order mark so spreadsheet programs show Vietnamese names correctly."""
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in columns})
    return "\ufeff" + buf.getvalue()


def _cell(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "" if v is None else v


def to_json(doc: dict) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
