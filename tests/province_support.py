"""Province tests and bench: one throwaway PostgreSQL for the session, and cooperative databases made fast.

`cooperative_db` writes a cooperative's SQLite file the way agrodrone would have (reference rows,
jobs, one flight per job, records chained with telemetry.records.chain.record_hash), without flying: the
province only reads what is stored, so the records need to be well formed and well chained, not
measured. `append_records` continues a chain, as the next day's jobs would.
"""

from __future__ import annotations

import functools
import json
import math
import random
from pathlib import Path

import pytest
from pg_cluster import Cluster, skip_reason

from fields import LocalFrame
from telemetry import open_db
from telemetry.ingest.schema import RECORD_COLUMNS
from telemetry.records.chain import record_hash
from telemetry.records.dosemap import Axes, Cell, DoseMap

_SESSION: dict[str, Cluster] = {}
REGISTRY_UNITS = [
    ("tn", "Thái Nguyên", "province", None),
    ("tn-dt", "Đại Từ", "district", "tn"),
    ("tn-dt-cl", "Cù Vân", "commune", "tn-dt"),
    ("tn-pb", "Phú Bình", "district", "tn"),
    ("tn-pb-x", "Xuân Phương", "commune", "tn-pb"),
]


@pytest.fixture(scope="session")
def pg(request) -> Cluster:
    """The session's PostgreSQL cluster (skipped, with the reason, when the server is not installed)."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    if "cluster" not in _SESSION:
        cluster = Cluster().start()
        _SESSION["cluster"] = cluster
        request.addfinalizer(lambda: _SESSION.pop("cluster").stop())
    return _SESSION["cluster"]


_COUNTER = [0]


@pytest.fixture
def province(pg: Cluster) -> str:
    """A fresh, empty province database in the session's cluster: its URL as the superuser."""
    _COUNTER[0] += 1
    return pg.create_database(f"province_{_COUNTER[0]}")


def polygon(lon: float, lat: float, vertices: int, size_deg: float = 0.0005) -> str:
    """A GeoJSON polygon (WGS84) around (lon, lat), text as shapely writes it."""
    ring = [
        [
            round(lon + size_deg * math.cos(2 * math.pi * k / vertices), 7),
            round(lat + size_deg * math.sin(2 * math.pi * k / vertices), 7),
        ]
        for k in range(vertices)
    ]
    return json.dumps({"type": "Polygon", "coordinates": [ring + [ring[0]]]}, separators=(",", ":"))


@functools.cache
def _frame() -> LocalFrame:
    return LocalFrame.for_lonlat(105.7, 21.6)


def dose_map_columns(rng: random.Random, ha: float, swath_m: float = 7.0) -> dict:
    """A record's dose-map columns as real records have them (DoseMap.columns: bands of 10 m
    cells along the swaths) for a square field of `ha` somewhere in the province: about 140
    cells a hectare."""
    side_m = math.sqrt(ha * 1e4)
    bands, cells = max(1, int(side_m / swath_m)), max(1, int(side_m / 10.0))
    dose = lambda: round(15 * (0.85 + 0.3 * rng.random()), 2)  # noqa: E731
    dose_cells = [
        Cell(b, j, dose(), swath_m * 10.0, (j * 10.0, (j + 1) * 10.0)) for b in range(bands) for j in range(cells)
    ]
    swaths = [(b, round(15 * (0.95 + 0.1 * rng.random()), 2)) for b in range(bands)]
    origin = (rng.uniform(-10_000, 10_000), rng.uniform(-10_000, 10_000))
    return DoseMap(dose_cells, swaths, 15.0, (Axes(origin=origin),), width_m=swath_m).columns(_frame())


def _records(
    coop: str, first: int, n: int, prev: str | None, rng: random.Random, vertices: int, year: int = 2026
) -> list[dict]:
    out = []
    for seq in range(first, first + n):
        day = rng.randrange(0, 365)
        start_s = 1767225600 + (year - 2026) * 31536000 + day * 86400 + rng.randrange(0, 36000)
        ha = round(0.5 + rng.random() * 4, 4)
        f = 0.9 + rng.random() * 0.2
        rec = {c: None for c in RECORD_COLUMNS if c != "id"}
        from datetime import datetime, timedelta, timezone

        t0 = datetime.fromtimestamp(start_s, timezone.utc)
        t1 = t0 + timedelta(minutes=40)
        local = timezone(timedelta(hours=7))
        rec.update(
            {
                "job_id": f"{coop}-job-{seq}",
                "cooperative_id": coop,
                "chain_seq": seq,
                "operator_id": f"{coop}-op",
                "operator_name": "Nguyễn Văn An",
                "drone_id": f"{coop}-drone",
                "drone_sysid": 1,
                "field_id": f"{coop}-field-{seq % 3}",
                "field_name": f"Ruộng {seq % 3}",
                "crop": "rice",
                "eppo": "ORYSA",
                "product": "Anvil 5SC",
                "registration": "VN-0123/18",
                "active_substance": "Hexaconazole",
                "tank_mix": "0,5 L + 19,5 L nước",
                "start_utc": t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_utc": t1.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "start_local": t0.astimezone(local).isoformat(),
                "end_local": t1.astimezone(local).isoformat(),
                "timezone": "Asia/Ho_Chi_Minh",
                "spray_start_utc": t0.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "spray_end_utc": t1.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "area_m2": round(ha * 1e4, 2),
                "area_ha": ha,
                "area_sao": round(ha * 1e4 / 360, 2),
                "area_in_field_ha": round(ha * 0.99, 4),
                "volume_l": round(ha * 15 * f, 3),
                "target_dose_l_ha": 15.0,
                "achieved_dose_l_ha": round(15 * f, 3),
                "dose_deviation_pct": round((f - 1) * 100, 2),
                "planned_sprayable_ha": round(ha * 1.02, 4),
                "coverage_pct": 97.5,
                "gaps_m2": 120.0,
                "overlap_m2": 40.0,
                "outside_field_m2": 6.5,
                "no_spray_m2": 0.0,
                "wind_max_m_s": 3.5,
                "wind_mean_m_s": 2.1,
                "flights": 1,
                "sorties": 1,
                "planned_sorties": 1,
                "spray_time_s": 1800.0,
                "flight_time_s": 2400.0,
                "swath_m": 7.0,
                "pump_servo": 9,
                "pump_max_l_min": 6.0,
                "plan_sha256": "0" * 64,
                "plan_field_id": f"{coop}-field-{seq % 3}",
                "as_applied_geojson": polygon(105.6 + rng.random() * 0.2, 21.5 + rng.random() * 0.2, vertices),
                "gaps_geojson": polygon(105.6, 21.5, 6, 0.00005),
                "created_utc": t1.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "prev_hash": prev,
            }
        )
        rec.update(dose_map_columns(rng, ha))
        rec["hash"] = prev = record_hash(rec, prev)
        out.append(rec)
    return out


def append_records(path: Path, coop: str, n: int, *, seed: int = 0, vertices: int = 12) -> list[dict]:
    """`n` more records at the end of `coop`'s chain in the file (with their jobs and flights)."""
    db = open_db(path)
    head = db.execute("SELECT length, head_hash FROM record_chain WHERE cooperative_id = ?", [coop]).fetchone()
    length, prev = head if head else (0, None)
    rng = random.Random(f"{coop}-{seed}-{length}")
    recs = _records(coop, length + 1, n, prev, rng, vertices)
    cols = [c for c in RECORD_COLUMNS if c != "id"]
    with db.conn:
        db.conn.execute("INSERT OR IGNORE INTO cooperatives (id, name) VALUES (?, ?)", [coop, f"HTX {coop}"])
        db.conn.execute(
            "INSERT OR IGNORE INTO operators (id, name, cooperative_id) VALUES (?, ?, ?)",
            [f"{coop}-op", "Nguyễn Văn An", coop],
        )
        db.conn.execute(
            "INSERT OR IGNORE INTO drones (id, name, cooperative_id, tank_l, swath_m) "
            "VALUES (?, 'Quad 20 L', ?, 20, 7)",
            [f"{coop}-drone", coop],
        )
        db.conn.execute(
            "INSERT OR IGNORE INTO products (name, registration, active_substance) "
            "VALUES ('Anvil 5SC', 'VN-0123/18', 'Hexaconazole')"
        )
        product = db.conn.execute("SELECT id FROM products WHERE name = 'Anvil 5SC'").fetchone()[0]
        for k in range(3):
            db.conn.execute(
                "INSERT OR IGNORE INTO fields (id, name, cooperative_id, crop, boundary_geojson) "
                "VALUES (?, ?, ?, 'rice', ?)",
                [f"{coop}-field-{k}", f"Ruộng {k}", coop, polygon(105.7, 21.6, 8)],
            )
        db.conn.executemany(
            "INSERT INTO jobs (id, cooperative_id, field_id, operator_id, drone_id, product_id, crop, "
            "target_dose_l_ha, plan_sha256, plan_json, created_utc) VALUES (?, ?, ?, ?, ?, ?, 'rice', 15, ?, '{}', ?)",
            [
                (
                    r["job_id"],
                    coop,
                    r["field_id"],
                    r["operator_id"],
                    r["drone_id"],
                    product,
                    r["plan_sha256"],
                    r["created_utc"],
                )
                for r in recs
            ],
        )
        db.conn.executemany(
            "INSERT INTO flights (sysid, drone_id, start_us, end_us, start_utc, end_utc, duration_s, job_id, sortie) "
            "VALUES (1, ?, ?, ?, ?, ?, 2400, ?, 1)",
            [
                (
                    r["drone_id"],
                    _us(r["start_utc"]) + r["chain_seq"],
                    _us(r["end_utc"]),
                    r["start_utc"],
                    r["end_utc"],
                    r["job_id"],
                )
                for r in recs
            ],
        )
        db.conn.executemany(
            f"INSERT INTO spray_records ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [[r[c] for c in cols] for r in recs],
        )
        db.conn.execute(
            "INSERT INTO record_chain VALUES (?, ?, ?) ON CONFLICT(cooperative_id) DO UPDATE SET "
            "length = excluded.length, head_hash = excluded.head_hash",
            [coop, recs[-1]["chain_seq"], recs[-1]["hash"]],
        )
    db.conn.close()
    return recs


def _us(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


def cooperative_db(
    path: Path,
    coop: str,
    n: int,
    *,
    unit: str | None = "tn-dt-cl",
    registry: bool = True,
    vertices: int = 12,
    seed: int = 0,
) -> Path:
    """A cooperative's database with `n` chained records (and the small sample registry)."""
    db = open_db(path)
    with db.conn:
        if registry:
            db.conn.executemany(
                "INSERT OR IGNORE INTO units (id, name, level, parent_id) VALUES (?, ?, ?, ?)", REGISTRY_UNITS
            )
        db.conn.execute(
            "INSERT OR IGNORE INTO cooperatives (id, name, unit_id, raw_material_area, linkage_model) "
            "VALUES (?, ?, ?, 1, 1)",
            [coop, f"HTX {coop}", unit],
        )
    db.conn.close()
    if n:
        append_records(path, coop, n, seed=seed, vertices=vertices)
    return path


def province_rows(url: str, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of a query at the province, as its superuser."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("SET search_path = agrodrone, public")
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Everything a sync writes, in a stable order (to compare two provinces, or one before and after)."""
    out = {}
    for table, order in (
        ("spray_records", "cooperative_id, chain_seq"),
        ("jobs", "cooperative_id, id"),
        ("flights", "cooperative_id, sysid, start_us"),
        ("chain_heads", "cooperative_id"),
        ("cooperatives", "id"),
        ("units", "id"),
        ("drones", "cooperative_id, id"),
        ("fields", "cooperative_id, id"),
        ("operators", "cooperative_id, id"),
        ("products", "name, registration"),
    ):
        skip = {
            "received_utc",
            "accepted_utc",
            "received_by",
            "accepted_by",
            "as_applied",
            "gaps",
            "boundary",
            "product_id",
        }
        names = province_rows(
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            "'agrodrone' AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        cols = [r[0] for r in names if r[0] not in skip and not (table == "products" and r[0] == "id")]
        out[table] = province_rows(url, f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}")
    return out
