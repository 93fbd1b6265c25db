"""Terrain for the vehicle: the plan's DEM served over MAVLink as a ground station does.

ArduPilot's AP_Terrain keeps the ground's height on a grid of its own (TERRAIN_SPACING
metres) and asks the ground station for what it lacks: TERRAIN_REQUEST names one grid
block (its SW corner, the spacing, a 56-bit mask of 4x4 sub-grids) and each TERRAIN_DATA
answers one sub-grid with 16 heights in whole metres above mean sea level. Its TERRAIN_REPORT
says how many sub-grids it still waits for (`pending`) and the ground under it.

The grid geometry here is ArduPilot's own (AP_Terrain/TerrainGCS.cpp handle_terrain_data,
TerrainUtil.cpp grid_bitnum, AP_Common/Location.cpp offset_latlng): a block is 7 sub-grids
north by 8 east; bit b covers grid rows 4*(b // 8).. (north) and columns 4*(b % 8).. (east);
data[4*x + y] is row x, column y; grid point (row, col) lies row*spacing north and col*spacing
east of the block's corner, offset with Location::offset's flat-earth arithmetic (as
ArduPilot's create_terrain.py fills its SD-card files). MAVProxy's terrain module sends the
same points. In ArduPilot SITL with SIM_TERRAIN 1 the simulated ground follows the same data
(SIM_Aircraft ground_height_difference reads AP_Terrain's height_amsl), so what is served
here is the ground SITL's copter lands on.

`TerrainServer` is a listener on the link (`Vehicle`, `LinkKeeper`): it answers every
TERRAIN_REQUEST on the connection from its own thread (during an upload, the pre-flight
checks, every sortie and between sorties) and keeps the vehicle's last TERRAIN_REPORT, so
`check` can say whether the vehicle holds the plan's ground before a take-off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from gettext import gettext as _
from typing import TYPE_CHECKING, Any

import numpy as np

from fields.terrain import Terrain
from missions.dialect import mavlink
from missions.errors import MissionError

if TYPE_CHECKING:
    from missions.link import Vehicle

SUBGRID = 4  # TERRAIN_GRID_MAVLINK_SIZE: one TERRAIN_DATA holds 4x4 heights
BLOCK_MUL_X = 7  # TERRAIN_GRID_BLOCK_MUL_X: sub-grids northward in a block
BLOCK_MUL_Y = 8  # TERRAIN_GRID_BLOCK_MUL_Y: sub-grids eastward in a block
BLOCK_BITS = BLOCK_MUL_X * BLOCK_MUL_Y  # 56
LATLON_TO_M_INV = 89.83204953368922  # ArduPilot's LOCATION_SCALING_FACTOR_INV: 1e-7 deg per metre


# --------------------------------------------------------------------- grid geometry
def longitude_scale(lat_e7: np.ndarray) -> np.ndarray:
    """Location::longitude_scale: cos(latitude), kept above 0.01 near the poles."""
    return np.maximum(np.cos(np.radians(np.asarray(lat_e7, dtype=float) * 1e-7)), 0.01)


def offset_e7(lat_e7: int, lon_e7: int, north_m: np.ndarray, east_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Location::offset_latlng: a point `north_m`, `east_m` from (lat_e7, lon_e7), both in
    1e-7 degrees, truncated to integers as ArduPilot does."""
    dlat = np.trunc(np.asarray(north_m, dtype=float) * LATLON_TO_M_INV).astype(np.int64)
    dlon = np.trunc(
        np.asarray(east_m, dtype=float) * LATLON_TO_M_INV / longitude_scale(lat_e7 + np.fix(dlat / 2))
    )  # C's int division
    return lat_e7 + dlat, lon_e7 + dlon.astype(np.int64)


def subgrid_points(lat_e7: int, lon_e7: int, spacing_m: int, bit: int) -> tuple[np.ndarray, np.ndarray]:
    """The 16 points of sub-grid `bit` of the block whose SW corner is (lat_e7, lon_e7), in
    TERRAIN_DATA's order (data[4*x + y]: x northward, y eastward), as 1e-7 degrees."""
    if not 0 <= bit < BLOCK_BITS:
        raise ValueError(f"gridbit {bit} is not in 0..{BLOCK_BITS - 1}")
    i = np.arange(SUBGRID * SUBGRID)
    row = (bit // BLOCK_MUL_Y) * SUBGRID + i // SUBGRID
    col = (bit % BLOCK_MUL_Y) * SUBGRID + i % SUBGRID
    return offset_e7(lat_e7, lon_e7, row * float(spacing_m), col * float(spacing_m))


def mask_bits(mask: int) -> list[int]:
    """The sub-grids a TERRAIN_REQUEST's mask asks for (bits 56-63 mean nothing)."""
    return [b for b in range(BLOCK_BITS) if mask >> b & 1]


# --------------------------------------------------------------------- the ground, everywhere
class Ground:
    """The DEM's height anywhere (metres above mean sea level): inside it as the DEM says;
    outside, the height at its nearest edge. ArduPilot asks for whole blocks (up to 140 x 160
    grid points around the vehicle and each mission item) that reach beyond a DEM cropped to
    the field, and an answer is needed for every point: the edge's height keeps the ground
    continuous there, and nothing is flown out there."""

    def __init__(self, terrain: Terrain) -> None:
        self.terrain = terrain
        try:
            self._filled = terrain.everywhere()  # voids filled: the vehicle needs every grid point
        except ValueError:
            raise MissionError(_("the plan's DEM holds no heights at all: cannot serve terrain")) from None

    def inside(self, lon: Any, lat: Any) -> np.ndarray:
        """Where the DEM itself has a height (no clamping, no filled void)."""
        return ~np.isnan(self.terrain.at_lonlat(lon, lat))

    def at_lonlat(self, lon: Any, lat: Any) -> np.ndarray:
        return self._filled.at_lonlat_clamped(lon, lat)

    def subgrid(self, lat_e7: int, lon_e7: int, spacing_m: int, bit: int) -> list[int]:
        """TERRAIN_DATA's 16 heights, rounded to the nearest metre."""
        lat, lon = subgrid_points(lat_e7, lon_e7, spacing_m, bit)
        h = np.rint(self.at_lonlat(lon * 1e-7, lat * 1e-7))
        return [int(v) for v in np.clip(h, -32768, 32767)]


# --------------------------------------------------------------------- the vehicle's side
@dataclass(frozen=True)
class TerrainReport:
    """One TERRAIN_REPORT: the ground at (lat, lon) as the vehicle holds it; spacing 0 means
    it has no terrain there; `at` is the monotonic wall time it arrived."""

    lat: float
    lon: float
    spacing: int
    terrain_height: float
    current_height: float
    pending: int
    loaded: int
    at: float


class TerrainServer:
    """Serves a DEM to the vehicle (see the module docstring). Use as a link listener from
    the first message on, then `serve(vehicle)` (or a callable giving the current Vehicle,
    `lambda: keeper.vehicle`, so a reconnected link is served too); `close()` stops it."""

    def __init__(self, terrain: Terrain, *, resend_after_s: float = 1.0, settle_s: float = 3.0) -> None:
        self.ground = Ground(terrain)
        self.resend_after_s = resend_after_s  # a sub-grid asked again sooner was just sent
        # pending == 0 is a moment, not the end: ArduPilot touches the next block (around it,
        # under the next mission item) at its 1 Hz terrain update, and asks at most every 2 s;
        # so loaded means no request and nothing pending for `settle_s` of the vehicle's time
        self.settle_s = settle_s
        self._clock_ms: int | None = None  # the vehicle's time_boot_ms, from any message
        self._busy_ms: int | None = None  # ... when it last asked or reported pending terrain
        self._busy_wall = time.monotonic()
        self.report: TerrainReport | None = None
        self.requests = 0
        self.sent = 0  # TERRAIN_DATA messages sent
        self._sent_at: dict[tuple[int, int, int, int], float] = {}
        self._queue: dict[tuple[int, int, int], int] = {}  # (lat, lon, spacing) -> bits asked
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._current: Callable[[], Vehicle | None] = lambda: None
        self._streams_asked: Vehicle | None = None
        self._thread: threading.Thread | None = None

    # -- the listener (the link's reader thread: keep it short) ------------------------
    def __call__(self, m: Any) -> None:
        kind = m.get_type()
        clock = getattr(m, "time_boot_ms", None)
        if clock is not None:
            self._clock_ms = clock
        if kind not in ("TERRAIN_REQUEST", "TERRAIN_REPORT"):
            return
        v = self._current()
        if v is not None and v.target_system and m.get_srcSystem() != v.target_system:
            return  # another vehicle on a shared link
        if kind == "TERRAIN_REQUEST" or m.pending:
            self._busy_ms, self._busy_wall = self._clock_ms, time.monotonic()
        if kind == "TERRAIN_REPORT":
            self.report = TerrainReport(
                m.lat * 1e-7,
                m.lon * 1e-7,
                m.spacing,
                m.terrain_height,
                m.current_height,
                m.pending,
                m.loaded,
                time.monotonic(),
            )
            return
        with self._wake:
            key = (m.lat, m.lon, m.grid_spacing)
            self._queue[key] = self._queue.get(key, 0) | m.mask
            self.requests += 1
            self._wake.notify()

    # -- answering -----------------------------------------------------------------
    def answer(self, lat_e7: int, lon_e7: int, spacing_m: int, mask: int) -> list[Any]:
        """The TERRAIN_DATA messages for one request, every bit asked (pure)."""
        return [
            mavlink.MAVLink_terrain_data_message(
                lat_e7, lon_e7, spacing_m, bit, self.ground.subgrid(lat_e7, lon_e7, spacing_m, bit)
            )
            for bit in mask_bits(mask)
        ]

    def serve(self, vehicle: Vehicle | Callable[[], Vehicle | None]) -> TerrainServer:
        """Start answering over `vehicle` (or whatever Vehicle the callable gives now)."""
        self._current = vehicle if callable(vehicle) else (lambda: vehicle)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="terrain-server", daemon=True)
            self._thread.start()
        with self._wake:
            self._wake.notify()
        return self

    def close(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> TerrainServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                if not self._queue:
                    self._wake.wait(0.5)
                work, self._queue = self._queue, {}
            v = self._current()
            if v is None or v.passive or v.closed or v.lost:
                with self._wake:  # kept for the next link
                    for key, mask in work.items():
                        self._queue[key] = self._queue.get(key, 0) | mask
                if not work:
                    continue
                self._stop.wait(0.2)
                continue
            if v is not self._streams_asked and v.heartbeat is not None:
                self._streams_asked = v
                threading.Thread(target=self._ask_streams, args=(v,), name="terrain-streams", daemon=True).start()
            for (lat, lon, spacing), mask in work.items():
                self._send(v, lat, lon, spacing, mask)

    def _send(self, v: Vehicle, lat: int, lon: int, spacing: int, mask: int) -> None:
        now = time.monotonic()
        due = 0
        for bit in mask_bits(mask):
            if now - self._sent_at.get((lat, lon, spacing, bit), -1e9) >= self.resend_after_s:
                due |= 1 << bit
        for msg in self.answer(lat, lon, spacing, due):
            try:
                v.send(msg)
            except (MissionError, OSError):
                return  # the link is gone: the vehicle asks again on the next one
            self._sent_at[(lat, lon, spacing, msg.gridbit)] = now
            self.sent += 1

    @staticmethod
    def _ask_streams(v: Vehicle) -> None:
        """TERRAIN_REQUEST and TERRAIN_REPORT are in ArduPilot's EXTRA3 stream, off on a link
        nobody asked it for (SITL sends neither until then)."""
        for name, hz in (("TERRAIN_REQUEST", 2.0), ("TERRAIN_REPORT", 1.0)):
            try:
                v.set_message_interval(name, hz)
            except MissionError:
                pass

    # -- is the vehicle ready? -------------------------------------------------------
    def wait_loaded(self, timeout_s: float, position: tuple[float, float] | None = None) -> TerrainReport | None:
        """The first report, newer than this call, of a vehicle that waits for no terrain (and
        asked for none for `settle_s`) and has ground at the reported point; None after
        `timeout_s` (the last report is in
        `self.report`). With `position` (lat, lon) a TERRAIN_CHECK asks for it every second."""
        start = time.monotonic()
        asked = 0.0
        while True:
            r = self.report
            # before it has a position ArduPilot reports (and asks for) the ground at 0, 0
            if r is not None and r.at >= start and r.pending == 0 and r.spacing and (r.lat or r.lon) and self._quiet():
                return r
            now = time.monotonic()
            if now - start >= timeout_s:
                return None
            v = self._current()
            if position is not None and v is not None and not v.passive and now - asked >= 1.0:
                asked = now
                try:
                    v.send(mavlink.MAVLink_terrain_check_message(round(position[0] * 1e7), round(position[1] * 1e7)))
                except (MissionError, OSError):
                    pass
            time.sleep(0.05)

    def _quiet(self) -> bool:
        """No request and nothing pending for settle_s (vehicle time when it sends one)."""
        clock, busy = self._clock_ms, self._busy_ms
        if clock is not None and busy is not None:
            if clock < busy:  # the vehicle rebooted: its clock starts again
                self._busy_ms = busy = clock
            return clock - busy >= self.settle_s * 1000
        return time.monotonic() - self._busy_wall >= self.settle_s

    def check(
        self, position: tuple[float, float] | None = None, *, timeout_s: float = 45.0, tolerance_m: float = 2.0
    ) -> tuple[bool, str]:
        """The go/no-go of the "terrain" row: the vehicle waits for no terrain, and its ground
        at its position is within `tolerance_m` of the DEM's."""
        start = time.monotonic()
        r = self.wait_loaded(timeout_s, position)
        waited = time.monotonic() - start
        if r is None:
            last = self.report
            if last is None or last.at < start:
                return False, _(
                    "no TERRAIN_REPORT from the vehicle within {s:.0f} s (is TERRAIN_ENABLE 1 on it?)"
                ).format(s=waited)
            if last.pending:
                return False, _(
                    "the vehicle still waits for {pending} terrain grids after {s:.0f} s ({loaded} loaded, {sent} sent)"
                ).format(pending=last.pending, s=waited, loaded=last.loaded, sent=self.sent)
            return False, _("the vehicle has no terrain at its position after {s:.0f} s").format(s=waited)
        dem = float(self.ground.at_lonlat(r.lon, r.lat)[0])
        where = "" if self.ground.inside(r.lon, r.lat)[0] else _(" (outside the DEM: its nearest edge)")
        if abs(r.terrain_height - dem) > tolerance_m:
            return False, _(
                "the vehicle's ground at {lat:.6f}, {lon:.6f} is {vehicle:.1f} m, "
                "the plan's DEM says {dem:.1f} m{where} (off by more than {tol:g} m; TERRAIN_SPACING is {spacing} m)"
            ).format(
                lat=r.lat, lon=r.lon, vehicle=r.terrain_height, dem=dem, where=where, tol=tolerance_m, spacing=r.spacing
            )
        return True, _(
            "{loaded} terrain grids loaded (TERRAIN_SPACING {spacing} m); ground under the vehicle "
            "{vehicle:.1f} m, DEM {dem:.1f} m{where}"
        ).format(loaded=r.loaded, spacing=r.spacing, vehicle=r.terrain_height, dem=dem, where=where)
