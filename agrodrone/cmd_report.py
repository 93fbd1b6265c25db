"""`agrodrone report` (HTML + CSV + JSON for a unit or a cooperative) and `agrodrone registry`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agrodrone.i18n import LANGUAGES, current
from agrodrone.output import write_all
from agrodrone.types import sao_option


@click.command("report")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="telemetry database, or the province's postgresql:// URL",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="folder for the report files")
@click.option(
    "--period",
    default=None,
    metavar="2026-Q4|2026-10|2026",
    help="quarter, month or year [default: every day with records]",
)
@click.option("--from", "date_from", default=None, metavar="DATE", help="first day (YYYY-MM-DD or dd/mm/yyyy)")
@click.option("--to", "date_to", default=None, metavar="DATE", help="last day, included")
@click.option("--unit", default=None, metavar="ID", help="administrative unit [default: the top-level unit]")
@click.option("--cooperative", default=None, metavar="ID", help="a cooperative's spray log instead of a unit report")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=current,
    show_default="the command line's",
    help="language of the report",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME=PCT",
    help="linkage_models=50 (default) or cooperatives=PCT; repeatable",
)
@click.option("--tz", default=None, help="time zone the period's days are in [default: Asia/Ho_Chi_Minh]")
@sao_option
def report(
    db_path: str,
    out_dir: str,
    period: str | None,
    date_from: str | None,
    date_to: str | None,
    unit: str | None,
    cooperative: str | None,
    lang: str,
    targets: tuple[str, ...],
    tz: str | None,
    sao: str,
) -> None:
    """Write report.html (self-contained, opens offline) and the same tables as CSV and JSON."""
    from telemetry import DEFAULT_TZ
    from telemetry.reports import build_report
    from telemetry.reports.indicators import Targets

    goals = Targets.parse(targets)
    db, source = _report_db(db_path)
    try:
        files = build_report(
            db,
            unit=unit,
            cooperative=cooperative,
            period=period,
            date_from=date_from,
            date_to=date_to,
            lang=lang,
            targets=goals,
            tz=tz or DEFAULT_TZ,
            source=source,
            sao=sao,
        )
    finally:
        db.conn.close()
    written = write_all(out_dir, files)
    doc = json.loads(files["report.json"])
    scope = doc.get("unit", {}).get("id") or doc.get("cooperative", {}).get("id")
    click.echo(
        f"{doc['report']} report for {scope}, {doc['period']['from']} to {doc['period']['to']}: "
        f"{', '.join(p.name for p in written)} in {out_dir}"
    )


def _report_db(db_path: str):
    """The database to report on and its name in the report: a SQLite file, or the province
    (telemetry/province/query.py; its row-level security decides what the role sees)."""
    from telemetry.province import is_url

    if is_url(db_path):
        from telemetry.province import open_province

        db = open_province(db_path)
        return db, db.name
    from telemetry import open_db

    return open_db(db_path, create=False), Path(db_path).name


@click.group("registry")
def registry() -> None:
    """Administrative units, unit mappings and cooperatives (CSV or JSON) for the indicators."""


@registry.command("load")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="telemetry database")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def registry_load(db_path: str, files: tuple[str, ...]) -> None:
    """Load units, unit mappings and cooperatives from FILES, all in one transaction."""
    from telemetry.ingest.schema import new_or_nothing
    from telemetry.reports.registry import load_registry

    with new_or_nothing(db_path) as db:  # a bad file leaves no empty database behind
        rep = load_registry(db, list(files))
    click.echo(f"loaded {len(files)} file(s) into {db_path}: {rep.summary()}")


@registry.command("show")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="telemetry database")
@click.option("--json", "as_json", is_flag=True, help="one JSON list of units")
def registry_show(db_path: str, as_json: bool) -> None:
    """The unit tree with the cooperatives registered in each unit."""
    from telemetry import open_db
    from telemetry.reports.registry import unit_tree

    db = open_db(db_path, create=False)
    try:
        nodes = unit_tree(db)
    finally:
        db.conn.close()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {k: v for k, v in n.__dict__.items() if k != "members"}
                    | {"cooperative_ids": [c for c, _ in n.members], "maps_to": list(n.maps_to)}
                    for n in nodes
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not nodes:
        click.echo("no units: load them with `agrodrone registry load`")
    for n in nodes:
        arrow = f"  -> {', '.join(n.maps_to)}" if n.maps_to else ""
        click.echo(f"{'  ' * n.depth}{n.name} [{n.level}] ({n.id}){arrow}")
        for cid, name in n.members:
            click.echo(f"{'  ' * (n.depth + 1)}* {name} ({cid})")
