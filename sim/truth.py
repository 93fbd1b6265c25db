"""Ground truth: what the simulated copter really did, for tests and for checking the logger."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import IO

from sim import modes as M
from sim.vehicle import Copter


@dataclass(frozen=True)
class TruthSample:
    t: float  # simulated seconds since boot
    lat: float
    lon: float
    alt_rel: float  # metres above home
    ground_speed: float  # m/s
    mode: str
    armed: bool
    flying: bool
    pump_pwm: int  # what the pump servo really gets (0 when no pump is assigned)
    pump_pct: float  # AC_Sprayer demand, % of full range
    flow_l_min: float  # litres per minute that really left the tank
    sprayed_l: float  # cumulative litres sprayed
    tank_l: float  # litres left in the tank
    battery_v: float
    battery_used_mah: float
    agl: float = 0.0  # metres above the ground under the copter (the DEM's; flat: above the origin)


@dataclass
class Truth:
    """A snapshot of the ground truth so far."""

    samples: list[TruthSample] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    sprayed_l: float = 0.0
    tank_l: float = 0.0
    pump_on_s: float = 0.0  # simulated seconds with liquid flowing
    sim_time_s: float = 0.0

    def spraying(self) -> list[TruthSample]:
        return [s for s in self.samples if s.flow_l_min > 0]

    def sprayed_area_m2(self, swath_m: float) -> float:
        """The area liquid really reached: the true track while it flowed, buffered by half
        the swath with flat ends (the same footprint a spray record assumes), in UTM metres.
        Samples are taken at every pump switch, so each run starts and ends where it did."""
        import shapely

        from fields import LocalFrame

        runs: list[list[tuple[float, float]]] = [[]]
        for s in self.samples:
            if s.flow_l_min > 0:
                runs[-1].append((s.lon, s.lat))
            elif runs[-1]:
                runs.append([])
        runs = [r for r in runs if len(r) > 1]
        if not runs:
            return 0.0
        frame = LocalFrame.for_lonlat(*runs[0][0])
        lines = [frame.geom_to_local(shapely.LineString(r)) for r in runs]
        return float(shapely.union_all(shapely.buffer(lines, swath_m / 2, cap_style="flat")).area)


class TruthRecorder:
    """Samples at `hz` of simulated time and at every pump on/off, arming and mode change, optionally as JSON lines.

    The lines go to `<path>.part` as the flight goes (flushed about once a wall second, so a
    logger can be compared while flying); close() adds a {"type": "summary"} line and renames
    it to `path`, so `path` only ever holds a complete record.
    """

    def __init__(self, path: str | None, hz: float) -> None:
        self._period = 1.0 / hz if hz > 0 else float("inf")
        self._next = 0.0
        self._lock = threading.Lock()
        self._samples: list[TruthSample] = []
        self._events: list[tuple[float, str]] = []
        self._pump_on_s = 0.0
        self._last_state: tuple[bool, bool, int] = (False, False, -1)
        self._last_t = 0.0
        self._sprayed = 0.0
        self._tank = 0.0
        self.path = path
        self._part = f"{path}.part" if path else None
        self._fh: IO[str] | None = open(self._part, "w", encoding="utf-8") if self._part else None
        self._last_flush = time.monotonic()

    def record(self, c: Copter, dt: float) -> None:
        pay = c.payload
        flowing = pay.flow_l_min > 0
        if flowing:
            self._pump_on_s += dt
        self._sprayed = pay.tank.sprayed_l
        self._tank = pay.tank.litres
        self._last_t = c.t
        state = (flowing, c.armed, c.mode)
        if c.t + 1e-9 >= self._next or state != self._last_state:
            self._next = c.t + self._period
            self._last_state = state
            lat, lon = c.latlon()
            ch = int(c.p["SIM_SPR_PUMP"])
            pwm = c.servos.pwm(ch) if 1 <= ch <= 16 else 0
            sample = TruthSample(
                round(c.t, 3),
                round(lat, 8),
                round(lon, 8),
                round(c.relative_alt(), 3),
                round(c.motion.ground_speed(), 3),
                M.NAMES.get(c.mode, str(c.mode)),
                c.armed,
                c.flying,
                pwm,
                round(pay.pump_demand / 100.0, 2),
                round(pay.flow_l_min, 4),
                round(pay.tank.sprayed_l, 5),
                round(pay.tank.litres, 5),
                round(c.battery.voltage, 3),
                round(c.battery.used_mah, 1),
                round(c.height_above_ground(), 3),
            )
            with self._lock:
                self._samples.append(sample)
            self._write({"type": "sample", **asdict(sample)})

    def event(self, t: float, text: str) -> None:
        with self._lock:
            self._events.append((t, text))
        self._write({"type": "event", "t": round(t, 3), "text": text})

    def _write(self, obj: dict) -> None:
        if self._fh is None:
            return
        self._fh.write(json.dumps(obj, separators=(",", ":")) + "\n")
        now = time.monotonic()
        if now - self._last_flush > 1.0:
            self._fh.flush()
            self._last_flush = now

    def snapshot(self) -> Truth:
        with self._lock:
            return Truth(
                list(self._samples), list(self._events), self._sprayed, self._tank, self._pump_on_s, self._last_t
            )

    def discard(self) -> None:
        """Drop the unfinished file (the run never started)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            assert self._part is not None  # a file is open only when there is a path
            os.remove(self._part)

    def close(self) -> None:
        if self._fh is None:
            return
        snap = self.snapshot()
        self._write(
            {
                "type": "summary",
                "t": round(snap.sim_time_s, 3),
                "sprayed_l": round(snap.sprayed_l, 5),
                "tank_l": round(snap.tank_l, 5),
                "pump_on_s": round(snap.pump_on_s, 3),
            }
        )
        self._fh.close()
        self._fh = None
        assert self._part is not None and self.path is not None  # a file is open only when there is a path
        os.replace(self._part, self.path)


def read_truth(path: str) -> Truth:
    """Load a truth file written by TruthRecorder back into a Truth."""
    truth = Truth()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            kind = obj.pop("type")
            if kind == "sample":
                truth.samples.append(TruthSample(**obj))
            elif kind == "event":
                truth.events.append((obj["t"], obj["text"]))
            elif kind == "summary":
                truth.sprayed_l, truth.tank_l = obj["sprayed_l"], obj["tank_l"]
                truth.pump_on_s, truth.sim_time_s = obj["pump_on_s"], obj["t"]
    return truth
