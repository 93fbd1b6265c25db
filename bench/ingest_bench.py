"""Ingest speed: write a synthetic tlog of >= 500,000 messages, import it, and time pymavlink's
own mavlogdump.py reading the same file in the same run. Prints a table (no pass/fail).

    .venv/bin/python bench/ingest_bench.py [--messages 500000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic flight writer lives with the tests

from synthetic import Composer, fly_swaths  # noqa: E402

from fields.frame import LocalFrame  # noqa: E402
from telemetry import import_tlog, open_db  # noqa: E402
from telemetry.ingest.tlog import TlogWriter  # noqa: E402

T0_US = 1_750_000_000_000_000


def write_tlog(path: Path, target: int) -> int:
    lon0, lat0 = 105.7312, 21.7046
    frame = LocalFrame.for_lonlat(lon0, lat0)
    x0, y0 = frame.to_local(lon0, lat0)
    swaths = []
    for i in range(40):  # a 200 x 200 m block, 5 m swaths
        y = y0 + 2.5 + 5 * i
        a, b = frame.to_wgs84(x0, y), frame.to_wgs84(x0 + 200, y)
        swaths.append((a, b) if i % 2 == 0 else (b, a))
    writer = TlogWriter(path)
    comp = Composer(writer, "mavproxy")
    t = T0_US
    try:
        while comp.count < target:
            truth = fly_swaths(comp, swaths, start_us=t, pump_pwm=1900)
            t = truth.end_us + 300_000_000
    finally:
        writer.close()
    return comp.count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=500_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the tlog and database in this folder")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ingest-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    tlog, db_path = work / "bench.tlog", work / "bench.db"
    for p in (tlog, db_path):
        p.unlink(missing_ok=True)
    try:
        t = time.perf_counter()
        n = write_tlog(tlog, args.messages)
        t_write = time.perf_counter() - t

        db = open_db(db_path)
        t = time.perf_counter()
        rep = import_tlog(tlog, db)
        t_import = time.perf_counter() - t
        db.conn.close()

        t = time.perf_counter()
        again = import_tlog(tlog, open_db(db_path))
        t_again = time.perf_counter() - t

        mavlogdump = Path(sys.executable).parent / "mavlogdump.py"
        t = time.perf_counter()
        subprocess.run([sys.executable, str(mavlogdump), "--quiet", str(tlog)], check=True, stdout=subprocess.DEVNULL)
        t_dump = time.perf_counter() - t

        size_mb = tlog.stat().st_size / 1e6
        rows = [
            ("write synthetic tlog (pymavlink pack)", n, t_write),
            ("agrodrone import (decode + SQLite)", rep.messages, t_import),
            ("agrodrone import again (hash match)", rep.messages, t_again),
            ("mavlogdump.py --quiet (decode only)", n, t_dump),
        ]
        print(
            f"tlog: {n} messages, {size_mb:.1f} MB; {rep.stored} rows stored, "
            f"{rep.flights} flights; repeat import stored {again.stored}"
        )
        print(f"{'step':42} {'messages':>10} {'seconds':>9} {'msg/s':>10}")
        for name, count, secs in rows:
            print(f"{name:42} {count:>10} {secs:>9.2f} {count / secs:>10.0f}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
