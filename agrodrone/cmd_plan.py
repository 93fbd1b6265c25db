"""`agrodrone plan`: a field file in, plan.json + plan.geojson + plan.png out."""

from __future__ import annotations

import json
import re
import time
from gettext import gettext as _
from pathlib import Path
from typing import Any

import click

from agrodrone import __version__
from agrodrone.output import write_all
from agrodrone.types import NUMBER, sao_option


def _reload(value: str | None) -> tuple[float, float] | None:
    """`LAT,LON` -> (lon, lat)."""
    from planner import PlanError

    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise PlanError(f"--reload {value!r} is not LAT,LON (e.g. 21.7046,105.7312)") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PlanError(f"--reload {value!r} is not LAT,LON: latitude must be within ±90 and longitude within ±180")
    return lon, lat


def _presets(value: str | None, preset: str | None) -> list[str | None]:
    """`--drones N` -> N times the --drone preset; `--drones A,B,...` -> those presets, in order."""
    from planner import MAX_DRONES, PlanError  # checked here too, before any field is read

    if value is None:
        return [preset]
    text = value.strip()
    if re.fullmatch(r"[+-]?\d+", text):
        n = int(text)
        if not 1 <= n <= MAX_DRONES:
            raise PlanError(_("--drones {value}: give 1 to {most} drones").format(value=value, most=MAX_DRONES))
        return [preset] * n
    names = [p.strip() for p in text.split(",")]
    if not all(names):
        raise PlanError(
            _("--drones {value!r} is neither a number of drones nor a list of presets (PRESET,PRESET,...)").format(
                value=value
            )
        )
    if preset is not None:
        raise PlanError(_("give the drone presets either with --drone or in --drones, not both"))
    if len(names) > MAX_DRONES:
        raise PlanError(_("--drones names {n} drones: give 1 to {most}").format(n=len(names), most=MAX_DRONES))
    return list(names)


def _fleet_json(doc: Any) -> list[dict[str, Any]]:
    """Each drone's part as plan.json's fleet section says it, without what rebuilds its plan."""
    skip = ("spec", "params", "sprayer")
    return [{k: v for k, v in d.to_dict().items() if k not in skip} for d in doc.fleet.drones] if doc.fleet else []


def _auto_or(value: str | None, option: str, convert: type, what: str):
    """An `N|auto` option: None for auto (the planner chooses), else the number."""
    from planner import PlanError

    if value is None or value.strip().lower() == "auto":
        return None
    try:
        return convert(value)
    except ValueError:
        raise PlanError(f"{option} {value!r} is neither {what} nor 'auto'") from None


def _pick_field(path: str, field_id: str | None):
    """The one field to plan; `fields.load` has already refused a file without fields."""
    import fields
    from planner import PlanError

    found = fields.load(path, field_id=field_id)
    if len(found) > 1:
        ids = ", ".join(f.id for f in found)
        raise PlanError(f"{path} holds {len(found)} fields ({ids}); choose one with --field ID")
    return found[0]


def _progress(what: str):
    """A callback(done, total) printing `what done/total` on stderr every 2 s of a long step."""
    last = [time.monotonic()]

    def tick(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 2.0 or (done == total and now - last[0] >= 0 and total >= 50):
            last[0] = now
            click.echo(f"{what} {done}/{total}", err=True)

    return tick


def _write(out_dir: Path, files: dict[str, str | bytes]) -> None:
    """Write the plan's files together, then drop mission files of an older plan's later
    sorties (or other drones): a stale mission-s7.plan next to a 3-sortie plan would fly the wrong job."""
    write_all(out_dir, files)  # an unwritable folder is one `error:` line (agrodrone.output)
    for old in out_dir.glob("mission*.*"):
        if re.fullmatch(r"mission(-d\d+)?(-s\d+)?\.(plan|waypoints)", old.name) and old.name not in files:
            old.unlink(missing_ok=True)


def _summary(plan: Any, out_dir: Path, sao: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from fields import HA_M2, local_unit

    m = plan.metrics()
    console = Console()
    t = Table(title=f"plan for {plan.field.name} ({m['field_id']})", show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    rows = [
        (
            "area",
            f"{m['area_ha']:.2f} ha, sprayable {m['sprayable_ha']:.2f} ha "
            f"({m['sprayable_ha'] * HA_M2 / local_unit(sao)[0]:.0f} {local_unit(sao)[1]} "
            f"of {local_unit(sao)[0]:g} m²)",
        ),
        ("drone", f"{plan.params.drone_name} ({plan.params.preset}), tank {plan.params.tank_l:g} L")
        if not plan.fleet
        else (
            _("drones"),
            _("{n}, each in its own part of the field, reload points at least {sep:g} m apart").format(
                n=len(plan.fleet), sep=plan.separation_m
            ),
        ),
        (
            "dose",
            f"{plan.params.dose_l_ha:g} L/ha on a {plan.params.swath_m:g} m swath, lines "
            f"{plan.params.line_spacing_m:g} m apart, {m['volume_l']:.1f} L in all "
            f"({m['dose_dev_pct']:+.1f} % over what the plan sprays)",
        ),
        (
            "speed / flow",
            f"{m['speed_m_s']:g} m/s, {m['flow_l_min']:.2f} L/min, SPRAY_PUMP_RATE {m['pump_rate_pct']:.1f} %",
        ),
        (
            "angle",
            f"{m['angle_deg']:g}° ({plan.angle_mode})"
            if not plan.part_angles_deg
            else _("{angles} ({mode}): each part of the field at its own heading").format(
                angles=", ".join(f"{a:g}°" for a in plan.part_angles_deg), mode=plan.angle_mode
            ),
        ),
        ("edge passes", f"{plan.edge_passes} ({plan.edge_mode})"),
        (
            "coverage",
            f"{m['coverage_pct']:.2f} %  overlap {m['overlap_pct']:.2f} %  outside {m['outside_pct']:.2f} %  "
            f"no-spray {m['no_spray_m2']:.1f} m²",
        ),
        (
            "path",
            f"spray {m['spray_length_m']:.0f} m, transit {m['transit_length_m']:.0f} m, {m['turns']} turns, "
            f"ratio {m['path_ratio']:.3f}",
        ),
        (
            "sorties",
            f"{m['sorties']}, flight {m['flight_time_s'] / 60:.1f} min, "
            f"job {m['job_time_s'] / 60:.1f} min with reloads",
        )
        if not plan.fleet
        else (
            _("sorties"),
            _(
                "{n} in all, flight {flight:.1f} min of all drones, "
                "job {job:.1f} min with reloads (the drones fly at once)"
            ).format(n=m["sorties"], flight=m["flight_time_s"] / 60, job=m["job_time_s"] / 60),
        ),
    ]
    for d in plan.fleet:  # one line per drone
        rows.append(
            (
                _("drone {drone}").format(drone=d.number),
                _(
                    "{preset}, tank {tank:g} L: {n} sorties, {area:.2f} ha, {volume:.1f} L, flight {flight:.1f} min, "
                    "job {job:.1f} min with reloads"
                ).format(
                    preset=d.preset,
                    tank=d.params.tank_l,
                    n=len(d.sorties),
                    area=d.area_ha,
                    volume=d.volume_l,
                    flight=d.flight_time_s / 60,
                    job=d.job_time_s / 60,
                ),
            )
        )
    terrain = plan.to_document().terrain
    if terrain is not None:
        rows.append(
            (
                "terrain",
                f"{terrain.source}: ground {terrain.min_elev_m:g}-{terrain.max_elev_m:g} m, "
                f"swaths up to {terrain.max_slope_pct:g} % steep, flown {plan.params.height_m:g} m above it",
            )
        )
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    for w in plan.warnings:
        console.print(f"[yellow]note:[/yellow] {w}")
    console.print(f"wrote plan.json, plan.geojson, plan.png and the mission files to {out_dir}")


@click.command("plan")
@click.argument("field_file", type=click.Path(dir_okay=False))
@click.option("--field", "field_id", metavar="ID", help="Field to plan when the file holds several.")
@click.option("--drone", "preset", metavar="PRESET", help="Drone preset (see planner/drones.json).")
@click.option("--dose", type=NUMBER, metavar="L_HA", help="Application rate of tank mix, L/ha.")
@click.option("--swath", type=NUMBER, metavar="M", help="Effective spray width, m.")
@click.option(
    "--spacing",
    type=NUMBER,
    metavar="M",
    help="Distance between swath lines, m; the flow is set for it (default: the swath less 0.05 m, "
    "so that the drone's tracking leaves no unsprayed seams).",
)
@click.option("--speed", type=NUMBER, metavar="M_S", help="Spray ground speed, m/s.")
@click.option("--height", type=NUMBER, metavar="M", help="Spray height above the crop, m (above home without --dem).")
@click.option(
    "--dem",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Ground heights (GeoTIFF or any raster GDAL reads, any CRS): follow the terrain at --height.",
)
@click.option("--tank", type=NUMBER, metavar="L", help="Tank volume, L.")
@click.option(
    "--angle",
    metavar="DEG|auto",
    default="auto",
    show_default=True,
    help="Swath heading, degrees clockwise from grid north, or auto.",
)
@click.option(
    "--edge-passes",
    metavar="N|auto",
    default="auto",
    show_default=True,
    help="Pump-on laps along the field edge and round holes and buffers; auto weighs 0 and 1.",
)
@click.option(
    "--reload",
    "reload_",
    metavar="LAT,LON",
    multiple=True,
    help="Take-off / refill point (default: field edge); with --drones, once for each drone in order "
    "(the drones not given one get a point on the edge of their own part).",
)
@click.option(
    "--drones",
    metavar="N|PRESET,PRESET,...",
    help="Several drones on one job: N drones of the --drone preset, or a mixed fleet by preset. "
    "Each sprays its own part of the field, the parts chosen so all finish at about the same time.",
)
@click.option(
    "--separation",
    type=NUMBER,
    metavar="M",
    default=15.0,
    show_default=True,
    help="With --drones: reload points at least this far apart (the flight holds drones closer than this).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder for plan.json, plan.geojson and plan.png.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@sao_option
def plan_command(
    field_file,
    field_id,
    preset,
    dose,
    swath,
    spacing,
    speed,
    height,
    tank,
    angle,
    edge_passes,
    reload_,
    drones,
    separation,
    dem,
    out_dir,
    as_json,
    sao="bac",
) -> None:
    """Plan the spray swaths, sorties and dose for FIELD_FILE."""
    import planner
    from fields.dem_files import load_dem
    from missions import plan_folder

    names = _presets(drones, preset)
    reloads = [_reload(r) for r in reload_ or ()]
    if len(reloads) > len(names):
        raise planner.PlanError(
            _("{n} --reload points for {m} drone(s): give at most one for each drone").format(
                n=len(reloads), m=len(names)
            )
        )
    angle_deg = _auto_or(angle, "--angle", float, "degrees")
    passes = _auto_or(edge_passes, "--edge-passes", int, "a whole number")
    crew = [
        planner.params_for(
            name,
            dose_l_ha=dose,
            swath_m=swath,
            spacing_m=spacing,
            speed_m_s=speed,
            height_m=height,
            tank_l=tank,
            angle_deg=angle_deg,
            edge_passes=passes,
            reload=reloads[k] if k < len(reloads) else None,
        )
        for k, name in enumerate(names)
    ]
    params = crew[0]
    field = _pick_field(field_file, field_id)
    terrain = load_dem(dem) if dem else None
    started = time.perf_counter()
    result = planner.plan(field, params, terrain, fleet=crew if len(crew) > 1 else (), separation_m=separation)
    result.plan_ms = (time.perf_counter() - started) * 1000.0
    _write(
        Path(out_dir),
        plan_folder(result, created_by=f"agrodrone {__version__}", on_sortie=_progress("mission files, sortie")),
    )
    total_ms = (time.perf_counter() - started) * 1000.0
    if as_json:
        summary = {**result.metrics(), "total_ms": round(total_ms, 1)}
        if result.fleet:
            summary["fleet"] = _fleet_json(result.to_document())
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        _summary(result, Path(out_dir), sao)
        click.echo(f"planned in {result.plan_ms / 1000:.1f} s, {total_ms / 1000:.1f} s with the files")
