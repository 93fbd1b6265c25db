"""Checks on a GeoJSON file before GDAL reads it, for what GDAL passes over in silence.

GDAL ignores a legacy `crs` member it does not understand (the coordinates are then read
as WGS84 without a word), turns coordinates written as text into an empty geometry, and
reads NaN. Each of these is refused here with a message that says what is wrong.
"""

from __future__ import annotations

import json
import math
from gettext import gettext as _
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from fields.errors import FieldError

_KINDS = {
    "FeatureCollection",
    "Feature",
    "Polygon",
    "MultiPolygon",
    "Point",
    "LineString",
    "MultiPoint",
    "MultiLineString",
    "GeometryCollection",
}


def check_geojson(path: Path) -> str | None:
    """Refuse what GDAL would misread; the CRS the file declares (None: WGS84 by RFC 7946)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FieldError(_("{path}: not UTF-8 text ({reason})").format(path=path, reason=exc.reason)) from None
    except json.JSONDecodeError as exc:
        raise FieldError(
            _("{path}: not valid JSON: {msg} at line {line} column {col}").format(
                path=path, msg=exc.msg, line=exc.lineno, col=exc.colno
            )
        ) from None
    if not isinstance(data, dict) or data.get("type") not in _KINDS:
        raise FieldError(_('{path}: not a GeoJSON object (no valid top-level "type")').format(path=path))
    if data.get("type") == "FeatureCollection" and not data.get("features"):
        raise FieldError(_("{path}: the FeatureCollection has no features").format(path=path))
    features = data.get("features") if data.get("type") == "FeatureCollection" else [data]
    for k, feature in enumerate(features if isinstance(features, list) else [], start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) and "geometry" in feature else feature
        if isinstance(geometry, dict):
            problem = _coordinate_problem(geometry.get("coordinates"))
            if problem:
                raise FieldError(_("{path}: feature {k}: {problem}").format(path=path, k=k, problem=problem))
    return _declared_crs(path, data.get("crs"))


def _coordinate_problem(coords: Any) -> str | None:
    """What is wrong with a coordinates array, or None."""
    if isinstance(coords, list):
        for c in coords:
            problem = _coordinate_problem(c)
            if problem:
                return problem
        return None
    if isinstance(coords, str):
        return _(
            "a coordinate is the text {text!r}, not a number (write numbers without quotes: [105.73, 21.70])"
        ).format(text=coords[:20])
    if isinstance(coords, bool) or not isinstance(coords, (int, float)):
        return _("a coordinate is {value}, not a number").format(value=json.dumps(coords)[:20])
    if not math.isfinite(coords):
        return _("a coordinate is {value}, not a number (a broken export?)").format(value=coords)
    return None


def _declared_crs(path: Path, member: Any) -> str | None:
    """The legacy `crs` member as a CRS pyproj knows, or a FieldError naming it."""
    if member is None:
        return None
    props = member.get("properties") if isinstance(member, dict) else None
    name = (props or {}).get("name") if isinstance(props, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise FieldError(
            _(
                '{path}: the "crs" member is not of the form '
                '{{"type": "name", "properties": {{"name": "EPSG:3405"}}}}; '
                "fix it or remove it (without it GeoJSON is WGS84 longitude/latitude)"
            ).format(path=path)
        )
    try:
        crs = CRS.from_user_input(name)
    except CRSError:
        raise FieldError(
            _(
                "{path}: the file declares the CRS {name!r}, which is not a known coordinate "
                'reference system; write it as an EPSG code (e.g. "EPSG:3405" for VN-2000 / '
                'UTM 48N, "EPSG:4326" for WGS84)'
            ).format(path=path, name=name[:60])
        ) from None
    return crs.to_string()
