"""Terrain following, per field: every sample field over a synthetic 40 m hill.

Planned: the waypoints a hill needs, the worst departure of a swath's 3D line from spray height
(recomputed every 0.5 m from plan.json and the plan folder's dem.tif, not from the planner's
own samples), and what the hill costs in sorties and flight time against the same field flat.
Flown: `agrodrone fly` on the embedded simulator (and on ArduCopter SITL for the tea hill when
ARDUPILOT_SITL is set), with the record's height above ground (the logged track against the
DEM): the share of spraying within ±1 m, the largest error, the lowest transit, coverage, dose.

    python bench/terrain_bench.py            # planned + simulator for every field, SITL for the tea hill
    python bench/terrain_bench.py --planned  # planned figures only (seconds)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cli_support import AGRODRONE  # noqa: E402
from terrain_support import hill_terrain  # noqa: E402

import fields  # noqa: E402
import planner  # noqa: E402
import sim  # noqa: E402
from fields.dem_files import load_dem  # noqa: E402
from missions import plan_folder  # noqa: E402
from telemetry import list_records, open_db  # noqa: E402

SAMPLES = ROOT / "fields" / "samples"
FIELDS = [
    "tan-cuong-tea.geojson",
    "dai-tu-paddies.geojson",
    "co-lung-rice-block.geojson",
    "phu-binh-maize.geojson",
    "ha-chau-strip.geojson",
    "public/ee_field_130.wkt",
    "public/nl_field_188.wkt",
]


def _hill_plan(name: str, out: Path) -> tuple[planner.Plan, planner.Plan, float]:
    field = fields.load(SAMPLES / name)[0]
    x0, y0, x1, y1 = field.boundary.bounds
    terrain = hill_terrain(field, margin_m=max(400.0, max(x1 - x0, y1 - y0) + 200.0), cell_m=2.0)
    params = planner.params_for(None)
    flat = planner.plan(field, params)
    t0 = time.perf_counter()
    hill = planner.plan(field, params, terrain)
    ms = (time.perf_counter() - t0) * 1000.0
    out.mkdir(parents=True, exist_ok=True)
    for fname, body in plan_folder(hill, created_by="bench").items():
        (out / fname).write_bytes(body if isinstance(body, bytes) else body.encode())
    return flat, hill, ms


def _planned_error(plan_dir: Path) -> tuple[float, int]:
    """(worst |height above ground - target| on any swath between waypoints, swath waypoints)."""
    doc = planner.load_plan(plan_dir)
    dem = load_dem(plan_dir / "dem.tif")
    frame, h = doc.field.frame, doc.params.height_m
    home = float(dem.at_lonlat([doc.reload.lon], [doc.reload.lat])[0])
    worst, n = 0.0, 0
    for s in doc.sorties:
        for leg in s.legs:
            if leg.kind != "swath":
                continue
            n += len(leg.coords)
            x, y = frame.to_local(*np.array(leg.coords).T)
            d = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
            t = np.arange(0.0, d[-1] + 1e-9, 0.5)
            lon, lat = frame.to_wgs84(np.interp(t, d, x), np.interp(t, d, y))
            agl = np.interp(t, d, leg.alts_m) - (dem.at_lonlat(lon, lat) - home)
            worst = max(worst, float(np.abs(agl - h).max()))
    return worst, n


def _fly(plan_dir: Path, vehicle: str) -> dict:
    plan = planner.load_plan(plan_dir)
    db = plan_dir / f"{vehicle}.db"
    if vehicle == "sitl":
        handle = sim.start_sitl(speedup=20.0, **sim.sitl_for_plan(plan))
    else:
        terrain = planner.load_terrain(plan_dir, plan)
        handle = sim.start_sim(
            **sim.plan_settings(plan), terrain=terrain, speedup=60.0, boot_delay_s=3.0, max_wall_hz=400.0
        )
    with handle:
        done = subprocess.run(
            [*AGRODRONE, "fly", str(plan_dir), "--connect", handle.url, "--db", str(db), "--yes"]
            + ["--cooperative", "htx-bench"],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return list_records(open_db(db))[-1]


def _flown_row(name: str, vehicle: str, rec: dict, plan_dir: Path) -> str:
    if "error" in rec:
        return f"| {name} | {vehicle} | {rec['error']} | | | | | | | |"
    planned = sum(float(s.flight_time_s or 0.0) for s in planner.load_plan(plan_dir).sorties) / 60
    swaths = json.loads(rec["agl_swaths_json"] or "[]")
    worst = max((s["max_error_m"] for s in swaths), default=float("nan"))
    return (
        f"| {name} | {vehicle} | {rec['agl_within_pct']} | {worst:.2f} | {rec['agl_transit_min_m']} | "
        f"{rec['agl_reported_max_error_m']} | {rec['coverage_pct']} | {rec['dose_deviation_pct']:+} | "
        f"{rec['no_spray_m2']} | {planned:.1f} / {rec['flight_time_s'] / 60:.1f} |"
    )


def main() -> None:
    planned_only = "--planned" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        print("Planned over a 40 m Gaussian hill (sigma 80 m) under each field, default drone, 3 m spray height\n")
        print(
            "| field | swath waypoints | worst swath error m | steepest % | sorties flat → hill "
            "| flight min flat → hill | plan ms |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name in FIELDS:
            out = Path(tmp) / name.replace("/", "-")
            flat, hill, ms = _hill_plan(name, out)
            dirs[name] = out
            worst, n = _planned_error(out)
            doc = hill.to_document()
            assert doc.terrain is not None
            print(
                f"| {name} | {n} | {worst:.2f} | {doc.terrain.max_slope_pct} | "
                f"{len(flat.sorties)} → {len(hill.sorties)} | "
                f"{sum(s.flight_time_s for s in flat.sorties) / 60:.1f} → "
                f"{sum(s.flight_time_s for s in hill.sorties) / 60:.1f} | {ms:.0f} |"
            )
        if planned_only:
            return
        print("\nFlown by `agrodrone fly` (the record's height above ground; target 3 m, ±1 m)\n")
        print(
            "| field | vehicle | within ±1 m % | worst swath error m | lowest transit m | "
            "vehicle's own worst m | coverage % | dose % | buffers m² | flight min planned / flown |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        with ThreadPoolExecutor(max_workers=3) as pool:
            recs = dict(zip(FIELDS, pool.map(lambda n: _fly(dirs[n], "sim"), FIELDS)))
        for name in FIELDS:
            print(_flown_row(name, "simulator", recs[name], dirs[name]), flush=True)
        if sim.sitl_binary():
            print(_flown_row(FIELDS[0], "SITL", _fly(dirs[FIELDS[0]], "sitl"), dirs[FIELDS[0]]))
        else:
            print(f"\n(SITL skipped: {sim.sitl.skip_reason()})")


if __name__ == "__main__":
    main()
