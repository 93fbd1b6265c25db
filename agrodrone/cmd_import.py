"""`agrodrone import`: load .tlog files (MAVProxy, QGroundControl, Mission Planner, ours) into SQLite."""

from __future__ import annotations

import json

import click


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--db", "db_path", required=True, type=click.Path(dir_okay=False), help="SQLite database (created if new)"
)
@click.option("--cooperative", default=None, help="cooperative id the flights belong to")
@click.option("--drone", default=None, help="drone id that flew these logs")
@click.option("--json", "as_json", is_flag=True, help="print the import reports as JSON")
def import_(files: tuple[str, ...], db_path: str, cooperative: str | None, drone: str | None, as_json: bool) -> None:
    """Import tlogs; corrupt bytes are skipped and counted, a repeated file adds nothing."""
    from dataclasses import asdict

    from telemetry import import_tlog
    from telemetry.ingest.schema import new_or_nothing

    with new_or_nothing(db_path) as db:  # a failed import into a new database leaves none behind
        reports = [import_tlog(f, db, cooperative=cooperative, drone=drone) for f in files]
    if as_json:
        click.echo(json.dumps([asdict(r) for r in reports], indent=1))
        return
    for r in reports:
        click.echo(r.summary())
        if r.skipped_bytes:
            click.echo(f"warning: {r.path}: {r.skipped_bytes} corrupt bytes skipped ({r.bad_crc} bad CRC)", err=True)
