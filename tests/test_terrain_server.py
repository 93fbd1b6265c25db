"""Terrain served to the vehicle (missions/terrain.py): the grid ArduPilot asks for, the
answers on a link, the go/no-go, and ArduPilot's own SITL flying over the served hill.

The geometry is checked against a computation written here from ArduPilot's source
(AP_Terrain handle_terrain_data, AP_Common Location::offset_latlng), not by calling the
server's helpers, and against geodesic offsets (MAVProxy's way) to within a metre.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
from pyproj import Geod
from terrain_support import hill_terrain

import fields
from fields.terrain import Terrain
from missions.dialect import mavlink
from missions.link import Vehicle
from missions.terrain import TerrainServer

ROOT = Path(__file__).resolve().parent.parent
TEA = ROOT / "fields" / "samples" / "tan-cuong-tea.geojson"

# A block ArduPilot 4.7 SITL asked for over the Tân Cương hill with TERRAIN_SPACING 5.
CORNER = (215616299, 1057652682)
SPACING = 5


@pytest.fixture(scope="module")
def field() -> fields.Field:
    return fields.load(TEA)[0]


@pytest.fixture(scope="module")
def hill(field: fields.Field) -> Terrain:
    return hill_terrain(field)


def ardupilot_point(lat_e7: int, lon_e7: int, north_m: float, east_m: float) -> tuple[int, int]:
    """AP_Common/Location.cpp offset_latlng, as written there (flat earth, C truncation)."""
    dlat = int(north_m * 89.83204953368922)  # LOCATION_SCALING_FACTOR_INV
    half = int(dlat / 2)  # int32 division in C
    scale = max(math.cos(math.radians((lat_e7 + half) * 1e-7)), 0.01)  # longitude_scale(lat + dlat/2)
    return lat_e7 + dlat, lon_e7 + int(east_m * 89.83204953368922 / scale)


def expected_heights(terrain: Terrain, lat_e7: int, lon_e7: int, spacing: int, gridbit: int) -> list[int]:
    """What AP_Terrain stores from TERRAIN_DATA: idx_x = (gridbit / 8) * 4 rows north,
    idx_y = (gridbit % 8) * 4 columns east, height[idx_x + x][idx_y + y] = data[x * 4 + y]."""
    out = []
    for k in range(16):
        x, y = k // 4, k % 4
        lat, lon = ardupilot_point(
            lat_e7, lon_e7, ((gridbit // 8) * 4 + x) * spacing, ((gridbit % 8) * 4 + y) * spacing
        )
        out.append(round(float(terrain.at_lonlat(lon * 1e-7, lat * 1e-7)[0])))
    return out


def test_terrain_data_is_ardupilots_grid(hill: Terrain) -> None:
    server = TerrainServer(hill)
    bits = [0, 1, 7, 8, 27, 48, 55]
    mask = sum(1 << b for b in bits) | (1 << 60)  # bits 56-63 are no sub-grid
    answers = server.answer(*CORNER, SPACING, mask)
    assert [m.gridbit for m in answers] == bits
    geod = Geod(ellps="WGS84")
    for m in answers:
        assert (m.lat, m.lon, m.grid_spacing) == (*CORNER, SPACING)
        assert list(m.data) == expected_heights(hill, *CORNER, SPACING, m.gridbit)
        # MAVProxy offsets along the ellipsoid: the same ground to within a metre
        for k, h in enumerate(m.data):
            north = ((m.gridbit // 8) * 4 + k // 4) * SPACING
            east = ((m.gridbit % 8) * 4 + k % 4) * SPACING
            lon, lat, _ = geod.fwd(
                CORNER[1] * 1e-7, CORNER[0] * 1e-7, math.degrees(math.atan2(east, north)), math.hypot(north, east)
            )
            assert abs(h - float(hill.at_lonlat(lon, lat)[0])) <= 1.0


def test_beyond_the_dem_and_in_its_holes_the_nearest_ground(field: fields.Field) -> None:
    """A plane rising eastward, 1 m a column, cropped to 100 m: blocks reaching past it get the
    edge's height, and a void gets its neighbours' (a plane stays a plane)."""
    c = field.boundary.centroid
    x0, y0 = c.x - 50.0, c.y + 50.0  # field frame (UTM 48N): top-left corner
    heights = np.tile(10.0 + np.arange(50.0), (50, 1))
    heights[20:23, 31] = np.nan  # a void: cells 31 of rows 20-22
    plane = Terrain(heights, (2.0, 0.0, x0, 0.0, -2.0, y0), f"EPSG:{field.frame.utm_epsg}")
    ground = TerrainServer(plane).ground
    xs = np.array([c.x + 500, c.x - 500, c.x + 500, c.x - 20, c.x + 13])
    ys = np.array([c.y, c.y, c.y + 900, c.y, c.y + 7])
    lon, lat = field.frame.to_wgs84(xs, ys)
    assert ground.at_lonlat(lon, lat) == pytest.approx([59.0, 10.0, 59.0, 24.5, 41.0], abs=0.01)
    assert list(ground.inside(lon, lat)) == [False, False, False, True, False]
    # a whole block far east of the DEM: every point the east edge's height
    far_lon, far_lat = field.frame.to_wgs84(c.x + 2000, c.y)
    block = TerrainServer(plane).answer(round(far_lat * 1e7), round(far_lon * 1e7), 30, (1 << 56) - 1)
    assert len(block) == 56 and {h for m in block for h in m.data} == {59}


class FakeVehicle:
    """What the server uses of a Vehicle: send, and the link's state.

    A stand-in, said so: the two tests below need a vehicle that asks the same sub-grid twice
    within a second, stays pending forever or reports a wrong grid spacing, on demand, and
    neither SITL nor the simulator can be made to. The real path, SITL asking and loading the
    served hill, is test_sitl_loads_the_served_hill_and_its_ground_follows_it."""

    def __init__(self) -> None:
        self.target_system = 0
        self.passive = False
        self.closed = False
        self.lost = ""
        self.heartbeat = None  # no heartbeat yet: no stream request
        self.sent: list[Any] = []

    def send(self, msg: Any) -> None:
        self.sent.append(msg)


def _wait(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_requests_on_the_link_are_answered_from_its_thread(hill: Terrain) -> None:
    v = FakeVehicle()
    with TerrainServer(hill, resend_after_s=0.3) as server:
        server(mavlink.MAVLink_terrain_request_message(*CORNER, SPACING, 0b1011))  # before serving: queued
        server.serve(cast(Vehicle, v))
        _wait(lambda: len(v.sent) == 3)
        assert [m.gridbit for m in v.sent] == [0, 1, 3]
        assert all(m.get_type() == "TERRAIN_DATA" for m in v.sent)
        server(mavlink.MAVLink_terrain_request_message(*CORNER, SPACING, 0b1111))  # 0, 1, 3 just sent
        _wait(lambda: len(v.sent) == 4)
        assert v.sent[-1].gridbit == 2
        time.sleep(0.35)  # lost on the way? the vehicle asks again, and gets it again
        server(mavlink.MAVLink_terrain_request_message(*CORNER, SPACING, 0b1))
        _wait(lambda: len(v.sent) == 5)
        assert server.requests == 3 and server.sent == 5


def _report(lat: float, lon: float, height: float, pending: int = 0, spacing: int = SPACING) -> Any:
    return mavlink.MAVLink_terrain_report_message(
        round(lat * 1e7), round(lon * 1e7), spacing, height, 10.0, pending, 504 - pending
    )


def _report_later(server: TerrainServer, msgs: list[Any], delay: float = 0.1) -> threading.Thread:
    """Hand `msgs` to the server one every `delay` s from another thread (join it before the next
    batch: a report of this one arriving late would answer the next check)."""

    def run() -> None:
        for m in msgs:
            time.sleep(delay)
            server(m)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_the_terrain_go_no_go(hill: Terrain, field: fields.Field) -> None:
    c = field.boundary.centroid
    lon, lat = field.frame.to_wgs84(c.x + 80, c.y)
    dem = float(hill.at_lonlat(lon, lat)[0])
    v = FakeVehicle()
    with TerrainServer(hill, settle_s=0.3).serve(cast(Vehicle, v)) as server:
        ok, detail = server.check(timeout_s=0.3)
        assert not ok and "no TERRAIN_REPORT from the vehicle" in detail and "TERRAIN_ENABLE" in detail
        server(_report(lat, lon, dem, pending=0))  # before the check: an old report does not count
        reports = _report_later(server, [_report(0, 0, 0.0), _report(lat, lon, dem, pending=112)])
        ok, detail = server.check((lat, lon), timeout_s=0.5)
        assert not ok and "still waits for 112 terrain grids" in detail
        assert any(m.get_type() == "TERRAIN_CHECK" for m in v.sent)  # it asked for the vehicle's position
        server(mavlink.MAVLink_terrain_request_message(*CORNER, SPACING, 1))  # still asking
        t0 = time.monotonic()
        reports.join()
        reports = _report_later(server, [_report(lat, lon, dem + 0.4)] * 8)
        ok, detail = server.check(timeout_s=2.0)
        assert ok, detail
        assert time.monotonic() - t0 >= 0.3  # nothing pending is not enough: nothing asked for settle_s
        assert f"DEM {dem:.1f} m" in detail
        reports.join()
        _report_later(server, [_report(lat, lon, dem + 6.0, spacing=100)] * 8)
        ok, detail = server.check(timeout_s=2.0)
        assert not ok and "TERRAIN_SPACING is 100 m" in detail and f"says {dem:.1f} m" in detail


# --------------------------------------------------------------------------- real SITL
@pytest.mark.sitl
def test_sitl_loads_the_served_hill_and_its_ground_follows_it(hill: Terrain, field: fields.Field) -> None:
    """ArduCopter SITL with SIM_TERRAIN 1 at TERRAIN_SPACING 5, home on the hill's east slope:
    it loads the 9 blocks around it, holds the DEM's ground at home, reports the right
    height above the ground on the slope, and lands on the served hill (SIM_Aircraft takes
    its ground from AP_Terrain), 15 m below home."""
    import sim
    from missions import Watch

    c = field.boundary.centroid
    home_lon, home_lat = field.frame.to_wgs84(c.x + 80, c.y)
    to_lon, to_lat = field.frame.to_wgs84(c.x + 140, c.y - 20)
    h_home, h_to = (float(hill.at_lonlat(x, y)[0]) for x, y in ((home_lon, home_lat), (to_lon, to_lat)))
    assert h_to - h_home < -10  # downhill: flying at 5 m above home is well clear of it
    params: dict[str, float] = {"SIM_TERRAIN": 1, "TERRAIN_ENABLE": 1, "TERRAIN_SPACING": SPACING}
    with sim.start_sitl(speedup=20, home=(home_lat, home_lon, h_home), params=params) as sitl:
        watch = Watch()
        server = TerrainServer(hill)
        with Vehicle.connect(sitl.url, listeners=[server, watch]) as v, server.serve(v):
            v.request_streams({"GLOBAL_POSITION_INT": 4})
            ok, detail = server.check((home_lat, home_lon), timeout_s=20, tolerance_m=1.0)
            assert ok, detail
            r = server.report
            assert r is not None and r.pending == 0 and r.loaded >= 9 * 56
            assert r.terrain_height == pytest.approx(h_home, abs=1.0)

            v.set_mode("GUIDED")
            v.arm()
            v.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 5)
            target = mavlink.MAVLink_set_position_target_global_int_message(
                0, v.target_system, v.target_component, mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, 0b0000111111111000,
                round(to_lat * 1e7), round(to_lon * 1e7), 5.0, 0, 0, 0, 0, 0, 0, 0, 0,
            )  # fmt: skip
            _wait(lambda: watch.rel_alt_m > 4.5, timeout=20)
            v.send(target)

            def there() -> bool:
                return _metres((watch.lat, watch.lon), (to_lat, to_lon)) < 1.0 and watch.groundspeed_m_s < 0.3

            _wait(there, timeout=30)
            time.sleep(0.3)  # a few fresh reports (several a second of wall time at speed-up 20)
            r = server.report
            assert r is not None
            ground = float(hill.at_lonlat(watch.lon, watch.lat)[0])
            assert r.terrain_height == pytest.approx(ground, abs=1.0)
            assert r.current_height == pytest.approx(watch.rel_alt_m - (ground - h_home), abs=1.0)

            v.set_mode("LAND")
            landed: list[float] = []

            def down() -> bool:
                landed.append(watch.rel_alt_m)
                return not watch.armed

            _wait(down, timeout=30)
            # on the served slope, 15 m below home: SITL's ground is the served hill
            assert min(landed[-20:]) == pytest.approx(h_to - h_home, abs=1.0)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians(a[0])
    return math.hypot((a[0] - b[0]) * 111_320.0, (a[1] - b[1]) * 111_320.0 * math.cos(lat))
