"""`agrodrone demo`: the operator's whole job on the bundled samples, in a couple of minutes.

Each step runs the same code as its own subcommand (fields check, plan, sim, fly, registry
load, report), so the demo is also a smoke test of the real workflow.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import click

from agrodrone.i18n import LANGUAGES, current
from agrodrone.types import NUMBER


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it (`--help` stays fast)."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


SAMPLE_FIELD = _package_dir("fields") / "samples" / "co-lung-rice-block.geojson"
SAMPLE_REGISTRY = _package_dir("telemetry") / "samples" / "registry"


@click.command("demo")
@click.option(
    "--out", "out_dir", default="demo-out", show_default=True, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--field",
    "field_file",
    default=str(SAMPLE_FIELD),
    show_default=False,
    type=click.Path(dir_okay=False, path_type=Path),
    help="field file [default: the Co Lung rice block]",
)
@click.option("--drone", default="spray-30l", show_default=True, help="drone preset")
@click.option("--dose", default=15.0, type=NUMBER, show_default=True, help="L/ha of tank mix")
@click.option("--speedup", default=40.0, show_default=True, help="simulated seconds per wall second")
@click.option("--cooperative", default=None, help="cooperative id of the record [default: the field's]")
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=current,
    show_default="the command line's",
    help="language of the report",
)
@click.pass_context
def demo_command(
    ctx: click.Context,
    out_dir: Path,
    field_file: Path,
    drone: str,
    dose: float,
    speedup: float,
    cooperative: str | None,
    lang: str,
) -> int:
    """Check a sample field, plan it, fly every sortie in the simulator, record and report."""
    from rich.console import Console

    from agrodrone.cmd_fields import check
    from agrodrone.cmd_fly import fly_command
    from agrodrone.cmd_plan import plan_command
    from agrodrone.cmd_report import registry_load, report
    from planner import load_plan
    from sim import plan_settings, start_sim
    from telemetry.ingest.schema import discard_db

    console = Console()
    t0 = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    plan_dir, report_dir = out_dir / "plan", out_dir / "report"
    db_path = out_dir / "agrodrone.db"
    discard_db(db_path)  # each demo starts from an empty log
    for old_tlog in out_dir.glob("*.tlog"):
        old_tlog.unlink()

    console.rule("1. The field")
    ctx.invoke(check, file=field_file)
    console.rule("2. The plan")
    ctx.invoke(plan_command, field_file=str(field_file), preset=drone, dose=dose, out_dir=plan_dir)
    plan = load_plan(plan_dir)
    console.rule(f"3. Flying it in the simulator (x{speedup:g})")
    # the plan's drone: its tank, pump, battery and mass, as `agrodrone sim --plan` sets them up, so
    # every planned sortie lands with its reserve; tests/test_fly.py shows the failsafe and the resume
    with start_sim(
        **plan_settings(plan),
        speedup=speedup,
        boot_delay_s=10.0,
        max_wall_hz=200.0,
        truth_path=str(out_dir / "truth.jsonl"),
    ) as sim:
        status = ctx.invoke(
            fly_command,
            plan_dir=plan_dir,
            urls=(sim.url,),
            db_path=db_path,
            yes=True,
            cooperative=cooperative,
            operator="demo operator",
            product="Demo fungicide 25SC",
            registration="DEMO-0001",
        )
        truth = sim.truth()
    if status != 0:
        raise click.ClickException("the demo flight did not finish (see the message above)")
    console.print(f"simulator truth: {truth.sprayed_l:.1f} L sprayed", highlight=False)
    console.rule("4. The extension officer's report")
    ctx.invoke(registry_load, db_path=str(db_path), files=tuple(str(p) for p in sorted(SAMPLE_REGISTRY.glob("*.csv"))))
    ctx.invoke(
        report,
        db_path=str(db_path),
        out_dir=str(report_dir),
        cooperative=cooperative or plan.field.prop("cooperative"),
        lang=lang,
    )
    console.rule(f"Done in {time.monotonic() - t0:.0f} s")
    for label, path in (
        ("plan picture", plan_dir / "plan.png"),
        ("mission files", plan_dir),
        ("database", db_path),
        ("raw telemetry (tlog)", next(out_dir.glob("*.tlog"), None)),
        ("report", report_dir / "report.html"),
    ):
        console.print(f"{label:>22}: {path}", highlight=False)
    return 0
