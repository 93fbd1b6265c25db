"""AC_WPNav's straight waypoint legs: a 3D position target moved along S-curves, corners blended.

As in ArduCopter (libraries/AC_WPNav/AC_WPNav.cpp, AP_Math/SCurve.cpp, AP_Math/control.cpp):
- each leg is a rest-to-rest SCurve along the straight 3D line from its origin to its
  destination (SCurve::calculate_track). Its speed and acceleration limits are
  AP_Math's kinematic_limit of WPNAV_SPEED / WPNAV_SPEED_UP / WPNAV_SPEED_DN and WPNAV_ACCEL /
  WPNAV_ACCEL_Z along that direction: a gentle slope keeps the horizontal speed at WPNAV_SPEED
  (the speed along the track is WPNAV_SPEED over the horizontal share of it), a slope steeper
  than WPNAV_SPEED_UP / WPNAV_SPEED (or _DN) is limited by the vertical speed, which slows the
  horizontal speed too; jerk WPNAV_JERK and the snap the attitude controller allows
  (jerk x pi / (2 x ATC_INPUT_TC) / 2) act along the track;
- when the next waypoint is known (a "fast" waypoint), the next leg starts while this one
  brakes, once the mid-point of that overlap stays within WPNAV_RADIUS of the corner (in 3D),
  is slower than both legs, needs less than the cornering acceleration horizontally and less
  than WPNAV_ACCEL_Z vertically (SCurve::advance_target_along_track); the waypoint counts
  as reached half-way through the overlap, which is when AP_Mission runs the DO commands
  after it (the pump switches there, at the corner);
- a waypoint with nothing after it is reached when the target has stopped on it and the
  copter is within WPNAV_RADIUS of it (in 3D).
The copter follows the target with the position controller (`follow` and `follow_z` below,
run by sim/motion.py).
"""

from __future__ import annotations

import math

from sim.scurve import SCurve

INPUT_TC_S = 0.15  # ATC_INPUT_TC default
Vec = tuple[float, float]
Vec3 = tuple[float, float, float]  # north, east, up: metres from the origin


def norm(v: Vec3) -> float:
    """|v| (a level vector is measured in 2D, so a flat flight computes exactly as before)."""
    return math.hypot(v[0], v[1]) if v[2] == 0 else math.hypot(v[0], v[1], v[2])


def kinematic_limit(length_xy: float, dz: float, max_xy: float, max_up: float, max_down: float) -> float:
    """AP_Math kinematic_limit: the largest speed (or acceleration) along a direction of
    `length_xy` horizontally and `dz` up that keeps within the horizontal and vertical limits."""
    if max_xy <= 0 or max_up <= 0 or max_down <= 0:
        return 0.0
    length = math.hypot(length_xy, dz)
    if length <= 0:
        return 0.0
    xy, z = length_xy / length, dz / length
    if xy == 0:
        return max_up if z > 0 else max_down
    if z == 0:
        return max_xy
    slope = z / xy
    limit = max_up if slope > 0 else max_down
    if abs(slope) < limit / max_xy:
        return max_xy / xy
    return abs(limit / z)


class Leg:
    """One straight leg from `origin` to `dest` (north, east, up metres) and its SCurve."""

    def __init__(self, origin: Vec3, dest: Vec3) -> None:
        self.origin, self.dest = origin, dest
        dn, de, dz = dest[0] - origin[0], dest[1] - origin[1], dest[2] - origin[2]
        self.length_xy = math.hypot(dn, de)
        self.dz = dz
        self.length = norm((dn, de, dz))
        L = self.length
        self.unit: Vec3 = (dn / L, de / L, dz / L) if L > 1e-9 else (0.0, 0.0, 0.0)
        self.accel_z = 1.0
        self.curve = SCurve()

    def plan(self, nav: WPNav) -> None:
        """SCurve::calculate_track: the limits along this leg's direction (kinematic_limit)."""
        speed = kinematic_limit(self.length_xy, self.dz, nav.speed, nav.speed_up, nav.speed_down)
        accel = kinematic_limit(self.length_xy, self.dz, nav.accel, nav.accel_z, nav.accel_z)
        self.accel_z = nav.accel_z
        self.curve.calculate(self.length, speed, accel, nav.snap, nav.jerk)

    def _project(self, p: float, v: float, a: float) -> tuple[Vec3, Vec3, Vec3]:
        u = self.unit
        return (u[0] * p, u[1] * p, u[2] * p), (u[0] * v, u[1] * v, u[2] * v), (u[0] * a, u[1] * a, u[2] * a)

    def sample(self, dt: float, from_dest: bool = False) -> tuple[Vec3, Vec3, Vec3]:
        """Advance dt; position (from the origin, or from the destination), velocity, acceleration."""
        p, v, a = self.curve.advance(dt)
        if from_dest:
            p -= self.length
        return self._project(p, v, a)

    def at(self, t: float) -> tuple[Vec3, Vec3, Vec3]:
        return self._project(*self.curve.at(t))


def _add(*vs: Vec3) -> Vec3:
    return sum(v[0] for v in vs), sum(v[1] for v in vs), sum(v[2] for v in vs)


class WPNav:
    """The waypoint controller's 3D target for the current, previous and next legs."""

    def __init__(self) -> None:
        self.speed = 5.0
        self.speed_up = 2.5
        self.speed_down = 1.5
        self.accel = 2.5
        self.accel_z = 1.0
        self.radius = 2.0
        self.jerk = 1.0
        self.accel_corner = 5.0
        self.active = False
        self.reached = True
        self.fast = False
        self.prev: Leg | None = None
        self.this: Leg | None = None
        self.next: Leg | None = None
        self.dest: Vec3 = (0.0, 0.0, 0.0)
        self.target: tuple[Vec3, Vec3, Vec3] = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        self.paused = False  # set_pause / set_resume (MAV_CMD_DO_PAUSE_CONTINUE in AUTO)
        self.time_scale = 1.0  # AC_WPNav's _track_scalar_dt: the S-curves' clock, eased to 0 when paused

    @property
    def snap(self) -> float:
        return self.jerk * math.pi / (2.0 * max(INPUT_TC_S, 0.1)) * 0.5

    def configure(
        self,
        *,
        speed: float,
        accel: float,
        radius: float,
        jerk: float,
        accel_corner: float,
        speed_up: float = 2.5,
        speed_down: float = 1.5,
        accel_z: float = 1.0,
    ) -> None:
        self.speed, self.accel = max(speed, 0.2), max(accel, 0.5)
        self.speed_up, self.speed_down = max(speed_up, 0.2), max(speed_down, 0.2)  # SCurve's SPEED_Z_MIN
        self.accel_z = max(accel_z, 0.2)
        self.radius, self.jerk = max(radius, 0.05), max(jerk, 0.1)
        self.accel_corner = accel_corner if accel_corner > 0 else 2.0 * self.accel

    def _leg(self, origin: Vec3, dest: Vec3) -> Leg:
        leg = Leg(origin, dest)
        leg.plan(self)
        return leg

    def init(self, here: Vec3) -> None:
        """wp_and_spline_init: start from where the copter is (its stopping point)."""
        self.prev = self.this = self.next = None
        self.dest = here
        self.target = (here, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        self.reached, self.fast, self.active = True, False, True
        self.paused, self.time_scale = False, 1.0

    def stop(self) -> None:
        self.active = False

    def set_destination(self, dest: Vec3, here: Vec3) -> None:
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

    def set_destination_next(self, dest: Vec3) -> None:
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
                leg.plan(self)
                if v > 0:
                    leg.curve.set_origin_speed(v)
                continue
            # mid-leg: a new S-curve from here and at this speed (SCurve::set_speed_max re-plans in place)
            o, u = leg.origin, leg.unit
            start = (o[0] + u[0] * p, o[1] + u[1] * p, o[2] + u[2] * p)
            new = Leg(start, leg.dest)
            new.plan(self)
            new.curve.set_origin_speed(min(v, new.curve.vel))
            setattr(self, name, new)

    def pause(self) -> bool:
        """set_pause: the target slows to a stop along the track (False when there is nothing to pause)."""
        if self.paused or not self.active or self.this is None or self.reached:
            return False
        self.paused = True
        return True

    def resume(self) -> bool:
        """set_resume: the target speeds up again along the same track."""
        if not self.paused:
            return False
        self.paused = False
        return True

    def _scaled(self, dt: float) -> float:
        """AC_WPNav eases its track clock towards 0 (paused) or 1 with the time constant
        WPNAV_ACCEL / WPNAV_JERK, so the target brakes and starts along the track, never off it."""
        goal = 0.0 if self.paused else 1.0
        if self.time_scale != goal:
            tc = max(self.accel / self.jerk, 0.1)
            self.time_scale += (goal - self.time_scale) * min(1.0, dt / tc)
            if abs(self.time_scale - goal) < 1e-3:
                self.time_scale = goal
        return dt * self.time_scale

    def advance(self, dt: float, pos: Vec3) -> tuple[Vec3, Vec3, Vec3]:
        """One controller step: the target position, velocity and acceleration (SCurve::advance_target_along_track)."""
        this = self.this
        if not self.active or this is None:
            return self.target
        scale = 1.0
        if self.paused or self.time_scale < 1.0:
            dt = self._scaled(dt)
            scale = self.time_scale
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
                u, L = this.unit, this.length
                turn_pos = _add(tp, (-u[0] * L, -u[1] * L, -u[2] * L), np_)
                turn_vel = _add(tv, nv)
                turn_acc = _add(ta, na)
                speed_min = min(c.speed_along_track(), nxt.curve.speed_along_track())
                if (
                    norm(turn_pos) < self.radius
                    and norm(turn_vel) < speed_min
                    and math.hypot(turn_acc[0], turn_acc[1]) < self.accel_corner
                    and (turn_acc[2] == 0 or abs(turn_acc[2]) < min(this.accel_z, nxt.accel_z))
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
        if scale < 1.0:  # the track clock runs slow: so do the target's velocity and acceleration
            vel_t = (vel_t[0] * scale, vel_t[1] * scale, vel_t[2] * scale)
            acc_t = (acc_t[0] * scale * scale, acc_t[1] * scale * scale, acc_t[2] * scale * scale)
        self.target = (pos_t, vel_t, acc_t)
        if not self.reached and finished:
            if self.fast:
                self.reached = True
            elif norm((pos[0] - self.dest[0], pos[1] - self.dest[1], pos[2] - self.dest[2])) <= self.radius:
                self.reached = True
        return self.target


POS_P = 1.0  # PSC_POSXY_P: position error -> velocity (1/s)
VEL_P = 2.0  # PSC_VELXY_P: velocity error -> acceleration (1/s)
VEL_I = 1.0  # PSC_VELXY_I: the integral holds the lean that drag needs at a steady speed (1/s/s)
VEL_IMAX = 10.0  # PSC_VELXY_IMAX, m/s/s
LEAN_TC_S = 0.1  # the copter tilts to a new acceleration within about this time
ACCEL_MAX = 9.80665 * math.tan(math.radians(30))  # ANGLE_MAX 30 degrees


def follow(target: tuple[Vec3, Vec3, Vec3], pos: Vec, vel: Vec, thrust: Vec, integ: Vec, dt: float) -> tuple[Vec, Vec]:
    """AC_PosControl, horizontally: the thrust's horizontal acceleration the copter reaches this
    step, and the velocity loop's new integral, while it follows the target with feed-forward,
    a P position loop and a PI velocity loop. Feed-forward knows nothing of drag: the integral
    learns it at a steady speed and unlearns it only as fast as PSC_VELXY_I lets it, so a copter
    braking from spray speed still pushes forward with the lean that speed needed and runs ahead
    of its target (about 0.3 m at a swath end from 5 m/s on ArduCopter 4.7 SITL)."""
    (tp, tv, ta) = target
    vn = tv[0] + POS_P * (tp[0] - pos[0])
    ve = tv[1] + POS_P * (tp[1] - pos[1])
    en, ee = vn - vel[0], ve - vel[1]
    an = ta[0] + VEL_P * en + integ[0]
    ae = ta[1] + VEL_P * ee + integ[1]
    mag = math.hypot(an, ae)
    if mag > ACCEL_MAX:  # at the lean limit the integral stops growing (AC_PID_2D's limit)
        an, ae = an / mag * ACCEL_MAX, ae / mag * ACCEL_MAX
    else:
        i_n, i_e = integ[0] + VEL_I * en * dt, integ[1] + VEL_I * ee * dt
        size = math.hypot(i_n, i_e)
        integ = (i_n, i_e) if size <= VEL_IMAX else (i_n / size * VEL_IMAX, i_e / size * VEL_IMAX)
    k = min(dt / LEAN_TC_S, 1.0)
    return (thrust[0] + (an - thrust[0]) * k, thrust[1] + (ae - thrust[1]) * k), integ


POS_Z_P = 1.0  # PSC_POSZ_P: altitude error -> climb rate (1/s)
VEL_Z_P = 5.0  # PSC_VELZ_P: climb-rate error -> vertical acceleration (1/s)
ACCEL_Z_MAX = 5.0  # what the throttle gives up or down beyond hover, m/s/s


def follow_z(target: tuple[Vec3, Vec3, Vec3], alt: float, vz: float, az: float, accel_z: float, dt: float) -> float:
    """AC_PosControl, vertically: the vertical acceleration reached this step while the copter
    follows the target's altitude with feed-forward of its climb rate and acceleration (the
    altitude error corrected through sqrt_controller, limited by WPNAV_ACCEL_Z)."""
    (tp, tv, ta) = target
    err = tp[2] - alt
    linear = accel_z / (POS_Z_P * POS_Z_P)
    if abs(err) > linear:
        corr = math.copysign(math.sqrt(2.0 * accel_z * (abs(err) - linear / 2.0)), err)
    else:
        corr = POS_Z_P * err
    a = max(-ACCEL_Z_MAX, min(ACCEL_Z_MAX, ta[2] + VEL_Z_P * (tv[2] + corr - vz)))
    k = min(dt / LEAN_TC_S, 1.0)
    return az + (a - az) * k
