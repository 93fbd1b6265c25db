"""`agrodrone fly`: fly a plan sortie by sortie, log everything, write the spray record.

It parses the options and wires the library: `missions.fly_job` flies the job,
`telemetry.JobRecorder` logs the link and makes the record; this module shows the
go/no-go list and the progress, asks the operator and turns Ctrl-C into RTL.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from agrodrone.errors import UserError
from agrodrone.types import NUMBER

if TYPE_CHECKING:
    from missions import JobEvents


class ConsoleEvents:
    """The job as the operator sees it on a terminal (or in a log, when not a terminal)."""

    def __init__(self, console, yes: bool) -> None:
        self.console = console
        self.yes = yes

    def message(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def sortie_started(self, sortie: int, last: int, resuming: bool) -> None:
        self.console.rule(f"Sortie {sortie} of {last}" + (" (resuming where spraying stopped)" if resuming else ""))

    def checks(self, sortie: int, checks) -> None:
        _print_checks(self.console, checks)

    def flying(self, sortie: int, last: int, ms):
        return _progress(self.console, sortie, last, ms)

    def sortie_ended(self, result, watch) -> None:
        self.console.print(
            f"sortie {result.sortie}: "
            f"{'complete' if result.complete else 'ended early: ' + result.reason}; "
            f"{watch.litres:.1f} L sprayed so far, battery "
            f"{watch.battery_pct if watch.battery_pct is not None else '?'} %"
        )

    def confirm(self, question: str) -> bool:
        return self.yes or click.confirm(question + ". Continue?", default=True)


@contextmanager
def _ctrl_c_sends_home(console) -> Iterator[threading.Event]:
    """An event set by the first Ctrl-C (the job sends the copter home); a second Ctrl-C
    leaves it to the vehicle. Only the main thread can take signals (tests fly in others)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print("[bold red]Ctrl-C: sending the copter home (RTL); Ctrl-C again to leave it[/]")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_checks(console, checks) -> None:
    from rich.table import Table

    table = Table(title="pre-flight checks", show_header=True)
    table.add_column("check")
    table.add_column("go", justify="center")
    table.add_column("detail")
    for c in checks:
        table.add_row(c.name, "[green]GO[/]" if c.ok else "[bold red]NO-GO[/]", c.detail)
    console.print(table)


@contextmanager
def _progress(console, k: int, n: int, ms) -> Iterator[Callable]:
    """A tick callback for one sortie: a live rich progress bar on a terminal, a status
    line every few seconds otherwise (logs, CI)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    total = max(1, len(ms.swaths))
    bar = Progress(
        TextColumn(f"sortie {k}/{n}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("swaths"),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = bar.add_task("", total=total, info="")
    last_line = [0.0]

    def tick(w) -> None:
        done = sum(1 for s in ms.swaths if w.last_reached >= s.end_seq)
        wind = f"{w.wind_m_s:.1f} m/s" if w.wind_m_s is not None else "?"
        batt = f"{w.battery_pct:.0f} %" if w.battery_pct is not None else "?"
        info = f"{w.mode:<6} {w.sprayed_ha:.2f} ha  {w.litres:.1f} L  battery {batt}  wind {wind}"
        bar.update(task, completed=done, info=info)
        now = time.monotonic()
        if bar.disable and now - last_line[0] >= 2.0:
            last_line[0] = now
            console.print(f"sortie {k}/{n}: swath {done}/{total}  {info}", highlight=False)

    with bar:
        yield tick


def print_record(console, rec: dict) -> None:
    """The spray record's summary, as the operator reads it after landing."""
    console.rule("Spray record")
    console.print(
        f"record {rec['id']} (chain #{rec['chain_seq']}, sha256 {rec['hash'][:12]}…) job {rec['job_id']}\n"
        f"area {rec['area_ha']} ha ({rec['area_sao']} sào), {rec['volume_l']} L, "
        f"achieved dose {rec['achieved_dose_l_ha']} L/ha (target {rec['target_dose_l_ha']}), "
        f"coverage {rec['coverage_pct']} %, gaps {rec['gaps_m2']:.0f} m², {rec['sorties']} sortie(s)",
        highlight=False,
    )


@click.command("fly")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--connect", "url", required=True, metavar="URL", help="tcp:127.0.0.1:5760, udp:..., serial device")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database the flight is logged into",
)
@click.option("--cooperative", default=None, help="[default: the plan field's cooperative]")
@click.option(
    "--drone", default=None, help="the drone's name (kept in the record); its key (`agrodrone key`) signs the link"
)
@click.option("--operator", default=None, help="who flies (name or id)")
@click.option("--product", default=None, help="product trade name")
@click.option("--registration", default=None, help="product registration number")
@click.option("--tank", "tank_l", type=NUMBER, default=None, help="litres loaded per sortie [default: the plan's tank]")
@click.option("--wind-max", default=3.0, type=NUMBER, show_default=True, help="highest wind for take-off, m/s")
@click.option(
    "--battery-min", default=80.0, type=NUMBER, show_default=True, help="lowest battery charge for take-off, %"
)
@click.option("--pump-servo", default=9, show_default=True, type=click.IntRange(1, 32))
@click.option("--enable-fence", is_flag=True, help="also enable the geofence (FENCE_ENABLE=1, action RTL)")
@click.option("--from-sortie", "first_sortie", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--job", "job_id", default=None, help="job id of the spray record")
@click.option(
    "--tlog",
    "tlog_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="raw telemetry log [default: next to the database]",
)
@click.option(
    "--position-timeout",
    default=120.0,
    show_default=True,
    help="seconds to wait for a position estimate after the vehicle boots",
)
@click.option(
    "--link-timeout", default=5.0, show_default=True, help="seconds without a heartbeat before the link counts as lost"
)
@click.option("--yes", is_flag=True, help="do not ask; between sorties refill a simulator automatically")
def fly_command(
    plan_dir: Path,
    url: str,
    db_path: Path,
    cooperative,
    drone,
    operator,
    product,
    registration,
    tank_l,
    wind_max,
    battery_min,
    pump_servo,
    enable_fence,
    first_sortie,
    job_id,
    tlog_path,
    position_timeout,
    link_timeout,
    yes,
) -> int:
    """Fly a plan: pre-flight checks, upload, arm, AUTO, reloads, and the spray record.

    PLAN_DIR is the folder `agrodrone plan` wrote. Ctrl-C sends the copter home (RTL) and
    keeps the log.
    """
    from rich.console import Console

    from missions import BuildOptions, FlightLimits, JobSettings, fly_job
    from missions.keystore import key_for
    from planner import load_plan, load_terrain
    from telemetry import JobRecorder

    if (product is None) != (registration is None):
        raise UserError(_("--product and --registration go together (the record needs both)"))
    console = Console()
    plan = load_plan(plan_dir)
    terrain = load_terrain(plan_dir, plan)  # a terrain plan's DEM: served to the vehicle, measured in the record
    settings = JobSettings(
        terrain=terrain,
        first_sortie=first_sortie,
        tank_l=tank_l,
        rehearsal_crew=yes,
        key=key_for(drone),
        build=BuildOptions(pump_servo=pump_servo, enable_fence=enable_fence),
        limits=FlightLimits(
            wind_max_m_s=wind_max,
            battery_min_pct=battery_min,
            position_timeout_s=position_timeout,
            link_timeout_s=link_timeout,
        ),
    )
    from missions import job_sorties

    job_sorties(plan, settings)  # a broken plan is refused before anything is written or connects
    recorder = JobRecorder(
        db_path, plan, cooperative=cooperative, drone=drone, job_id=job_id, tlog_path=tlog_path, terrain=terrain
    )
    with recorder, _ctrl_c_sends_home(console) as stop:
        events = cast("JobEvents", ConsoleEvents(console, yes))  # has every JobEvents method (duck-typed)
        outcome = fly_job(plan, url, settings, listeners=[recorder.handle], events=events, stop=stop)
    record = (
        recorder.record(
            operator=operator,
            operator_name=operator,
            product=product,
            registration=registration,
            pump_servo=pump_servo,
            notes=outcome.stopped or None,
        )
        if outcome.sorties
        else None
    )
    if record:
        print_record(console, record)
    console.print(f"log: {db_path}" + (f", raw telemetry: {recorder.tlog_path}" if recorder.tlog_path else ""))
    if outcome.stopped:
        click.echo(f"error: {outcome.stopped}", err=True)
        return 2 if outcome.stopped.startswith("no-go") else 1
    return 0
