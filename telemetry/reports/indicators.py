"""The province's digital-economy indicators, computed with SQL over the spray records.

A cooperative "applies digital technology" in a period when it has at least one
digital spray record that started in it. Per administrative unit (rolling up the
tree, and following old -> new unit mappings so a reorganised tree counts the same
cooperatives) the indicators are: cooperatives with such a record, raw-material
linkage models (a cooperative in a linkage model tied to a raw-material area) with
such a record against the target (50 % by default), hectares, flights, litres and
the area-weighted mean achieved dose against the target dose. Everything is one
SQL statement per table; nothing loads the records into Python.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlite_utils

from fields.model import SAO_M2
from telemetry.errors import TelemetryError
from telemetry.reports.period import DEFAULT_TZ, Period, local_today, parse_date, parse_period, zone
from telemetry.reports.targets import Targets, UnitIndicators

DOSE_TOLERANCE_PCT = 10.0  # a job whose achieved dose is further off its target than this is flagged


def _r(v, nd: int):
    return None if v is None else round(float(v), nd)


# Every (cooperative, unit containing it): its own unit, the units that unit maps onto, and all their ancestors.
# The SQL here runs on SQLite and on the province's PostgreSQL (telemetry/province/query.py spells it there).
_PLACED = """
edge(child, parent) AS (
    SELECT old_id, new_id FROM unit_mappings
    UNION ALL SELECT id, parent_id FROM units WHERE parent_id IS NOT NULL
),
placed(coop, unit) AS (
    SELECT id, unit_id FROM cooperatives WHERE unit_id IS NOT NULL
    UNION SELECT p.coop, e.parent FROM placed p JOIN edge e ON e.child = p.unit
)"""
_SUBTREE = """
sub(id, depth, path) AS (
    SELECT id, 0, name || char(30) || id FROM units WHERE id = :unit
    UNION ALL SELECT u.id, sub.depth + 1, sub.path || char(31) || u.name || char(30) || u.id
    FROM units u JOIN sub ON u.parent_id = sub.id WHERE sub.depth < 50
)"""
# The records of the period, read from the covering index ix_spray_records_period (schema v2).
# `+cooperative_id` keeps the planner on that index instead of the (cooperative_id, start_utc)
# one, which would fetch every wide record row.
_REC = """
rec AS (
    SELECT +cooperative_id AS coop, drone_id, flights, area_ha, volume_l, achieved_dose_l_ha,
           target_dose_l_ha, dose_deviation_pct, start_local
    FROM spray_records WHERE start_utc >= :t0 AND start_utc < :t1
)"""
# Sums are exact: each stored value is a whole number of its unit's smallest step (records keep area_ha to
# 4 decimals, volume_l to 3), so both databases add integers, in any order, and divide once at the end.
# Floating-point sums depend on the order rows are added in, which SQL leaves open.
HA, L, HA_X_DOSE = 10_000, 1_000, 1_000_000


def _q(expr: str, scale: int) -> str:
    """SUM(expr) as a whole number of 1/scale steps."""
    return f"SUM(CAST(ROUND(({expr}) * {scale}) AS BIGINT))"


def _f(int_sum: str, scale: int) -> str:
    """A sum of steps back to its unit, as a float (the same IEEE division in both databases)."""
    return f"CAST({int_sum} AS DOUBLE PRECISION) / {scale}"


_ACT = f"""
act AS (
    SELECT coop, COUNT(*) AS jobs, SUM(flights) AS flights, {_q("area_ha", HA)} AS ha_q, {_q("volume_l", L)} AS vol_q,
           {_q("CASE WHEN achieved_dose_l_ha IS NOT NULL THEN volume_l END", L)} AS dosed_vol_q,
           {_q("CASE WHEN achieved_dose_l_ha IS NOT NULL THEN area_ha END", HA)} AS dosed_ha_q,
           {_q("CASE WHEN target_dose_l_ha IS NOT NULL THEN target_dose_l_ha * area_ha END", HA_X_DOSE)} AS tgt_x_ha_q,
           {_q("CASE WHEN target_dose_l_ha IS NOT NULL THEN area_ha END", HA)} AS tgt_ha_q,
           SUM(CASE WHEN ABS(dose_deviation_pct) > :tol THEN 1 ELSE 0 END) AS off,
           MAX(substr(start_local, 1, 10)) AS last_day
    FROM rec GROUP BY coop
)"""


class Indicators:
    """Indicator queries for one database, period and time zone."""

    def __init__(
        self, db: sqlite_utils.Database, period: Period, *, targets: Targets | None = None, tz: str = DEFAULT_TZ
    ) -> None:
        self.db = db
        self.period = period
        self.targets = targets or Targets()
        self.tz = tz
        self.zone = zone(tz)
        self.t0, self.t1 = period.utc_bounds(tz)

    def _args(self, **kw) -> dict:
        return {"t0": self.t0, "t1": self.t1, "tol": DOSE_TOLERANCE_PCT, **kw}

    # -- scope -------------------------------------------------------------------------------
    def unit(self, unit_id: str) -> dict:
        row = self.db.execute("SELECT id, name, level, parent_id FROM units WHERE id = ?", [unit_id]).fetchone()
        if row is None:
            raise TelemetryError(f"unknown unit {unit_id!r} ({_known_hint(self.db, 'units')})")
        return dict(zip(("id", "name", "level", "parent_id"), row))

    def unit_path(self, unit_id: str) -> list[dict]:
        """The unit and its ancestors, root first."""
        rows = self.db.execute(
            "WITH RECURSIVE up(id, n) AS (SELECT id, 0 FROM units WHERE id = ? "
            "UNION ALL SELECT u.parent_id, up.n + 1 FROM units u "
            "JOIN up ON u.id = up.id WHERE u.parent_id IS NOT NULL AND up.n < 50) "
            "SELECT u.id, u.name, u.level FROM up JOIN units u ON u.id = up.id ORDER BY up.n DESC",
            [unit_id],
        ).fetchall()
        return [dict(zip(("id", "name", "level"), r)) for r in rows]

    # -- tables ------------------------------------------------------------------------------
    def units(self, unit_id: str) -> list[UnitIndicators]:
        """The unit (depth 0) and every unit below it, in tree order, each rolled up over its subtree."""
        self.unit(unit_id)
        sql = f"""
        WITH RECURSIVE {_SUBTREE}, {_PLACED}, {_REC}, {_ACT},
        coop_drones AS (SELECT DISTINCT coop, drone_id FROM rec),
        unit_drones AS (
            SELECT p.unit, COUNT(DISTINCT cd.drone_id) AS n FROM coop_drones cd JOIN placed p ON p.coop = cd.coop
            WHERE p.unit IN (SELECT id FROM sub) GROUP BY p.unit
        )
        SELECT sub.id, u.name, u.level, u.parent_id, sub.depth,
               COUNT(c.id), COUNT(act.coop),
               COALESCE(SUM(CASE WHEN c.raw_material_area = 1 AND c.linkage_model = 1 THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN c.raw_material_area = 1 AND c.linkage_model = 1 AND act.coop IS NOT NULL
                            THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(act.jobs), 0), COALESCE(SUM(act.flights), 0),
               COALESCE({_f("SUM(act.ha_q)", HA)}, 0.0), COALESCE({_f("SUM(act.vol_q)", L)}, 0.0),
               {_f("SUM(act.dosed_vol_q)", L)} / NULLIF({_f("SUM(act.dosed_ha_q)", HA)}, 0),
               {_f("SUM(act.tgt_x_ha_q)", HA_X_DOSE)} / NULLIF({_f("SUM(act.tgt_ha_q)", HA)}, 0),
               COALESCE(SUM(act.off), 0), COALESCE(MAX(unit_drones.n), 0)
        FROM sub JOIN units u ON u.id = sub.id
        LEFT JOIN placed p ON p.unit = sub.id
        LEFT JOIN cooperatives c ON c.id = p.coop
        LEFT JOIN act ON act.coop = +p.coop  -- '+': lets SQLite index the materialised act
        LEFT JOIN unit_drones ON unit_drones.unit = sub.id
        GROUP BY sub.id, u.name, u.level, u.parent_id, sub.depth, sub.path ORDER BY sub.path
        """
        out = []
        for r in self.db.execute(sql, self._args(unit=unit_id)).fetchall():
            out.append(
                UnitIndicators(
                    unit_id=r[0],
                    name=r[1],
                    level=r[2],
                    parent_id=r[3],
                    depth=r[4],
                    cooperatives=r[5],
                    cooperatives_digital=r[6],
                    linkage_models=r[7],
                    linkage_models_digital=r[8],
                    jobs=r[9],
                    flights=r[10],
                    area_ha=round(r[11], 4),
                    volume_l=round(r[12], 2),
                    achieved_dose_l_ha=_r(r[13], 2),
                    target_dose_l_ha=_r(r[14], 2),
                    jobs_off_dose=r[15],
                    drones=r[16],
                ).finish(self.targets)
            )
        return out

    def cooperatives(self, unit_id: str | None = None, cooperative_id: str | None = None) -> list[dict]:
        """Per cooperative in the unit (or the one cooperative): its attributes and its activity in the period."""
        where, args = "", self._args(unit=unit_id, coop=cooperative_id)
        if unit_id is not None:
            self.unit(unit_id)
            where = "WHERE c.id IN (SELECT coop FROM placed WHERE unit = :unit)"
        elif cooperative_id is not None:
            where = "WHERE c.id = :coop"
        sql = f"""
        WITH RECURSIVE {_PLACED}, {_REC}, {_ACT},
        last AS (SELECT cooperative_id AS coop, MAX(start_utc) AS t FROM spray_records GROUP BY cooperative_id)
        SELECT c.id, c.name, c.unit_id, u.name, COALESCE(c.raw_material_area, 0), COALESCE(c.linkage_model, 0),
               COALESCE(act.jobs, 0), COALESCE(act.flights, 0), COALESCE({_f("act.ha_q", HA)}, 0.0),
               COALESCE({_f("act.vol_q", L)}, 0.0), {_f("act.dosed_vol_q", L)} / NULLIF({_f("act.dosed_ha_q", HA)}, 0),
               {_f("act.tgt_x_ha_q", HA_X_DOSE)} / NULLIF({_f("act.tgt_ha_q", HA)}, 0), act.last_day, last.t
        FROM cooperatives c LEFT JOIN units u ON u.id = c.unit_id
        LEFT JOIN act ON act.coop = +c.id LEFT JOIN last ON last.coop = +c.id
        {where}
        ORDER BY u.name NULLS FIRST, c.name NULLS FIRST, c.id
        """
        out = []
        for r in self.db.execute(sql, args).fetchall():
            lm = bool(r[4] and r[5])
            out.append(
                {
                    "cooperative_id": r[0],
                    "name": r[1],
                    "unit_id": r[2],
                    "unit_name": r[3],
                    "raw_material_area": bool(r[4]),
                    "linkage_model": bool(r[5]),
                    "raw_material_linkage_model": lm,
                    "jobs": r[6],
                    "flights": r[7],
                    "area_ha": round(r[8], 4),
                    "area_sao": round(r[8] * 1e4 / SAO_M2, 1),
                    "volume_l": round(r[9], 2),
                    "achieved_dose_l_ha": _r(r[10], 2),
                    "target_dose_l_ha": _r(r[11], 2),
                    "last_record_in_period": r[12],
                    "last_record_ever": self._local_day(r[13]),
                    "digital": r[6] > 0,
                }
            )
        return out

    def _local_day(self, utc: str | None) -> str | None:
        if not utc:
            return None
        return datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(self.zone).date().isoformat()

    def months(self, unit_id: str | None = None, cooperative_id: str | None = None) -> list[dict]:
        """Activity per calendar month of the period (months without records included, as zeros)."""
        scope, args = self._scope(unit_id, cooperative_id)
        rows = self.db.execute(
            f"""
        WITH RECURSIVE {_PLACED}, {_REC}
        SELECT substr(start_local, 1, 7), COUNT(*), COALESCE(SUM(flights), 0),
               COALESCE({_f(_q("area_ha", HA), HA)}, 0.0), COALESCE({_f(_q("volume_l", L), L)}, 0.0),
               COUNT(DISTINCT coop)
        FROM rec WHERE 1 = 1 {scope} GROUP BY 1""",
            args,
        ).fetchall()
        got = {r[0]: r for r in rows}
        out = []
        for m in self.period.months():
            r = got.get(m, (m, 0, 0, 0.0, 0.0, 0))
            out.append(
                {
                    "month": m,
                    "jobs": r[1],
                    "flights": r[2],
                    "area_ha": round(r[3], 4),
                    "area_sao": round(r[3] * 1e4 / SAO_M2, 1),
                    "volume_l": round(r[4], 2),
                    "cooperatives_digital": r[5],
                }
            )
        return out

    def drones(self, unit_id: str | None = None, cooperative_id: str | None = None) -> list[dict]:
        """Hectares, flights and litres by drone."""
        scope, args = self._scope(unit_id, cooperative_id)
        rows = self.db.execute(
            f"""
        WITH RECURSIVE {_PLACED}, {_REC},
        per AS (SELECT drone_id, coop, COUNT(*) AS jobs, COALESCE(SUM(flights), 0) AS flights,
                       COALESCE({_f(_q("area_ha", HA), HA)}, 0.0) AS ha,
                       COALESCE({_f(_q("volume_l", L), L)}, 0.0) AS vol
                FROM rec WHERE 1 = 1 {scope} GROUP BY drone_id, coop)
        SELECT per.drone_id, d.name, d.model, per.coop, per.jobs, per.flights, per.ha, per.vol
        FROM per LEFT JOIN drones d ON d.id = per.drone_id{same_cooperative(self.db, "d", "per.coop")}
        ORDER BY per.ha DESC, per.drone_id NULLS FIRST""",
            args,
        ).fetchall()
        return [
            {
                "drone_id": r[0],
                "drone_name": r[1],
                "model": r[2],
                "cooperative_id": r[3],
                "jobs": r[4],
                "flights": r[5],
                "area_ha": round(r[6], 4),
                "area_sao": round(r[6] * 1e4 / SAO_M2, 1),
                "volume_l": round(r[7], 2),
            }
            for r in rows
        ]

    def unplaced_records(self) -> int:
        """Records in the period whose cooperative has no unit in the registry (counted in no unit)."""
        return self.db.execute(
            f"WITH {_REC} SELECT COUNT(*) FROM rec LEFT JOIN cooperatives c ON c.id = rec.coop WHERE c.unit_id IS NULL",
            self._args(),
        ).fetchone()[0]

    def record_count(self, unit_id: str | None = None, cooperative_id: str | None = None) -> int:
        scope, args = self._scope(unit_id, cooperative_id)
        return self.db.execute(
            f"WITH RECURSIVE {_PLACED}, {_REC} SELECT COUNT(*) FROM rec WHERE 1 = 1 {scope}", args
        ).fetchone()[0]

    def _scope(self, unit_id: str | None, cooperative_id: str | None) -> tuple[str, dict]:
        if unit_id is not None:
            self.unit(unit_id)
            return "AND coop IN (SELECT coop FROM placed WHERE unit = :unit)", self._args(unit=unit_id)
        if cooperative_id is not None:
            return "AND coop = :coop", self._args(coop=cooperative_id)
        return "", self._args()


def same_cooperative(db: sqlite_utils.Database, alias: str, coop: str) -> str:
    """The extra join condition for a drone, field or job row: at the province these are keyed by
    (cooperative_id, id), as two cooperatives may use the same id; a SQLite file has one of each."""
    return f" AND {alias}.cooperative_id = {coop}" if getattr(db, "keyed_by_cooperative", False) else ""


def _known_hint(db: sqlite_utils.Database, table: str) -> str:
    ids = [r[0] for r in db.execute(f"SELECT id FROM [{table}] ORDER BY id LIMIT 6")]
    total = db.execute(f"SELECT COUNT(*) FROM [{table}]").fetchone()[0]
    if not total:
        return (
            "the registry is empty: load it with `agrodrone registry load`"
            if table == "units"
            else "the database has none"
        )
    more = f", ... ({total} in all)" if total > len(ids) else ""
    return "known: " + ", ".join(ids) + more


def root_units(db: sqlite_utils.Database) -> list[str]:
    """Top-level units that hold at least one cooperative (directly, below, or through a mapping)."""
    return [
        r[0]
        for r in db.execute(
            f"WITH RECURSIVE {_PLACED} SELECT DISTINCT u.id FROM units u JOIN placed p ON p.unit = u.id "
            "WHERE u.parent_id IS NULL ORDER BY u.id"
        )
    ]


def current_roots(db: sqlite_utils.Database, on: date) -> list[str]:
    """root_units less those a unit mapping in force on `on` replaces (the pre-2025 tree)."""
    replaced = {
        r[0] for r in db.execute("SELECT old_id FROM unit_mappings WHERE effective_date <= ?", [on.isoformat()])
    }
    return [u for u in root_units(db) if u not in replaced]


def current_unit(db: sqlite_utils.Database, unit_id: str, on: date) -> str:
    """The unit that `unit_id` has become by `on`, following the unit mappings in force."""
    seen = {unit_id}
    while True:
        row = db.execute(
            "SELECT new_id FROM unit_mappings WHERE old_id = ? AND effective_date <= ? "
            "ORDER BY effective_date DESC LIMIT 1",
            [unit_id, on.isoformat()],
        ).fetchone()
        if row is None or row[0] in seen:
            return unit_id
        unit_id = row[0]
        seen.add(unit_id)


def records_span(
    db: sqlite_utils.Database, *, unit: str | None = None, cooperative: str | None = None
) -> tuple[str, str] | None:
    """First and last local day with a spray record (YYYY-MM-DD) in the report's scope: a
    cooperative's, a unit's (its cooperatives, through the unit mappings), or all; None when none.
    Scoped, it is the same for every role that may read the scope (a province officer's or the
    administrator's report of one unit covers the same days)."""
    days = "SELECT MIN(substr(start_local, 1, 10)), MAX(substr(start_local, 1, 10)) FROM spray_records"
    if cooperative is not None:
        row = db.execute(f"{days} WHERE cooperative_id = ?", [cooperative]).fetchone()
    elif unit is not None:
        row = db.execute(
            f"WITH RECURSIVE {_PLACED} {days} WHERE cooperative_id IN (SELECT coop FROM placed WHERE unit = ?)", [unit]
        ).fetchone()
    else:
        row = db.execute(days).fetchone()
    return None if row[0] is None else (row[0], row[1])


def cooperative(db: sqlite_utils.Database, cooperative_id: str) -> dict:
    row = db.execute(
        "SELECT id, name, unit_id, raw_material_area, linkage_model, main_products, address "
        "FROM cooperatives WHERE id = ?",
        [cooperative_id],
    ).fetchone()
    if row is None:
        raise TelemetryError(f"unknown cooperative {cooperative_id!r} ({_known_hint(db, 'cooperatives')})")
    return dict(zip(("id", "name", "unit_id", "raw_material_area", "linkage_model", "main_products", "address"), row))


__all__ = [
    "Period",
    "Targets",
    "UnitIndicators",
    "Indicators",
    "parse_period",
    "parse_date",
    "root_units",
    "current_roots",
    "current_unit",
    "local_today",
    "records_span",
    "cooperative",
    "DOSE_TOLERANCE_PCT",
]
