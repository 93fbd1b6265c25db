"""Plain-data views of loaded fields: the `fields check` summary and WGS84 GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import shapely

from fields.model import Field

COORD_DECIMALS = 7  # 1e-7 degree is about 1 cm


def summary(field: Field) -> dict[str, Any]:
    """What an operator checks before planning: areas, CRS, frame, size, warnings."""
    return {
        "id": field.id,
        "name": field.name,
        "area_ha": round(field.area_ha, 4),
        "sprayable_ha": round(field.sprayable_ha, 4),
        "area_sao": round(field.area_sao, 1),
        "sprayable_sao": round(field.sprayable_sao, 1),
        "crs": field.source_crs,
        "utm_epsg": field.utm_epsg,
        "vertices": field.vertices,
        "warnings": list(field.warnings),
        "format": field.source_format,
        "source": field.source,
        "properties": dict(field.properties),
        "zones": [
            {
                "id": z.id,
                "kind": z.kind,
                "buffer_m": z.buffer_m,
                "height_m": z.height_m,
                "keepout_m2": round(float(z.keepout.area), 1),
            }
            for z in field.zones
        ],
    }


def _geojson(geom, field: Field) -> dict[str, Any]:
    wgs = shapely.set_precision(field.frame.geom_to_wgs84(geom), 10**-COORD_DECIMALS)
    return shapely.geometry.mapping(wgs)


def to_geojson(fields: list[Field]) -> dict[str, Any]:
    """A WGS84 FeatureCollection: each field, its sprayable area and its buffered zones.

    Every feature has `kind` (field | sprayable | no_spray | obstacle) and `field_id`,
    so the file loads back with `fields.load` to the same fields (the `sprayable`
    features are derived and skipped on load). A zone near several fields is written
    once, under the first: on load it attaches again to every field it is near.
    """
    features: list[dict[str, Any]] = []
    written: set[tuple[str, str]] = set()  # a zone near two fields is written once
    for f in fields:
        props = {
            **f.properties,
            "id": f.id,
            "name": f.name,
            "kind": "field",
            "area_ha": round(f.area_ha, 4),
            "sprayable_ha": round(f.sprayable_ha, 4),
        }
        features.append({"type": "Feature", "properties": props, "geometry": _geojson(f.boundary, f)})
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"{f.id}-sprayable",
                    "kind": "sprayable",
                    "field_id": f.id,
                    "area_ha": round(f.sprayable_ha, 4),
                },
                "geometry": _geojson(f.sprayable, f),
            }
        )
        for z in f.zones:
            geometry = _geojson(z.keepout, f)
            key = (z.id, json.dumps(geometry))
            if key in written:
                continue
            written.add(key)
            features.append(
                {
                    "type": "Feature",
                    # The geometry is already buffered: 0 here so that loading it back
                    # does not buffer it twice; `keepout_m` keeps the distance used.
                    "properties": {
                        **z.properties,
                        "id": z.id,
                        "kind": z.kind,
                        "field_id": f.id,
                        "buffer_m": 0,
                        "radius_m": 0,
                        "keepout_m": z.buffer_m,
                        "height_m": z.height_m,
                    },
                    "geometry": geometry,
                }
            )
    return {"type": "FeatureCollection", "features": features}
