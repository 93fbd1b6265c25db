"""Calibration, measured: the same plans flown on ArduPilot SITL and on the embedded simulator.

The embedded simulator (`sim/`) stands in for ArduCopter in tests and demos, so what a
record says about a flight must not depend on which of the two flew it. Each case is
planned once, flown with `agrodrone fly` on SITL and on the simulator, and both logs are
measured the same way (positions, servo and battery tables, the spray record). Prints one
markdown table per case with the difference in % (sim vs SITL) and flags figures off by
more than 5 % (cross-track error: 0.3 m).

    ARDUPILOT_SITL=/path/to/arducopter python bench/sim_vs_sitl.py [--out DIR] [--reuse-sitl]

Cases: the Đại Từ paddies (generic-10l-hex, 15 L/ha, 5 L tank: 3 sorties) and the first
two sorties of the Cổ Lũng rice block (generic-10l-hex, 15 L/ha, 10 L tank; the holes and
the canal buffer are along them), kept short enough for a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely

import sim
from fields import LocalFrame
from planner import PlanDocument, load_plan
from telemetry import list_flights, list_records, open_db
from telemetry.records.asapplied import PumpCalibration, load_track, spray_intervals, spray_lines

ROOT = Path(__file__).resolve().parent.parent
SITL_SPEEDUP = 20.0
SIM_SPEEDUP = 20.0  # as SITL: the ground station's wall-clock latencies cost the same vehicle time
SIM_WALL_HZ = 400.0  # let the simulator stream at the rates `fly` asks for (20 Hz at 20x), as SITL does
TOLERANCE_PCT = 5.0
XTRACK_TOLERANCE_M = 0.3


@dataclass(frozen=True)
class Case:
    name: str
    field: str
    plan_args: tuple[str, ...]
    sorties: int | None = None  # keep only the first N sorties of the plan


CASES = (
    Case(
        "dai-tu", "fields/samples/dai-tu-paddies.geojson", ("--drone", "generic-10l-hex", "--dose", "15", "--tank", "5")
    ),
    Case(
        "co-lung",
        "fields/samples/co-lung-rice-block.geojson",
        ("--drone", "generic-10l-hex", "--dose", "15"),
        sorties=2,
    ),
)


def agrodrone(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "agrodrone", *args], check=True, capture_output=True, text=True)


def make_plan(case: Case, out: Path) -> Path:
    """Plan the field; for a long job keep its first sorties (the record then covers only them)."""
    plan_dir = out / f"{case.name}-plan"
    if not (plan_dir / "plan.json").exists():
        agrodrone("plan", str(ROOT / case.field), *case.plan_args, "--out", str(plan_dir))
        if case.sorties:
            plan = load_plan(plan_dir)
            replace(plan, sorties=plan.sorties[: case.sorties]).write(plan_dir)
    return plan_dir


def fly(plan_dir: Path, vehicle: str, db: Path, *extra: str) -> None:
    """`agrodrone fly` every sortie of the plan on SITL or on the embedded simulator (`extra`: more options)."""
    plan = load_plan(plan_dir)
    db.unlink(missing_ok=True)
    if vehicle == "sitl":
        handle = sim.start_sitl(speedup=SITL_SPEEDUP, **sim.sitl_for_plan(plan))
    else:  # the plan's drone: tank, pump, battery and mass, as `agrodrone sim --plan` sets it up
        handle = sim.start_sim(
            **sim.plan_settings(plan), speedup=SIM_SPEEDUP, boot_delay_s=5.0, max_wall_hz=SIM_WALL_HZ
        )
    with handle:
        agrodrone("fly", str(plan_dir), "--connect", handle.url, "--db", str(db), "--yes", *extra)


def _local(frame: LocalFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    x, y = frame.to_local(lon, lat)
    return np.column_stack([np.asarray(x, float), np.asarray(y, float)])


def measure(db_path: Path, plan: PlanDocument) -> dict[str, float]:
    """The figures compared, from the logged telemetry and the spray record only."""
    db = open_db(db_path)
    frame = plan.field.frame
    record = list_records(db)[-1]
    cal = PumpCalibration(record["pump_servo"], record["pump_max_l_min"])
    swaths = shapely.MultiLineString(
        [_local(frame, *np.array(leg.coords, float).T) for s in plan.sorties for leg in s.swath_legs]
    )
    flight_s = dist = spray_m = 0.0
    batt_pct = batt_mah = 0.0
    xtrack: list[np.ndarray] = []
    for f in [f for f in list_flights(db) if f.closed]:
        rows = np.array(
            db.execute(
                "SELECT time_boot_ms, lon, lat FROM positions WHERE sysid = ? AND t_us BETWEEN ? AND ? "
                "AND NOT (lat = 0 AND lon = 0) ORDER BY t_us",
                [f.sysid, f.start_us, f.end_us],
            ).fetchall(),
            float,
        )
        flight_s += (rows[-1, 0] - rows[0, 0]) / 1e3
        xy = _local(frame, rows[:, 1], rows[:, 2])
        dist += float(np.hypot(*np.diff(xy, axis=0).T).sum())
        batt = db.execute(
            "SELECT battery_pct, consumed_mah FROM battery WHERE sysid = ? AND t_us BETWEEN ? AND ? ORDER BY t_us",
            [f.sysid, f.start_us, f.end_us],
        ).fetchall()
        batt_pct += batt[0][0] - batt[-1][0]
        batt_mah += batt[-1][1] - batt[0][1]
        track = load_track(db, f.sysid, f.start_us, f.end_us, cal.servo)
        intervals = spray_intervals(track.servo_t, cal.flow(track.pwm))
        spray_m += sum(line.length for line in spray_lines(track, intervals, frame))
        on = np.zeros(len(track.pos_t), bool)
        for a, b in intervals:
            on |= (track.pos_t >= a) & (track.pos_t <= b)
        if on.any():
            pts = shapely.points(_local(frame, track.lon[on], track.lat[on]))
            xtrack.append(shapely.distance(pts, swaths))
    xt = np.concatenate(xtrack) if xtrack else np.zeros(1)
    return {
        "flight time (vehicle s)": flight_s,
        "distance flown (m)": dist,
        "pump-on distance (m)": spray_m,
        "as-applied area (m²)": record["area_m2"],
        "volume (L)": record["volume_l"],
        "achieved dose (L/ha)": record["achieved_dose_l_ha"],
        "coverage (%)": record["coverage_pct"],
        "outside the field (m²)": record["outside_field_m2"],
        "in no-spray buffers (m²)": record["no_spray_m2"],
        "battery used (%)": batt_pct,
        "battery used (mAh)": batt_mah,
        "cross-track max (m)": float(xt.max()),
        "cross-track p95 (m)": float(np.percentile(xt, 95)),
    }


def table(name: str, sitl: dict[str, float], emb: dict[str, float]) -> str:
    lines = [f"### {name}", "", "| figure | SITL | sim | diff | |", "| --- | ---: | ---: | ---: | --- |"]
    for key, ref in sitl.items():
        got = emb[key]
        if key.startswith("cross-track"):
            diff, bad = f"{got - ref:+.2f} m", abs(got - ref) > XTRACK_TOLERANCE_M
        elif key.endswith("(mAh)"):  # SITL's pack is sized for its own current draw: not comparable
            diff, bad = "", False
        elif ref:
            pct = (got - ref) / abs(ref) * 100
            diff, bad = f"{pct:+.1f} %", abs(pct) > TOLERANCE_PCT
        else:
            diff, bad = f"{got - ref:+.2f}", abs(got - ref) > 1.0
        lines.append(f"| {key} | {ref:.2f} | {got:.2f} | {diff} | {'**off**' if bad else ''} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, help="keep plans and databases here [default: a temporary folder]")
    ap.add_argument("--reuse-sitl", action="store_true", help="reuse SITL databases already in --out")
    ap.add_argument("--case", choices=[c.name for c in CASES], action="append", help="only these cases")
    args = ap.parse_args()
    reason = sim.sitl.skip_reason()
    if reason and not args.reuse_sitl:
        print(f"skipped: {reason}")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="sim-vs-sitl-"))
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if args.case and case.name not in args.case:
            continue
        plan_dir = make_plan(case, out)
        plan = load_plan(plan_dir)
        results = {}
        for vehicle in ("sitl", "sim"):
            db = out / f"{case.name}-{vehicle}.db"
            if not (vehicle == "sitl" and args.reuse_sitl and db.exists()):
                fly(plan_dir, vehicle, db)
            results[vehicle] = measure(db, plan)
        print(table(f"{case.name} ({len(plan.sorties)} sorties)", results["sitl"], results["sim"]), "\n", flush=True)
    if not args.out:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
