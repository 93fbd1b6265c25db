"""A fleet job's drones in the cooperative report: who sprayed which part of the field.

A job flown by several drones at once has one record (telemetry/records/fleet.py); the report
shows each drone's part of it (sorties, area, volume, flight time) and the area two drones or
more sprayed, which the job's overlap includes but a single drone's turns do not explain.
Jobs of one drone show nothing here.
"""

from __future__ import annotations

from fields.model import HA_M2
from telemetry.records.fleet import read_drones
from telemetry.reports.html import e, table
from telemetry.reports.i18n import Lang


def drone_name(L: Lang, entry: dict) -> str:
    """`Drone 2 (t30-b)`, or `Drone 2` for a drone flown unnamed."""
    label = L["fleet_drone_n"].format(n=entry["drone"])
    return f"{label} ({entry['drone_id']})" if entry.get("drone_id") else label


def fleet_html(record: dict, L: Lang) -> str:
    """The drones' parts of a fleet job (empty for a single-drone job or a record made before them)."""
    drones = read_drones(record)
    if not drones:
        return ""
    rows = []
    for d in drones:
        planned = d.get("planned_sorties")
        rows.append(
            [
                e(drone_name(L, d)),
                e(d["sysid"] if d.get("sysid") is not None else "—"),
                f"{d['sorties']} / {planned if planned is not None else '—'}",
                L.num(d["area_m2"] / HA_M2, 2),
                L.num(d["volume_l"], 1),
                L.num(d["flight_time_s"] / 60.0, 0),
            ]
        )
    parts = table(
        [
            (e(L["drone"]), False),
            (e(L["fleet_sysid"]), True),
            (e(L["sorties"]), True),
            (e(L["fleet_area"]), True),
            (e(L["fleet_volume"]), True),
            (e(L["fleet_flight_min"]), True),
        ],
        rows,
        table_id=f"fleet-{record['id']}",
        row_keys=[str(d["drone"]) for d in drones],
    )
    overlap = record.get("drone_overlap_m2")
    note = (
        f'<p class="meta" id="fleet-overlap-{e(record["id"])}">{e(L["fleet_overlap"])}: '
        f'<b>{L.num(overlap, 0)} m²</b> <span class="note">{e(L["fleet_overlap_note"])}</span></p>'
    )
    title = L["fleet_title"].format(n=len(drones))
    return f'<div class="fleet" id="fleet-job-{e(record["id"])}"><h4>{e(title)}</h4>{parts}{note}</div>'
