"""AC_WPNav's straight waypoint legs: a position target moved along S-curves, corners blended.

As in ArduCopter (libraries/AC_WPNav/AC_WPNav.cpp, SCurve::advance_target_along_track):
- each leg is a rest-to-rest SCurve at WPNAV_SPEED / WPNAV_ACCEL with WPNAV_JERK and the
  snap the attitude controller allows (jerk x pi / (2 x ATC_INPUT_TC) / 2);
- when the next waypoint is known (a "fast" waypoint), the next leg starts while this one
  brakes, once the mid-point of that overlap stays within WPNAV_RADIUS of the corner, is
  slower than both legs and needs less than the cornering acceleration; the waypoint counts
  as reached half-way through the overlap, which is when AP_Mission runs the DO commands
  after it (the pump switches there, at the corner);
- a waypoint with nothing after it is reached when the target has stopped on it and the
  copter is within WPNAV_RADIUS.
The copter follows the target with the position controller (`follow` below, run by sim/motion.py).
"""

from __future__ import annotations

import math

from sim.scurve import SCurve

INPUT_TC_S = 0.15  # ATC_INPUT_TC default
Vec = tuple[float, float]


class Leg:
    """One straight leg from `origin` to `dest` (north, east metres) and its SCurve."""

    def __init__(self, origin: Vec, dest: Vec) -> None:
        self.origin, self.dest = origin, dest
        dn, de = dest[0] - origin[0], dest[1] - origin[1]
        self.length = math.hypot(dn, de)
        self.unit = (dn / self.length, de / self.length) if self.length > 1e-9 else (0.0, 0.0)
        self.curve = SCurve()

    def plan(self, speed: float, accel: float, snap: float, jerk: float) -> None:
        self.curve.calculate(self.length, speed, accel, snap, jerk)

    def sample(self, dt: float, from_dest: bool = False) -> tuple[Vec, Vec, Vec]:
        """Advance dt; position (from the origin, or from the destination), velocity, acceleration."""
        p, v, a = self.curve.advance(dt)
        if from_dest:
            p -= self.length
        u = self.unit
        return (u[0] * p, u[1] * p), (u[0] * v, u[1] * v), (u[0] * a, u[1] * a)

    def at(self, t: float) -> tuple[Vec, Vec, Vec]:
        p, v, a = self.curve.at(t)
        u = self.unit
        return (u[0] * p, u[1] * p), (u[0] * v, u[1] * v), (u[0] * a, u[1] * a)


def _add(*vs: Vec) -> Vec:
    return sum(v[0] for v in vs), sum(v[1] for v in vs)


class WPNav:
    """The waypoint controller's horizontal target for the current, previous and next legs."""

    def __init__(self) -> None:
        self.speed = 5.0
        self.accel = 2.5
        self.radius = 2.0
        self.jerk = 1.0
        self.accel_corner = 5.0
        self.active = False
        self.reached = True
        self.fast = False
        self.prev: Leg | None = None
        self.this: Leg | None = None
        self.next: Leg | None = None
        self.dest: Vec = (0.0, 0.0)
        self.target: tuple[Vec, Vec, Vec] = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0))

    @property
    def snap(self) -> float:
        return self.jerk * math.pi / (2.0 * max(INPUT_TC_S, 0.1)) * 0.5

    def configure(self, *, speed: float, accel: float, radius: float, jerk: float, accel_corner: float) -> None:
        self.speed, self.accel = max(speed, 0.2), max(accel, 0.5)
        self.radius, self.jerk = max(radius, 0.05), max(jerk, 0.1)
        self.accel_corner = accel_corner if accel_corner > 0 else 2.0 * self.accel

    def _leg(self, origin: Vec, dest: Vec) -> Leg:
        leg = Leg(origin, dest)
        leg.plan(self.speed, self.accel, self.snap, self.jerk)
        return leg

    def init(self, here: Vec) -> None:
        """wp_and_spline_init: start from where the copter is (its stopping point)."""
        self.prev = self.this = self.next = None
        self.dest = here
        self.target = (here, (0.0, 0.0), (0.0, 0.0))
        self.reached, self.fast, self.active = True, False, True

    def stop(self) -> None:
        self.active = False

    def set_destination(self, dest: Vec, here: Vec) -> None:
        """set_wp_destination: the previous destination becomes the origin (corner blending goes on)."""
        if not self.active or not self.reached:
            self.init(here)
        self.prev = self.this
        origin = self.dest
        if self.fast and self.next is not None and not self.next.curve.finished() and self.next.dest == dest:
            self.this = self.next
        else:
            self.this = self._leg(origin, dest)
        self.dest = dest
        self.next = None
        self.fast = False
        self.reached = False

    def set_destination_next(self, dest: Vec) -> None:
        """set_wp_destination_next: the waypoint after this one, so the copter need not stop."""
        if self.this is None:
            return
        self.next = self._leg(self.dest, dest)
        self.fast = True

    def set_speed(self, speed: float) -> None:
        """DO_CHANGE_SPEED (set_speed_xy): re-plan the rest of this leg and the next one."""
        if speed < 0.2 or abs(speed - self.speed) < 1e-6:
            return
        self.speed = speed
        for name in ("this", "next"):
            leg: Leg | None = getattr(self, name)
            if leg is None or leg.curve.finished():
                continue
            t = leg.curve.time
            p, v, _ = leg.curve.at(t)
            if t <= 0.05:
                leg.plan(speed, self.accel, self.snap, self.jerk)
                if v > 0:
                    leg.curve.set_origin_speed(v)
                continue
            # mid-leg: a new S-curve from here and at this speed (SCurve::set_speed_max re-plans in place)
            o = leg.origin
            start = (o[0] + leg.unit[0] * p, o[1] + leg.unit[1] * p)
            new = Leg(start, leg.dest)
            new.plan(speed, self.accel, self.snap, self.jerk)
            new.curve.set_origin_speed(min(v, speed))
            setattr(self, name, new)

    def advance(self, dt: float, pos: Vec) -> tuple[Vec, Vec, Vec]:
        """One controller step: the target position, velocity and acceleration (SCurve::advance_target_along_track)."""
        this = self.this
        if not self.active or this is None:
            return self.target
        parts = []
        if self.prev is not None:
            parts.append(self.prev.sample(dt, from_dest=True))
        p, v, a = this.sample(dt)
        parts.append((p, v, a))
        finished = this.curve.finished()
        nxt = self.next
        c = this.curve
        if self.fast and nxt is not None and nxt.curve.time == 0.0:
            if c.time >= c.time_decel_start() and c.time_remaining() <= nxt.curve.time_accel_end():
                half = c.time_remaining() * 0.5
                tp, tv, ta = this.at(c.time + half)
                np_, nv, na = nxt.at(half)
                turn_pos = _add(tp, (-this.unit[0] * this.length, -this.unit[1] * this.length), np_)
                turn_vel = _add(tv, nv)
                turn_acc = _add(ta, na)
                speed_min = min(c.speed_along_track(), nxt.curve.speed_along_track())
                if (
                    math.hypot(*turn_pos) < self.radius
                    and math.hypot(*turn_vel) < speed_min
                    and math.hypot(*turn_acc) < self.accel_corner
                ):
                    parts.append(nxt.sample(dt))
        elif nxt is not None and nxt.curve.time > 0.0:
            parts.append(nxt.sample(dt))
            if nxt.curve.time >= c.time_remaining():
                finished = True
        org = this.origin
        pos_t = _add(org, *(q[0] for q in parts))
        vel_t = _add(*(q[1] for q in parts))
        acc_t = _add(*(q[2] for q in parts))
        self.target = (pos_t, vel_t, acc_t)
        if not self.reached and finished:
            if self.fast:
                self.reached = True
            elif math.hypot(pos[0] - self.dest[0], pos[1] - self.dest[1]) <= self.radius:
                self.reached = True
        return self.target


POS_P = 1.0  # PSC_POSXY_P: position error -> velocity (1/s)
VEL_P = 2.0  # PSC_VELXY_P: velocity error -> acceleration (1/s)
LEAN_TC_S = 0.1  # the copter tilts to a new acceleration within about this time
ACCEL_MAX = 9.80665 * math.tan(math.radians(30))  # ANGLE_MAX 30 degrees


def follow(target: tuple[Vec, Vec, Vec], pos: Vec, vel: Vec, acc: Vec, dt: float) -> Vec:
    """AC_PosControl, horizontally: the acceleration the copter reaches this step while it
    follows the target with feed-forward, a P position loop and a P velocity loop."""
    (tp, tv, ta) = target
    vn = tv[0] + POS_P * (tp[0] - pos[0])
    ve = tv[1] + POS_P * (tp[1] - pos[1])
    an = ta[0] + VEL_P * (vn - vel[0])
    ae = ta[1] + VEL_P * (ve - vel[1])
    mag = math.hypot(an, ae)
    if mag > ACCEL_MAX:
        an, ae = an / mag * ACCEL_MAX, ae / mag * ACCEL_MAX
    k = min(dt / LEAN_TC_S, 1.0)
    return acc[0] + (an - acc[0]) * k, acc[1] + (ae - acc[1]) * k
