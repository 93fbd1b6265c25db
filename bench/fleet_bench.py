"""Several drones on one job (issue #18): the Cổ Lũng rice block planned for 1, 2 and 3 drones and
flown whole by `agrodrone fly`, one embedded simulator per drone, at a speed-up of 20 (a hold
acts within the flying loop's 50 ms poll: 1 s of flight at 20).

Prints, per fleet size: the plan's job time (the slowest drone's flights plus its reloads, as
planned), the vehicle time flown (first take-off to last landing; a rehearsal's ground crew is
instant, so the plan's reload time is added beside it), the smallest distance between two
flying drones, the holds, and the record's coverage, dose and overlap between drones.

    python bench/fleet_bench.py [FIELD] [--drones 1,2,3] [--speedup 20]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from planner import load_plan  # noqa: E402
from telemetry import list_records, open_db  # noqa: E402

AGRODRONE = [sys.executable, "-m", "agrodrone", "--lang", "en"]


def _utc(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def run(field: Path, drones: int, speedup: float, work: Path) -> dict:
    plan_dir = work / f"plan-{drones}"
    args = ["--drones", str(drones)] if drones > 1 else []
    subprocess.run([*AGRODRONE, "plan", str(field), *args, "--out", str(plan_dir)], check=True, capture_output=True)
    plan = load_plan(plan_dir)
    numbers = plan.drone_numbers()
    parts = [plan.for_drone(d) for d in numbers]
    job_s = [
        sum(float(s.flight_time_s or 0) for s in p.sorties) + float(p.params.reload_s or 0) * (len(p.sorties) - 1)
        for p in parts
    ]
    reload_s = [float(p.params.reload_s or 0) * (len(p.sorties) - 1) for p in parts]
    db = work / f"job-{drones}.db"
    t0 = time.monotonic()
    with ExitStack() as stack:
        handles = []
        for d in numbers:
            settings = sim.drone_settings(plan, d) if len(numbers) > 1 else sim.plan_settings(plan)
            handles.append(
                stack.enter_context(sim.start_sim(**settings, speedup=speedup, boot_delay_s=3.0, max_wall_hz=400.0))
            )
        connects = [a for h in handles for a in ("--connect", h.url)]
        done = subprocess.run(
            [*AGRODRONE, "fly", str(plan_dir), *connects, "--db", str(db), "--yes"], capture_output=True, text=True
        )
    wall = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit(f"{drones} drone(s): fly failed\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    rec = list_records(open_db(db))[-1]
    closest = re.search(r"smallest separation between two flying drones: ([\d.]+) m; (\d+) hold", done.stdout)
    flown_min = (_utc(rec["end_utc"]) - _utc(rec["start_utc"])) / 60
    slowest = max(range(len(parts)), key=lambda i: job_s[i])
    return {
        "drones": drones,
        "planned_job_min": max(job_s) / 60,
        "flown_min": flown_min,
        "flown_plus_reloads_min": flown_min + reload_s[slowest] / 60,
        "sorties": "+".join(str(len(p.sorties)) for p in parts),
        "closest_m": float(closest.group(1)) if closest else None,
        "holds": int(closest.group(2)) if closest else 0,
        "coverage": rec["coverage_pct"],
        "dose": rec["dose_deviation_pct"],
        "between_m2": rec.get("drone_overlap_m2") or 0.0,
        "wall_s": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("field", nargs="?", default=str(ROOT / "fields" / "samples" / "co-lung-rice-block.geojson"))
    ap.add_argument("--drones", default="1,2,3")
    ap.add_argument("--speedup", type=float, default=20.0)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in a.drones.split(",")):
            rows.append(run(Path(a.field), n, a.speedup, Path(tmp)))
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(
        "| drones | sorties | planned job min | flown min (vehicle) | flown + reloads min | smallest separation m "
        "| holds | coverage % | dose % | sprayed by two drones m² | wall s |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        closest = f"{r['closest_m']:.1f}" if r["closest_m"] is not None else "—"
        print(
            f"| {r['drones']} | {r['sorties']} | {r['planned_job_min']:.1f} | {r['flown_min']:.1f} | "
            f"{r['flown_plus_reloads_min']:.1f} | {closest} | {r['holds']} | {r['coverage']:.2f} | {r['dose']:+.2f} | "
            f"{r['between_m2']:.1f} | {r['wall_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
