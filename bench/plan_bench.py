"""Planner benchmark: every bundled sample field (and any field file given), one table row each.

    .venv/bin/python bench/plan_bench.py [FIELD_FILE ...] [--swath 5] [--no-big]

Prints a markdown table with the plan metrics and the planning time, then the targets
(5 m swath): coverage >= 99 %, no_spray_m2 = 0, outside <= 1.5 %, overlap <= 3 %,
path_ratio <= 1.20, < 0.3 s for a field under 10 ha, < 10 s for the synthetic 600 ha
field with holes (built here, not read from a file).  Each field is planned --repeats
times and the fastest run is shown (the 600 ha field once).

Then the fleet rows (issue #18, docs/fleet.md): the Cổ Lũng rice block shared between 1, 2
and 3 drones of the same preset, and a mixed pair (10 L + 20 L): each drone's job minutes
(flight and reloads), how much later the last drone finishes than the first, the job's
minutes (the slowest drone) and the planning time; target: imbalance < 10 %, < 3 s.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import fields  # noqa: E402
import planner  # noqa: E402
from fields import Field, LocalFrame, Zone  # noqa: E402
from missions import mission_files  # noqa: E402

COLUMNS = [
    ("field", "field_id"),
    ("ha", "sprayable_ha"),
    ("cov %", "coverage_pct"),
    ("outside %", "outside_pct"),
    ("overlap %", "overlap_pct"),
    ("no-spray m²", "no_spray_m2"),
    ("path ratio", "path_ratio"),
    ("ratio incl. reloads", "path_ratio_total"),
    ("turns", "turns"),
    ("sorties", "sorties"),
    ("angle", "angle_deg"),
    ("edge laps", "edge_passes"),
    ("flight min", "flight_time_s"),
    ("plan s", "plan_ms"),
    ("mission files s", "files_ms"),
]


def synthetic_600ha() -> Field:
    """A 600 ha irregular block (3.1 x 2.1 km) with ponds, a village and a canal buffer."""
    rng = np.random.default_rng(7)
    x0, y0 = 580_000.0, 2_390_000.0
    t = np.linspace(0, 2 * math.pi, 61)[:-1]
    r = 1.0 + 0.06 * np.sin(3 * t) + 0.03 * rng.standard_normal(len(t))
    outer = shapely.Polygon(np.column_stack([x0 + 1560 * r * np.cos(t), y0 + 1060 * r * np.sin(t)]))
    holes = []
    for cx, cy, s in [
        (-900, -300, 60),
        (-400, 400, 90),
        (200, -500, 40),
        (700, 200, 120),
        (300, 300, 35),
        (-1100, 250, 50),
        (1000, -300, 70),
        (-200, -100, 45),
    ]:
        a = np.linspace(0, 2 * math.pi, 13)[:-1]
        rr = s * (1 + 0.2 * rng.standard_normal(len(a)))
        holes.append(shapely.Polygon(np.column_stack([x0 + cx + rr * np.cos(a), y0 + cy + rr * np.sin(a)])))
    boundary = outer.difference(shapely.union_all(holes))
    scale = 600e4 / boundary.area
    boundary = shapely.affinity.scale(boundary, math.sqrt(scale), math.sqrt(scale), origin=(x0, y0))
    canal = shapely.LineString([(x0 - 1000, y0 + 700), (x0 - 200, y0 + 600), (x0 + 900, y0 + 750)])
    village = shapely.Point(x0 + 500, y0 - 800)
    zones = [
        Zone(id="canal", kind="no_spray", geometry=canal, buffer_m=5.0),
        Zone(id="village", kind="no_spray", geometry=village.buffer(60), buffer_m=20.0),
    ]
    return Field(id="synthetic-600ha", name="synthetic 600 ha", boundary=boundary, frame=LocalFrame(32648), zones=zones)


def bench(field: Field, params: planner.PlanParams, repeats: int = 3) -> dict:
    """Plan the field `repeats` times and keep the fastest time: the machine is shared,
    and the best run is the planner's own cost (the first run also pays for imports)."""
    best = None
    for _ in range(repeats):
        started = time.perf_counter()
        p = planner.plan(field, params)
        ms = (time.perf_counter() - started) * 1000.0
        if best is None or ms < best[0]:
            best = (ms, p)
    assert best is not None
    best[1].plan_ms = best[0]
    started = time.perf_counter()  # the mission files `agrodrone plan` writes next to plan.json
    mission_files(best[1].to_document())
    return {**best[1].metrics(), "files_ms": (time.perf_counter() - started) * 1000.0}


def fleet_rows(swath: float | None, repeats: int, mixed: bool = True) -> list[dict]:
    """The Cổ Lũng block for 1, 2 and 3 drones of the default preset, and a mixed 10 L + 20 L pair
    (`swath` None: the preset's own swath, as `agrodrone plan --drones` flies without --swath)."""
    from planner.balance import imbalance_pct

    field = fields.load(ROOT / "fields" / "samples" / "co-lung-rice-block.geojson")[0]
    hexa = planner.params_for(None, swath_m=swath)
    width = f"{hexa.swath_m:g} m"
    crews = [(f"{k} x {hexa.preset}, {width}", [hexa] * k) for k in (1, 2, 3)]
    if mixed:  # the two presets' swaths differ (4 and 6 m): a fleet flies one, here 5 m
        pair = [planner.params_for(None, swath_m=swath or 5.0), planner.params_for("spray-20l", swath_m=swath or 5.0)]
        crews.append((f"generic-10l-hex + spray-20l, {pair[0].swath_m:g} m", pair))
    rows = []
    for name, crew in crews:
        best = None
        for _ in range(repeats):
            started = time.perf_counter()
            p = planner.plan(field, crew[0], fleet=crew)
            ms = (time.perf_counter() - started) * 1000.0
            best = (ms, p) if best is None or ms < best[0] else best
        assert best is not None
        ms, p = best
        m = p.metrics()
        if p.fleet:
            times = [d.job_time_s for d in p.fleet]
            sorties = [len(d.sorties) for d in p.fleet]
        else:
            times, sorties = [m["job_time_s"]], [m["sorties"]]
        rows.append(
            {
                "crew": name,
                "jobs": " / ".join(f"{t / 60:.1f}" for t in times),
                "sorties": " / ".join(str(k) for k in sorties),
                "imbalance": imbalance_pct(times),
                "job": m["job_time_s"] / 60,
                "coverage": m["coverage_pct"],
                "ms": ms,
            }
        )
    return rows


def print_fleet(rows: list[dict]) -> None:
    print()
    print(
        "| drones, swath (co-lung) | job min per drone | sorties per drone | imbalance % | job min | cov % | plan s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['crew']} | {r['jobs']} | {r['sorties']} | {r['imbalance']:.1f} | {r['job']:.1f} | "
            f"{r['coverage']:.2f} | {r['ms'] / 1000:.2f} |"
        )
    print()
    print(
        f"- fleet imbalance < 10 %: {'met' if all(r['imbalance'] < 10 for r in rows) else 'NOT met'} "
        "(whole swaths and whole sorties: a part one line bigger may need one more sortie, docs/fleet.md)"
    )
    print(f"- fleet plans < 3 s: {'met' if all(r['ms'] < 3000 for r in rows) else 'NOT met'}")


def cell(key: str, v) -> str:
    if key in ("plan_ms", "files_ms"):
        return f"{v / 1000:.2f}"
    if key == "flight_time_s":
        return f"{v / 60:.0f}"
    if isinstance(v, float):
        return f"{v:.3f}" if key.startswith("path") else f"{v:.2f}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--swath", type=float, default=5.0)
    ap.add_argument("--drone", default=None)
    ap.add_argument("--no-big", action="store_true", help="skip the synthetic 600 ha field")
    ap.add_argument("--repeats", type=int, default=3, help="plans per field; the fastest time is shown")
    ap.add_argument("--no-fleet", action="store_true", help="skip the fleet rows (several drones on one field)")
    args = ap.parse_args()
    samples = ROOT / "fields" / "samples"
    files = [Path(f) for f in args.files] or sorted(samples.glob("*.geojson")) + sorted(
        (samples / "public").glob("*.wkt")
    )
    params = planner.params_for(args.drone, swath_m=args.swath)
    rows = []
    for path in files:
        for f in fields.load(path):
            rows.append(bench(f, params, args.repeats))
    if not args.no_big:
        # A 40 L class tank (the 10 L hexacopter cannot hold one 3 km swath), reloaded at
        # the middle of the block, and a 20-minute battery: from one reload point a
        # 9-minute battery cannot reach the far corners of a 3 km block (the planner says so).
        big = synthetic_600ha()
        c = big.boundary.point_on_surface()
        lon, lat = big.frame.to_wgs84(c.x, c.y)
        big_params = planner.params_for(
            "spray-40l", swath_m=args.swath, endurance_s=1200, reload=(float(lon), float(lat))
        )
        rows.append(bench(big, big_params, repeats=1))
    print("| " + " | ".join(c for c, _ in COLUMNS) + " |")
    print("|" + "|".join("---" for _ in COLUMNS) + "|")
    for m in rows:
        print("| " + " | ".join(cell(k, m[k]) for _, k in COLUMNS) + " |")
    print()
    print(
        f"swath {args.swath:g} m, drone {params.preset}, dose {params.dose_l_ha:g} L/ha; "
        "path ratio = coverage route (swaths + turns + transits between cells) / (sprayable area / swath); "
        "'incl. reloads' adds the flights to and from the reload point between sorties"
    )
    small = [m for m in rows if m["sprayable_ha"] < 10]
    checks = {
        "coverage >= 99 %": all(m["coverage_pct"] >= 99.0 for m in rows),
        "no_spray_m2 = 0": all(m["no_spray_m2"] == 0 for m in rows),
        "outside <= 1.5 %": all(m["outside_pct"] <= 1.5 for m in rows),
        "overlap <= 3 %": all(m["overlap_pct"] <= 3.0 for m in rows),
        "path_ratio <= 1.20": all(m["path_ratio"] <= 1.20 for m in rows),
        "< 0.3 s under 10 ha": all(m["plan_ms"] < 300 for m in small),
        "< 10 s for 600 ha": all(m["plan_ms"] < 10_000 for m in rows if m["sprayable_ha"] >= 100),
        "mission files < 10 s for 600 ha": all(m["files_ms"] < 10_000 for m in rows if m["sprayable_ha"] >= 100),
    }
    print()
    for name, ok in checks.items():
        print(f"- {name}: {'met' if ok else 'NOT met'}")
    if not args.no_fleet:
        print_fleet(fleet_rows(None, args.repeats) + fleet_rows(args.swath, args.repeats, mixed=False))


if __name__ == "__main__":
    main()
