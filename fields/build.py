"""From a file's features to fields ready for the planner (pure: no I/O).

Each feature's `kind` says what it is: `field` (the default), `no_spray` (water,
houses, schools: a geometry kept `buffer_m` clear) or `obstacle` (poles, trees: a
point or polygon kept `radius_m` clear, `height_m` tall). Fields are validated and
repaired in their own UTM frame; zones are attached to every field they are near.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from gettext import gettext as _
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from fields.errors import FieldError
from fields.frame import WGS84, LocalFrame, crs_label, transform_geometry
from fields.model import Field, Zone
from fields.repair import RepairError, repair_boundary
from fields.sources import SourceFeature

NEAR_M = 50.0  # a zone whose keep-out comes this close to a field belongs to it
DEFAULT_OBSTACLE_RADIUS_M = 5.0
KINDS = ("field", "no_spray", "obstacle")
DERIVED_KINDS = ("sprayable",)  # written by `fields export`; recomputed, so skipped on load
_KIND_ALIASES = {"nospray": "no_spray", "no_spray_zone": "no_spray", "keepout": "no_spray"}


def _kind(feature: SourceFeature) -> str:
    raw = feature.properties.get("kind")
    if raw is None:
        return "field"
    kind = str(raw).strip().lower().replace("-", "_").replace(" ", "_")
    kind = _KIND_ALIASES.get(kind, kind)
    if kind not in KINDS and kind not in DERIVED_KINDS:
        raise ValueError(_("unknown kind {kind!r} (expected one of: {kinds})").format(kind=raw, kinds=", ".join(KINDS)))
    return kind


def _number(props: dict[str, Any], key: str, default: float | None) -> float | None:
    value = props.get(key)
    if value is None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number of metres, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{key} must be zero or more metres, got {value!r}")
    return number


def _first_bad_lonlat(geom: BaseGeometry) -> tuple[float, float] | None:
    coords = shapely.get_coordinates(geom)
    bad = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90) | ~np.isfinite(coords).all(axis=1)
    if bad.any():
        x, y = coords[np.argmax(bad)]
        return float(x), float(y)
    return None


def to_wgs84(feature: SourceFeature) -> BaseGeometry:
    """The feature's geometry in WGS84 lon/lat; ValueError when its coordinates cannot be."""
    geom = feature.geometry
    if feature.crs is None:
        src, declared = WGS84, None
    else:
        try:
            crs = CRS.from_user_input(feature.crs)
        except CRSError:
            raise ValueError(f"the declared CRS is not understood: {' '.join(feature.crs.split())[:80]!r}") from None
        src, declared = feature.crs, crs
    if declared is None or declared.is_geographic:
        bad = _first_bad_lonlat(geom)
        if bad is not None:
            if declared is None or crs_label(src) == WGS84:
                said = _("the file declares no CRS other than WGS84, so they were read as lon/lat")
            else:
                said = _("the file declares {crs}").format(crs=crs_label(src))
            raise ValueError(
                _(
                    "coordinates ({x:.10g}, {y:.10g}) are not longitude/latitude "
                    "(|lat| > 90 or |lon| > 180) but {said}: they may be projected "
                    "(e.g. VN-2000 or UTM metres; declare the CRS) or swapped (lat, lon instead of lon, lat)"
                ).format(x=bad[0], y=bad[1], said=said)
            )
    wgs = transform_geometry(geom, src, WGS84)
    bad = _first_bad_lonlat(wgs)
    if bad is not None:
        raise ValueError(_("coordinates fall outside the area where {crs} is defined").format(crs=crs_label(src)))
    return wgs


def _clean_properties(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if v is not None}


def _default_id(stem: str, feature: SourceFeature) -> str:
    return f"{stem}-{feature.index}"


def build_fields(
    features: Iterable[SourceFeature],
    *,
    source: str,
    field_id: str | None = None,
    source_format: str = "",
) -> list[Field]:
    """Validate, repair and assemble fields with their zones; FieldError on bad input.

    `source` is the file name used in messages and for default ids (stem + feature
    position). With `field_id`, only that field is validated and returned.
    """
    stem = Path(source).stem
    ccw = source_format == "GeoJSON"
    field_feats: list[tuple[SourceFeature, str]] = []
    zone_feats: list[tuple[SourceFeature, str]] = []

    def fail(feature: SourceFeature, reason: str) -> FieldError:
        return FieldError(f"{source}: {feature.label}: {reason}")

    for feature in features:
        try:
            kind = _kind(feature)
        except ValueError as exc:
            raise fail(feature, str(exc)) from None
        if kind in DERIVED_KINDS:
            continue
        if kind == "field":
            field_feats.append((feature, str(feature.properties.get("id") or _default_id(stem, feature))))
        else:
            zone_feats.append((feature, kind))

    if not field_feats:
        raise FieldError(
            _("{source}: no field in the file (no feature with kind 'field' or without kind)").format(source=source)
        )
    seen: dict[str, SourceFeature] = {}
    for feature, fid in field_feats:
        if fid in seen:
            raise fail(feature, f"duplicate field id {fid!r} (also {seen[fid].label})")
        seen[fid] = feature
    if field_id is not None:
        if field_id not in seen:
            raise FieldError(
                _("{source}: no field with id {field_id!r}; the file has: {ids}").format(
                    source=source, field_id=field_id, ids=", ".join(seen)
                )
            )
        field_feats = [(f, i) for f, i in field_feats if i == field_id]

    fields: list[Field] = []
    for feature, fid in field_feats:
        if feature.geometry is None or feature.geometry.is_empty:
            raise fail(feature, "empty geometry")
        try:
            wgs = to_wgs84(feature)
        except ValueError as exc:
            raise fail(feature, str(exc)) from None
        frame = LocalFrame.for_geometry(wgs)
        try:
            boundary, warnings = repair_boundary(frame.geom_to_local(wgs), ccw_convention=ccw)
        except RepairError as exc:
            hint = _degree_hint(feature) if "degenerate" in str(exc) else ""
            raise fail(feature, f"{exc}{hint}") from None
        props = _clean_properties(feature.properties)
        warnings = feature.notes + warnings
        fields.append(
            Field(
                id=fid,
                name=str(props.get("name") or fid),
                boundary=boundary,
                frame=frame,
                source=source,
                source_crs=crs_label(feature.crs) if feature.crs else WGS84,
                properties=props,
                warnings=warnings,
                source_format=source_format,
            )
        )

    for feature, kind in zone_feats:
        _attach_zone(feature, kind, fields, stem, fail)
    return fields


def _degree_hint(feature: SourceFeature) -> str:
    """A tiny field in a projected CRS with degree-sized numbers was likely mislabelled."""
    try:
        crs = CRS.from_user_input(feature.crs) if feature.crs else None
    except CRSError:
        return ""
    if crs is not None and crs.is_projected and _first_bad_lonlat(feature.geometry) is None:
        assert feature.crs is not None  # crs was read from it
        return f"; the coordinates look like degrees but the file declares {crs_label(feature.crs)}"
    return ""


def _attach_zone(
    feature: SourceFeature,
    kind: str,
    fields: list[Field],
    stem: str,
    fail: Callable[[SourceFeature, str], FieldError],
) -> None:
    if feature.geometry is None or feature.geometry.is_empty:
        raise fail(feature, f"{kind} zone has an empty geometry")
    props = _clean_properties(feature.properties)
    try:
        if kind == "no_spray":
            buffer_m = _number(props, "buffer_m", 0.0)
            height_m = _number(props, "height_m", None)
        else:
            buffer_m = _number(props, "radius_m", None)
            height_m = _number(props, "height_m", None)
        wgs = to_wgs84(feature)
    except ValueError as exc:
        raise fail(feature, str(exc)) from None
    notes: list[str] = []
    zid = str(props.get("id") or _default_id(stem, feature))
    if kind == "obstacle" and buffer_m is None:
        buffer_m = DEFAULT_OBSTACLE_RADIUS_M
        notes.append(f"obstacle {zid!r} has no radius_m; {buffer_m:g} m assumed")
    if not wgs.is_valid:
        wgs = shapely.make_valid(wgs)
        notes.append(f"{kind} zone {zid!r} had an invalid geometry; repaired")
    attached = False
    for fld in fields:
        zone = Zone(
            id=zid,
            kind=kind,  # type: ignore[arg-type]
            geometry=fld.frame.geom_to_local(wgs),
            buffer_m=float(buffer_m or 0.0),
            height_m=height_m,
            properties=props,
        )
        if zone.keepout.distance(fld.boundary) <= NEAR_M:
            fld.zones.append(zone)
            fld.warnings.extend(notes)
            fld.__dict__.pop("keepout", None)  # cached_property: recompute with the new zone
            fld.__dict__.pop("sprayable", None)
            attached = True
    if not attached:
        for fld in fields:
            fld.warnings.append(f"{kind} zone {zid!r} is more than {NEAR_M:g} m from this field; ignored")
