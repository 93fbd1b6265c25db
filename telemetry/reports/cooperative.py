"""The report for one cooperative: its spray log for the period, as an extension officer reviews it.

Each job gets a map (field, no-spray buffers, planned swaths, as-applied area, gaps,
spray outside the field), the dose achieved against the target, the wind, and the
record's hash; the cooperative's hash chain is checked before anything is shown. A job
flown by several drones at once also shows each drone's part (fleet_section.py), and its
map colours the area each drone sprayed.
"""

from __future__ import annotations

import json
from datetime import date

import sqlite_utils

from fields.model import DEFAULT_TZ
from planner.document import PlanDocument
from planner.errors import PlanError
from telemetry.errors import TelemetryError
from telemetry.ingest.schema import RECORD_COLUMNS
from telemetry.records.chain import record_hash
from telemetry.records.dosemap import off_cells_by_reason
from telemetry.records.fleet import read_drones
from telemetry.reports.agl_section import agl_html
from telemetry.reports.charts import JobGeometry, job_geometry, job_map
from telemetry.reports.dose_chart import dose_map_chart
from telemetry.reports.fleet_section import drone_name, fleet_html
from telemetry.reports.html import card, e, page, table
from telemetry.reports.i18n import Lang
from telemetry.reports.indicators import (
    DOSE_TOLERANCE_PCT,
    Indicators,
    Period,
    cooperative,
    current_unit,
    local_today,
    same_cooperative,
)
from telemetry.reports.tables import to_csv, to_json

JOB_COLUMNS = [
    "id",
    "chain_seq",
    "job_id",
    "field_id",
    "field_name",
    "crop",
    "eppo",
    "growth_stage",
    "start_local",
    "end_local",
    "operator_id",
    "operator_name",
    "drone_id",
    "product",
    "registration",
    "active_substance",
    "tank_mix",
    "area_ha",
    "area_sao",
    "area_in_field_ha",
    "volume_l",
    "target_dose_l_ha",
    "achieved_dose_l_ha",
    "dose_deviation_pct",
    "planned_sprayable_ha",
    "coverage_pct",
    "gaps_m2",
    "overlap_m2",
    "outside_field_m2",
    "no_spray_m2",
    "wind_max_m_s",
    "wind_mean_m_s",
    "flights",
    "sorties",
    "planned_sorties",
    "spray_time_s",
    "flight_time_s",
    "agl_target_m",
    "agl_within_pct",
    "agl_max_error_m",
    "agl_transit_min_m",
    "agl_reported_within_pct",
    "agl_reported_max_error_m",
    "drone_overlap_m2",
    "hash",
    "prev_hash",
]


def check_chain(db: sqlite_utils.Database, cooperative_id: str) -> list[str]:
    """Problems in one cooperative's hash chain (telemetry.records.chain's rules, limited to its records)."""
    cols = list(RECORD_COLUMNS)
    rows = [
        dict(zip(cols, r))
        for r in db.execute(
            f"SELECT {', '.join(cols)} FROM spray_records WHERE cooperative_id = ? ORDER BY chain_seq", [cooperative_id]
        )
    ]
    problems, prev, seq = [], None, 1
    for r in rows:
        if r["chain_seq"] != seq:
            problems.append(f"#{seq}..#{r['chain_seq'] - 1} missing")
        if r["prev_hash"] != prev:
            problems.append(f"#{r['chain_seq']} previous-hash link broken")
        if record_hash(r, r["prev_hash"]) != r["hash"]:
            problems.append(f"#{r['chain_seq']} edited")
        prev, seq = r["hash"], r["chain_seq"] + 1
    head = db.execute(
        "SELECT length, head_hash FROM record_chain WHERE cooperative_id = ?", [cooperative_id]
    ).fetchone()
    if rows or head:
        length, head_hash = head if head else (0, None)
        if length != (rows[-1]["chain_seq"] if rows else 0) or head_hash != prev:
            problems.append("newest record(s) deleted")
    return problems


def _jobs(db: sqlite_utils.Database, cooperative_id: str, t0: str, t1: str) -> list[dict]:
    cols = list(RECORD_COLUMNS)
    sql = (
        f"SELECT {', '.join('r.' + c for c in cols)}, j.plan_json, f.boundary_geojson FROM spray_records r "
        f"LEFT JOIN jobs j ON j.id = r.job_id{same_cooperative(db, 'j', 'r.cooperative_id')} "
        f"LEFT JOIN fields f ON f.id = r.field_id{same_cooperative(db, 'f', 'r.cooperative_id')} "
        "WHERE r.cooperative_id = ? AND r.start_utc >= ? AND r.start_utc < ? ORDER BY r.start_utc, r.id"
    )
    out = []
    for row in db.execute(sql, [cooperative_id, t0, t1]):
        rec = dict(zip(cols, row[: len(cols)]))
        try:  # a stored plan this agrodrone cannot read: the map is drawn without it
            rec["_plan"] = PlanDocument.from_dict(json.loads(row[-2])) if row[-2] else None
        except (json.JSONDecodeError, PlanError):
            rec["_plan"] = None
        rec["_boundary"] = row[-1]
        out.append(rec)
    return out


def _off_cells(L: Lang, r: dict) -> str:
    """The dose map's cells off the target, by the reason the record gives (dose_reasons.py)."""
    why = off_cells_by_reason(r["dose_map_geojson"], float(r["target_dose_l_ha"] or 0.0))
    return L["dose_cells_val"].format(off=sum(why.values()), n=r["dose_cells"], **why)


def _outside(L: Lang, r: dict, geo: JobGeometry) -> str:
    """Spray outside the field, and how much of it is on the bunds and paths between the job's plots."""
    text = f"{L.num(r['outside_field_m2'], 0)} m²"
    if geo.between.area >= 1.0:
        text += " " + L["outside_between_val"].format(m2=L.num(geo.between.area, 0))
    return text


def _detail(L: Lang, r: dict, geo: JobGeometry) -> str:
    dev = r["dose_deviation_pct"]
    off = dev is not None and abs(dev) > DOSE_TOLERANCE_PCT
    dev_txt = L.signed_pct(dev)
    fleet = read_drones(r)
    items = [
        (L["cooperative"], e(r["cooperative_id"])),
        (L["field"], f"{e(r['field_name'])} ({e(r['field_id'])})"),
        (L["crop"], f"{e(L.crop(r['crop']))}" + (f" · EPPO {e(r['eppo'])}" if r["eppo"] else "")),
        (L["growth_stage"], e(r["growth_stage"] or "—")),
        (L["operator"], e(r["operator_name"] or r["operator_id"] or "—")),
        (L["drone"], e(", ".join(drone_name(L, d) for d in fleet) if fleet else r["drone_id"] or "—")),
        (L["product"], e(r["product"] or "—") + (f" ({e(r['active_substance'])})" if r["active_substance"] else "")),
        (L["registration"], e(r["registration"] or "—")),
        (L["tank_mix"], e(r["tank_mix"] or "—")),
        (L["start"], e(L.datetime(r["start_local"]))),
        (L["end"], e(L.datetime(r["end_local"]))),
        (L["area"], e(L.area(r["area_ha"]))),
        (L["area_in_field"], e(L.area(r["area_in_field_ha"]))),
        (L["planned_area"], e(L.area(r["planned_sprayable_ha"]))),
        (L["coverage"], e(L.pct(r["coverage_pct"]))),
        (L["volume"], f"{L.num(r['volume_l'], 2)} L"),
        (
            L["dose"],
            f'<span class="{"status-bad" if off else ""}">'
            f"{L.num(r['achieved_dose_l_ha'], 2)} / {L.num(r['target_dose_l_ha'], 2)} L/ha ({dev_txt})</span>",
        ),
        (L["gaps"], f"{L.num(r['gaps_m2'], 0)} m²"),
        (L["overlap"], f"{L.num(r['overlap_m2'], 0)} m²"),
        (L["outside"], e(_outside(L, r, geo))),
        (L["no_spray"], f"{L.num(r['no_spray_m2'], 0)} m²"),
        *([(L["dose_cells"], e(_off_cells(L, r)))] if r.get("dose_cells") else []),
        (L["wind"], e(L["wind_val"].format(max=L.num(r["wind_max_m_s"], 1), mean=L.num(r["wind_mean_m_s"], 1)))),
        (L["sorties"], f"{r['sorties']} / {r['planned_sorties'] if r['planned_sorties'] is not None else '—'}"),
        (L["hash"], f'<span class="hash">{e(r["hash"])}</span>'),
        (L["prev_hash"], f'<span class="hash">{e(r["prev_hash"] or "—")}</span>'),
    ]
    return '<table class="kv">' + "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in items) + "</table>"


def build_cooperative_report(
    db: sqlite_utils.Database,
    cooperative_id: str,
    period: Period,
    *,
    lang: str = "vi",
    tz: str = DEFAULT_TZ,
    source: str = "",
    generated: date | None = None,
    sao: str = "bac",
) -> dict[str, str]:
    """report.html plus jobs.csv and report.json for one cooperative's records in the period."""
    L = Lang(lang, sao)
    coop = cooperative(db, cooperative_id)
    ind = Indicators(db, period, tz=tz)
    jobs = _jobs(db, cooperative_id, ind.t0, ind.t1)
    if not jobs:
        raise TelemetryError(
            f"cooperative {cooperative_id} has no spray record from {period.start.isoformat()} "
            f"to {period.end.isoformat()}"
        )
    (stats,) = ind.cooperatives(cooperative_id=cooperative_id)
    generated = generated or local_today(tz)
    # where the cooperative is today: a unit abolished in 2025 is shown as the one it became
    path = ind.unit_path(current_unit(db, coop["unit_id"], generated)) if coop["unit_id"] else []
    problems = check_chain(db, cooperative_id)
    chain_total = db.execute(
        "SELECT COUNT(*) FROM spray_records WHERE cooperative_id = ?", [cooperative_id]
    ).fetchone()[0]

    where = " › ".join(L.unit_name(p["level"], p["name"]) for p in path) or "—"
    head = (
        f"<h1>{e(L['coop_title'])}</h1>"
        f'<p class="meta">{e(L["cooperative"])}: <b id="coop-name">{e(coop["name"] or cooperative_id)}</b> '
        f'<span class="note">({e(cooperative_id)})</span></p>'
        f'<p class="meta">{e(L["unit_path"])}: <b>{e(where)}</b></p>'
        f'<p class="meta">{e(L["raw_area"])}: {e(L.flag(bool(coop["raw_material_area"])))} · '
        f"{e(L['linkage'])}: {e(L.flag(bool(coop['linkage_model'])))}</p>"
        f'<p class="meta">{e(L["period"])}: <b id="period">{e(L.period(period))}</b></p>'
        f'<p class="meta">{e(L["generated"])}: {e(L.date(generated))}</p>'
    )
    chain_txt = (
        L["chain_ok"].format(n=chain_total) if not problems else L["chain_bad"].format(problems="; ".join(problems))
    )
    cards = [
        card(L["jobs"], str(stats["jobs"])),
        card(L["area"], e(L.area(stats["area_ha"]))),
        card(L["volume"], f"{L.num(stats['volume_l'], 1)} L"),
        card(f"{L['dose']} (L/ha)", f"{L.num(stats['achieved_dose_l_ha'], 2)} / {L.num(stats['target_dose_l_ha'], 2)}"),
        card(L["flights"], str(stats["flights"])),
        card(
            L["chain"],
            f'<span id="chain" class="{"status-ok" if not problems else "status-bad"}">{e(chain_txt)}</span>',
            small=True,
        ),
    ]
    rows = []
    for r in jobs:
        dev = r["dose_deviation_pct"]
        rows.append(
            [
                f"#{r['chain_seq']}",
                e(L.date(r["start_local"])),
                e(r["field_name"]),
                e(L.crop(r["crop"])),
                e(r["product"] or "—")
                + (f'<br><span class="note">{e(r["registration"])}</span>' if r["registration"] else ""),
                L.num(r["area_ha"], 2),
                L.sao(r["area_ha"]),
                L.num(r["volume_l"], 1),
                f"{L.num(r['achieved_dose_l_ha'], 2)} / {L.num(r['target_dose_l_ha'], 2)}",
                L.signed_pct(dev),
                L.pct(r["coverage_pct"]),
                L.num(r["wind_max_m_s"], 1),
                f'<span class="hash">{e(r["hash"][:16])}…</span>',
            ]
        )
    jobs_html = table(
        [
            (e(L["record"]), False),
            (e(L["date"]), False),
            (e(L["field"]), False),
            (e(L["crop"]), False),
            (e(L["product"]), False),
            ("ha", True),
            (e(L.sao_header), True),
            (e(L["volume"]) + " (L)", True),
            (e(L["dose_short"]), True),
            (e(L["dose_dev"]), True),
            (e(L["coverage"]), True),
            (e(L["wind"]) + " max (m/s)", True),
            (e(L["hash"]), False),
        ],
        rows,
        table_id="jobs",
        row_keys=[str(r["id"]) for r in jobs],
    )
    sections = []
    for r in jobs:
        title = f"{L['record']} #{r['chain_seq']} — {r['field_name']} — {L.date(r['start_local'])}"
        geo = job_geometry(r, r["_plan"], r["_boundary"])
        img = job_map(r, r["_plan"], geo, L)
        plan = r["_plan"]
        dose_img = dose_map_chart(
            r, plan.field.boundary_local if plan else None, plan.field.frame if plan else None, lang=L
        )
        dose_html = f'<img class="map dose" alt="{e(L["dose_map"])}" src="{dose_img}">' if dose_img else ""
        sections.append(
            f'<section class="job" id="job-{e(r["id"])}"><h3>{e(title)}</h3><div class="job-grid">'
            f'<div><img class="map" alt="{e(L["map"])} {e(r["field_name"])}" src="{img}">{dose_html}</div>'
            f"<div>{_detail(L, r, geo)}</div></div>{fleet_html(r, L)}{agl_html(r, L)}</section>"
        )
    body = (
        head
        + f'<h2>{e(L["summary"])}</h2><div class="cards" id="summary">{"".join(cards)}</div>'
        + f"<h2>{e(L['jobs_table'])}</h2>"
        + jobs_html
        + "".join(sections)
        + f'<h2>{e(L["source"])}</h2><p id="source">{e(L["source_text"].format(n=len(jobs), db=source or "—"))}</p>'
    )
    html = page(lang, f"{L['coop_title']} — {coop['name'] or cooperative_id} — {L.period(period)}", body)

    job_rows = [{**{k: r[k] for k in JOB_COLUMNS}, "drones": read_drones(r)} for r in jobs]
    doc = {
        "report": "cooperative",
        "lang": lang,
        "cooperative": {**coop, "unit_path": path},
        "period": {
            "kind": period.kind,
            "key": period.key,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "timezone": tz,
        },
        "chain": {"ok": not problems, "records": chain_total, "problems": problems},
        "summary": stats,
        "generated": generated.isoformat(),
        "tables": {"jobs": job_rows},
    }
    return {"report.html": html, "report.json": to_json(doc), "jobs.csv": to_csv(job_rows, JOB_COLUMNS)}
