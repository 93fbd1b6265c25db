"""Spray records as CSV (one row each), JSON (everything) or GeoJSON (the as-applied geometry; a fleet
job's per-drone areas under `drones`)."""

from __future__ import annotations

import csv
import io
import json

from telemetry.errors import TelemetryError
from telemetry.ingest.record_columns import RECORD_COLUMNS
from telemetry.records.record import GEOMETRY_COLUMNS

FORMATS = ("csv", "json", "geojson")


def _geom(text: str | None):
    return None if not text else json.loads(text)


def export_records(records: list[dict], fmt: str) -> str:
    """Every record column in every format; geometry as GeoJSON objects (WGS84)."""
    if fmt == "csv":
        cols = [c for c in RECORD_COLUMNS if c not in GEOMETRY_COLUMNS]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in records:
            w.writerow({c: "" if r.get(c) is None else r[c] for c in cols})
        return buf.getvalue()
    if fmt == "json":
        out = []
        for r in records:
            d = {c: r.get(c) for c in RECORD_COLUMNS if c not in GEOMETRY_COLUMNS}
            d["as_applied"] = _geom(r.get("as_applied_geojson"))
            d["gaps"] = _geom(r.get("gaps_geojson"))
            if r.get("drones_geojson"):  # a fleet job: each drone's as-applied area
                d["drones"] = _geom(r["drones_geojson"])
            out.append(d)
        return (
            json.dumps(
                {"format": "agrodrone-spray-records", "version": 1, "records": out}, ensure_ascii=False, indent=1
            )
            + "\n"
        )
    if fmt == "geojson":
        feats = []
        for r in records:
            props = {c: r.get(c) for c in RECORD_COLUMNS if c not in GEOMETRY_COLUMNS}
            props["gaps"] = _geom(r.get("gaps_geojson"))
            if r.get("drones_geojson"):
                props["drones"] = _geom(r["drones_geojson"])
            feats.append(
                {
                    "type": "Feature",
                    "id": r.get("id"),
                    "geometry": _geom(r.get("as_applied_geojson")),
                    "properties": props,
                }
            )
        return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False) + "\n"
    raise TelemetryError(f"unknown export format {fmt!r} (choose {', '.join(FORMATS)})")
