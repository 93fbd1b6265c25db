"""`fields.load`: one call from a boundary file to validated fields in metres."""

from __future__ import annotations

from pathlib import Path

from fields.build import build_fields
from fields.model import Field
from fields.sources import read_features


def load(path: str | Path, *, field_id: str | None = None) -> list[Field]:
    """Read GeoJSON, KML/KMZ, Shapefile (plain or zipped), GeoPackage or WKT.

    Honours the CRS the file declares (none = WGS84). Raises FieldError, whose
    one-line message names the file, the feature and the reason, for anything that
    cannot be used. With `field_id`, returns only that field (with its zones).
    """
    features, fmt = read_features(path)
    return build_fields(features, source=str(path), field_id=field_id, source_format=fmt)
