"""Field boundaries: reading, the local metric frame, validation, no-spray zones, sprayable area.

fields.load(path, *, field_id=None) -> list[Field]     # the one call most users need
fields.FieldError                                       # bad input, one-line message
"""

from fields.build import DEFAULT_OBSTACLE_RADIUS_M, KINDS, NEAR_M, build_fields, to_wgs84
from fields.errors import FieldError
from fields.export import summary, to_geojson
from fields.frame import WGS84, LocalFrame, crs_label, transform_coords, transform_geometry, utm_epsg_for
from fields.loader import load
from fields.model import HA_M2, LOCAL_UNITS, SAO_M2, Field, Zone, local_unit
from fields.plots import BETWEEN_PLOTS_MAX_M, between_plots
from fields.repair import MAX_AREA_HA, MIN_AREA_M2, RepairError, repair_boundary
from fields.sources import FORMATS, SourceFeature, read_features

__all__ = [
    "BETWEEN_PLOTS_MAX_M",
    "between_plots",
    "load",
    "FieldError",
    "Field",
    "Zone",
    "LocalFrame",
    "read_features",
    "build_fields",
    "SourceFeature",
    "repair_boundary",
    "RepairError",
    "summary",
    "to_geojson",
    "to_wgs84",
    "transform_geometry",
    "transform_coords",
    "crs_label",
    "utm_epsg_for",
    "WGS84",
    "FORMATS",
    "KINDS",
    "NEAR_M",
    "DEFAULT_OBSTACLE_RADIUS_M",
    "MIN_AREA_M2",
    "MAX_AREA_HA",
    "HA_M2",
    "SAO_M2",
    "LOCAL_UNITS",
    "local_unit",
]
