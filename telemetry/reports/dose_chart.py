"""The dose map of one spray record as a picture: each cell (one swath by about 10 m) coloured by how
far its dose is from the target, so an agronomist sees at a glance where a field got too much
or too little, and by how much."""

from __future__ import annotations

import json

import numpy as np

from fields.frame import LocalFrame, utm_epsg_for
from telemetry.records.dosemap import deviation_pct, read_dose_map
from telemetry.reports.charts import COLORS, png_data_uri
from telemetry.reports.i18n import Lang

SCALE_PCT = 30.0  # the colour scale runs from -30 % (red) to +30 % (blue); beyond, the ends


def dose_map_chart(record: dict, boundary_local=None, frame: LocalFrame | None = None, *, lang: Lang) -> str | None:
    """A PNG data URI, or None when the record has no dose map (made before schema v4)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure

    text = record.get("dose_map_geojson")
    if not text:
        return None
    features = json.loads(text)["features"]
    if not features:
        return None
    if frame is None:
        geom = features[0]["geometry"]
        lon, lat = (geom["coordinates"][0] if geom["type"] == "Polygon" else geom["coordinates"])[0]
        frame = LocalFrame(utm_epsg_for(lon, lat))
    local, doses = read_dose_map(text, frame)
    target = float(record.get("target_dose_l_ha") or 0.0)
    devs = deviation_pct(doses, target) if target > 0 else np.zeros(len(doses))
    allpts = np.vstack(local)
    ox, oy = allpts.min(axis=0)
    w, h = np.ptp(allpts, axis=0)
    fig = Figure(figsize=(7.5, min(max(7.5 * (h / w if w > 0 else 1.0), 3.5), 9.0) + 1.0))
    ax = fig.subplots()
    cells = PolyCollection([p - (ox, oy) for p in local], cmap="RdBu", edgecolors="none")
    cells.set_array(np.clip(devs, -SCALE_PCT, SCALE_PCT))
    cells.set_clim(-SCALE_PCT, SCALE_PCT)
    ax.add_collection(cells)
    if boundary_local is not None and not boundary_local.is_empty:
        import shapely

        for poly in shapely.get_parts(boundary_local):
            x, y = np.asarray(poly.exterior.coords).T
            ax.plot(x - ox, y - oy, color=COLORS["field"], lw=1.0)
    ax.set_xlim(-2, w + 2)
    ax.set_ylim(-2, h + 2)
    ax.set_aspect("equal")
    ax.set_xlabel("m")
    bar = fig.colorbar(cells, ax=ax, shrink=0.8, extend="both")
    bar.set_label(lang["dose_map_scale"])
    low, high = int(record.get("dose_cells_low") or 0), int(record.get("dose_cells_high") or 0)
    ax.set_title(lang["dose_map_title"].format(n=len(local), low=low, high=high), fontsize=10)
    return png_data_uri(fig)
