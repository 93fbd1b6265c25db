"""Reference rows (cooperatives, drones, operators, products, fields) created on first mention.

Plain SQL (no commit) so the caller's transaction decides when they land.
"""

from __future__ import annotations

import sqlite_utils


def _insert(db: sqlite_utils.Database, table: str, values: dict) -> int:
    cols = ", ".join(f"[{c}]" for c in values)
    cur = db.conn.execute(
        f"INSERT INTO [{table}] ({cols}) VALUES ({', '.join('?' * len(values))})", list(values.values())
    )
    rowid = cur.lastrowid
    assert rowid is not None  # set by every INSERT
    return rowid


def ensure_row(db: sqlite_utils.Database, table: str, id: str | None, **values) -> str | None:
    """Insert `id` into `table` when it is new; fill only the columns still empty when it exists."""
    if id is None or id == "":
        return None
    values = {k: v for k, v in values.items() if v is not None}
    cur = db.conn.execute(f"SELECT * FROM [{table}] WHERE id = ?", [id])
    row = cur.fetchone()
    if row is None:
        _insert(db, table, {"id": id, **values})
    elif values:
        current = dict(zip([d[0] for d in cur.description], row))
        missing = {k: v for k, v in values.items() if current.get(k) is None}
        if missing:
            sets = ", ".join(f"[{k}] = ?" for k in missing)
            db.conn.execute(f"UPDATE [{table}] SET {sets} WHERE id = ?", [*missing.values(), id])
    return id


def ensure_product(
    db: sqlite_utils.Database, name: str | None, registration: str | None, active_substance: str | None = None
) -> int | None:
    if not name:
        return None
    row = db.conn.execute(
        "SELECT id FROM products WHERE name = ? AND registration IS ?", [name, registration]
    ).fetchone()
    if row:
        return row[0]
    return _insert(db, "products", {"name": name, "registration": registration, "active_substance": active_substance})


def insert_row(db: sqlite_utils.Database, table: str, values: dict) -> int:
    """INSERT without committing; returns the new rowid."""
    return _insert(db, table, values)


def update_row(db: sqlite_utils.Database, table: str, pk: str, key, values: dict) -> None:
    sets = ", ".join(f"[{k}] = ?" for k in values)
    db.conn.execute(f"UPDATE [{table}] SET {sets} WHERE [{pk}] = ?", [*values.values(), key])


def claim_sysid(db: sqlite_utils.Database, drone_id: str | None, sysid: int | None) -> None:
    """Remember which MAVLink system id a drone flies as (first one seen wins)."""
    if drone_id and sysid is not None:
        db.conn.execute("UPDATE drones SET mav_sysid = ? WHERE id = ? AND mav_sysid IS NULL", [sysid, drone_id])
