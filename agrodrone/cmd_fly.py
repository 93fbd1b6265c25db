"""`agrodrone fly`: fly a plan sortie by sortie, log everything, write the spray record.

Wiring only: missions.flight does the go/no-go checks and the flying, telemetry records
the same link and makes the record; this module asks the operator, shows progress and
prints the summary.
"""

from __future__ import annotations

from gettext import gettext as _

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from agrodrone.types import NUMBER

from agrodrone.errors import UserError
from agrodrone.planfile import load_plan

MAX_RESUMES = 3  # a sortie cut short this often (failsafe after failsafe) ends the job


@dataclass
class FlyOptions:
    """Everything `agrodrone fly` was asked, for the CLI and for `agrodrone demo`."""

    plan_dir: Path
    url: str
    db_path: Path
    cooperative: str | None = None
    operator: str | None = None
    product: str | None = None
    registration: str | None = None
    tank_l: float | None = None
    wind_max_m_s: float = 3.0
    battery_min_pct: float = 80.0
    pump_servo: int = 9
    enable_fence: bool = False
    first_sortie: int = 1
    yes: bool = False
    timeout_s: float = 30.0
    position_timeout_s: float = 120.0
    link_timeout_s: float = 5.0
    job_id: str | None = None
    tlog_path: Path | None = None


@dataclass
class FlyOutcome:
    """What `fly` did: sorties flown, whether the job is finished, and the record."""

    sorties: list[Any] = field(default_factory=list)
    finished: bool = False
    stopped: str = ""
    record: dict | None = None
    tlog_path: Path | None = None


def _ground_crew(vehicle, sortie_volume_l: float, ask: Callable[[str], None], yes: bool) -> None:
    """Refill and battery swap between sorties. On a simulator (it has SIM_SPEEDUP) `--yes`
    plays the ground crew: MAV_CMD_BATTERY_RESET fits a charged battery, as on ArduPilot
    SITL, and the embedded simulator's SIM_SPR_FILL refills its tank. A real drone's
    operator is always asked: resetting a real battery monitor would hide a flat pack."""
    from missions import MissionError
    from missions.dialect import mavlink

    if yes and _is_simulator(vehicle):
        vehicle.command(mavlink.MAV_CMD_BATTERY_RESET, 1, 100)
        try:
            vehicle.get_param("SIM_SPR_FILL")
        except MissionError:  # SITL's sprayer simulation has no tank to refill
            return
        vehicle.set_params({"SIM_SPR_FILL": 1.0})
        return
    ask(f"Refill the tank ({sortie_volume_l:.1f} L for the next sortie) and fit a charged battery")


def _is_simulator(vehicle) -> bool:
    from missions import MissionError

    try:
        vehicle.get_param("SIM_SPEEDUP")
    except MissionError:
        return False
    return True


def fly_plan(opts: FlyOptions, console=None, ask: Callable[[str], None] | None = None) -> FlyOutcome:
    """Fly every sortie of the plan from `opts.first_sortie`, logging into `opts.db_path`."""
    from rich.console import Console

    from missions import BuildOptions, MissionError, Vehicle, build_mission, build_missions, sortie_numbers
    from missions.flight import FlightLimits, LinkKeeper, Watch, fly_sortie, preflight
    from missions.plan_input import need, number
    from planner import resume_plan
    from telemetry import Recorder, create_record, list_flights, open_db, rebuild_flights

    console = console or Console()
    plan = load_plan(opts.plan_dir)
    numbers = sortie_numbers(plan)
    if opts.first_sortie not in numbers:
        raise UserError(_("--from-sortie {k}: the plan has sorties {first}..{last}").format(
            k=opts.first_sortie, first=numbers[0], last=numbers[-1]))
    numbers = [n for n in numbers if n >= opts.first_sortie]
    tank_l = opts.tank_l if opts.tank_l is not None else plan["params"].get("tank_l")
    limits = FlightLimits(wind_max_m_s=opts.wind_max_m_s, battery_min_pct=opts.battery_min_pct,
                          position_timeout_s=opts.position_timeout_s, link_timeout_s=opts.link_timeout_s)
    if ask is None:
        def ask(message: str) -> None:
            if opts.yes:
                return
            if not click.confirm(message + ". Continue?", default=True):
                raise click.exceptions.Abort()

    # everything the record needs is checked before the first take-off, not after the job
    cooperative = opts.cooperative or plan["field"]["properties"].get("cooperative")
    if not cooperative:
        raise UserError(_("no cooperative for the spray record: give --cooperative ID "
                          "(or name it in the field file's `cooperative` property)"))
    if opts.job_id is not None and opts.db_path.exists():
        from telemetry import open_db

        if open_db(opts.db_path).execute("SELECT 1 FROM jobs WHERE id = ?", [opts.job_id]).fetchone():
            raise UserError(_("--job {job}: that job already has its spray record in {db}").format(
                job=opts.job_id, db=opts.db_path))
    options = BuildOptions(pump_servo=opts.pump_servo, enable_fence=opts.enable_fence)
    list(build_missions(plan, options, numbers))  # a broken plan is refused before anything connects
    watch = Watch(pump_servo=opts.pump_servo,
                  pump_max_l_min=number(need(plan, "sprayer", "plan"), "pump_max_l_min", "sprayer"),
                  swath_m=number(plan["params"], "swath_m", "params"))
    started_us = int(time.time() * 1e6)
    outcome = FlyOutcome()
    stop = threading.Event()
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None

    def on_sigint(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        console.print("[bold red]Ctrl-C: sending the copter home (RTL); Ctrl-C again to leave it[/]")

    vehicle = Vehicle.connect(opts.url, timeout=opts.timeout_s, on_wait=console.print)
    recorder = Recorder(opts.db_path, tlog_path=opts.tlog_path, cooperative=cooperative)
    outcome.tlog_path = recorder.tlog_path
    link = LinkKeeper(vehicle, opts.url, [recorder.handle, watch])
    if previous is not None:
        signal.signal(signal.SIGINT, on_sigint)
    flying = plan  # the plan being flown: a resumed copy after a sortie was cut short
    retries = 0
    queue = list(numbers)
    try:
        try:
            _request_streams(vehicle)
            while queue and not stop.is_set():
                k = queue[0]
                ms = build_mission(flying, k, options)
                volume = _sortie_volume(flying, k)
                console.rule(f"Sortie {k} of {numbers[-1]}" + (" (resuming where spraying stopped)" if retries else ""))
                checks = preflight(link.vehicle, watch, ms, tank_l=tank_l, sortie_volume_l=volume, limits=limits)
                _print_checks(console, checks)
                failed = [c for c in checks if not c.ok]
                if failed:
                    outcome.stopped = "no-go: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
                    break
                ask(f"Sortie {k}: go for take-off")
                with _progress(console, k, numbers[-1], ms) as tick:
                    result = fly_sortie(link, watch, ms, stop=stop, limits=limits, on_tick=tick)
                outcome.sorties.append(result)
                console.print(f"sortie {k}: {'complete' if result.complete else 'ended early: ' + result.reason}; "
                              f"{watch.litres:.1f} L sprayed so far, battery "
                              f"{watch.battery_pct if watch.battery_pct is not None else '?'} %")
                if stop.is_set():
                    outcome.stopped = f"stopped by the operator during sortie {k}"
                    break
                if result.link_lost and not result.complete:
                    outcome.stopped = (f"the link was lost during sortie {k} and the sortie did not finish. "
                                       "Not re-arming on our own: check the copter, then run again with "
                                       f"--from-sortie {k}")
                    break
                if result.complete or result.resume_leg is None:  # nothing left to spray in it
                    queue.pop(0)
                    flying, retries = plan, 0
                else:
                    retries += 1
                    if retries > MAX_RESUMES:
                        outcome.stopped = f"sortie {k} was cut short {retries} times: {result.reason}"
                        break
                    flying = resume_plan(flying, k, result.resume_leg, result.breakpoint)
                if queue:
                    _ground_crew(link.vehicle, _sortie_volume(flying, queue[0]), ask, opts.yes)
        except (MissionError, click.exceptions.Abort) as exc:
            # what was flown before this still gets its record below
            outcome.stopped = str(exc) or "aborted by the operator"
        outcome.finished = not queue and not outcome.stopped
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        recorder.close()
        link.vehicle.close()
    if not outcome.sorties:
        return outcome
    db = open_db(opts.db_path)
    rebuild_flights(db)
    flights = [f.id for f in list_flights(db, unassigned=True) if f.closed and f.start_us >= started_us]
    if flights:
        outcome.record = create_record(
            db, plan, job_id=opts.job_id, flight_ids=flights, cooperative=cooperative,
            operator=opts.operator, operator_name=opts.operator, product=opts.product,
            registration=opts.registration, pump_servo=opts.pump_servo,
            notes=outcome.stopped or None)
    return outcome


def _sortie_volume(plan: dict, k: int) -> float:
    return float(next(s for s in plan["sorties"] if s["index"] == k)["volume_l"])


def _request_streams(vehicle) -> None:
    """Ask for the telemetry the record needs; an autopilot that refuses keeps its defaults."""
    from missions import MissionError

    for name, hz in (("GLOBAL_POSITION_INT", 5), ("SERVO_OUTPUT_RAW", 5), ("GPS_RAW_INT", 2),
                     ("SYS_STATUS", 1), ("BATTERY_STATUS", 1), ("WIND", 1), ("VFR_HUD", 2),
                     ("MISSION_CURRENT", 2), ("ATTITUDE", 2), ("HOME_POSITION", 0.2)):
        try:
            vehicle.set_message_interval(name, hz)
        except MissionError:
            pass


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
    bar = Progress(TextColumn(f"sortie {k}/{n}"), BarColumn(), MofNCompleteColumn(), TextColumn("swaths"),
                   TextColumn("{task.fields[info]}"), console=console, transient=True,
                   disable=not console.is_terminal)
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
        highlight=False)


@click.command("fly")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--connect", "url", required=True, metavar="URL", help="tcp:127.0.0.1:5760, udp:..., serial device")
@click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite database the flight is logged into")
@click.option("--cooperative", default=None, help="[default: the plan field's cooperative]")
@click.option("--operator", default=None, help="who flies (name or id)")
@click.option("--product", default=None, help="product trade name")
@click.option("--registration", default=None, help="product registration number")
@click.option("--tank", "tank_l", type=NUMBER, default=None, help="litres loaded per sortie [default: the plan's tank]")
@click.option("--wind-max", default=3.0, type=NUMBER, show_default=True, help="highest wind for take-off, m/s")
@click.option("--battery-min", default=80.0, type=NUMBER, show_default=True, help="lowest battery charge for take-off, %")
@click.option("--pump-servo", default=9, show_default=True, type=click.IntRange(1, 32))
@click.option("--enable-fence", is_flag=True, help="also enable the geofence (FENCE_ENABLE=1, action RTL)")
@click.option("--from-sortie", "first_sortie", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--job", "job_id", default=None, help="job id of the spray record")
@click.option("--tlog", "tlog_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="raw telemetry log [default: next to the database]")
@click.option("--position-timeout", default=120.0, show_default=True,
              help="seconds to wait for a position estimate after the vehicle boots")
@click.option("--link-timeout", default=5.0, show_default=True,
              help="seconds without a heartbeat before the link counts as lost")
@click.option("--yes", is_flag=True, help="do not ask; between sorties refill a simulator automatically")
def fly_command(plan_dir: Path, url: str, db_path: Path, cooperative, operator, product, registration, tank_l,
                wind_max, battery_min, pump_servo, enable_fence, first_sortie, job_id, tlog_path,
                position_timeout, link_timeout, yes) -> int:
    """Fly a plan: pre-flight checks, upload, arm, AUTO, reloads, and the spray record.

    PLAN_DIR is the folder `agrodrone plan` wrote. Ctrl-C sends the copter home (RTL) and
    keeps the log.
    """
    from rich.console import Console

    if (product is None) != (registration is None):
        raise UserError(_("--product and --registration go together (the record needs both)"))
    console = Console()
    opts = FlyOptions(plan_dir=plan_dir, url=url, db_path=db_path, cooperative=cooperative, operator=operator,
                      product=product, registration=registration, tank_l=tank_l, wind_max_m_s=wind_max,
                      battery_min_pct=battery_min, pump_servo=pump_servo, enable_fence=enable_fence,
                      first_sortie=first_sortie, yes=yes, job_id=job_id, tlog_path=tlog_path,
                      position_timeout_s=position_timeout, link_timeout_s=link_timeout)
    outcome = fly_plan(opts, console)
    if outcome.record:
        print_record(console, outcome.record)
    console.print(f"log: {db_path}" + (f", raw telemetry: {outcome.tlog_path}" if outcome.tlog_path else ""))
    if outcome.stopped:
        click.echo(f"error: {outcome.stopped}", err=True)
        return 2 if outcome.stopped.startswith("no-go") else 1
    return 0
