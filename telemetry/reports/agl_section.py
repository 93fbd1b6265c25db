"""A hill job's height above ground in the cooperative report: the figures of the record's AGL
section (telemetry/records/agl.py) as a small table per job, a table per swath, and the AGL along
the pump-on track against the ±1 m band. Jobs over flat ground have no section and show nothing."""

from __future__ import annotations

import numpy as np

from telemetry.records.agl import AGL_BAND_M, read_agl
from telemetry.reports.charts import COLORS, png_data_uri
from telemetry.reports.html import e, table
from telemetry.reports.i18n import Lang


def agl_chart(agl: dict, lang: Lang) -> str | None:
    """A PNG data URI of AGL over pump-on time with the target band; None without a profile."""
    from matplotlib.figure import Figure

    prof = agl.get("profile")
    if not prof or not prof.get("agl_m"):
        return None
    target = float(agl["agl_target_m"])
    step = float(prof["step_s"])
    y = np.array([np.nan if v is None else v for v in prof["agl_m"]], dtype=float)
    x = np.arange(len(y)) * step
    fig = Figure(figsize=(7.5, 2.8))
    ax = fig.subplots()
    ax.axhspan(
        target - AGL_BAND_M, target + AGL_BAND_M, color=COLORS["applied"], alpha=0.18, lw=0, label=lang["agl_band"]
    )
    ax.axhline(target, color=COLORS["applied"], lw=0.8)
    starts = [int(s) for s in prof.get("starts", [])]
    # each pump-on stretch (a swath) drawn by itself: no line across the turns
    pieces = np.split(np.arange(len(y)), [s for s in starts if 0 < s < len(y)])
    for k, idx in enumerate(pieces):
        ax.plot(x[idx], y[idx], color=COLORS["swath"], lw=1.0, label=lang["agl_chart_dem"] if k == 0 else None)
    if prof.get("reported_m"):
        r = np.array([np.nan if v is None else v for v in prof["reported_m"]], dtype=float)
        for k, idx in enumerate(pieces):
            ax.plot(
                x[idx],
                r[idx],
                color=COLORS["outside"],
                lw=0.8,
                ls="--",
                label=lang["agl_chart_reported"] if k == 0 else None,
            )
    ax.set_xlabel(lang["agl_chart_x"], fontsize=8)
    ax.set_ylabel(lang["agl_chart_y"], fontsize=8)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(lang["agl_chart_title"].format(target=lang.num(target, 1)), fontsize=9)
    ax.legend(fontsize=7, loc="upper right", frameon=False)
    fig.tight_layout()
    return png_data_uri(fig, tight=False)


def agl_html(record: dict, L: Lang) -> str:
    """The job's height-above-ground figures (empty for a flat job or a record made before them)."""
    agl = read_agl(record)
    if agl is None:
        return ""
    home = {"home": L["agl_home_home"], "plan": L["agl_home_plan"]}
    sources = [home.get(s, s) for s in (agl.get("agl_home_source") or "").split(",") if s]
    items = [
        (L["agl_target"], f"{L.num(agl['agl_target_m'], 1)} m"),
        (L["agl_within"], e(L.pct(agl["agl_within_pct"]))),
        (L["agl_max_error"], f"{L.num(agl['agl_max_error_m'], 2)} m"),
        (L["agl_transit_min"], f"{L.num(agl['agl_transit_min_m'], 1)} m"),
        (L["agl_home"], e(", ".join(sources) or "—")),
    ]
    if agl.get("agl_reported_within_pct") is not None:
        items.append(
            (
                L["agl_reported"],
                e(
                    L["agl_reported_val"].format(
                        within=L.pct(agl["agl_reported_within_pct"]), error=L.num(agl["agl_reported_max_error_m"], 2)
                    )
                ),
            )
        )
    kv = '<table class="kv">' + "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in items) + "</table>"
    reported = any("reported_median_m" in s for s in agl["swaths"])
    headers = [
        (e(L["agl_swath"]), False),
        (e(L["agl_min"]), True),
        (e(L["agl_median"]), True),
        (e(L["agl_max"]), True),
        (e(L["agl_err"]), True),
    ] + ([(e(L["agl_rep_median"]), True)] if reported else [])
    rows = []
    for s in agl["swaths"]:
        row = [
            str(int(s["swath"])),
            L.num(s["min_m"], 2),
            L.num(s["median_m"], 2),
            L.num(s["max_m"], 2),
            L.num(s["max_error_m"], 2),
        ]
        if reported:
            row.append(L.num(s.get("reported_median_m"), 2))
        rows.append(row)
    swaths = table(headers, rows, table_id=f"agl-swaths-{record['id']}") if rows else ""
    img = agl_chart(agl, L)
    chart = f'<img class="chart agl" alt="{e(L["agl_chart"])}" src="{img}">' if img else ""
    return f'<div class="agl" id="agl-{e(record["id"])}"><h4>{e(L["agl_title"])}</h4>{kv}{swaths}{chart}</div>'
