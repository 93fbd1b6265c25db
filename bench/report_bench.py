"""Indicator queries on a province with 100,000 spray records: target about a second for a whole report.

Generates the database with SQL (a three-level unit tree, a 2025-style two-level tree
mapped onto it, 1,000 cooperatives, one drone each, 100,000 jobs and records over two
years; each record carries a few kilobytes of geometry so rows overflow their pages as
real as-applied maps do), then times each indicator query and the whole unit report
(HTML with its chart, CSV, JSON) and prints a table.

    .venv/bin/python bench/report_bench.py [--records 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telemetry import open_db  # noqa: E402
from telemetry.reports import build_report  # noqa: E402
from telemetry.reports.indicators import Indicators, Targets, parse_period  # noqa: E402

DISTRICTS, COMMUNES_PER_DISTRICT, COOPS = 9, 20, 1000
GEOMETRY_BYTES = 4500  # > one 4 KiB page: the record spills into overflow pages like a real map


def registry(db, rng: random.Random) -> None:
    units = [("p", "Tỉnh mẫu", "province", None)]
    communes = []
    for d in range(DISTRICTS):
        units.append((f"p-d{d}", f"Huyện {d}", "district", "p"))
        for c in range(COMMUNES_PER_DISTRICT):
            communes.append(f"p-d{d}-c{c}")
            units.append((communes[-1], f"Xã {d}.{c}", "commune", f"p-d{d}"))
    units.append(("p25", "Tỉnh mẫu (2025)", "province", None))
    new = [f"p25-c{k}" for k in range(len(communes) // 3)]
    units += [(n, f"Xã mới {k}", "commune", "p25") for k, n in enumerate(new)]
    with db.conn:
        db.conn.executemany("INSERT INTO units (id, name, level, parent_id) VALUES (?, ?, ?, ?)", units)
        db.conn.executemany(
            "INSERT INTO unit_mappings (old_id, new_id, effective_date) VALUES (?, ?, '2025-07-01')",
            [(c, new[k // 3]) for k, c in enumerate(communes)],
        )
        db.conn.executemany(
            "INSERT INTO cooperatives (id, name, unit_id, raw_material_area, linkage_model) VALUES (?, ?, ?, ?, ?)",
            [
                (f"coop-{k}", f"HTX {k}", rng.choice(communes), int(rng.random() < 0.6), int(rng.random() < 0.6))
                for k in range(COOPS)
            ],
        )
        db.conn.executemany(
            "INSERT INTO drones (id, name, cooperative_id, tank_l, swath_m) VALUES (?, ?, ?, 20, 7)",
            [(f"drone-{k}", f"Drone {k}", f"coop-{k}") for k in range(COOPS)],
        )
        db.conn.executemany(
            "INSERT INTO fields (id, name, cooperative_id) VALUES (?, ?, ?)",
            [(f"field-{k}", f"Ruộng {k}", f"coop-{k % COOPS}") for k in range(5 * COOPS)],
        )


def records(db, n: int) -> None:
    """Jobs and records with SQL; 70 % of the cooperatives fly, so the shares are not trivially 100 %."""
    active = int(COOPS * 0.7)
    geom = "x" * GEOMETRY_BYTES
    with db.conn:
        db.conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
        INSERT INTO jobs (id, cooperative_id, field_id, drone_id, target_dose_l_ha, created_utc)
        SELECT 'job-' || i, 'coop-' || (i % {active}), 'field-' || (i % {active} + {COOPS} * (i % 5)),
               'drone-' || (i % {active}), 15.0, '2027-01-01T00:00:00Z' FROM n""")
        db.conn.execute(f"""
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}),
        g AS (SELECT i, 1735689600 + abs(random()) % (730 * 86400) AS t, 0.5 + (abs(random()) % 4500) / 1000.0 AS ha,
                     0.9 + (abs(random()) % 200) / 1000.0 AS f FROM n)
        INSERT INTO spray_records (job_id, cooperative_id, chain_seq, operator_id, drone_id, drone_sysid, field_id,
            field_name, unit_id, crop, eppo, product, registration, start_utc, end_utc, start_local, end_local,
            timezone, area_m2, area_ha, area_sao, area_in_field_ha, volume_l, target_dose_l_ha, achieved_dose_l_ha,
            dose_deviation_pct, planned_sprayable_ha, coverage_pct, gaps_m2, overlap_m2, outside_field_m2,
            no_spray_m2, wind_max_m_s, wind_mean_m_s, flights, sorties, planned_sorties, spray_time_s,
            flight_time_s, swath_m, as_applied_geojson, gaps_geojson, created_utc, hash)
        SELECT 'job-' || i, 'coop-' || (i % {active}), i, NULL, 'drone-' || (i % {active}), 1,
               'field-' || (i % {active} + {COOPS} * (i % 5)), 'Ruộng', NULL, 'rice', 'ORYSA', 'Anvil 5SC',
               'VN-0123/18', strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch'),
               strftime('%Y-%m-%dT%H:%M:%SZ', t + 2400, 'unixepoch'),
               strftime('%Y-%m-%dT%H:%M:%S', t + 25200, 'unixepoch') || '+07:00',
               strftime('%Y-%m-%dT%H:%M:%S', t + 27600, 'unixepoch') || '+07:00', 'Asia/Ho_Chi_Minh',
               ha * 10000, ha, ha * 10000 / 360, ha * 0.99, ha * 15 * f, 15.0, 15 * f, (f - 1) * 100, ha * 1.02,
               97.5, 120, 40, 60, 0, 3.5, 2.1, 1 + i % 6, 1 + i % 6, 1 + i % 6, ha * 300, ha * 420, 7,
               '{geom}', '{geom[: GEOMETRY_BYTES // 3]}', '2027-01-01T00:00:00Z', 'bench-' || i
        FROM g""")


def timed(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated database in this folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="report-bench-"))
    try:
        db_path = (args.keep or tmp) / "bench.db"
        db_path.parent.mkdir(parents=True, exist_ok=True)
        db_path.unlink(missing_ok=True)
        db = open_db(db_path)
        t = time.perf_counter()
        registry(db, random.Random(7))
        records(db, args.records)
        db.execute("ANALYZE")
        gen_s = time.perf_counter() - t
        size_mb = db_path.stat().st_size / 1e6
        year, quarter = parse_period("2026"), parse_period("2026-Q4")
        rows = []
        for label, period in (("year 2026", year), ("2026-Q4", quarter)):
            ind = Indicators(db, period, targets=Targets())
            for name, fn in (
                ("units (tree roll-up)", lambda: ind.units("p")),
                ("units, 2025 tree via mappings", lambda: ind.units("p25")),
                ("cooperatives", lambda: ind.cooperatives("p")),
                ("months", lambda: ind.months("p")),
                ("drones", lambda: ind.drones("p")),
                ("record count", lambda: ind.record_count("p")),
            ):
                s, out = timed(fn)
                rows.append((f"{name} [{label}]", len(out) if isinstance(out, list) else out, s))
        for lang in ("vi", "en"):
            s, files = timed(lambda: build_report(db, unit="p", period="2026", lang=lang, source="bench.db"), 1)
            rows.append((f"whole unit report, year, {lang} (HTML+chart+CSV+JSON)", len(files), s))
        db.conn.close()
        print(
            f"database: {args.records:,} records, {COOPS:,} cooperatives, "
            f"{DISTRICTS * COMMUNES_PER_DISTRICT + DISTRICTS + 1} units (+2025 tree); "
            f"{size_mb:,.0f} MB, generated in {gen_s:.1f} s"
        )
        w = max(len(r[0]) for r in rows)
        print(f"{'query':<{w}}  {'rows':>6}  {'seconds':>8}")
        print(f"{'-' * w}  {'-' * 6}  {'-' * 8}")
        for name, n, s in rows:
            print(f"{name:<{w}}  {n:>6}  {s:>8.3f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
