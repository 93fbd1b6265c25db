"""Keeping several drones of one job apart: who must hold, and the smallest distance seen.

Each drone's link feeds `Separation.listener(d)` (positions and velocities from
GLOBAL_POSITION_INT, armed and mode from HEARTBEAT). Each drone's flying thread asks
`hold(d)` at every poll: a reason to hold (pause its mission, or wait before take-off), or
None. The decision is taken for the whole fleet under one lock, so two threads never both
decide to wait for each other.

Rules, as an operator of a small fleet would expect them:
- Distances are 3D (AMSL altitudes): a drone flying home high above another spraying is apart.
- A pair is in conflict when, at their current velocities, they would come closer than the
  minimum plus what a paused mission still closes while it brakes (AC_WPNav eases its target
  to a stop in about 2.5 s: the rate they close in x 2.5 s) within `lookahead_s`, or already are.
- Only a drone in AUTO can be held: MAV_CMD_DO_PAUSE_CONTINUE stops it on its track (AC_WPNav
  brakes along the line and the pump stops below SPRAY_SPEED_MIN). A drone flying a failsafe
  (RTL, LAND) is never held: its own failsafe flies it, the other one waits.
- Of two drones in AUTO, the lower-numbered one is held: the planner's parts are strips swept
  the same way, from drone 1's towards the last one's (planner/fleet.py), so the lower drone is
  the one behind, coming up to the shared boundary, and the upper one flies on and away.
- A held drone is released when, flying on as it was when held, it would stay `release_m`
  beyond the minimum for the look-ahead (so it is not released only to be held again).
- A drone flying towards one held for it is held too; two drones that wait for each other (or
  any drone held longer than `max_hold_s` of flight) are parted by sending the one held longer
  home (RTL): it waits on the ground, not hovering on its battery, and its sortie resumes at
  the breakpoint.
- A drone on the ground does not take off while an airborne drone is within the minimum of its
  take-off point or of where it will spray first.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from gettext import gettext as _
from typing import Any

from missions.command import is_autopilot, mode_name
from missions.dialect import mavlink
from missions.errors import MissionError
from planner.fleet import DEFAULT_SEPARATION_M

AIRBORNE_M = 1.0  # above home: flying, not standing at the reload point
STALE_S = 10.0  # a position older than this (wall time) is a lost link's, not a drone's
EARTH_M = 6378137.0


@dataclass
class DroneState:
    """What one drone's link last said about it."""

    sysid: int = 0
    lat: float | None = None
    lon: float | None = None
    alt_m: float = 0.0  # AMSL
    rel_alt_m: float = 0.0
    vel: tuple[float, float, float] = (0.0, 0.0, 0.0)  # north, east, up m/s
    armed: bool = False
    mode: str = ""
    seen: float = 0.0  # monotonic time of the last position
    t_s: float = 0.0  # the vehicle's own clock (time_boot_ms): holds are timed in flight time

    @property
    def airborne(self) -> bool:
        """Flying, and heard lately: a drone whose link went silent is flown by its own failsafe
        (RTL or land) from where it was last heard, so it no longer holds the others."""
        heard = time.monotonic() - self.seen < STALE_S
        return self.armed and self.rel_alt_m > AIRBORNE_M and self.lat is not None and heard


@dataclass
class HoldEvent:
    """A hold decided (or lifted) for a drone, for the operator and the test logs."""

    drone: int
    other: int
    distance_m: float
    held: bool


@dataclass
class Separation:
    """The fleet's separation monitor; see the module docstring."""

    drones: Sequence[int]
    min_m: float = DEFAULT_SEPARATION_M
    lookahead_s: float = 4.0
    release_m: float = 5.0
    brake_s: float = 2.5  # a paused AC_WPNav target eases to a stop over about WPNAV_ACCEL / WPNAV_JERK
    max_hold_s: float = 30.0  # held longer than this (flight time), a drone goes home to wait on the ground
    on_event: Callable[[HoldEvent], None] | None = None
    smallest_m: float = math.inf  # between two airborne drones, over the whole job
    events: list[HoldEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = {d: DroneState() for d in self.drones}
        self.held: dict[int, int] = {}  # drone -> the drone it waits for
        self.intent: dict[int, tuple[float, float, float]] = {}  # a held drone's velocity when it was held
        self.since: dict[int, float] = {}  # a held drone's clock when it was held
        self._lock = threading.Lock()
        self._origin: tuple[float, float] | None = None

    # -- listening -----------------------------------------------------------------
    def listener(self, drone: int) -> Callable[[Any], None]:
        """The link listener of `drone`: its vehicle is the first autopilot heard on it."""
        st = self.state[drone]

        def hear(m: Any) -> None:
            t = m.get_type()
            if t == "HEARTBEAT":
                if not is_autopilot(m) or (st.sysid and m.get_srcSystem() != st.sysid):
                    return
                with self._lock:
                    st.sysid = m.get_srcSystem()
                    st.armed = bool(m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
                    st.mode = mode_name(m.custom_mode)
            elif t == "GLOBAL_POSITION_INT" and (not st.sysid or m.get_srcSystem() == st.sysid):
                if m.lat == 0 and m.lon == 0:
                    return
                with self._lock:
                    st.lat, st.lon = m.lat / 1e7, m.lon / 1e7
                    st.alt_m, st.rel_alt_m = m.alt / 1000.0, m.relative_alt / 1000.0
                    st.vel = (m.vx / 100.0, m.vy / 100.0, -m.vz / 100.0)
                    st.seen = time.monotonic()
                    st.t_s = m.time_boot_ms / 1000.0
                    self._measure()

        return hear

    # -- geometry ------------------------------------------------------------------
    def _xyz(self, st: DroneState) -> tuple[float, float, float]:
        """North, east, up metres from the first position heard (flat over a few km)."""
        assert st.lat is not None and st.lon is not None
        if self._origin is None:
            self._origin = (st.lat, st.lon)
        lat0, lon0 = self._origin
        n = math.radians(st.lat - lat0) * EARTH_M
        e = math.radians(st.lon - lon0) * EARTH_M * math.cos(math.radians(lat0))
        return n, e, st.alt_m

    def _pair(
        self, a: DroneState, b: DroneState, a_vel: tuple[float, float, float] | None = None
    ) -> tuple[float, float, float, float]:
        """(distance now, closest distance within the look-ahead, a's and b's closing speeds);
        `a_vel`: a's velocity if it flew on (a held drone stands still)."""
        pa, pb = self._xyz(a), self._xyz(b)
        av = a.vel if a_vel is None else a_vel
        d = [pb[i] - pa[i] for i in range(3)]
        dist = math.sqrt(sum(x * x for x in d))
        rel = [b.vel[i] - av[i] for i in range(3)]
        rr = sum(x * x for x in rel)
        t = 0.0 if rr < 1e-9 else min(max(-sum(d[i] * rel[i] for i in range(3)) / rr, 0.0), self.lookahead_s)
        closest = math.sqrt(sum((d[i] + rel[i] * t) ** 2 for i in range(3)))
        u = [x / dist for x in d] if dist > 1e-6 else [0.0, 0.0, 0.0]
        closing_a = sum(av[i] * u[i] for i in range(3))  # a moving towards b
        closing_b = -sum(b.vel[i] * u[i] for i in range(3))
        return dist, closest, closing_a, closing_b

    def _measure(self) -> None:
        flying = [s for s in self.state.values() if s.airborne]
        for i, a in enumerate(flying):
            for b in flying[i + 1 :]:
                self.smallest_m = min(self.smallest_m, self._pair(a, b)[0])

    # -- deciding ------------------------------------------------------------------
    def hold(self, drone: int, first: tuple[float, float] | None = None) -> str | None:
        """Why `drone` must hold now (its mission paused, or its take-off delayed), or None.
        `first` (lat, lon): where a drone still on the ground will start spraying."""
        with self._lock:
            me = self.state[drone]
            if me.lat is None:
                return None
            if not me.airborne:
                return self._ground_wait(drone, me, first)
            self._decide()
            other = self.held.get(drone)
            if other is None:
                return None
            dist = self._pair(me, self.state[other])[0]
            return _("drone {other} is {distance:.0f} m away (minimum {minimum:g} m)").format(
                other=other, distance=dist, minimum=self.min_m
            )

    def _ground_wait(self, drone: int, me: DroneState, first: tuple[float, float] | None) -> str | None:
        """A drone takes off once no flying drone is near its take-off point, nor near where it
        will spray first (a drone resuming after a failsafe next to another's last swaths
        waits there on the ground, not hovering in the other's way)."""
        self.held.pop(drone, None)
        there = DroneState(lat=first[0], lon=first[1], alt_m=me.alt_m) if first is not None else None
        for d, st in self.state.items():
            if d != drone and st.airborne:
                dist = self._pair(me, st)[0]
                if dist < self.min_m + self.release_m:
                    return _("drone {other} flies {distance:.0f} m from the take-off point").format(
                        other=d, distance=dist
                    )
                if there is not None:
                    near = self._pair(there, st)[0]
                    far = self.min_m + self._brake(math.hypot(*st.vel)) + self.release_m
                    if near < far:
                        return _("drone {other} sprays {distance:.0f} m from where this drone starts").format(
                            other=d, distance=near
                        )
        return None

    def _decide(self) -> None:
        """Holds for every pair of airborne drones, released or newly set."""
        for d, other in list(self.held.items()):
            a, b = self.state[d], self.state[other]
            if not a.airborne or a.mode != "AUTO" or not b.airborne:
                self._set(d, other, None)
                continue
            # released once it could fly on as it did when held and stay clear
            intent = self.intent.get(d)
            dist, closest, close_a, close_b = self._pair(a, b, intent)
            clear = self.min_m + self._brake(close_a + close_b) + self.release_m
            if dist > clear and closest > clear:
                self._set(d, other, dist)
        flying = [d for d, s in self.state.items() if s.airborne]
        for i, d1 in enumerate(flying):
            for d2 in flying[i + 1 :]:
                if self.held.get(d1) == d2 or self.held.get(d2) == d1:
                    self._approaching_held(d1, d2)
                    continue
                a, b = self.state[d1], self.state[d2]
                dist, closest, close_a, close_b = self._pair(a, b)
                if min(dist, closest) >= self.min_m + self._brake(close_a + close_b):
                    continue
                can = [d for d in (d1, d2) if self.state[d].mode == "AUTO" and d not in self.held]
                if not can:
                    continue
                if len(can) == 2:  # the drone behind in the plan's common sweep waits (see above)
                    can = [min(can)]
                self._set(can[0], d2 if can[0] == d1 else d1, dist, hold=True)

    def _approaching_held(self, d1: int, d2: int) -> None:
        """A drone flying towards one held for it is held too, if it can be. Two drones that
        then wait for each other are parted by `go_home`: the one held longer flies home."""
        held, free = (d1, d2) if self.held.get(d1) == d2 else (d2, d1)
        if free in self.held or self.state[free].mode != "AUTO":
            return
        f, h = self.state[free], self.state[held]
        dist, closest, closing, _ = self._pair(f, h)
        if closing > 0.2 and min(dist, closest) < self.min_m + self._brake(closing):
            self._set(free, held, dist, hold=True)

    def go_home(self, drone: int) -> str | None:
        """Why a drone held too long must fly home (RTL) and wait on the ground, or None: it
        spares its battery, and parts two drones that wait for each other. Its sortie resumes
        at the breakpoint once the other is clear of where it starts (the take-off wait)."""
        with self._lock:
            if drone not in self.held:
                return None
            waited = self.state[drone].t_s - self.since.get(drone, self.state[drone].t_s)
            if waited < self.max_hold_s:
                return None
            return _("held {seconds:.0f} s for drone {other}: flying home to wait on the ground").format(
                seconds=waited, other=self.held[drone]
            )

    def guard(self, drone: int) -> DroneGuard:
        """What one drone's flying thread asks (missions.fly_sortie's `guard`)."""
        return DroneGuard(self, drone)

    def _brake(self, closing_m_s: float) -> float:
        """How much closer two drones come while a paused mission brakes, at the rate they close in
        (drones flying side by side at the same speed need no more than the minimum)."""
        return max(closing_m_s, 0.0) * self.brake_s

    def _set(self, drone: int, other: int, dist: float | None, *, hold: bool = False) -> None:
        if hold:
            self.held[drone] = other
            self.intent[drone] = self.state[drone].vel
            self.since[drone] = self.state[drone].t_s
        else:
            self.held.pop(drone, None)
            self.intent.pop(drone, None)
            self.since.pop(drone, None)
        event = HoldEvent(drone, other, math.nan if dist is None else dist, hold)
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)


def wait_for_take_off(
    hold: Callable[[], str | None], stop: threading.Event, say: Callable[[str], None], poll_s: float = 0.1
) -> None:
    """Stay on the ground while another drone flies too close to this one's take-off point
    (or to where it will spray first)."""
    told = ""
    while not stop.is_set():
        why = hold()
        if not why:
            return
        if why != told and not told:
            say(_("waiting to take off: {why}").format(why=why))
        told = why
        time.sleep(poll_s)


@dataclass
class DroneGuard:
    """One drone's view of the separation monitor: hold now? go home?"""

    sep: Separation
    drone: int

    def hold(self, first: tuple[float, float] | None = None) -> str | None:
        return self.sep.hold(self.drone, first)

    def go_home(self) -> str | None:
        return self.sep.go_home(self.drone)


class Pauser:
    """Pauses the mission while the guard gives a reason to hold, continues it when it gives
    none, and sends the copter home (RTL) when the guard says it has waited too long."""

    RETRY_S = 1.0  # a refused pause (between two legs, in the take-off) is tried again

    def __init__(self, guard: DroneGuard, say: Callable[[str], None]) -> None:
        self.guard, self.say = guard, say
        self.paused = False
        self.next_try = 0.0
        self.sent_home = False

    def poll(self, v: Any, mode: str) -> None:
        if mode != "AUTO":  # a failsafe or the operator changed mode: nothing of ours is paused
            self.paused = False
            return
        home = self.guard.go_home() if self.paused and not self.sent_home else None
        if home:
            try:
                v.set_mode("RTL")
            except MissionError:
                return  # tried again at the next poll
            self.sent_home = True
            self.say(home)
            return
        why = self.guard.hold()
        now = time.monotonic()
        if bool(why) == self.paused or now < self.next_try:
            return
        try:
            v.command(mavlink.MAV_CMD_DO_PAUSE_CONTINUE, 0 if why else 1)
        except MissionError:
            self.next_try = now + self.RETRY_S
            return
        self.paused = bool(why)
        self.say(_("holding: {why}").format(why=why) if why else _("separation restored: continuing"))
