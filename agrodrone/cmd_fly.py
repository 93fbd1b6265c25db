"""`agrodrone fly`: fly a plan sortie by sortie, log everything, write the spray record.

It parses the options and wires the library: `missions.fly_job` flies the job (and
`missions.fly_fleet` each drone's part of a plan for several drones, one `--connect` each),
`telemetry.JobRecorder` logs the links and makes the one record; agrodrone/fly_console.py
shows the go/no-go lists and the progress, asks the operator and turns Ctrl-C into RTL.
"""

from __future__ import annotations

import threading
from gettext import gettext as _
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from agrodrone.errors import UserError
from agrodrone.fly_console import ConsoleEvents, FleetConsoleEvents, ctrl_c_sends_home, print_fleet, print_record
from agrodrone.types import NUMBER

if TYPE_CHECKING:
    from missions import JobEvents


@click.command("fly")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--connect",
    "urls",
    required=True,
    multiple=True,
    metavar="URL",
    help="tcp:127.0.0.1:5760, udp:..., serial device; a plan for several drones: one for each drone, in order",
)
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite database the flight is logged into",
)
@click.option("--cooperative", default=None, help="[default: the plan field's cooperative]")
@click.option(
    "--drone",
    "drones",
    multiple=True,
    help="the drone's name (kept in the record); its key (`agrodrone key`) signs the link; one for each --connect",
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
    urls: tuple[str, ...],
    db_path: Path,
    cooperative,
    drones,
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

    PLAN_DIR is the folder `agrodrone plan` wrote. A plan for several drones (`plan --drones`)
    flies every drone at once, one --connect (and --drone) for each, in the plan's order; one
    record covers them all. Ctrl-C sends every copter home (RTL) and keeps the log.
    """
    from rich.console import Console

    from missions import BuildOptions, FlightLimits, JobSettings, fly_job, job_sorties
    from missions.fleet import FleetDrone, drones_to_fly, first_sortie_of, fly_fleet
    from missions.keystore import key_for
    from planner import load_plan, load_terrain
    from telemetry import JobRecorder

    if (product is None) != (registration is None):
        raise UserError(_("--product and --registration go together (the record needs both)"))
    console = Console()
    plan = load_plan(plan_dir)
    terrain = load_terrain(plan_dir, plan)  # a terrain plan's DEM: served to the vehicle, measured in the record
    fleet = len(plan.drone_numbers()) > 1
    parts = drones_to_fly(plan, first_sortie) if fleet else {1: plan}
    if len(urls) != len(parts):
        raise UserError(
            _("the plan has drones {have} to fly: give one --connect for each, in that order").format(
                have=", ".join(str(d) for d in parts)
            )
            if fleet
            else _("this plan is for one drone: give one --connect")
        )
    if len(drones) > 1 and len(drones) != len(urls):
        raise UserError(_("give one --drone for each --connect ({n} links)").format(n=len(urls)))
    names = dict(zip(parts, drones if len(drones) == len(urls) else [drones[0] if drones else None] * len(urls)))
    settings = {
        d: JobSettings(
            terrain=terrain,
            first_sortie=first_sortie_of(parts[d], first_sortie) if fleet else first_sortie,
            tank_l=tank_l,
            rehearsal_crew=yes,
            key=key_for(names[d]),
            build=BuildOptions(pump_servo=pump_servo, enable_fence=enable_fence),
            limits=FlightLimits(
                wind_max_m_s=wind_max,
                battery_min_pct=battery_min,
                position_timeout_s=position_timeout,
                link_timeout_s=link_timeout,
            ),
        )
        for d in parts
    }
    for d in parts:  # a broken plan is refused before anything is written or connects
        job_sorties(parts[d], settings[d])
    recorder = JobRecorder(
        db_path,
        plan,
        cooperative=cooperative,
        drone=names[next(iter(parts))],
        drones=names if fleet else None,
        job_id=job_id,
        tlog_path=tlog_path,
        terrain=terrain,
    )
    with recorder, ctrl_c_sends_home(console) as stop:
        if fleet:
            lock = threading.Lock()
            crew = [
                FleetDrone(
                    d,
                    url,
                    settings[d],
                    listeners=[recorder.handle_for(d)],
                    events=cast("JobEvents", FleetConsoleEvents(console, yes, d, lock)),
                )
                for d, url in zip(parts, urls)
            ]
            result = fly_fleet(plan, crew, stop=stop)
            flown = any(o.sorties for o in result.drones.values())
            problems = result.problems()
        else:
            events = cast("JobEvents", ConsoleEvents(console, yes))  # has every JobEvents method (duck-typed)
            outcome = fly_job(plan, urls[0], settings[1], listeners=[recorder.handle], events=events, stop=stop)
            flown, problems = bool(outcome.sorties), [outcome.stopped] if outcome.stopped else []
    record = (
        recorder.record(
            operator=operator,
            operator_name=operator,
            product=product,
            registration=registration,
            pump_servo=pump_servo,
            notes="; ".join(problems) or None,
        )
        if flown
        else None
    )
    if record:
        print_record(console, record)
    if fleet:
        print_fleet(console, result)
    console.print(f"log: {db_path}" + (f", raw telemetry: {recorder.tlog_path}" if recorder.tlog_path else ""))
    if problems:
        for line in problems:
            click.echo(f"error: {line}", err=True)
        return 2 if all(p.startswith("no-go") or ": no-go" in p for p in problems) else 1
    return 0
