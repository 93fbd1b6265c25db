"""Administrative units, unit mappings and cooperatives, loaded from CSV or JSON into the database.

The unit hierarchy is data: a tree of any depth (province / district / commune until
2025, province / commune after Vietnam's 2025 reorganisation) linked by `parent_id`.
A reorganisation is a mapping file (old unit id -> new unit id); the indicators follow
the mappings, so cooperatives registered under old units are counted in the new ones
without re-entering them. A file's kind is recognised from its columns:

    units         id, name, level, parent_id [, valid_from, valid_to]
    cooperatives  id, name, unit_id [, raw_material_area, linkage_model, main_products, address, tax_code]
    unit mappings old_id, new_id [, effective_date, note]

A JSON file holds either a list of such objects or {"units": [...], "cooperatives": [...],
"unit_mappings": [...]}. Every file of one load lands in one transaction, or none does.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from telemetry.errors import TelemetryError

KINDS = ("units", "unit_mappings", "cooperatives")  # load order: parents before children
REQUIRED = {
    "units": ("id", "name", "level"),
    "unit_mappings": ("old_id", "new_id"),
    "cooperatives": ("id", "name", "unit_id"),
}
OPTIONAL = {
    "units": ("parent_id", "valid_from", "valid_to"),
    "unit_mappings": ("effective_date", "note"),
    "cooperatives": ("raw_material_area", "linkage_model", "main_products", "address", "tax_code"),
}
_TRUE = {"yes", "y", "true", "1", "x", "có", "co"}
_FALSE = {"no", "n", "false", "0", "", "không", "khong"}


@dataclass
class RegistryReport:
    """What one load changed, per kind: rows inserted and rows updated."""

    files: list[str] = field(default_factory=list)
    inserted: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    updated: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})

    def summary(self) -> str:
        parts = [
            f"{k.replace('_', ' ')}: {self.inserted[k]} new, {self.updated[k]} updated"
            for k in KINDS
            if self.inserted[k] or self.updated[k]
        ]
        return "; ".join(parts) or "nothing to load"


@dataclass
class _Rows:
    source: str
    kind: str
    rows: list[tuple[int, dict]]  # (line or item number, row)


def _kind_of(columns: set[str], source: str) -> str:
    for kind in ("unit_mappings", "cooperatives", "units"):
        if set(REQUIRED[kind]) <= columns:
            return kind
    raise TelemetryError(
        f"{source}: not a registry file (columns {', '.join(sorted(columns)) or 'none'}; expected units "
        "(id, name, level, parent_id), cooperatives (id, name, unit_id, ...) or mappings (old_id, new_id))"
    )


def _clean(row: dict) -> dict:
    return {str(k).strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}


def _read_csv(path: Path, text: str) -> list[_Rows]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {c.strip() for c in reader.fieldnames or []}
    kind = _kind_of(columns, str(path))
    rows = [(reader.line_num, _clean(r)) for r in reader if any((v or "").strip() for v in r.values() if v)]
    return [_Rows(str(path), kind, rows)]


def _read_json(path: Path, text: str) -> list[_Rows]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TelemetryError(f"{path}: not valid JSON ({exc})") from None
    groups = doc.items() if isinstance(doc, dict) else [(None, doc)]
    out = []
    for key, items in groups:
        label = f"{path}" + (f" [{key}]" if key else "")
        if key is not None and key not in KINDS:
            raise TelemetryError(f"{path}: unknown section {key!r} (expected {', '.join(KINDS)})")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TelemetryError(f"{label}: expected a list of objects")
        if not items:
            continue
        kind = key or _kind_of(set().union(*(i.keys() for i in items)), label)
        out.append(
            _Rows(
                label,
                kind,
                [(n, _clean({k: "" if v is None else v for k, v in i.items()})) for n, i in enumerate(items, 1)],
            )
        )
    return out


def read_registry_file(path: str | Path) -> list[_Rows]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TelemetryError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TelemetryError(f"{path}: cannot read as UTF-8 text ({exc})") from None
    if path.suffix.lower() == ".json":
        return _read_json(path, text)
    return _read_csv(path, text)


def _flag(value, where: str, column: str) -> int:
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise TelemetryError(f"{where}: {column} must be yes or no, got {value!r}")


def _text(value) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _prepare(group: _Rows) -> list[dict]:
    """Check required values and types; returns rows holding exactly the table's columns."""
    out, seen = [], set()
    for n, row in group.rows:
        where = f"{group.source} {'line' if group.source.endswith('.csv') else 'item'} {n}"
        missing = [c for c in REQUIRED[group.kind] if not _text(row.get(c))]
        if missing:
            raise TelemetryError(f"{where}: {', '.join(missing)} is empty")
        values: dict[str, str | int | None] = {
            c: _text(row.get(c)) for c in (*REQUIRED[group.kind], *OPTIONAL[group.kind]) if c in row
        }
        if group.kind == "cooperatives":
            for c in ("raw_material_area", "linkage_model"):
                if c in row:
                    values[c] = _flag(row[c], where, c)
        key = (values["old_id"], values["new_id"]) if group.kind == "unit_mappings" else values["id"]
        if key in seen:
            raise TelemetryError(f"{where}: {key!r} appears twice")
        if group.kind == "units" and values.get("parent_id") == values["id"]:
            raise TelemetryError(f"{where}: unit {values['id']!r} is its own parent")
        seen.add(key)
        values["_where"] = where
        out.append(values)
    return out


def _known_ids(db: sqlite_utils.Database, table: str) -> set[str]:
    return {r[0] for r in db.execute(f"SELECT id FROM [{table}]")}


def _parents_first(units: list[dict], known: set[str]) -> list[dict]:
    """Order units so each parent is written before its children; unknown parents and cycles are errors."""
    pending = {u["id"]: u for u in units}
    placed = set(known) - set(pending)
    ordered: list[dict] = []
    while pending:
        ready = [u for u in pending.values() if not u.get("parent_id") or u["parent_id"] in placed]
        if not ready:
            u = next(iter(pending.values()))
            parent = u["parent_id"]
            if parent in pending:
                raise TelemetryError(
                    f"{u['_where']}: units {u['id']!r} and {parent!r} are each other's ancestors (the tree has a cycle)"
                )
            raise TelemetryError(f"{u['_where']}: parent {parent!r} of unit {u['id']!r} is not a known unit")
        for u in ready:
            ordered.append(u)
            placed.add(u["id"])
            del pending[u["id"]]
    return ordered


def _check_cycles(db: sqlite_utils.Database, units: list[dict]) -> None:
    """A reloaded unit may have moved under one of its own descendants already in the database."""
    for u in units:
        if not u.get("parent_id"):
            continue
        row = db.execute(
            "WITH RECURSIVE up(id, n) AS (SELECT ?, 0 UNION SELECT units.parent_id, up.n + 1 FROM units "
            "JOIN up ON units.id = up.id WHERE units.parent_id IS NOT NULL AND up.n < 100) "
            "SELECT 1 FROM up WHERE id = ? AND n > 0",
            [u["parent_id"], u["id"]],
        ).fetchone()
        if row:
            raise TelemetryError(
                f"{u['_where']}: unit {u['id']!r} would become its own ancestor (through parent {u['parent_id']!r})"
            )


def _upsert(db: sqlite_utils.Database, table: str, keys: tuple[str, ...], row: dict) -> bool:
    """Insert or update the given columns only; True when the row is new."""
    values = {k: v for k, v in row.items() if not k.startswith("_")}
    where = " AND ".join(f"[{k}] = ?" for k in keys)
    exists = db.execute(f"SELECT 1 FROM [{table}] WHERE {where}", [values[k] for k in keys]).fetchone()
    if exists:
        rest = {k: v for k, v in values.items() if k not in keys}
        if rest:
            sets = ", ".join(f"[{k}] = ?" for k in rest)
            db.conn.execute(f"UPDATE [{table}] SET {sets} WHERE {where}", [*rest.values(), *(values[k] for k in keys)])
        return False
    cols = ", ".join(f"[{k}]" for k in values)
    db.conn.execute(f"INSERT INTO [{table}] ({cols}) VALUES ({', '.join('?' * len(values))})", list(values.values()))
    return True


def load_registry(db: sqlite_utils.Database, paths: list[str | Path]) -> RegistryReport:
    """Load registry files (any mix of kinds) in one transaction: units, then mappings, then cooperatives.

    Existing rows are updated with the columns the file gives (a cooperative created on first
    mention by a spray record gets its unit and attributes here); other columns are kept.
    """
    if not paths:
        raise TelemetryError("no registry file given")
    report = RegistryReport(files=[str(p) for p in paths])
    by_kind: dict[str, list[dict]] = {k: [] for k in KINDS}
    for p in paths:
        for group in read_registry_file(p):
            by_kind[group.kind].extend(_prepare(group))
    for kind in ("units", "cooperatives"):
        ids = [r["id"] for r in by_kind[kind]]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise TelemetryError(f"{kind[:-1]} {dup!r} is given in more than one file")
    try:
        with db.conn:
            units = _parents_first(by_kind["units"], _known_ids(db, "units"))
            _check_cycles(db, units)
            for u in units:
                new = _upsert(db, "units", ("id",), u)
                report.inserted["units"] += new
                report.updated["units"] += not new
            known_units = _known_ids(db, "units")
            for m in by_kind["unit_mappings"]:
                for col in ("old_id", "new_id"):
                    if m[col] not in known_units:
                        raise TelemetryError(f"{m['_where']}: {col} {m[col]!r} is not a known unit")
                if m["old_id"] == m["new_id"]:
                    raise TelemetryError(f"{m['_where']}: unit {m['old_id']!r} is mapped onto itself")
                new = _upsert(db, "unit_mappings", ("old_id", "new_id"), m)
                report.inserted["unit_mappings"] += new
                report.updated["unit_mappings"] += not new
            for c in by_kind["cooperatives"]:
                if c["unit_id"] not in known_units:
                    raise TelemetryError(
                        f"{c['_where']}: unit {c['unit_id']!r} of cooperative {c['id']!r} "
                        "is not a known unit (load the units file too)"
                    )
                new = _upsert(db, "cooperatives", ("id",), c)
                report.inserted["cooperatives"] += new
                report.updated["cooperatives"] += not new
    except sqlite3.DatabaseError as exc:
        raise TelemetryError(f"cannot write the registry into the database ({exc})") from None
    return report


@dataclass(frozen=True)
class UnitNode:
    id: str
    name: str
    level: str
    parent_id: str | None
    depth: int
    cooperatives: int  # cooperatives registered directly in this unit
    members: tuple[tuple[str, str | None], ...] = ()  # their (id, name)
    maps_to: tuple[str, ...] = ()  # the units this one became (the 2025 mappings)


def unit_tree(db: sqlite_utils.Database) -> list[UnitNode]:
    """Every unit in depth-first order (roots first), with its direct cooperatives."""
    rows: list[tuple[str, str, str, str | None, int, int]] = db.execute(
        "WITH RECURSIVE t(id, depth, path) AS ("
        " SELECT id, 0, name || char(30) || id FROM units WHERE parent_id IS NULL"
        " UNION ALL SELECT u.id, t.depth + 1, t.path || char(31) || u.name || char(30) || u.id"
        " FROM units u JOIN t ON u.parent_id = t.id WHERE t.depth < 50) "
        "SELECT u.id, u.name, u.level, u.parent_id, t.depth, "
        " (SELECT COUNT(*) FROM cooperatives c WHERE c.unit_id = u.id) "
        "FROM t JOIN units u ON u.id = t.id ORDER BY t.path"
    ).fetchall()
    members: dict[str, list[tuple[str, str | None]]] = {}
    for unit_id, cid, name in db.execute("SELECT unit_id, id, name FROM cooperatives ORDER BY id"):
        members.setdefault(unit_id, []).append((cid, name))
    moved: dict[str, list[str]] = {}
    for old, new in db.execute("SELECT old_id, new_id FROM unit_mappings ORDER BY old_id, new_id"):
        moved.setdefault(old, []).append(new)
    return [UnitNode(*r, members=tuple(members.get(r[0], ())), maps_to=tuple(moved.get(r[0], ()))) for r in rows]
