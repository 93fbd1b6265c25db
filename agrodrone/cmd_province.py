"""`agrodrone province`: the province database's schema and roles, for its administrator."""

from __future__ import annotations

from gettext import gettext as _

import click

_URL_HELP = "The province database (postgresql://...); the password from ~/.pgpass, a service file or PGPASSWORD."


def _password(role: str, asked: bool) -> str | None:
    if not asked:
        return None
    return click.prompt(_("password for {role}").format(role=role), hide_input=True, confirmation_prompt=True)


@click.group("province")
def province_group() -> None:
    """The province database: schema, cooperative and officer roles."""


@province_group.command("init")
@click.option("--db", "url", required=True, metavar="URL", help=_URL_HELP)
@click.option("--no-postgis", is_flag=True, help="Keep geometry as GeoJSON text even where PostGIS is available.")
def init_command(url: str, no_postgis: bool) -> None:
    """Create or migrate the province schema, its group roles and row-level security."""
    from telemetry.province import init_province, label

    state = init_province(url, postgis=False if no_postgis else None)
    said = _("created") if state.created else _("already current")
    click.echo(
        _("province schema version {v} in {db}: {said}; geometry as {geo}").format(
            v=state.version, db=label(url), said=said, geo=state.geometry
        )
    )


@province_group.command("cooperative")
@click.argument("role")
@click.option("--db", "url", required=True, metavar="URL", help=_URL_HELP)
@click.option("--cooperative", required=True, metavar="ID", help="The cooperative this role syncs and reads.")
@click.option("--password-prompt", "ask", is_flag=True, help="Ask for the role's new password (never an argument).")
def cooperative_command(role: str, url: str, cooperative: str, ask: bool) -> None:
    """Let ROLE (a login role, created if missing) sync and read one cooperative's rows."""
    from telemetry.province import add_member

    created = add_member(url, role, cooperative=cooperative, password=_password(role, ask))
    click.echo(
        _("role {role} ({state}) syncs and reads cooperative {coop}").format(
            role=role, state=_("created") if created else _("existing"), coop=cooperative
        )
    )


@province_group.command("officer")
@click.argument("role")
@click.option("--db", "url", required=True, metavar="URL", help=_URL_HELP)
@click.option("--unit", required=True, metavar="ID", help="The administrative unit whose cooperatives ROLE reads.")
@click.option("--password-prompt", "ask", is_flag=True, help="Ask for the role's new password (never an argument).")
def officer_command(role: str, url: str, unit: str, ask: bool) -> None:
    """Let ROLE (an extension officer's login role) read every cooperative in a unit."""
    from telemetry.province import add_member

    created = add_member(url, role, unit=unit, password=_password(role, ask))
    click.echo(
        _("role {role} ({state}) reads the cooperatives of unit {unit}").format(
            role=role, state=_("created") if created else _("existing"), unit=unit
        )
    )


@province_group.command("roles")
@click.option("--db", "url", required=True, metavar="URL", help=_URL_HELP)
def roles_command(url: str) -> None:
    """The cooperative and officer roles."""
    from telemetry.province import members

    rows = members(url)
    if not rows:
        click.echo(_("no cooperative or officer role yet"))
    for role, kind, what in rows:
        click.echo(f"{role}\t{_('cooperative') if kind == 'cooperative' else _('officer')}\t{what}")
