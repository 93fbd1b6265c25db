"""Small hand-made plan.json dicts (docs/plan-format.md) for the missions tests."""

from __future__ import annotations

from pyproj import Transformer

EPSG = 32648  # UTM 48N: Thai Nguyen
_to_wgs = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True)
_to_utm = Transformer.from_crs("EPSG:4326", f"EPSG:{EPSG}", always_xy=True)
X0, Y0 = _to_utm.transform(105.7312, 21.7046)


def ll(x: float, y: float) -> list[float]:
    """Local metres (from the reload point) -> [lon, lat] rounded to 1e-7 as plan.json has them."""
    lon, lat = _to_wgs.transform(X0 + x, Y0 + y)
    return [round(lon, 7), round(lat, 7)]


def ring(pts: list[tuple[float, float]]) -> dict:
    coords = [ll(x, y) for x, y in pts]
    return {"type": "Polygon", "coordinates": [coords + [coords[0]]]}


def make_plan(
    swaths_per_sortie: int = 3,
    sorties: int = 2,
    swath_len: float = 80.0,
    swath_m: float = 5.0,
    with_sprayer: bool = True,
) -> dict:
    """A rectangular field 20 m north-east of the reload point, swaths running north."""
    n = swaths_per_sortie * sorties
    width = n * swath_m
    field = [(20, 20), (20 + width, 20), (20 + width, 20 + swath_len + 10), (20, 20 + swath_len + 10)]
    plan_sorties = []
    for k in range(sorties):
        legs = []
        here = (0.0, 0.0)
        for j in range(swaths_per_sortie):
            i = k * swaths_per_sortie + j
            x = 20 + swath_m / 2 + i * swath_m
            a, b = ((x, 25), (x, 25 + swath_len)) if i % 2 == 0 else ((x, 25 + swath_len), (x, 25))
            legs.append({"kind": "transit", "coords": [ll(*here), ll(*a)]})
            legs.append(
                {"kind": "swath", "swath": i, "coords": [ll(*a), ll(*b)], "length_m": swath_len, "volume_l": 0.6}
            )
            here = b
        legs.append({"kind": "transit", "coords": [ll(*here), ll(here[0], 10), ll(0, 0)]})
        plan_sorties.append(
            {
                "index": k + 1,
                "volume_l": 1.8,
                "legs": legs,
                "start": {"lon": legs[1]["coords"][0][0], "lat": legs[1]["coords"][0][1]},
                "end": {"lon": legs[-2]["coords"][-1][0], "lat": legs[-2]["coords"][-1][1]},
            }
        )
    plan = {
        "format": "agrodrone-plan",
        "version": 1,
        "created_by": "tests",
        "field": {
            "id": "t",
            "name": "test field",
            "utm_epsg": EPSG,
            "boundary": ring(field),
            "keepout": [
                {"id": "pole", "kind": "obstacle", "buffer_m": 5, "geometry": _circle(20 + width / 2, 60, 5)},
                {
                    "id": "pond",
                    "kind": "no_spray",
                    "buffer_m": 2,
                    "geometry": ring([(22, 90), (30, 90), (30, 98), (22, 98)]),
                },
            ],
        },
        "drone": {"preset": "test", "tank_l": 10, "swath_m": swath_m, "pump_max_l_min": 2.4},
        "params": {
            "dose_l_ha": 15,
            "swath_m": swath_m,
            "speed_m_s": 5,
            "transit_speed_m_s": 8,
            "height_m": 3,
            "tank_l": 10,
        },
        "reload": {"lon": ll(0, 0)[0], "lat": ll(0, 0)[1]},
        "sorties": plan_sorties,
    }
    if with_sprayer:
        plan["sprayer"] = {
            "flow_l_min": 2.25,
            "speed_m_s": 5,
            "pump_rate_pct": 18.75,
            "pump_max_l_min": 2.4,
            "speed_min_cm_s": 100,
            "pump_min_pct": 0,
        }
    return plan


def _circle(x: float, y: float, r: float) -> dict:
    import math

    pts = [(x + r * math.cos(a * math.pi / 16), y + r * math.sin(a * math.pi / 16)) for a in range(32)]
    return ring(pts)
