"""The job as the operator sees it on a terminal (or in a log): the go/no-go list, progress,
questions, and the record's summary, for one drone or for each drone of a fleet."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


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
def ctrl_c_sends_home(console) -> Iterator[threading.Event]:
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


def _print_checks(console, checks, title: str = "pre-flight checks") -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True)
    table.add_column("check")
    table.add_column("go", justify="center")
    table.add_column("detail")
    for c in checks:
        table.add_row(c.name, "[green]GO[/]" if c.ok else "[bold red]NO-GO[/]", c.detail)
    console.print(table)


@contextmanager
def _progress(console, k: int, n: int, ms, label: str = "", live: bool = True) -> Iterator[Callable]:
    """A tick callback for one sortie: a live rich progress bar on a terminal, a status
    line every few seconds otherwise (logs, CI)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    total = max(1, len(ms.swaths))
    bar = Progress(
        TextColumn(f"{label}sortie {k}/{n}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("swaths"),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=True,
        disable=not (live and console.is_terminal),
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
            console.print(f"{label}sortie {k}/{n}: swath {done}/{total}  {info}", highlight=False)

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
    from agrodrone.cmd_records import drone_lines

    for line in drone_lines(rec):  # a job flown by several drones: each one's part
        console.print(line, highlight=False)


class FleetConsoleEvents(ConsoleEvents):
    """One drone of a fleet: every line says which drone, progress is a status line (several
    live bars cannot share a terminal), and questions are asked one at a time."""

    def __init__(self, console, yes: bool, drone: int, lock: threading.Lock) -> None:
        super().__init__(console, yes)
        self.drone = drone
        self.lock = lock

    def message(self, text: str) -> None:
        self.console.print(f"drone {self.drone}: {text}", highlight=False)

    def sortie_started(self, sortie: int, last: int, resuming: bool) -> None:
        self.message(f"sortie {sortie} (its last: {last})" + (", resuming where spraying stopped" if resuming else ""))

    def checks(self, sortie: int, checks) -> None:
        failed = [c for c in checks if not c.ok]
        if failed:
            with self.lock:
                _print_checks(self.console, checks, title=f"drone {self.drone}: pre-flight checks")
        else:
            self.message(f"sortie {sortie}: all {len(checks)} pre-flight checks GO")

    def flying(self, sortie: int, last: int, ms):
        return _progress(self.console, sortie, last, ms, label=f"drone {self.drone} ", live=False)

    def sortie_ended(self, result, watch) -> None:
        with self.lock:
            self.console.print(f"drone {self.drone}: ", end="")
            super().sortie_ended(result, watch)

    def confirm(self, question: str) -> bool:
        if self.yes:
            return True
        with self.lock:
            return click.confirm(f"drone {self.drone}: {question}. Continue?", default=True)


def print_fleet(console, outcome) -> None:
    """How each drone's part ended and how close two drones came (missions.FleetOutcome)."""
    for d, o in sorted(outcome.drones.items()):
        done = sum(1 for r in o.sorties if r.complete)
        state = "finished" if o.finished else f"stopped: {o.stopped}"
        console.print(f"drone {d}: {done} sortie(s) complete, {state}", highlight=False)
    holds = sum(1 for e in outcome.holds if e.held)
    closest = outcome.smallest_separation_m
    console.print(
        "smallest separation between two flying drones: "
        + (f"{closest:.1f} m" if closest is not None else "never two in the air at once")
        + f"; {holds} hold(s)",
        highlight=False,
    )
