"""`agrodrone sync`: send a cooperative's database to the province's PostgreSQL (telemetry/province/)."""

from __future__ import annotations

import click


@click.command("sync")
@click.option(
    "--db", "db_path", required=True, type=click.Path(dir_okay=False), help="The cooperative's database (SQLite)."
)
@click.option(
    "--to",
    "url",
    required=True,
    metavar="postgresql://USER@HOST/DB",
    help="The province database. The password comes from ~/.pgpass (PGPASSFILE), a service file or "
    "PGPASSWORD, never from the URL; TLS options in the URL (sslmode=verify-full ...) are used "
    "as given.",
)
@click.option(
    "--cooperative",
    "cooperatives",
    multiple=True,
    metavar="ID",
    help="Only this cooperative's chain; repeatable [default: the role's own, or every chain in the file].",
)
@click.option("--raw", is_flag=True, help="Also send the raw telemetry (every logged message).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def sync_command(db_path: str, url: str, cooperatives: tuple[str, ...], raw: bool, quiet: bool) -> None:
    """Send spray records with their jobs, flights and reference data to the province database.

    Each chain is checked before anything is sent and again by the province; a record edited
    or deleted here is refused. Run it again after a cut: it continues where it stopped."""
    from telemetry import open_db
    from telemetry.province import check_url, sync

    check_url(url)  # a bad URL is said before the file is opened
    db = open_db(db_path, create=False)
    try:
        report = sync(
            db,
            url,
            cooperatives=list(cooperatives) or None,
            raw=raw,
            progress=None if quiet else (lambda line: click.echo(line, err=True)),
        )
    finally:
        db.conn.close()
    for line in report.lines():
        click.echo(line)
