"""The report for an administrative unit: what the province counts toward its targets.

Indicator table with progress bars against the targets for the unit and every unit
below it, a chart per month, hectares and flights by drone, the units below target and
the cooperatives with no digital spray record in the period.
"""

from __future__ import annotations

from datetime import date

import sqlite_utils

from fields.model import DEFAULT_TZ
from telemetry.reports.charts import monthly_chart
from telemetry.reports.html import card, e, page, progress, table
from telemetry.reports.i18n import Lang
from telemetry.reports.indicators import DOSE_TOLERANCE_PCT, Indicators, Period, Targets, UnitIndicators, local_today
from telemetry.reports.tables import to_csv, to_json

INDICATOR_COLUMNS = [
    "unit_id",
    "name",
    "level",
    "parent_id",
    "depth",
    "cooperatives",
    "cooperatives_digital",
    "cooperatives_pct",
    "linkage_models",
    "linkage_models_digital",
    "linkage_models_pct",
    "meets_target",
    "jobs",
    "flights",
    "drones",
    "area_ha",
    "area_sao",
    "volume_l",
    "achieved_dose_l_ha",
    "target_dose_l_ha",
    "dose_deviation_pct",
    "jobs_off_dose",
]
COOP_COLUMNS = [
    "cooperative_id",
    "name",
    "unit_id",
    "unit_name",
    "raw_material_area",
    "linkage_model",
    "raw_material_linkage_model",
    "digital",
    "jobs",
    "flights",
    "area_ha",
    "area_sao",
    "volume_l",
    "achieved_dose_l_ha",
    "target_dose_l_ha",
    "last_record_in_period",
    "last_record_ever",
]


def _dose(lang: Lang, achieved: float | None, target: float | None) -> str:
    if achieved is None:
        return "—"
    return f"{lang.num(achieved, 2)} / {lang.num(target, 2)}"


def _status(lang: Lang, u: UnitIndicators) -> tuple[str, str]:
    if u.meets_target is None:
        return f'<span title="{e(lang["no_target"])}">{lang["na"]}</span>', ""
    if u.meets_target:
        return e(lang["met"]), "status-ok"
    return e(lang["below"]), "status-bad"


def _share(lang: Lang, part: int, whole: int, pct: float | None, target: float | None) -> str:
    if not whole:
        return lang["na"]
    return progress(pct, target, f"{part}/{whole} · {lang.pct(pct)}")


def build_unit_report(
    db: sqlite_utils.Database,
    unit_id: str,
    period: Period,
    *,
    lang: str = "vi",
    targets: Targets | None = None,
    tz: str = DEFAULT_TZ,
    source: str = "",
    generated: date | None = None,
    sao: str = "bac",
) -> dict[str, str]:
    """report.html plus indicators.csv, cooperatives.csv, months.csv, drones.csv and report.json."""
    L = Lang(lang, sao)
    targets = targets or Targets()
    ind = Indicators(db, period, targets=targets, tz=tz)
    units = ind.units(unit_id)
    top = units[0]
    coops = ind.cooperatives(unit_id)
    months = ind.months(unit_id)
    drones = ind.drones(unit_id)
    n_records = ind.record_count(unit_id)
    unplaced = ind.unplaced_records()
    path = ind.unit_path(unit_id)
    units_below = [u for u in units if u.meets_target is False]
    coops_below = [c for c in coops if not c["digital"]]
    generated = generated or local_today(tz)

    # -- HTML -------------------------------------------------------------------------------
    where = " › ".join(L.unit_name(p["level"], p["name"]) for p in path)
    head = (
        f"<h1>{e(L['unit_title'])}</h1>"
        f'<p class="meta">{e(L["unit"])}: <b id="unit-name">{e(where)}</b> <span class="note">({e(unit_id)})</span></p>'
        f'<p class="meta">{e(L["period"])}: <b id="period">{e(L.period(period))}</b></p>'
        f'<p class="meta">{e(L["generated"])}: {e(L.date(generated))}</p>'
    )
    t_coop = targets.cooperatives_pct
    cards = [
        card(
            L["coops_digital"],
            f"{top.cooperatives_digital}/{top.cooperatives} · {L.pct(top.cooperatives_pct)}",
            progress(top.cooperatives_pct, t_coop, "") if top.cooperatives else "",
        ),
        card(
            L["linkage_digital"],
            f"{top.linkage_models_digital}/{top.linkage_models} · {L.pct(top.linkage_models_pct)}",
            progress(top.linkage_models_pct, targets.linkage_models_pct, "") if top.linkage_models else "",
        ),
        card(L["area"], e(L.area(top.area_ha))),
        card(f"{L['flights']} · {L['jobs']} · {L['drones']}", f"{top.flights} · {top.jobs} · {top.drones}"),
        card(L["volume"], f"{L.num(top.volume_l, 1)} L"),
        card(
            f"{L['dose']} (L/ha)",
            e(_dose(L, top.achieved_dose_l_ha, top.target_dose_l_ha)),
            f'<div class="note">{e(L["dose_dev"])} {e(L.signed_pct(top.dose_deviation_pct))}; {top.jobs_off_dose} '
            f"{e(L['jobs'].lower())} {e(L['off_dose'].format(tol=L.num(DOSE_TOLERANCE_PCT)))}</div>",
        ),
    ]
    target_lines = [f"<li>{e(L['target_linkage'])}: <b>{e(L.pct(targets.linkage_models_pct, 0))}</b></li>"]
    if t_coop is not None:
        target_lines.append(f"<li>{e(L['target_coops'])}: <b>{e(L.pct(t_coop, 0))}</b></li>")
    summary = (
        f'<h2>{e(L["summary"])}</h2><div class="cards" id="summary">{"".join(cards)}</div>'
        f"<p><b>{e(L['targets'])}</b></p><ul>{''.join(target_lines)}</ul>"
    )

    rows, classes, cells, keys = [], [], [], []
    for u in units:
        status, scls = _status(L, u)
        rows.append(
            [
                f'{e(u.name)} <span class="note">{e(L.level(u.level))}</span>',
                _share(L, u.cooperatives_digital, u.cooperatives, u.cooperatives_pct, t_coop),
                _share(L, u.linkage_models_digital, u.linkage_models, u.linkage_models_pct, targets.linkage_models_pct),
                L.num(u.area_ha, 2),
                L.sao(u.area_ha),
                str(u.flights),
                str(u.jobs),
                L.num(u.volume_l, 1),
                e(_dose(L, u.achieved_dose_l_ha, u.target_dose_l_ha)),
                status,
            ]
        )
        classes.append(f"d{u.depth}")
        cells.append([f"i{min(u.depth, 4)}" if u.depth else "", "", "", "", "", "", "", "", "", scls])
        keys.append(u.unit_id)
    indicator_html = table(
        [
            (e(L["unit"]), False),
            (e(L["coops_digital"]), False),
            (e(L["linkage_digital"]), False),
            ("ha", True),
            (e(L.sao_header), True),
            (e(L["flights"]), True),
            (e(L["jobs"]), True),
            (e(L["volume"]) + " (L)", True),
            (e(L["dose_short"]), True),
            (e(L["status"]), False),
        ],
        rows,
        row_classes=classes,
        cell_classes=cells,
        table_id="indicators",
        row_keys=keys,
    )

    month_rows = [
        [
            e(L.month(m["month"])),
            L.num(m["area_ha"], 2),
            L.sao(m["area_ha"]),
            str(m["flights"]),
            str(m["jobs"]),
            L.num(m["volume_l"], 1),
            str(m["cooperatives_digital"]),
        ]
        for m in months
    ]
    months_html = (
        f'<img class="chart" id="chart-months" alt="{e(L["by_month"])}" src="{monthly_chart(months, L)}">'
        + table(
            [
                (e(L["month"]), False),
                ("ha", True),
                (e(L.sao_header), True),
                (e(L["flights"]), True),
                (e(L["jobs"]), True),
                (e(L["volume"]) + " (L)", True),
                (e(L["chart_coops"]), True),
            ],
            month_rows,
            table_id="months",
            row_keys=[m["month"] for m in months],
        )
    )

    drone_rows = [
        [
            e(d["drone_id"] or "—") + (f' <span class="note">{e(d["drone_name"])}</span>' if d["drone_name"] else ""),
            e(d["cooperative_id"]),
            str(d["jobs"]),
            str(d["flights"]),
            L.num(d["area_ha"], 2),
            L.sao(d["area_ha"]),
            L.num(d["volume_l"], 1),
        ]
        for d in drones
    ]
    drones_html = (
        table(
            [
                (e(L["drone"]), False),
                (e(L["cooperative"]), False),
                (e(L["jobs"]), True),
                (e(L["flights"]), True),
                ("ha", True),
                (e(L.sao_header), True),
                (e(L["volume"]) + " (L)", True),
            ],
            drone_rows,
            table_id="drones",
        )
        if drones
        else f"<p>{e(L['none'])}</p>"
    )

    if units_below:
        below_html = table(
            [
                (e(L["unit"]), False),
                (e(L["level"]), False),
                (e(L["linkage_digital"]), False),
                (e(L["coops_digital"]), False),
            ],
            [
                [
                    e(u.name),
                    e(L.level(u.level)),
                    _share(
                        L, u.linkage_models_digital, u.linkage_models, u.linkage_models_pct, targets.linkage_models_pct
                    ),
                    _share(L, u.cooperatives_digital, u.cooperatives, u.cooperatives_pct, t_coop),
                ]
                for u in units_below
            ],
            table_id="units-below",
            row_keys=[u.unit_id for u in units_below],
        )
    else:
        below_html = f'<p id="units-below">{e(L["none_below"])}</p>'
    if coops_below:
        coops_html = table(
            [
                (e(L["cooperative"]), False),
                (e(L["unit"]), False),
                (e(L["raw_area"]), False),
                (e(L["linkage"]), False),
                (e(L["last_record"]), False),
            ],
            [
                [
                    e(c["name"]),
                    e(c["unit_name"] or c["unit_id"]),
                    e(L.flag(c["raw_material_area"])),
                    e(L.flag(c["linkage_model"])),
                    e(L.date(c["last_record_ever"]) if c["last_record_ever"] else L["never"]),
                ]
                for c in coops_below
            ],
            table_id="coops-below",
            row_keys=[c["cooperative_id"] for c in coops_below],
        )
    else:
        coops_html = f'<p id="coops-below">{e(L["coops_below_none"])}</p>'

    foot = (
        f'<h2>{e(L["source"])}</h2><p id="source">{e(L["source_text"].format(n=n_records, db=source or "—"))}</p>'
        + (f'<p class="warn" id="unplaced">{e(L["unplaced"].format(n=unplaced))}</p>' if unplaced else "")
    )
    body = (
        head
        + summary
        + f"<h2>{e(L['indicator_table'])}</h2>"
        + indicator_html
        + f"<h2>{e(L['by_month'])}</h2>"
        + months_html
        + f"<h2>{e(L['by_drone'])}</h2>"
        + drones_html
        + f"<h2>{e(L['units_below'])}</h2>"
        + below_html
        + f"<h2>{e(L['coops_below'])}</h2>"
        + coops_html
        + foot
    )
    html = page(lang, f"{L['unit_title']} — {top.name} — {L.period(period)}", body)

    # -- CSV / JSON ---------------------------------------------------------------------------
    unit_rows = [u.to_dict() for u in units]
    doc = {
        "report": "unit",
        "lang": lang,
        "unit": {"id": unit_id, "name": top.name, "level": top.level, "path": path},
        "period": {
            "kind": period.kind,
            "key": period.key,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "timezone": tz,
        },
        "targets": {"linkage_models_pct": targets.linkage_models_pct, "cooperatives_pct": targets.cooperatives_pct},
        "records": n_records,
        "records_without_unit": unplaced,
        "generated": generated.isoformat(),
        "tables": {"indicators": unit_rows, "months": months, "drones": drones, "cooperatives": coops},
        "units_below_target": [u.unit_id for u in units_below],
        "cooperatives_below_target": [c["cooperative_id"] for c in coops_below],
    }
    return {
        "report.html": html,
        "report.json": to_json(doc),
        "indicators.csv": to_csv(unit_rows, INDICATOR_COLUMNS),
        "cooperatives.csv": to_csv(coops, COOP_COLUMNS),
        "months.csv": to_csv(
            months, ["month", "jobs", "flights", "area_ha", "area_sao", "volume_l", "cooperatives_digital"]
        ),
        "drones.csv": to_csv(
            drones,
            ["drone_id", "drone_name", "model", "cooperative_id", "jobs", "flights", "area_ha", "area_sao", "volume_l"],
        ),
    }
