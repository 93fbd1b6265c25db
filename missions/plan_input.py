"""Reading the plan.json dict (docs/plan-format.md) with one clear error per missing piece."""

from __future__ import annotations

from typing import Any

from missions.errors import MissionError


def need(obj: Any, key: str, where: str) -> Any:
    """obj[key], or a MissionError naming the missing key and where it was expected."""
    if not isinstance(obj, dict) or key not in obj or obj[key] is None:
        raise MissionError(f"plan: {where} has no {key!r}")
    return obj[key]


def number(obj: Any, key: str, where: str, *, positive: bool = True) -> float:
    value = need(obj, key, where)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise MissionError(f"plan: {where}.{key} is not a number: {value!r}") from None
    if positive and not value > 0:
        raise MissionError(f"plan: {where}.{key} must be > 0, got {value}")
    return value


def optional_number(obj: Any, key: str, where: str, default: float | None = None, *,
                    positive: bool = True) -> float | None:
    """obj[key] as a number, or `default` when the key is missing or null (plan.json leaves
    optional values out); a value that is there but not a number is an error, not a default."""
    if not isinstance(obj, dict) or obj.get(key) is None:
        return default
    return number(obj, key, where, positive=positive)


def section(plan: dict, key: str) -> dict:
    """An optional object of the plan (e.g. "sprayer"): {} when absent, an error when not an object."""
    value = plan.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MissionError(f"plan: {key} is not an object")
    return value


def check_plan(plan: Any) -> None:
    if not isinstance(plan, dict) or plan.get("format") != "agrodrone-plan":
        raise MissionError("plan: not an agrodrone plan (format != 'agrodrone-plan')")
    if not isinstance(plan.get("sorties"), list) or not plan["sorties"]:
        raise MissionError("plan: no sorties to fly")
    for n, s in enumerate(plan["sorties"]):
        if not isinstance(s, dict) or isinstance(s.get("index"), bool) or not isinstance(s.get("index"), int):
            raise MissionError(f"plan: sorties[{n}] is not a sortie with a whole-number 'index'")


def sortie_of(plan: dict, sortie: int) -> dict:
    """The sortie with `index` == sortie (1-based, as in plan.json)."""
    check_plan(plan)
    for s in plan["sorties"]:
        if s.get("index") == sortie:
            return s
    have = ", ".join(str(s.get("index")) for s in plan["sorties"])
    raise MissionError(f"plan: no sortie {sortie} (the plan has sorties {have})")


def lonlat(point: Any, where: str) -> tuple[float, float]:
    """A [lon, lat] pair or {"lon":, "lat":} dict -> (lon, lat) floats within range."""
    try:
        if isinstance(point, dict):
            lon, lat = float(point["lon"]), float(point["lat"])
        else:
            lon, lat = float(point[0]), float(point[1])
    except (KeyError, IndexError, TypeError, ValueError):
        raise MissionError(f"plan: {where} is not a [lon, lat] position: {point!r}") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise MissionError(f"plan: {where} is out of range: lon {lon}, lat {lat}")
    return lon, lat
