"""How plan.json is read key by key and written back: the machinery of planner/document.py.

Each part of the document is a frozen dataclass whose fields say what kind of value each
key holds; `Part.read` checks a JSON object against them and names the key that is wrong
(PlanError), `Part.to_dict` writes the keys back in field order and leaves out the ones a
plan did not have, so a plan read and written again is the same plan.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import field, fields
from functools import lru_cache
from gettext import gettext as _
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import shape

from planner.errors import PlanError

LonLat = tuple[float, float]


def req(kind: str) -> Any:
    """A key every plan has (PlanError when it is missing)."""
    return field(metadata={"kind": kind, "required": True})


def opt(kind: str, *, keep_null: bool = False) -> Any:
    """A key a plan may leave out (None); `keep_null`: the planner writes it even as null."""
    return field(default=None, metadata={"kind": kind, "keep_null": keep_null})


def bad(message: str, **values: Any) -> PlanError:
    """The PlanError of a translated message with its values filled in."""
    return PlanError(message.format(**values))


def need(value: Any, where: str, key: str) -> Any:
    """`value`, or a PlanError saying the plan has no `key` in `where` (for the keys only some
    consumers need, e.g. the simulator needs params.tank_l)."""
    if value is None:
        raise bad(_("plan: {where} has no {key!r}"), where=where, key=key)
    return value


def _number(value: Any, where: str, key: str) -> float:
    """A JSON number as it is (an int stays an int, so the plan writes back the same), a
    numeric text as a float (a hand-edited file); anything else names the key."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise bad(_("plan: {where}.{key} is not a number: {value!r}"), where=where, key=key, value=value)
    return value


def whole(value: Any, where: str, key: str) -> int:
    value = _number(value, where, key)
    if isinstance(value, float):
        if not value.is_integer():
            raise bad(_("plan: {where}.{key} is not a whole number: {value!r}"), where=where, key=key, value=value)
        value = int(value)
    return value


def lonlat(point: Any, where: str) -> LonLat:
    """A [lon, lat] pair or {"lon":, "lat":} object -> (lon, lat) within range."""
    try:
        if isinstance(point, dict):
            lon, lat = float(point["lon"]), float(point["lat"])
        else:
            lon, lat = float(point[0]), float(point[1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise bad(_("plan: {where} is not a [lon, lat] position: {point!r}"), where=where, point=point) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad(_("plan: {where} is out of range: lon {lon}, lat {lat}"), where=where, lon=lon, lat=lat)
    return lon, lat


def _geojson(value: Any, where: str) -> dict:
    try:
        shape(value)
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise bad(_("plan: {where} is not a GeoJSON geometry: {reason}"), where=where, reason=exc) from None
    return value


@lru_cache(maxsize=64)
def _known_epsg(epsg: int) -> bool:
    try:
        CRS.from_epsg(epsg)
    except CRSError:
        return False
    return True


def _epsg(value: Any, where: str, key: str) -> int:
    epsg = whole(value, where, key)
    if not _known_epsg(epsg):
        raise bad(
            _("plan: {where}.{key} {epsg} is not a known EPSG coordinate system"), where=where, key=key, epsg=epsg
        )
    return epsg


def _positive(value: Any, where: str, key: str) -> float:
    value = _number(value, where, key)
    if not value > 0:
        raise bad(_("plan: {where}.{key} must be > 0, got {value}"), where=where, key=key, value=value)
    return value


def _not_negative(value: Any, where: str, key: str) -> float:
    value = _number(value, where, key)
    if value < 0:
        raise bad(_("plan: {where}.{key} must not be negative, got {value}"), where=where, key=key, value=value)
    return value


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise bad(_("plan: {where}.{key} is not a text: {value!r}"), where=where, key=key, value=value)
    return value


def _bool(value: Any, where: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise bad(_("plan: {where}.{key} is not true or false: {value!r}"), where=where, key=key, value=value)
    return value


def _object(value: Any, where: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise bad(_("plan: {where} is not an object"), where=f"{where}.{key}")
    return value


def _texts(value: Any, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(_("plan: {where}.{key} is not a list of texts"), where=where, key=key)
    return tuple(value)


def _coords(value: Any, where: str, key: str) -> tuple[LonLat, ...]:
    if not isinstance(value, list):
        raise bad(_("plan: {where}.{key} is not a list"), where=where, key=key)
    return tuple(lonlat(c, f"{where}.{key}[{j}]") for j, c in enumerate(value))


def _numbers(value: Any, where: str, key: str) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise bad(_("plan: {where}.{key} is not a list"), where=where, key=key)
    return tuple(_number(v, f"{where}.{key}", str(j)) for j, v in enumerate(value))


def _wholes(value: Any, where: str, key: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise bad(_("plan: {where}.{key} is not a list"), where=where, key=key)
    return tuple(whole(v, f"{where}.{key}", str(j)) for j, v in enumerate(value))


_KINDS: dict[str, Callable[[Any, str, str], Any]] = {
    "number": _number,
    "positive": _positive,
    "not_negative": _not_negative,
    "whole": whole,
    "count": lambda v, w, k: int(_not_negative(whole(v, w, k), w, k)),
    "epsg": _epsg,
    "text": _text,
    "bool": _bool,
    "object": _object,
    "geojson": lambda v, w, k: _geojson(v, f"{w}.{k}"),
    "texts": _texts,
    "coords": _coords,
    "numbers": _numbers,
    "wholes": _wholes,
}


class Part:
    """One object of plan.json: read key by key as its fields say, written back in field order."""

    @classmethod
    def read(cls, obj: Any, where: str, **parts: Any) -> Any:
        """The part from its JSON object; `parts`: nested parts the subclass has read itself."""
        if not isinstance(obj, dict):
            raise bad(_("plan: {where} is not an object"), where=where)
        values = dict(parts)
        for f in fields(cls):  # type: ignore[arg-type]
            if f.name in parts:
                continue
            raw = obj.get(f.name)
            if raw is None:
                values[f.name] = need(None, where, f.name) if f.metadata.get("required") else None
            else:
                values[f.name] = _KINDS[f.metadata["kind"]](raw, where, f.name)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None or f.metadata.get("keep_null"):
                out[f.name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, Part):
        return value.to_dict()
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return copy.deepcopy(value)
    return value


def section(cls: Any, obj: dict, key: str, required: bool = False) -> Any:
    """A top-level part of the plan (None when an optional one is left out)."""
    value = obj.get(key)
    if value is None:
        return need(None, "plan", key) if required else None
    return cls.read(value, key)
