"""plan.png: the plan drawn for the operator (matplotlib, Agg backend, returns PNG bytes)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    from planner.plan import Plan


def _rings(geom):
    for poly in shapely.get_parts(geom):
        if isinstance(poly, shapely.Polygon) and not poly.is_empty:
            yield np.asarray(poly.exterior.coords), [np.asarray(r.coords) for r in poly.interiors]


# a fleet's drones: one colour each (sorties of one drone alternate between its two shades)
FLEET_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _colour(plan: Plan, so, cmap):
    """A one-drone plan colours each sortie; a fleet plan colours each drone's part, its sorties
    alternately darker and lighter so the breakpoints still show."""
    if not plan.fleet:
        return cmap((so.index - 1) % 10)
    from matplotlib.colors import to_rgb

    base = np.array(to_rgb(FLEET_COLOURS[(so.drone - 1) % len(FLEET_COLOURS)]))
    part = next(d for d in plan.fleet if d.number == so.drone)
    light = part.sorties.index(so.index) % 2 == 1
    return tuple(base + (1.0 - base) * 0.45) if light else tuple(base)


def render_png(plan: Plan, dpi: int = 110) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.patches import Polygon as MplPolygon

    f = plan.field
    x0, y0, x1, y1 = f.boundary.bounds
    ox, oy = x0, y0  # draw in metres from the field's south-west corner
    fig = Figure(figsize=(10, 7.5), dpi=dpi)
    ax = fig.add_axes((0.06, 0.07, 0.62, 0.86))
    for ext, holes in _rings(f.boundary):
        ax.add_patch(MplPolygon(ext - (ox, oy), closed=True, facecolor="#e8f5e0", edgecolor="#2e7d32", lw=1.2))
        for h in holes:
            ax.add_patch(MplPolygon(h - (ox, oy), closed=True, facecolor="#bbdefb", edgecolor="#1565c0", lw=1.0))
    if not f.keepout.is_empty:
        for ext, _holes in _rings(f.keepout):
            ax.add_patch(
                MplPolygon(
                    ext - (ox, oy), closed=True, facecolor="#ffcdd2", edgecolor="#c62828", lw=0.8, hatch="//", alpha=0.8
                )
            )
    if plan.ground is not None:  # the hill: ground contours every few metres under the swaths
        gx, gy = np.meshgrid(np.linspace(x0 - 20, x1 + 20, 120), np.linspace(y0 - 20, y1 + 20, 120))
        gz = plan.ground.terrain.at_local(f.frame, gx.ravel(), gy.ravel()).reshape(gx.shape)
        if np.isfinite(gz).any():
            span = float(np.nanmax(gz) - np.nanmin(gz))
            step = next((k for k in (1, 2, 5, 10, 20, 50) if span / k <= 12), 100)
            levels = np.arange(np.floor(np.nanmin(gz) / step) * step, np.nanmax(gz) + step, step)
            cs = ax.contour(gx - ox, gy - oy, gz, levels=levels, colors="#8d6e63", linewidths=0.5, alpha=0.8)
            ax.clabel(cs, fontsize=6, fmt="%g m")
    cmap = matplotlib.colormaps["tab10"]
    n = len(plan.sorties)
    for so in plan.sorties:
        colour = _colour(plan, so, cmap)
        sw = [l.coords - (ox, oy) for l in so.legs if l.kind == "swath"]
        tr = [l.coords - (ox, oy) for l in so.legs if l.kind == "transit"]
        if sw:
            ax.add_collection(LineCollection(sw, colors=[colour], linewidths=1.6))
        if tr:
            ax.add_collection(LineCollection(tr, colors=["#616161"], linewidths=0.7, linestyles="dashed"))
    last = {d.sorties[-1] for d in plan.fleet} if plan.fleet else {plan.sorties[-1].index}  # no breakpoint after
    ends = [so.end.xy for so in plan.sorties if so.index not in last]
    bps = np.array(ends) if ends else np.zeros((0, 2))
    if len(bps):
        ax.plot(bps[:, 0] - ox, bps[:, 1] - oy, "kx", ms=7, mew=1.8, zorder=5)
    rx, ry = plan.reload_xy - (ox, oy)
    if not plan.fleet:
        ax.plot([rx], [ry], marker="*", color="#ff6f00", ms=16, mec="k", zorder=6)
    for d in plan.fleet:  # each drone's reload point, in its colour and named D1, D2, ...
        dx, dy = d.reload_xy - (ox, oy)
        ax.plot(
            [dx], [dy], marker="*", color=FLEET_COLOURS[(d.number - 1) % len(FLEET_COLOURS)], ms=16, mec="k", zorder=6
        )
        ax.annotate(
            f"D{d.number}", (dx, dy), xytext=(6, 6), textcoords="offset points", fontsize=9, weight="bold", zorder=7
        )
    pad = max(plan.params.swath_m * 2, 5.0)
    allx = [rx, 0, x1 - ox, *(d.reload_xy[0] - ox for d in plan.fleet)]
    ally = [ry, 0, y1 - oy, *(d.reload_xy[1] - oy for d in plan.fleet)]
    ax.set_xlim(min(allx) - pad, max(allx) + pad)
    ax.set_ylim(min(ally) - pad, max(ally) + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(f"m east (UTM EPSG:{f.frame.utm_epsg})")
    ax.set_ylabel("m north")
    ax.set_title(f"{f.name} ({f.id})", fontsize=11)
    handles = [
        Patch(facecolor="#e8f5e0", edgecolor="#2e7d32", label="field"),
        Patch(facecolor="#bbdefb", edgecolor="#1565c0", label="hole"),
        Patch(facecolor="#ffcdd2", edgecolor="#c62828", hatch="//", label="no-spray / obstacle"),
        Line2D([], [], color="#616161", ls="--", lw=0.8, label="transit (pump off)"),
        Line2D([], [], marker="*", color="#ff6f00", mec="k", ms=12, ls="", label="reload"),
        Line2D([], [], marker="x", color="k", ms=7, ls="", label="breakpoint"),
    ]
    if plan.fleet:
        for d in plan.fleet:
            colour = FLEET_COLOURS[(d.number - 1) % len(FLEET_COLOURS)]
            k = len(d.sorties)
            label = f"D{d.number} {d.preset}: {k} sortie{'' if k == 1 else 's'}, {d.job_time_s / 60:.0f} min"
            handles.append(Line2D([], [], color=colour, lw=2, label=label))
    else:
        for so in plan.sorties[:10]:
            handles.append(Line2D([], [], color=cmap((so.index - 1) % 10), lw=2, label=f"sortie {so.index} swaths"))
        if n > 10:
            handles.append(Line2D([], [], color="w", label=f"... {n} sorties"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.70, 0.93), fontsize=8, frameon=False)
    m = plan.metrics()
    text = "\n".join(
        [
            f"area {m['area_ha']:.2f} ha, sprayable {m['sprayable_ha']:.2f} ha ({m['sprayable_sao']:.0f} sào)",
            f"dose {plan.params.dose_l_ha:g} L/ha, swath {plan.params.swath_m:g} m, "
            + f"angle {'/'.join(f'{a:g}' for a in plan.part_angles_deg or [m['angle_deg']])}°",
            f"speed {m['speed_m_s']:g} m/s, flow {m['flow_l_min']:.2f} L/min",
            f"SPRAY_PUMP_RATE {m['pump_rate_pct']:.1f} %",
            f"coverage {m['coverage_pct']:.2f} %, overlap {m['overlap_pct']:.2f} %",
            f"outside {m['outside_pct']:.2f} %, in no-spray {m['no_spray_m2']:.1f} m²",
            f"sorties {m['sorties']}, volume {m['volume_l']:.1f} L",
            f"spray {m['spray_length_m'] / 1000:.2f} km, transit {m['transit_length_m'] / 1000:.2f} km",
            f"flight {m['flight_time_s'] / 60:.0f} min, turns {m['turns']}",
        ]
    )
    if plan.fleet:
        text += f"\n{len(plan.fleet)} drones, job {m['job_time_s'] / 60:.0f} min, reloads {plan.separation_m:g} m apart"
    if plan.sprayer.speed_capped:
        text += "\nspeed lowered: pump too small"
    if plan.ground is not None:
        text += f"\nterrain: {plan.params.height_m:g} m above the ground (contours)"
    fig.text(0.70, 0.07, text, fontsize=8, va="bottom", family="monospace")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
