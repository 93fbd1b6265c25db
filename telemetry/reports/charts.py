"""Charts and job maps as PNG data: URIs, so the HTML report opens offline as one file.

matplotlib's object API with the Agg canvas (no pyplot state): safe to call from any thread.
matplotlib is imported on first use, so `import telemetry` stays quick for the logger.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from fields.frame import LocalFrame, utm_epsg_for
from fields.plots import between_plots
from telemetry.reports.i18n import Lang

if TYPE_CHECKING:
    from matplotlib.artist import Artist

    from planner.document import PlanDocument

COLORS = {
    "field": "#222222",
    "swath": "#1f5fbf",
    "applied": "#2e9d4a",
    "gaps": "#f39c12",
    "outside": "#d6336c",
    "between": "#e8a0bd",
    "keepout": "#c0392b",
    "bar": "#2e7d5b",
    "bar2": "#3b6fb6",
}
# a fleet job's map: each drone's area in its own colour (the first is the single drone's green)
DRONE_COLORS = ("#2e9d4a", "#7b52ab", "#1f9fb4", "#8d6e63")


def png_data_uri(fig, dpi: int = 96, *, tight: bool = True) -> str:
    """The figure as a PNG data: URI; `tight` crops it to what is drawn (not needed, and it is
    the costly part, after a tight_layout)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def monthly_chart(months: list[dict], lang: Lang) -> str:
    """Hectares and flights per month, with the number of cooperatives that recorded spraying."""
    from matplotlib.figure import Figure

    labels = [lang.month(m["month"]) for m in months]
    x = np.arange(len(months))
    fig = Figure(figsize=(max(6.0, 0.55 * len(months) + 3), 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    bars = ax1.bar(x, [m["area_ha"] for m in months], color=COLORS["bar"])
    for b, m in zip(bars, months):
        if m["cooperatives_digital"]:
            ax1.annotate(
                f"{m['cooperatives_digital']} HTX" if lang.code == "vi" else f"{m['cooperatives_digital']} coop.",
                (b.get_x() + b.get_width() / 2, b.get_height()),
                ha="center",
                va="bottom",
                fontsize=7,
            )
    ax1.set_title(lang["chart_area"], fontsize=10)
    ax2.bar(x, [m["flights"] for m in months], color=COLORS["bar2"])
    ax2.set_title(lang["chart_flights"], fontsize=10)
    for ax in (ax1, ax2):
        ax.set_xticks(
            x, labels, rotation=45 if len(months) > 6 else 0, ha="right" if len(months) > 6 else "center", fontsize=8
        )
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(bottom=0)
    ax2.yaxis.get_major_locator().set_params(integer=True)
    if not any(m["area_ha"] for m in months):
        ax1.set_ylim(0, 1)
        ax2.set_ylim(0, 1)
    fig.tight_layout()
    return png_data_uri(fig, tight=False)


def _polygons(geom: BaseGeometry):
    if geom is None or geom.is_empty:
        return
    if geom.geom_type == "Polygon":
        yield geom
    elif hasattr(geom, "geoms"):
        for g in geom.geoms:
            yield from _polygons(g)


def _add_area(ax, geom: BaseGeometry, **kw) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    paths = []
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            coords = np.asarray(ring.coords)[:, :2]
            codes = np.full(len(coords), MplPath.LINETO)
            codes[0], codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
            paths.append(MplPath(coords, codes))
    if paths:
        ax.add_patch(PathPatch(MplPath.make_compound_path(*paths), **kw))


def _geom(text: str | None, frame: LocalFrame) -> BaseGeometry:
    if not text:
        return shapely.Polygon()
    g = shape(json.loads(text))
    return shapely.make_valid(frame.geom_to_local(g))


def _drone_areas(text: str | None, frame: LocalFrame, lang: Lang) -> list[tuple[str, BaseGeometry]]:
    """A fleet record's drones_geojson as (legend label, local area) per drone; [] for one drone."""
    if not text:
        return []
    out = []
    for feat in json.loads(text)["features"]:
        props = feat.get("properties") or {}
        label = lang["fleet_drone_n"].format(n=props.get("drone"))
        label = f"{label} ({props['drone_id']})" if props.get("drone_id") else label
        geom = feat.get("geometry")
        out.append((label, _geom(json.dumps(geom), frame) if geom else shapely.Polygon()))
    return out


@dataclass(frozen=True)
class JobGeometry:
    """A record's ground in one local frame: the field, its buffers, what was sprayed, and where
    the spray went outside the field: on the ground between the job's plots, or past its edge."""

    frame: LocalFrame
    boundary: BaseGeometry
    keepout: BaseGeometry
    applied: BaseGeometry
    gaps: BaseGeometry
    outside: BaseGeometry
    between: BaseGeometry  # the part of `outside` on bunds and paths between plots (fields/plots.py)


def job_geometry(record: dict, plan: PlanDocument | None, boundary_geojson: str | None) -> JobGeometry:
    """The record's geometry in the plan's frame (or, without a plan, the UTM zone of the field)."""
    applied_src = record.get("as_applied_geojson")
    if plan is not None:
        frame, boundary, keepout = plan.field.frame, plan.field.boundary_local, plan.field.keepout_local
    else:
        probe = (
            shape(json.loads(boundary_geojson))
            if boundary_geojson
            else shape(json.loads(applied_src))
            if applied_src
            else None
        )
        if probe is None:
            raise ValueError("nothing to draw")
        c = probe.centroid
        frame = LocalFrame(utm_epsg_for(c.x, c.y))
        boundary, keepout = _geom(boundary_geojson, frame), shapely.Polygon()
    applied = _geom(applied_src, frame)
    outside = shapely.difference(applied, boundary) if not boundary.is_empty else shapely.Polygon()
    between = shapely.intersection(outside, between_plots(boundary)) if not outside.is_empty else shapely.Polygon()
    gaps = _geom(record.get("gaps_geojson"), frame)
    return JobGeometry(frame, boundary, keepout, applied, gaps, outside, between)


def job_map(record: dict, plan: PlanDocument | None, geo: JobGeometry, lang: Lang) -> str:
    """The field, its no-spray buffers, the planned swaths and what the telemetry says was sprayed.
    Without the plan (a record whose plan is not stored), the field's boundary and the record."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    frame, boundary, keepout, applied, gaps = geo.frame, geo.boundary, geo.keepout, geo.applied, geo.gaps
    outside, between = shapely.difference(geo.outside, geo.between), geo.between
    in_keepout = shapely.intersection(applied, keepout) if not keepout.is_empty else shapely.Polygon()
    swaths = [
        np.array([frame.to_local(lon, lat) for lon, lat in leg.coords], dtype=float)
        for sortie in (plan.sorties if plan is not None else ())
        for leg in sortie.swath_legs
    ]
    extent = shapely.union_all([g for g in (boundary, applied) if not g.is_empty])
    minx, miny, maxx, maxy = extent.bounds
    ox, oy = minx, miny  # metres from the south-west corner: small, readable ticks

    def shift(g):
        return shapely.transform(g, lambda c: c - [ox, oy])

    w, h = maxx - minx, maxy - miny
    aspect = h / w if w > 0 else 1.0
    fig = Figure(figsize=(7.5, min(max(7.5 * aspect, 3.5), 9.0) + 1.2))
    ax = fig.subplots()
    handles: list[Artist] = []
    if not keepout.is_empty:
        _add_area(
            ax,
            shift(keepout),
            facecolor="#f5b7b1",
            edgecolor=COLORS["keepout"],
            hatch="///",
            lw=0.8,
            alpha=0.7,
            zorder=1,
        )
        handles.append(
            Patch(facecolor="#f5b7b1", edgecolor=COLORS["keepout"], hatch="///", label=lang["legend_keepout"])
        )
    drones = _drone_areas(record.get("drones_geojson"), frame, lang)
    if drones:  # a fleet job: who sprayed where (two drones' colours blend where both sprayed)
        for k, (label, area) in enumerate(drones):
            color = DRONE_COLORS[k % len(DRONE_COLORS)]
            if not area.is_empty:
                _add_area(ax, shift(area), facecolor=color, edgecolor="none", alpha=0.4, zorder=2)
            handles.append(Patch(facecolor=color, alpha=0.4, label=label))
    elif not applied.is_empty:
        _add_area(ax, shift(applied), facecolor=COLORS["applied"], edgecolor="none", alpha=0.45, zorder=2)
        handles.append(Patch(facecolor=COLORS["applied"], alpha=0.45, label=lang["legend_applied"]))
    if not gaps.is_empty:
        _add_area(ax, shift(gaps), facecolor=COLORS["gaps"], edgecolor=COLORS["gaps"], lw=0.5, alpha=0.9, zorder=3)
        handles.append(Patch(facecolor=COLORS["gaps"], label=lang["legend_gaps"]))
    if outside.area >= 1.0:
        _add_area(ax, shift(outside), facecolor=COLORS["outside"], edgecolor="none", alpha=0.85, zorder=3)
        handles.append(Patch(facecolor=COLORS["outside"], label=lang["legend_outside"]))
    if between.area >= 1.0:  # still outside the field, but on the job's own bunds, not the neighbours'
        _add_area(ax, shift(between), facecolor=COLORS["between"], edgecolor="none", alpha=0.85, zorder=3)
        handles.append(Patch(facecolor=COLORS["between"], label=lang["legend_between"]))
    if in_keepout.area >= 1.0:
        _add_area(ax, shift(in_keepout), facecolor="none", edgecolor="#7b241c", lw=1.2, zorder=4)
        handles.append(Patch(facecolor="none", edgecolor="#7b241c", lw=1.2, label=lang["legend_in_keepout"]))
    if swaths:
        for xy in swaths:
            ax.plot(xy[:, 0] - ox, xy[:, 1] - oy, color=COLORS["swath"], lw=0.7, ls=(0, (4, 2)), zorder=5)
        handles.append(Line2D([], [], color=COLORS["swath"], lw=0.9, ls=(0, (4, 2)), label=lang["legend_swaths"]))
    if not boundary.is_empty:
        _add_area(ax, shift(boundary), facecolor="none", edgecolor=COLORS["field"], lw=1.6, zorder=6)
        handles.insert(0, Line2D([], [], color=COLORS["field"], lw=1.6, label=lang["legend_field"]))
    pad = max(w, h) * 0.04 + 2
    ax.set_xlim(-pad, w + pad)
    ax.set_ylim(-pad, h + pad)
    ax.set_aspect("equal")
    ax.tick_params(labelsize=7)
    ax.set_xlabel(f"{lang['metres']} (UTM {frame.utm_epsg})", fontsize=7)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=7, frameon=False)
    fig.tight_layout()
    return png_data_uri(fig, dpi=90)
