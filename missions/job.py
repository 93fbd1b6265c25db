"""Flying a whole job: every sortie of a plan, reloads between them, and the resume of a
sortie cut short, over one link.

This is what `agrodrone fly` and `agrodrone demo` do, as a library: the operator's
questions and the display are the caller's (`JobEvents`), and so is what listens to the
link (`listeners`: the telemetry recorder, the progress display). Nothing here arms again
after a lost link: the vehicle's own failsafe flies it, and the job stops so the operator
can look at the copter first.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from gettext import gettext as _
from typing import TYPE_CHECKING, Any

from missions.build import BuildOptions, MissionSet, build_mission, build_missions
from missions.dialect import mavlink
from missions.errors import MissionError, SigningError
from missions.flight import Check, FlightLimits, LinkKeeper, SortieResult, Watch, fly_sortie, preflight
from missions.link import Vehicle
from missions.plan_input import plan_document, plan_errors
from missions.separation import DroneGuard
from missions.signing import SigningKey
from missions.terrain import TerrainServer
from planner.document import PlanDocument, need

if TYPE_CHECKING:
    from fields.terrain import Terrain


@dataclass(frozen=True)
class JobSettings:
    """How to fly the job (the command line's options)."""

    first_sortie: int = 1
    tank_l: float | None = None  # litres loaded per sortie; None: the plan's tank
    limits: FlightLimits = FlightLimits()
    build: BuildOptions = BuildOptions()
    rehearsal_crew: bool = False  # on a simulator, refill and swap the battery without asking
    connect_timeout_s: float = 30.0
    max_resumes: int = 3  # a sortie cut short this often (failsafe after failsafe) ends the job
    key: SigningKey | None = field(default=None, repr=False)  # the drone's signing key: the link is signed
    # the plan's ground (planner.load_terrain): served to the vehicle from the moment it
    # connects, and a "terrain" row in every go/no-go list; None for a flat plan
    terrain: Terrain | None = field(default=None, repr=False, compare=False)


class JobEvents:
    """What the job tells and asks the operator; the defaults say nothing and answer yes."""

    def message(self, text: str) -> None:
        pass

    def sortie_started(self, sortie: int, last: int, resuming: bool) -> None:
        pass

    def checks(self, sortie: int, checks: list[Check]) -> None:
        pass

    @contextlib.contextmanager
    def flying(self, sortie: int, last: int, ms: MissionSet) -> Iterator[Callable[[Watch], None] | None]:
        """A tick callback for the live display while the sortie flies."""
        yield None

    def sortie_ended(self, result: SortieResult, watch: Watch) -> None:
        pass

    def confirm(self, question: str) -> bool:
        """The operator's go: False stops the job before anything else happens."""
        return True


@dataclass
class JobOutcome:
    """What was flown: each sortie's result, whether the job is done, why it stopped."""

    sorties: list[SortieResult] = field(default_factory=list)
    finished: bool = False
    stopped: str = ""  # "" when finished; "no-go: …" when a pre-flight check failed


def job_sorties(plan: PlanDocument | dict, settings: JobSettings) -> list[int]:
    """The sorties to fly; a broken plan or a sortie it does not have is refused before
    anything connects (MissionError)."""
    plan = plan_document(plan)
    numbers = plan.sortie_numbers()
    if settings.first_sortie not in numbers:
        raise MissionError(
            _("--from-sortie {k}: the plan has sorties {first}..{last}").format(
                k=settings.first_sortie, first=numbers[0], last=numbers[-1]
            )
        )
    numbers = [n for n in numbers if n >= settings.first_sortie]
    list(build_missions(plan, settings.build, numbers))
    return numbers


def fly_job(
    plan: PlanDocument | dict,
    url: str,
    settings: JobSettings = JobSettings(),
    *,
    listeners: list[Callable[[Any], None]] | None = None,
    events: JobEvents | None = None,
    stop: threading.Event | None = None,
    guard: DroneGuard | None = None,
) -> JobOutcome:
    """Fly the plan's sorties from `settings.first_sortie` over the link `url`.

    Each sortie: go/no-go list (uploads it), the operator's go, arm, AUTO, land; then the
    ground crew (refill, battery) before the next. A sortie cut short by a failsafe is
    flown again from its breakpoint (planner.resume_plan). `stop` set (Ctrl-C) sends the
    copter home and ends the job. `guard`: one drone of a fleet (missions/fleet.py) waits, or
    goes home, while another drone is too close (missions/separation.py).
    """
    from planner import resume_plan

    events = events or JobEvents()
    stop = stop or threading.Event()
    plan = plan_document(plan)
    numbers = job_sorties(plan, settings)
    tank_l = settings.tank_l if settings.tank_l is not None else plan.params.tank_l
    with plan_errors():
        pump_max_l_min = need(plan.pump_max_l_min, "sprayer", "pump_max_l_min")
    watch = Watch(
        pump_servo=settings.build.pump_servo, pump_max_l_min=pump_max_l_min, spacing_m=plan.params.line_spacing_m
    )
    outcome = JobOutcome()
    server = TerrainServer(settings.terrain) if settings.terrain is not None else None
    try:
        vehicle = Vehicle.connect(
            url,
            timeout=settings.connect_timeout_s,
            on_wait=events.message,
            key=settings.key,
            listeners=[server] if server is not None else (),
        )
    except SigningError as exc:  # a vehicle we cannot trust (or that cannot trust us): no-go
        events.checks(numbers[0], [Check("signing", False, str(exc))])
        outcome.stopped = f"no-go: signing: {exc}"
        return outcome
    link = LinkKeeper(vehicle, url, [*(listeners or []), watch])
    if server is not None:
        # on this Vehicle from its first message already; the keeper adds it to the next
        link.listeners.append(server)
        server.serve(lambda: link.vehicle)
    flying, retries, queue = plan, 0, list(numbers)  # flying: a resumed copy after a cut-short sortie
    try:
        vehicle.request_streams()
        while queue and not stop.is_set():
            k = queue[0]
            ms = build_mission(flying, k, settings.build)
            events.sortie_started(k, numbers[-1], resuming=retries > 0)
            checks = preflight(
                link.vehicle,
                watch,
                ms,
                tank_l=tank_l,
                sortie_volume_l=sortie_volume(flying, k),
                limits=settings.limits,
                terrain=server,
            )
            events.checks(k, checks)
            failed = [c for c in checks if not c.ok]
            if failed:
                outcome.stopped = "no-go: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
                break
            if not events.confirm(f"Sortie {k}: go for take-off"):
                outcome.stopped = "aborted by the operator"
                break
            with events.flying(k, numbers[-1], ms) as tick:
                result = fly_sortie(
                    link, watch, ms, stop=stop, limits=settings.limits, on_tick=tick, guard=guard, say=events.message
                )
            outcome.sorties.append(result)
            events.sortie_ended(result, watch)
            if stop.is_set():
                outcome.stopped = f"stopped by the operator during sortie {k}"
                break
            if result.link_lost and not result.complete:
                outcome.stopped = (
                    f"the link was lost during sortie {k} and the sortie did not finish. "
                    "Not re-arming on our own: check the copter, then run again with "
                    f"--from-sortie {k}"
                )
                break
            if result.complete or result.resume_leg is None:  # nothing left to spray in it
                queue.pop(0)
                flying, retries = plan, 0
            else:
                retries += 1
                if retries > settings.max_resumes:
                    outcome.stopped = f"sortie {k} was cut short {retries} times: {result.reason}"
                    break
                resumed = resume_plan(flying, k, result.resume_leg, result.breakpoint, settings.terrain)
                assert isinstance(resumed, PlanDocument)  # given a document, resume_plan returns one
                flying = resumed
            if queue and not ground_crew(
                link.vehicle, sortie_volume(flying, queue[0]), events, settings.rehearsal_crew
            ):
                outcome.stopped = "aborted by the operator"
                break
    except MissionError as exc:  # what was flown before this still counts
        outcome.stopped = str(exc)
    finally:
        if server is not None:
            server.close()
        link.vehicle.close()
    outcome.finished = not queue and not outcome.stopped
    return outcome


def sortie_volume(plan: PlanDocument, k: int) -> float:
    """The litres sortie k sprays: what the tank must hold before it takes off."""
    with plan_errors():
        return float(need(plan.sortie(k).volume_l, f"sortie {k}", "volume_l"))


def ground_crew(vehicle: Vehicle, sortie_volume_l: float, events: JobEvents, rehearsal: bool) -> bool:
    """Refill and battery swap between sorties. In a rehearsal on a simulator (it has
    SIM_SPEEDUP) they are done for the operator: MAV_CMD_BATTERY_RESET fits a charged
    battery, as on ArduPilot SITL, and the embedded simulator's SIM_SPR_FILL refills its
    tank. A real drone's operator is always asked: resetting a real battery monitor would
    hide a flat pack."""
    if rehearsal and is_simulator(vehicle):
        vehicle.command(mavlink.MAV_CMD_BATTERY_RESET, 1, 100)
        try:
            vehicle.get_param("SIM_SPR_FILL")
        except MissionError:  # SITL's sprayer simulation has no tank to refill
            return True
        vehicle.set_params({"SIM_SPR_FILL": 1.0})
        return True
    return events.confirm(f"Refill the tank ({sortie_volume_l:.1f} L for the next sortie) and fit a charged battery")


def is_simulator(vehicle: Vehicle) -> bool:
    """SITL and the embedded simulator have SIM_SPEEDUP; a real autopilot does not."""
    try:
        vehicle.get_param("SIM_SPEEDUP")
    except MissionError:
        return False
    return True
