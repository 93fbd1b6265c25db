"""Field boundaries: reading, the local metric frame, validation, no-spray zones, sprayable area."""

from fields.errors import FieldError
from fields.frame import LocalFrame, transform_geometry, utm_epsg_for
from fields.model import HA_M2, SAO_M2, Field, Zone

__all__ = [
    "FieldError",
    "Field",
    "Zone",
    "LocalFrame",
    "transform_geometry",
    "utm_epsg_for",
    "HA_M2",
    "SAO_M2",
]
