"""Reading boundary files into plain features (the I/O edge of the fields package).

GDAL (through pyogrio) reads GeoJSON, KML/KMZ, Shapefile (plain or zipped) and
GeoPackage, and understands each format's way of declaring a CRS (legacy GeoJSON
`crs` member, `.prj`, GeoPackage SRS tables). WKT has no container, so shapely parses
it. Everything returned is in the file's own CRS; `fields.build` does the rest.
"""

from __future__ import annotations

import math
import warnings
import zipfile
from dataclasses import dataclass, field
from gettext import gettext as _
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from shapely.geometry.base import BaseGeometry

from fields.errors import FieldError
from fields.geojson import check_geojson
from fields.wkt import WktSyntaxError, split_wkt

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".gpkg": "GeoPackage",
    ".wkt": "WKT",
}

# Columns LIBKML adds to every Placemark; they describe the display, not the field.
_KML_DISPLAY_COLUMNS = {
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
}
_GDAL_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.CRSError,
)


@dataclass
class SourceFeature:
    """One feature as the file holds it: geometry in `crs` (None = not declared)."""

    geometry: BaseGeometry | None
    properties: dict[str, Any]
    crs: str | None
    index: int  # 1-based position in the file, across layers
    layer: str | None = None
    format: str = ""
    notes: list[str] = field(default_factory=list)  # what GDAL said while reading it

    @property
    def label(self) -> str:
        """How an error message names this feature: position, then id, name, layer if known."""
        known = []
        fid, name = self.properties.get("id"), self.properties.get("name")
        if fid not in (None, ""):
            known.append(f"id {fid!r}")
        if name not in (None, "") and name != fid:
            known.append(f"name {name!r}")
        if self.layer and self.format in ("KML", "KMZ", "GeoPackage"):
            known.append(f"layer {self.layer!r}")
        return f"feature {self.index}" + (f" ({', '.join(known)})" if known else "")


def supported_suffixes() -> list[str]:
    return sorted(FORMATS)


def read_features(path: str | Path) -> tuple[list[SourceFeature], str]:
    """Every feature of a boundary file and the format's name; FieldError if unreadable."""
    path = Path(path)
    if not path.exists():
        raise FieldError(_("{path}: no such file").format(path=path))
    if path.is_dir():
        raise FieldError(_("{path}: is a folder, not a boundary file").format(path=path))
    suffix = path.suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        raise FieldError(
            _("{path}: unknown format {suffix!r}; supported: {supported}").format(
                path=path, suffix=suffix or _("(no extension)"), supported=", ".join(supported_suffixes())
            )
        )
    if path.stat().st_size == 0:
        raise FieldError(_("{path}: the file is empty").format(path=path))
    if fmt == "WKT":
        return _read_wkt(path), fmt
    declared = check_geojson(path) if fmt == "GeoJSON" else None
    source = str(path)
    if fmt == "zipped Shapefile":
        source, fmt = _zip_member(path)
    elif fmt == "KMZ":
        source = _kmz_document(path)
    features = _read_gdal(path, source, fmt)
    if suffix == ".shp":  # after GDAL, so a broken .shp is reported as broken first
        _check_dbf(path, [p.name for p in path.parent.iterdir()])
    if declared is not None:  # GDAL reads a crs member it does not know as WGS84
        for f in features:
            f.crs = declared
    return features, fmt


def _check_dbf(path: Path, names: list[str]) -> None:
    """A shapefile without its .dbf has no attributes: a pond would be read as a field."""
    stem = Path(path).stem.lower()
    if not any(Path(n).stem.lower() == stem and Path(n).suffix.lower() == ".dbf" for n in names):
        raise FieldError(
            _(
                "{path}: the shapefile's attribute table ({stem}.dbf) is missing, so "
                "nothing says which shapes are fields and which are no-spray zones or obstacles; "
                "copy the .dbf (and the .prj) next to the .shp"
            ).format(path=path, stem=Path(path).stem)
        )


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _zip_member(path: Path) -> tuple[str, str]:
    """The one readable boundary file inside a zip (normally a shapefile)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
    except zipfile.BadZipFile:
        raise FieldError(_("{path}: not a valid zip file").format(path=path)) from None
    inner = {".shp": "Shapefile", ".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".kml": "KML"}
    found = [n for n in names if Path(n).suffix.lower() in inner]
    if not found:
        raise FieldError(_("{path}: the zip holds no .shp, .gpkg, .geojson or .kml file").format(path=path))
    if len(found) > 1:
        raise FieldError(f"{path}: the zip holds several boundary files ({', '.join(found)}); keep one")
    member = found[0]
    if member.lower().endswith(".shp"):
        _check_dbf(Path(member), names)
    return f"/vsizip/{path.resolve()}/{member}", inner[Path(member).suffix.lower()]


def _kmz_document(path: Path) -> str:
    """The KML inside a KMZ, read as KML: LIBKML reading the .kmz itself loses
    ExtendedData/SchemaData of Placemarks in folders (GDAL 3.12)."""
    try:
        with zipfile.ZipFile(path) as zf:
            kmls = [n for n in zf.namelist() if n.lower().endswith(".kml")]
    except zipfile.BadZipFile:
        raise FieldError(f"{path}: not a valid KMZ (zip) file") from None
    if not kmls:
        raise FieldError(f"{path}: the KMZ holds no .kml document")
    main = "doc.kml" if "doc.kml" in kmls else min(kmls, key=lambda n: (n.count("/"), n))
    return f"/vsizip/{path.resolve()}/{main}"


def _read_gdal(path: Path, source: str, fmt: str) -> list[SourceFeature]:
    try:
        layers = [str(name) for name in pyogrio.list_layers(source)[:, 0]]
    except _GDAL_ERRORS as exc:
        raise FieldError(
            _("{path}: cannot read as {fmt}: {reason}").format(path=path, fmt=fmt, reason=_gdal_message(exc, source))
        ) from None
    features: list[SourceFeature] = []
    for layer in layers:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                meta, _fids, geoms, columns = pyogrio.raw.read(
                    source, layer=layer, force_2d=True, datetime_as_string=True
                )
        except _GDAL_ERRORS as exc:
            raise FieldError(f"{path}: cannot read layer {layer!r}: {_gdal_message(exc, source)}") from None
        # GDAL's own notes (e.g. an unclosed ring it closed) belong in the field's warnings,
        # not on stderr next to the command's output.
        notes = sorted({f"GDAL: {_one_line(str(w.message)).split('. To avoid')[0]}" for w in caught})
        names = [str(n) for n in meta["fields"]]
        crs = meta.get("crs")
        for row in range(len(geoms) if geoms is not None else 0):
            props = {}
            for name, values in zip(names, columns):
                value = _plain(values[row])
                if value is not None:
                    props[name] = value
            if fmt in ("KML", "KMZ"):
                props = _kml_properties(props)
            feature = SourceFeature(None, props, crs, len(features) + 1, layer=layer, format=fmt, notes=list(notes))
            if geoms[row] is not None:
                feature.geometry = _geometry(geoms[row], path, feature)
            features.append(feature)
    return features


def _geometry(wkb: bytes, path: Path, feature: SourceFeature) -> BaseGeometry:
    """Shapely geometry from GDAL's WKB; a ring left open is closed when it still has three
    corners (GDAL says so in a note), and refused when it has fewer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: reported by fields.build
        try:
            return shapely.from_wkb(wkb)
        except shapely.errors.GEOSException:
            geom = shapely.from_wkb(wkb, on_invalid="fix")
    rings = (
        []
        if geom is None
        else [
            r
            for p in getattr(geom, "geoms", [geom])
            for r in [getattr(p, "exterior", None), *getattr(p, "interiors", [])]
            if r
        ]
    )
    if geom is None or any(len(set(r.coords)) < 3 for r in rings):
        raise FieldError(
            _("{path}: {feature}: a ring is not closed and has fewer than three corners: not a polygon").format(
                path=path, feature=feature.label
            )
        )
    feature.notes = [n for n in feature.notes if "Non closed ring" not in n]
    feature.notes.append(_("a ring was not closed (its last point differs from its first); closed it"))
    return geom


def _gdal_message(exc: Exception, source: str) -> str:
    msg = _one_line(str(exc)).replace(f"'{source}' ", "").replace(f"{source}: ", "")
    msg = msg.replace(f"'{source}'", "the file").replace(source, "the file")
    return msg.split("; It might help")[0].rstrip(".")


def _plain(value: Any) -> Any:
    """numpy scalars -> JSON-friendly Python values; missing (None/NaN/'') -> None."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        if math.isnan(v):
            return None
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if isinstance(value, bytes):
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if isinstance(value, str):
        return value if value.strip() else None
    return value


def _kml_properties(props: dict[str, Any]) -> dict[str, Any]:
    """Placemark name/description plus ExtendedData; display columns dropped."""
    out: dict[str, Any] = {}
    # LIBKML names the Placemark's own id/name `id`/`Name`; ExtendedData fields of the
    # same name are renamed `id2`/`name2`. The ExtendedData value is the user's: it wins.
    for key in ("id", "name"):
        if f"{key}2" in props:
            props = {**props, key: props[f"{key}2"]}
            props.pop(f"{key}2")
    for key, value in props.items():
        if key in _KML_DISPLAY_COLUMNS:
            continue
        if key == "Name":
            out.setdefault("name", value)
            continue
        out[key] = value
    return out


def _read_wkt(path: Path) -> list[SourceFeature]:
    """Geometries of a .wkt file; a sibling .prj declares the CRS of those without SRID=."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FieldError(f"{path}: not UTF-8 text ({exc.reason})") from None
    try:
        chunks = split_wkt(text)
    except WktSyntaxError as exc:
        raise FieldError(f"{path}: not valid WKT: {exc}") from None
    if not chunks:
        raise FieldError(_("{path}: the file holds no geometry").format(path=path))
    prj = path.with_suffix(".prj")
    default_crs = prj.read_text(encoding="utf-8", errors="replace").strip() if prj.exists() else None
    features = []
    for k, chunk in enumerate(chunks, start=1):
        try:
            geom = shapely.force_2d(shapely.from_wkt(chunk.text))
        except shapely.errors.GEOSException as exc:
            raise FieldError(f"{path}: feature {k} (line {chunk.line}): not valid WKT: {_one_line(exc)}") from None
        crs = f"EPSG:{chunk.srid}" if chunk.srid is not None else default_crs
        features.append(SourceFeature(geom, {}, crs, k, format="WKT"))
    return features
