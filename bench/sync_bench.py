"""Province sync at scale: 100 cooperative databases of 1,000 records each into one PostgreSQL.

Starts a throwaway cluster (tests/pg_cluster.py: a socket only, as the `postgres` user when
run as root, always stopped), makes one SQLite file per cooperative with chained records
(tests/province_support.py; as-applied maps of a few kilobytes, as real ones are), gives each
cooperative its own role, syncs every file as its role (each record's hash recomputed and
its chain link checked by the province), syncs them all again (nothing new), and times the
yearly unit report over the 100,000 records as the administrator and as an officer.
Target: the report in at most a second.

    .venv/bin/python bench/sync_bench.py [--coops 100] [--records 1000] [--no-postgis]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pg_cluster import Cluster, skip_reason  # noqa: E402
from province_support import cooperative_db  # noqa: E402

from telemetry import open_db  # noqa: E402
from telemetry.province import add_member, init_province, open_province, sync  # noqa: E402
from telemetry.reports import build_report  # noqa: E402
from telemetry.reports.indicators import Indicators, parse_period  # noqa: E402

VERTICES = 180  # an as-applied polygon of ~4.5 kB of GeoJSON


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def sync_all(files: list[tuple[str, Path]], url_of) -> tuple[float, int]:
    sent = 0
    t = time.perf_counter()
    for coop, path in files:
        db = open_db(path, create=False)
        try:
            rep = sync(db, url_of(coop))
        finally:
            db.conn.close()
        sent += rep.new.get("spray_records", 0)
    return time.perf_counter() - t, sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--coops", type=int, default=100)
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--no-postgis", action="store_true", help="geometry as GeoJSON text only")
    args = ap.parse_args()
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="sync-bench-"))
    rows: list[tuple[str, str, str]] = []
    try:
        t = time.perf_counter()
        files = []
        for k in range(args.coops):
            coop = f"htx-{k:03d}"
            unit = ("tn-dt-cl", "tn-pb-x")[k % 2]
            files.append(
                (coop, cooperative_db(tmp / f"{coop}.db", coop, args.records, unit=unit, seed=k, vertices=VERTICES))
            )
        gen_s = time.perf_counter() - t
        mb = sum(p.stat().st_size for _c, p in files) / 1e6
        with Cluster(trust=True) as cluster:
            admin = cluster.create_database("province")
            state = init_province(admin, postgis=False if args.no_postgis else None)
            for coop, _p in files:
                add_member(admin, f"role_{coop.replace('-', '_')}", cooperative=coop)
            add_member(admin, "officer_tn", unit="tn")
            url_of = lambda coop: cluster.url("province", f"role_{coop.replace('-', '_')}")  # noqa: E731
            total = args.coops * args.records
            s, sent = sync_all(files, url_of)
            rows.append(
                (
                    f"first sync, {args.coops} cooperatives, each as its own role",
                    f"{sent:,} records",
                    f"{s:.1f} s ({sent / s:,.0f} records/s)",
                )
            )
            assert sent == total, (sent, total)
            s, again = sync_all(files, url_of)
            rows.append(("second sync, nothing new", f"{again:,} records", f"{s:.1f} s"))
            assert again == 0
            period = parse_period("2026")
            for who, url in (
                ("administrator", admin),
                ("officer of the province", cluster.url("province", "officer_tn")),
            ):
                pdb = open_province(url)
                try:
                    if who == "administrator":  # as autovacuum does after a bulk load: statistics, visibility map
                        pdb.execute("VACUUM ANALYZE")
                    ind = Indicators(pdb, period)
                    s, units = timed(lambda: ind.units("tn"), 3)
                    rows.append((f"indicators per unit, year [{who}]", f"{len(units)} units", f"{s:.3f} s"))
                    s, files_ = timed(lambda: build_report(pdb, unit="tn", period="2026", source="bench"), 3)
                    rows.append(
                        (
                            f"whole yearly unit report [{who}] (HTML+chart+CSV+JSON)",
                            f"{units[0].jobs:,} records",
                            f"{s:.3f} s",
                        )
                    )
                finally:
                    pdb.close()
        print(
            f"{args.coops} cooperative databases x {args.records:,} records ({mb:,.0f} MB of SQLite, made in "
            f"{gen_s:.0f} s); province geometry: {state.geometry}; 2 cores"
        )
        w = max(len(r[0]) for r in rows)
        print(f"{'step':<{w}}  {'rows':>16}  {'time':>24}")
        print(f"{'-' * w}  {'-' * 16}  {'-' * 24}")
        for name, n, s in rows:
            print(f"{name:<{w}}  {n:>16}  {s:>24}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
