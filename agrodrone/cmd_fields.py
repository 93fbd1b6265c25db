"""`agrodrone fields`: check boundary files before planning, export them as WGS84 GeoJSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from agrodrone.output import write_atomic
from agrodrone.types import sao_option


@click.group("fields")
def fields_group() -> None:
    """Read field boundaries (GeoJSON, KML/KMZ, Shapefile, GeoPackage, WKT)."""


@fields_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--field", "field_id", metavar="ID", help="Only the field with this id.")
@click.option("--json", "as_json", is_flag=True, help='Print one JSON object {"fields": [...]}.')
@sao_option
def check(file: Path, field_id: str | None, as_json: bool, sao: str) -> None:
    """Validate FILE and show each field's area, CRS, UTM frame and repairs."""
    from rich.console import Console
    from rich.table import Table

    import fields  # GDAL and PROJ load only when a command needs them: `--help` stays fast

    loaded = fields.load(file, field_id=field_id)
    rows = [fields.summary(f) for f in loaded]
    if as_json:
        click.echo(json.dumps({"fields": rows}, ensure_ascii=False, indent=2))
        return
    console = Console() if sys.stdout.isatty() else Console(width=160)
    table = Table(title=str(file), title_justify="left")
    unit_m2, unit_word = fields.local_unit(sao)
    for name, justify in [
        ("id", "left"),
        ("name", "left"),
        ("area ha", "right"),
        ("sprayable ha", "right"),
        (f"{unit_word} ({unit_m2:g} m²)", "right"),
        ("crs", "left"),
        ("utm", "left"),
        ("vertices", "right"),
        ("zones", "right"),
        ("warnings", "right"),
    ]:
        table.add_column(name, justify=justify, no_wrap=name != "name")  # type: ignore[arg-type]
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            f"{r['area_ha']:.4f}",
            f"{r['sprayable_ha']:.4f}",
            f"{r['area_ha'] * fields.HA_M2 / unit_m2:.1f}",
            r["crs"],
            f"EPSG:{r['utm_epsg']}",
            str(r["vertices"]),
            str(len(r["zones"])),
            str(len(r["warnings"])),
        )
    console.print(table)
    for r in rows:
        for w in r["warnings"]:
            console.print(f"[yellow]warning[/yellow] {r['id']}: {w}", highlight=False, markup=True)


@fields_group.command("export")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoJSON file to write (WGS84).",
)
@click.option("--field", "field_id", metavar="ID", help="Only the field with this id.")
def export(file: Path, out: Path, field_id: str | None) -> None:
    """Write FILE's fields, sprayable areas and buffered zones as WGS84 GeoJSON."""
    import fields

    loaded = fields.load(file, field_id=field_id)
    text = json.dumps(fields.to_geojson(loaded), ensure_ascii=False, indent=1)
    write_atomic(out, text + "\n")
    click.echo(f"wrote {out}: {len(loaded)} field(s)")
