"""The airframe and its position controller: where the copter is and how it moves to its targets.

The flight modes only set targets here (a point to hold or fly to, an altitude, a landing
descent, a waypoint leg for AC_WPNav); `Motion.step` integrates the kinematics towards them
once a tick, with the wind and gusts pushing. Along a WPNav leg the target is a point moving on
the S-curve of the straight 3D line between waypoints (sim/wpnav.py), followed like
AC_PosControl horizontally and vertically; else the copter flies straight at the target with
braking, and climbs or descends at WPNAV_SPEED_UP/DN and WPNAV_ACCEL_Z (LAND_SPEED(_HIGH) when
descending to land, by the height above the ground).

The ground is the DEM when the simulator has one (sim/ground.py), flat at alt 0 otherwise: the
copter takes off from it and lands on it, and touching it while flying fast is a crash.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from sim.params import ParamStore
from sim.wpnav import Vec3, WPNav, follow, follow_z

G = 9.80665
Vec = tuple[float, float]
CRASH_SPEED_M_S = 2.0  # touching the ground faster than this across it is a crash, not a landing
# Drag against the air, m/s/s = DRAG_LINEAR x v + DRAG_SQUARE x v^2 (v m/s through the air): fitted
# to the lean ArduCopter 4.7 SITL's copter holds at steady speeds (0.4 m/s/s at 1.3 m/s, 2.1 at
# 5 m/s, 3.9 at 8 m/s: 12 degrees of pitch at spray speed).
DRAG_LINEAR = 0.28
DRAG_SQUARE = 0.027


class Motion:
    """Kinematics (north/east/up metres from the origin; the ground under the copter at
    `ground`, alt 0 where there is no DEM) and the targets the modes give; step(dt) moves the
    copter one tick of simulated time."""

    def __init__(self, params: ParamStore, seed: int, ground_at: Callable[[float, float], float] | None = None) -> None:
        self.p = params
        self.rng = random.Random(seed)  # the gusts
        self.ground_at = ground_at  # (north, east) -> ground height above the origin's; None: flat
        self.n = self.e = 0.0
        self.ground = ground_at(0.0, 0.0) if ground_at is not None else 0.0
        self.alt = self.ground
        self.vn = self.ve = self.vz = 0.0
        self.an = self.ae = self.az = 0.0
        self.tn = self.te = 0.0  # the thrust's horizontal acceleration (the lean): drag is the rest
        self.vel_i: Vec = (0.0, 0.0)  # AC_PosControl's velocity integral (sim/wpnav.py follow)
        self.crashed = False  # the last touchdown was a crash (set by step)
        self.yaw = 0.0
        self.yaw_rate = 0.0
        self.landed = True
        self.gust_n = self.gust_e = 0.0
        # targets, set by the flight modes
        self.target: Vec | None = None  # horizontal goal (n, e)
        self.target_alt: float | None = None  # goal altitude above the origin's ground
        self.descending = False  # landing: descend at the land speed
        self.speed_m_s = self.p["WPNAV_SPEED"] / 100.0
        self.nav = WPNav()  # AC_WPNav: the S-curve target of AUTO waypoints and the RTL return
        self.nav_on = False

    # ------------------------------------------------------------------ state
    def here(self) -> Vec:
        return self.n, self.e

    def here3(self) -> Vec3:
        return self.n, self.e, self.alt

    def ground_speed(self) -> float:
        return math.hypot(self.vn, self.ve)

    def height_above_ground(self) -> float:
        return self.alt - self.ground

    def mean_wind(self) -> Vec:
        """The mean wind's velocity (towards), north/east m/s: SIM_WIND_SPD from SIM_WIND_DIR."""
        spd = self.p["SIM_WIND_SPD"]
        frm = math.radians(self.p["SIM_WIND_DIR"])
        return -spd * math.cos(frm), -spd * math.sin(frm)

    def wind(self) -> Vec:
        """Wind velocity (towards), north/east m/s, gusts included."""
        wn, we = self.mean_wind()
        return wn + self.gust_n, we + self.gust_e

    def airspeed(self) -> float:
        wn, we = self.wind()
        return math.hypot(self.vn - wn, self.ve - we)

    def drag(self) -> Vec:
        """The air's drag on the copter (north, east m/s/s) at its speed through the mean wind."""
        wn, we = self.mean_wind()
        un, ue = self.vn - wn, self.ve - we  # through the air
        k = DRAG_LINEAR + DRAG_SQUARE * math.hypot(un, ue)
        return -k * un, -k * ue

    def attitude(self) -> tuple[float, float, float]:
        """(roll, pitch, yaw) in radians from the thrust's lean (acceleration plus drag)."""
        if self.landed:
            return 0.0, 0.0, self.yaw
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        fwd = self.tn * cy + self.te * sy
        right = -self.tn * sy + self.te * cy
        return math.atan2(right, G), -math.atan2(fwd, G), self.yaw

    # ------------------------------------------------------------------ targets
    def hold_here(self) -> None:
        """Hold the current position and altitude (nothing to hold on the ground)."""
        self.nav_on = False
        if not self.landed:
            self.target = (self.n, self.e)
            self.target_alt = self.alt
        else:
            self.target = None
            self.target_alt = None

    def release(self) -> None:
        """No target at all: a manual mode, or motors off."""
        self.target = None
        self.target_alt = None

    def fly_leg(self, dest: Vec3, after: Vec3 | None) -> None:
        """Fly a waypoint leg with AC_WPNav's S-curves along the 3D line to `dest` (north, east,
        alt), from the last destination when still on the move; `after` is the waypoint next."""
        self.nav.configure(
            speed=self.speed_m_s,
            accel=self.p["WPNAV_ACCEL"] / 100.0,
            radius=self.p["WPNAV_RADIUS"] / 100.0,
            jerk=self.p["WPNAV_JERK"],
            accel_corner=self.p["WPNAV_ACCEL_C"] / 100.0,
            speed_up=self.p["WPNAV_SPEED_UP"] / 100.0,
            speed_down=self.p["WPNAV_SPEED_DN"] / 100.0,
            accel_z=self.p["WPNAV_ACCEL_Z"] / 100.0,
        )
        start = self._stopping_point()
        if not self.nav_on:
            self.nav.init(start)
        self.nav.set_destination(dest, start)
        if after is not None:
            self.nav.set_destination_next(after)
        self.target = (dest[0], dest[1])
        self.target_alt = dest[2]
        self.nav_on = True

    def _stopping_point(self) -> Vec3:
        """Where a new leg starts when the waypoint controller starts afresh: here, at the
        position controller's altitude target (the take-off's or RTL climb's completion
        altitude, as ModeAuto and ModeRTL hand AC_WPNav) when the copter is about there."""
        if self.nav_on:
            z = self.nav.target[0][2]
        elif self.target_alt is not None and abs(self.target_alt - self.alt) <= 1.0:
            z = self.target_alt
        else:
            z = self.alt
        return self.n, self.e, z

    def at_target(self) -> bool:
        """Arrived: the WPNav leg reached (or within WPNAV_RADIUS of the target), at its altitude."""
        if self.target is None or self.landed:
            return False
        if self.nav_on:
            dz = abs((self.target_alt if self.target_alt is not None else self.alt) - self.alt)
            return self.nav.reached and dz <= 1.0
        radius = max(self.p["WPNAV_RADIUS"] / 100.0, 0.05)
        dh = math.hypot(self.target[0] - self.n, self.target[1] - self.e)
        dz = abs((self.target_alt if self.target_alt is not None else self.alt) - self.alt)
        return dh <= radius and dz <= max(1.0, radius)

    # ------------------------------------------------------------------ the tick
    def step(self, dt: float, *, armed: bool, may_take_off: bool, throttle_low: bool) -> bool:
        """Move one tick; True when the copter touched down in it (`crashed` tells whether it
        hit the ground flying fast). Disarmed, it falls."""
        self._gusts(dt)
        if self.landed:
            self.vn = self.ve = self.vz = self.an = self.ae = self.az = 0.0
            self.tn = self.te = 0.0
            self.vel_i = (0.0, 0.0)
            self.alt = self.ground
            wants_up = armed and self.target_alt is not None and self.target_alt > self.alt + 0.2 and may_take_off
            if not wants_up:
                return False
            self.landed = False
        self._horizontal(dt, armed)
        touched_down = self._vertical(dt, armed, throttle_low)
        self._heading(dt)
        return touched_down

    def _gusts(self, dt: float) -> None:
        """A seeded Ornstein-Uhlenbeck process per axis."""
        sigma = self.p["SIM_WIND_TURB"]
        if sigma > 0:
            tau = 3.0
            k = math.sqrt(2.0 * dt / tau) * sigma
            self.gust_n += -self.gust_n * dt / tau + k * self.rng.gauss(0.0, 1.0)
            self.gust_e += -self.gust_e * dt / tau + k * self.rng.gauss(0.0, 1.0)

    def _horizontal(self, dt: float, armed: bool) -> None:
        """Fly to the target, braking to arrive; along the WPNav leg when one is flown."""
        acc = max(self.p["WPNAV_ACCEL"] / 100.0, 0.1)
        dn, de = self.drag()
        if armed and self.nav_on:  # AC_WPNav's target, followed by AC_PosControl against the drag
            target = self.nav.advance(dt, self.here3())
            (self.tn, self.te), self.vel_i = follow(
                target, (self.n, self.e), (self.vn, self.ve), (self.tn, self.te), self.vel_i, dt
            )
            self.an, self.ae = self.tn + dn, self.te + de
            self.vn += self.an * dt
            self.ve += self.ae * dt
        else:
            if not armed:  # falling: no thrust
                vdn, vde = self.vn, self.ve
            elif self.target is not None:
                dn, de = self.target[0] - self.n, self.target[1] - self.e
                d = math.hypot(dn, de)
                if d > 1e-6:
                    v = min(self.speed_m_s, math.sqrt(2.0 * acc * d), 1.5 * d)
                    vdn, vde = dn / d * v, de / d * v
                else:
                    vdn = vde = 0.0
            else:
                vdn = vde = 0.0
            dvn, dve = vdn - self.vn, vde - self.ve
            dv = math.hypot(dvn, dve)
            lim = acc * dt
            if dv > lim:
                dvn, dve = dvn / dv * lim, dve / dv * lim
            self.an, self.ae = dvn / dt, dve / dt
            self.vn += dvn
            self.ve += dve
            # flown as kinematics, with the lean drag needs; the velocity integral holds that lean,
            # as ArduCopter's does, when a waypoint leg starts
            self.tn, self.te = (self.an - dn, self.ae - de) if armed else (0.0, 0.0)
            self.vel_i = (-dn, -de) if armed else (0.0, 0.0)
        gust_push = 0.15 * dt
        self.n += self.vn * dt + self.gust_n * gust_push
        self.e += self.ve * dt + self.gust_e * gust_push
        if self.ground_at is not None:
            self.ground = self.ground_at(self.n, self.e)

    def _vertical(self, dt: float, armed: bool, throttle_low: bool) -> bool:
        target_alt = self.target_alt
        acc_z = max(self.p["WPNAV_ACCEL_Z"] / 100.0, 0.1)
        if armed and self.nav_on and not self.descending:
            tp, tv, ta = self.nav.target
            if tv[2] != 0 or ta[2] != 0:  # climbing or descending along the leg's 3D line
                self.az = follow_z(self.nav.target, self.alt, self.vz, self.az, acc_z, dt)
                self.vz += self.az * dt
                self.alt += self.vz * dt
                return self._touchdown()
            target_alt = tp[2]  # a level target is held as any altitude target (below)
        up = self.p["WPNAV_SPEED_UP"] / 100.0
        dn_speed = self.p["WPNAV_SPEED_DN"] / 100.0
        if not armed:
            vz_des = -8.0
            acc_z = G
        elif self.descending:
            high = self.p["LAND_SPEED_HIGH"] / 100.0 or dn_speed
            low_alt = self.p["LAND_ALT_LOW"] / 100.0
            vz_des = -(high if self.height_above_ground() > low_alt else self.p["LAND_SPEED"] / 100.0)
        elif target_alt is not None:
            dz = target_alt - self.alt
            v = min(math.sqrt(2.0 * acc_z * abs(dz)), 1.5 * abs(dz))
            vz_des = min(v, up) if dz > 0 else -min(v, dn_speed)
        elif throttle_low:
            vz_des = -2.5  # throttle stick at the bottom: the copter sinks
        else:
            vz_des = 0.0
        dvz = vz_des - self.vz
        lim_z = acc_z * dt
        dvz = max(-lim_z, min(lim_z, dvz))
        self.az = dvz / dt
        self.vz += dvz
        self.alt += self.vz * dt
        return self._touchdown()

    def _touchdown(self) -> bool:
        """On the ground again: landed where it touched (a crash when it was flying fast across)."""
        if self.alt > self.ground:
            return False
        self.crashed = self.ground_speed() > CRASH_SPEED_M_S
        self.alt = self.ground
        self.vn = self.ve = self.vz = self.an = self.ae = self.az = 0.0
        self.landed = True
        return True

    def _heading(self, dt: float) -> None:
        """The nose follows the track at up to 90 deg/s."""
        gs = math.hypot(self.vn, self.ve)
        if gs > 0.5:
            want = math.atan2(self.ve, self.vn)
            err = (want - self.yaw + math.pi) % (2 * math.pi) - math.pi
            step = max(-math.radians(90) * dt, min(math.radians(90) * dt, err))
            self.yaw = (self.yaw + step) % (2 * math.pi)
            self.yaw_rate = step / dt
        else:
            self.yaw_rate = 0.0
