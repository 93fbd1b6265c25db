"""ArduPilot's SCurve (libraries/AP_Math/SCurve.cpp): the jerk-limited speed profile of one straight leg.

AC_WPNav moves its position target along each waypoint leg with this profile: jerk ramps
as a raised cosine limited by snap, acceleration up to WPNAV_ACCEL, speed up to WPNAV_SPEED,
rest to rest. A copter flying it takes several seconds to reach spray speed and to stop,
which is most of the time a short swath takes; a constant-acceleration model flies a field
10-15 % faster than ArduCopter does. This is a line-by-line port of the parts Copter uses
for straight legs (23 segments: start, 7 accelerate, 7 speed change, constant, 7 brake).
"""

from __future__ import annotations

import math

SEG_INIT, SEG_ACCEL_MAX, SEG_ACCEL_END, SEG_SPEED_CHANGE_END, SEG_CONST, SEG_DECEL_END = 0, 4, 7, 14, 15, 22
SEGMENTS = 23
CONST, INCR, DECR = 0, 1, 2  # segment types: constant jerk, raised-cosine jerk up, down


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x > 0 else 0.0


def _cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


def calculate_path(
    Sm: float, Jm: float, V0: float, Am: float, Vm: float, L: float
) -> tuple[float, float, float, float, float]:
    """SCurve::calculate_path: (Jm, tj, t2, t4, t6) to go from V0 towards Vm within L."""
    if not (Sm > 0 and Jm > 0 and Am > 0 and Vm > 0 and L > 0) or V0 >= Vm:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    tj = Jm * math.pi / (2 * Sm)
    At = min(Am, (Vm - V0) / (2.0 * tj), (L + 4.0 * V0 * tj) / (4.0 * tj * tj))
    t2 = t4 = t6 = 0.0

    def t4_of(Am: float, Jm: float) -> float:
        root = _sqrt(
            Am**4 / 4
            + Jm * Jm * V0 * V0
            + Am * Am * Jm * Jm * tj * tj / 4
            + Am * Jm * Jm * L * 2
            - Am * Am * Jm * V0
            + Am**3 * Jm * tj / 2
            - Am * Jm * Jm * V0 * tj
        )
        base = -Am * Am * 1.5 - Jm * V0 - Am * Jm * tj * 1.5
        return max(
            min(-(V0 - Vm + Am * tj + Am * Am / Jm) / Am, max((base + root) / (Am * Jm), (base - root) / (Am * Jm))),
            0.0,
        )

    if abs(At) < Jm * tj:
        if V0 == 0:
            tj = min(
                tj,
                (L * math.pi / (8.0 * Sm)) ** 0.25,
                (Vm * math.pi / (4.0 * Sm)) ** (1 / 3),
                _sqrt(Am * math.pi / (2.0 * Sm)),
            )
            Jm = 2.0 * Sm * tj / math.pi
            Am = Jm * tj
        else:
            Am = At
            Jm = Am / tj
        if not ((Vm <= V0 + 2.0 * Am * tj) or (L <= 4.0 * V0 * tj + 4.0 * Am * tj * tj)):
            t4 = t4_of(Am, Jm)
    else:
        if (Vm < V0 + Am * tj + Am * Am / Jm) or (
            L < 1.0 / (Jm * Jm) * (Am**3 + Am * Jm * (V0 * 2.0 + Am * tj * 2.0)) + V0 * tj * 2.0 + Am * tj * tj
        ):
            q = Jm * Jm * tj * tj / 9.0 - Jm * V0 * 2.0 / 3.0
            r = (
                -Jm * Jm * L / 2.0
                + Jm**3 * tj**3 * 8.0 / 27.0
                - Jm * tj * (Jm * Jm * tj * tj + Jm * V0 * 2.0) / 3.0
                + Jm * Jm * V0 * tj
            )
            s = _sqrt(r * r - q**3)
            d = _sqrt((V0 * -4.0 + Vm * 4.0 + Jm * tj * tj) / Jm)
            Am = min(
                Am,
                max(Jm * (tj + d) * -0.5, Jm * (tj - d) * -0.5),
                Jm * tj * (-2.0 / 3.0) + q / _cbrt(s - r) + _cbrt(s - r) if s - r != 0 else Am,
            )
            t2 = t6 = Am / Jm - tj
        else:
            t2 = t6 = Am / Jm - tj
            t4 = t4_of(Am, Jm)
    if not all(math.isfinite(v) and v >= 0 for v in (Jm, tj, t2, t4, t6)):
        return 0.0, 0.0, 0.0, 0.0, 0.0
    return Jm, tj, t2, t4, t6


class SCurve:
    """One leg's along-track profile: time -> (jerk, accel, speed, distance), distance in 0..length."""

    def __init__(self) -> None:
        self.init()

    def init(self) -> None:
        self.snap = self.jerk = self.accel = self.vel = 0.0
        self.length = 0.0
        self.time = 0.0
        self.seg: list[list[float]] = [[0.0, CONST, 0.0, 0.0, 0.0, 0.0]]  # end_time, type, jerk, A, V, P

    @property
    def valid(self) -> bool:
        return len(self.seg) == SEGMENTS

    def calculate(self, length: float, speed: float, accel: float, snap: float, jerk: float) -> None:
        """SCurve::calculate_track for a straight leg of `length` metres."""
        self.init()
        if length <= 1e-6 or speed <= 0 or accel <= 0:
            return
        self.snap, self.jerk, self.accel, self.vel, self.length = snap, jerk, accel, speed, length
        self._add_segments(length)

    # ---- segment construction (add_segment_* in SCurve.cpp)
    def _add(self, end_time: float, kind: int, j: float, a: float, v: float, p: float) -> None:
        self.seg.append([end_time, kind, j, a, v, p])

    def _const(self, tj: float, j0: float) -> None:
        T, _, _, A0, V0, P0 = self.seg[-1]
        if tj <= 0:
            self._add(T, CONST, j0, A0, V0, P0)
            return
        self._add(
            T + tj,
            CONST,
            j0,
            A0 + j0 * tj,
            V0 + A0 * tj + 0.5 * j0 * tj * tj,
            P0 + V0 * tj + 0.5 * A0 * tj * tj + j0 * tj**3 / 6.0,
        )

    def _incr(self, tj: float, Jm: float) -> None:
        T, _, _, A0, V0, P0 = self.seg[-1]
        if tj <= 0:
            self._add(T, CONST, 0.0, A0, V0, P0)
            return
        beta, alpha = math.pi / tj, Jm * 0.5
        AT, VT = alpha * tj, alpha * (tj * tj * 0.5 - 2.0 / beta**2)
        PT = alpha * (-tj / beta**2 + tj**3 / 6.0)
        self._add(T + tj, INCR, Jm, A0 + AT, V0 + A0 * tj + VT, P0 + V0 * tj + 0.5 * A0 * tj * tj + PT)

    def _decr(self, tj: float, Jm: float) -> None:
        T, _, _, A0, V0, P0 = self.seg[-1]
        if tj <= 0:
            self._add(T, CONST, 0.0, A0, V0, P0)
            return
        beta, alpha = math.pi / tj, Jm * 0.5
        AT, VT = alpha * tj, alpha * (tj * tj * 0.5 - 2.0 / beta**2)
        PT = alpha * (-tj / beta**2 + tj**3 / 6.0)
        A2T, V2T, P2T = Jm * tj, Jm * tj * tj, alpha * (-2.0 * tj / beta**2 + 4.0 / 3.0 * tj**3)
        self._add(
            T + tj,
            DECR,
            Jm,
            (A0 - AT) + A2T,
            (V0 - VT) + (A0 - AT) * tj + V2T,
            (P0 - PT) + (V0 - VT) * tj + 0.5 * (A0 - AT) * tj * tj + P2T,
        )

    def _jerk_block(self, tj: float, Jm: float, tcj: float) -> None:
        self._incr(tj, Jm)
        self._const(tcj, Jm)
        self._decr(tj, Jm)

    def _add_segments(self, L: float) -> None:
        Jm, tj, t2, t4, t6 = calculate_path(self.snap, self.jerk, 0.0, self.accel, self.vel, L * 0.5)
        self._jerk_block(tj, Jm, t2)
        self._const(t4, 0.0)
        self._jerk_block(tj, -Jm, t6)
        self.seg[SEG_ACCEL_END][3] = 0.0
        for _ in range(7):
            self._const(0.0, 0.0)
        v14, p14 = self.seg[SEG_SPEED_CHANGE_END][4], self.seg[SEG_SPEED_CHANGE_END][5]
        self._const(max(0.0, (L - 2.0 * p14) / v14) if v14 > 0 else 0.0, 0.0)
        self._jerk_block(tj, -Jm, t6)
        self._const(t4, 0.0)
        self._jerk_block(tj, Jm, t2)
        self.seg[SEG_DECEL_END][3] = 0.0
        self.seg[SEG_DECEL_END][4] = 0.0

    def set_origin_speed(self, speed: float) -> float:
        """SCurve::set_origin_speed_max: start the leg already moving at `speed` (at most its cruise speed)."""
        if not self.valid:
            return 0.0
        vm = self.seg[SEG_ACCEL_END][4]
        speed = min(abs(speed), vm)
        L = self.length
        Jm, tj, t2, t4, t6 = calculate_path(self.snap, self.jerk, speed, self.accel, vm, L * 0.5)
        self.seg = [[0.0, CONST, 0.0, 0.0, speed, 0.0]]
        self._jerk_block(tj, Jm, t2)
        self._const(t4, 0.0)
        self._jerk_block(tj, -Jm, t6)
        self.seg[SEG_ACCEL_END][3] = 0.0
        dp = min(0.0, L * 0.5 - self.seg[SEG_ACCEL_END][5])
        if dp < 0 and self.seg[SEG_ACCEL_END][4] > 0:
            dt = dp / self.seg[SEG_ACCEL_END][4]
            for s in self.seg[: SEG_ACCEL_END + 1]:
                s[0] += dt
                s[5] += dp
        for _ in range(7):
            self._const(0.0, 0.0)
        self._const(0.0, 0.0)
        Jm, tj, t2, t4, t6 = calculate_path(self.snap, self.jerk, 0.0, self.accel, self.seg[SEG_CONST][4], L * 0.5)
        self._jerk_block(tj, -Jm, t6)
        self._const(t4, 0.0)
        self._jerk_block(tj, Jm, t2)
        self.seg[SEG_DECEL_END][3] = 0.0
        self.seg[SEG_DECEL_END][4] = max(0.0, self.seg[SEG_DECEL_END][4])
        dp = max(0.0, L - self.seg[SEG_DECEL_END][5])
        v = self.seg[SEG_CONST][4]
        if v > 0:
            for s in self.seg[SEG_CONST:]:
                s[0] += dp / v
                s[5] += dp
        return speed

    # ---- timing
    def time_end(self) -> float:
        return self.seg[SEG_DECEL_END][0] if self.valid else 0.0

    def time_remaining(self) -> float:
        return self.time_end() - self.time if self.valid else 0.0

    def time_accel_end(self) -> float:
        return self.seg[SEG_ACCEL_END][0] if self.valid else 0.0

    def time_decel_start(self) -> float:
        return self.seg[SEG_CONST][0] if self.valid else 0.0

    def finished(self) -> bool:
        return self.time >= self.time_end()

    def speed_along_track(self) -> float:
        return self.seg[SEG_CONST][4] if self.valid else 0.0

    def advance(self, dt: float) -> tuple[float, float, float]:
        self.time = min(self.time + dt, self.time_end())
        return self.at(self.time)

    def at(self, t: float) -> tuple[float, float, float]:
        """(distance, speed, acceleration) along the leg at time t (SCurve::get_jerk_accel_vel_pos_at_time)."""
        if not self.valid:
            return 0.0, 0.0, 0.0
        seg = self.seg
        pnt = SEGMENTS
        for i in range(SEGMENTS - 1, -1, -1):
            if t < seg[i][0]:
                pnt = i
        kind: float
        if pnt == 0:
            kind, Jm, tj, (T0, _, _, A0, V0, P0) = CONST, 0.0, 0.0, seg[0]
        elif pnt == SEGMENTS:
            kind, Jm, tj, (T0, _, _, A0, V0, P0) = CONST, 0.0, 0.0, seg[-1]
        else:
            kind, Jm = seg[pnt][1], seg[pnt][2]
            tj = seg[pnt][0] - seg[pnt - 1][0]
            T0, _, _, A0, V0, P0 = seg[pnt - 1]
        x = t - T0
        if kind == CONST or tj <= 0:
            j = Jm if kind == CONST else 0.0
            return max(0.0, P0 + V0 * x + 0.5 * A0 * x * x + j * x**3 / 6.0), V0 + A0 * x + 0.5 * j * x * x, A0 + j * x
        alpha, beta = Jm * 0.5, math.pi / tj
        if kind == INCR:
            A = A0 + alpha * x - alpha / beta * math.sin(beta * x)
            V = V0 + A0 * x + alpha * 0.5 * x * x + alpha / beta**2 * math.cos(beta * x) - alpha / beta**2
            P = (
                P0
                + V0 * x
                + 0.5 * A0 * x * x
                - alpha / beta**2 * x
                + alpha * x**3 / 6.0
                + alpha / beta**3 * math.sin(beta * x)
            )
            return max(0.0, P), V, A
        AT, VT = alpha * tj, alpha * (tj * tj * 0.5 - 2.0 / beta**2)
        PT = alpha * (-tj / beta**2 + tj**3 / 6.0)
        y = x + tj
        A = (A0 - AT) + alpha * y - alpha / beta * math.sin(beta * y)
        V = (V0 - VT) + (A0 - AT) * x + 0.5 * alpha * y * y + alpha / beta**2 * math.cos(beta * y) - alpha / beta**2
        P = (
            (P0 - PT)
            + (V0 - VT) * x
            + 0.5 * (A0 - AT) * x * x
            - alpha / beta**2 * y
            + alpha / 6.0 * y**3
            + alpha / beta**3 * math.sin(beta * y)
        )
        return max(0.0, P), V, A
