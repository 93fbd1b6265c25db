"""`agrodrone` console script: one click group, one module per subcommand."""

from __future__ import annotations

import os
import sys

import click

from agrodrone import __version__
from agrodrone.i18n import LANGUAGES, activate, choose_language, translate_help

GLOSSARY = (
    "Words: swath = the strip one pass sprays; sortie = one flight from take-off to landing "
    "(one tank); breakpoint = where spraying stopped, where the next sortie resumes; "
    "dose = litres of tank mix per hectare; sào = 360 m² (northern sào)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=GLOSSARY)
@click.version_option(__version__, prog_name="agrodrone")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    expose_value=False,
    is_eager=True,
    help="Language of messages and help (also AGRODRONE_LANG; default: from the locale, else vi).",
)
def cli() -> None:
    """Plan, fly and record drone crop-spraying jobs on ArduPilot."""


def _register() -> None:
    # One import and add_command per subcommand module, in data-flow order.
    from agrodrone.cmd_fields import fields_group

    cli.add_command(fields_group)
    from agrodrone.cmd_plan import plan_command

    cli.add_command(plan_command)
    from agrodrone.cmd_key import key_group

    cli.add_command(key_group)
    from agrodrone.cmd_upload import upload_command

    cli.add_command(upload_command)
    from agrodrone.cmd_sim import sim_command

    cli.add_command(sim_command)
    from agrodrone.cmd_import import import_
    from agrodrone.cmd_log import log
    from agrodrone.cmd_records import records

    cli.add_command(log)
    cli.add_command(import_)
    cli.add_command(records)
    from agrodrone.cmd_report import registry, report

    cli.add_command(report)
    cli.add_command(registry)
    from agrodrone.cmd_province import province_group
    from agrodrone.cmd_sync import sync_command

    cli.add_command(sync_command)
    cli.add_command(province_group)
    from agrodrone.cmd_fly import fly_command

    cli.add_command(fly_command)
    from agrodrone.cmd_demo import demo_command

    cli.add_command(demo_command)


_register()


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> None:
    """Run the command line in the user's language; a user's mistake is one `error:` line
    and exit status 2."""
    restore = activate(choose_language(sys.argv[1:] if argv is None else argv, os.environ))
    translate_help(cli)
    try:
        _run(argv)
    finally:
        restore()


def _run(argv: list[str] | None) -> None:
    from agrodrone.errors import user_errors

    try:
        rv = cli.main(args=argv, prog_name="agrodrone", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        sys.exit(2)
    except user_errors() as exc:
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
