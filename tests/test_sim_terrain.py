"""The embedded simulator over a DEM (issue #17): a synthetic hill under the Tân Cương tea field.

Driven over real sockets with MAVLink as a ground station would, and checked against the DEM
itself (fields.terrain.Terrain), not the simulator's copy of it: the ground the copter takes off
from and lands on, GLOBAL_POSITION_INT's AMSL altitude, TERRAIN_REPORT (AP_Terrain's report),
and AUTO legs that follow the straight 3D line between waypoints at different altitudes.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sim_groundstation import GroundStation, mavlink, offset
from terrain_support import hill_terrain, write_hill

import fields
import sim

SPEEDUP = 40
REL = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
PUMP_SERVO = 9
FIELD = fields.load(Path(__file__).resolve().parent.parent / "fields/samples/tan-cuong-tea.geojson")[0]
TERRAIN = hill_terrain(FIELD)  # 40 m of relief above a plain at 30 m, slopes up to ~30 %
_c = FIELD.boundary.centroid
_lon, _lat = FIELD.frame.to_wgs84(_c.x, _c.y)
TOP = (float(_lat), float(_lon))  # the hilltop (70 m AMSL)
HOME = offset(*TOP, -150.0, 0.0)  # at the foot of the hill, about 37 m AMSL
R_EARTH = 6378137.0


def dem(lat: float, lon: float) -> float:
    return float(TERRAIN.at_lonlat(lon, lat)[0])


def north_of_top(lat: float) -> float:
    return math.radians(lat - TOP[0]) * R_EARTH


def _start(**kw) -> sim.SimHandle:
    settings: dict[str, Any] = dict(
        speedup=SPEEDUP, home=(*HOME, 0.0), terrain=TERRAIN, boot_delay_s=3, max_wall_hz=10 * SPEEDUP
    )
    settings.update(kw)
    return sim.start_sim(**settings)


def _streams(gcs: GroundStation) -> None:
    gcs.request_streams(10.0)
    assert gcs.set_interval(mavlink.MAVLINK_MSG_ID_TERRAIN_REPORT, 5.0) == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.wait_position(gcs.wall(60)) is not None


def _goto(gcs: GroundStation, lat: float, lon: float, alt_rel: float) -> None:
    gcs.link.mav.set_position_target_global_int_send(
        0, gcs.sysid, gcs.compid, REL, 0b110111111000, int(round(lat * 1e7)), int(round(lon * 1e7)), alt_rel,
        0, 0, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip


class Seen:
    """GLOBAL_POSITION_INT and TERRAIN_REPORT as they come, plus texts and the armed flag."""

    def __init__(self, gcs: GroundStation) -> None:
        self.gcs = gcs
        self.pos: list = []
        self.terrain: list = []
        self.terrain_at: list[int] = []  # how many positions had come before each report
        self.armed = False
        self.texts: list[str] = []

    def until(self, done, sim_timeout: float) -> None:
        deadline = time.monotonic() + self.gcs.wall(sim_timeout)
        while time.monotonic() < deadline:
            msg = self.gcs.recv({"GLOBAL_POSITION_INT", "TERRAIN_REPORT", "HEARTBEAT", "STATUSTEXT"}, 1.0)
            if msg is None:
                continue
            kind = msg.get_type()
            if kind == "GLOBAL_POSITION_INT":
                self.pos.append(msg)
            elif kind == "TERRAIN_REPORT":
                self.terrain.append(msg)
                self.terrain_at.append(len(self.pos))
            elif kind == "HEARTBEAT":
                self.armed = bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED)
            elif kind == "STATUSTEXT":
                self.texts.append(msg.text)
            if done(self):
                return
        raise AssertionError(f"timed out; last position {self.pos[-1:]}")


def _rel(seen: Seen) -> float:
    return seen.pos[-1].relative_alt / 1000.0


def _near(seen: Seen, lat: float, lon: float, metres: float) -> bool:
    p = seen.pos[-1]
    dn = math.radians(p.lat * 1e-7 - lat) * R_EARTH
    de = math.radians(p.lon * 1e-7 - lon) * R_EARTH * math.cos(math.radians(lat))
    return math.hypot(dn, de) < metres


def _check_report(report) -> None:
    """TERRAIN_REPORT as AP_Terrain fills it: the DEM's height where the copter is, and the height
    above it (relative altitude + the ground at home - the ground here)."""
    here = dem(report.lat * 1e-7, report.lon * 1e-7)
    assert report.terrain_height == pytest.approx(here, abs=0.1)
    assert report.pending == 0 and report.loaded > 0 and report.spacing > 0


def test_guided_at_a_constant_relative_altitude_reports_the_ground_rising_under_it():
    alt = 45.0
    with _start() as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _streams(gcs)
            assert gcs.set_mode("GUIDED") == 0 and gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt) == 0
            seen = Seen(gcs)
            seen.until(lambda v: v.pos and _rel(v) > alt - 0.1, 120)
            seen.until(lambda v: v.terrain and v.terrain[-1].current_height > alt - 0.5, 10)
            over_home = seen.terrain[-1]
            _goto(gcs, *TOP, alt)
            seen.until(lambda v: v.pos and _near(v, *TOP, 0.5) and math.hypot(v.pos[-1].vx, v.pos[-1].vy) < 5, 200)
            seen.until(lambda v: len(v.terrain) > 2 and _near(v, *TOP, 0.5), 5)
            over_top = seen.terrain[-1]
            assert gcs.command(mavlink.MAV_CMD_GET_HOME_POSITION) == 0
            home_msg = gcs.recv({"HOME_POSITION"}, gcs.wall(5))
        finally:
            gcs.close()
    home_amsl = dem(*HOME)
    # home is on the DEM's ground, and GLOBAL_POSITION_INT.alt = home AMSL + relative_alt
    assert home_msg is not None and home_msg.altitude / 1000 == pytest.approx(home_amsl, abs=0.05)
    for p in seen.pos:
        assert p.alt == pytest.approx(home_msg.altitude + p.relative_alt, abs=2)
    # the relative altitude held while the ground rose 33 m under the copter ...
    cruise = [p for p in seen.pos if p.relative_alt > (alt - 0.1) * 1000]
    assert max(abs(p.relative_alt / 1000 - alt) for p in cruise[5:]) < 0.3
    rise = dem(*TOP) - home_amsl
    assert rise > 30
    # ... and TERRAIN_REPORT says so: the height above the ground fell by the ground's rise
    for r in seen.terrain:
        _check_report(r)
    assert over_home.current_height == pytest.approx(alt, abs=0.5)
    assert over_top.current_height == pytest.approx(alt - rise, abs=0.5)
    assert over_home.current_height - over_top.current_height == pytest.approx(
        over_top.terrain_height - over_home.terrain_height, abs=0.5
    )


def _hill_mission(spacing: float, agl: float) -> tuple[list, list[tuple[float, float]]]:
    """Take off, then waypoints every `spacing` m north over the hill, each `agl` m above the
    DEM's ground there (relative altitudes: above home), then RTL."""
    items = [
        (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_INT, 0, 0, 0, 0, *HOME, 0),
        (mavlink.MAV_CMD_NAV_TAKEOFF, REL, 0, 0, 0, 0, 0, 0, agl),
    ]
    line = []
    home_amsl = dem(*HOME)
    for n in np.arange(-140.0, 140.1, spacing):
        lat, lon = offset(*TOP, float(n), 0.0)
        rel = dem(lat, lon) - home_amsl + agl
        items.append((mavlink.MAV_CMD_NAV_WAYPOINT, REL, 0, 0, 0, 0, lat, lon, rel))
        line.append((float(n), rel))
    items.append((mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, REL, 0, 0, 0, 0, 0, 0, 0))
    return items, line


def test_auto_flies_the_3d_line_between_waypoints_over_the_hill_and_rtl_clears_it(tmp_path):
    agl, spacing = 10.0, 20.0
    items, line = _hill_mission(spacing, agl)
    first_wp, last_wp = 2, len(items) - 2
    truth_path = tmp_path / "truth.jsonl"
    with _start(truth_path=str(truth_path)) as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _streams(gcs)
            # a slower descent (1 m/s) than the 30 % slope needs at cruise speed, and an RTL
            # altitude above the hilltop (RTL_ALT is above home, as on ArduCopter)
            for name, value in (("WPNAV_SPEED", 500), ("WPNAV_SPEED_DN", 100), ("RTL_ALT", 4500)):
                assert gcs.set_param(name, value) == value
            assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
            assert gcs.set_mode("GUIDED") == 0 and gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_MISSION_START, 0, 0) == 0
            seen = Seen(gcs)
            current: list[tuple[int, int]] = []  # (GLOBAL_POSITION_INT index, mission item)

            def done(v: Seen) -> bool:
                cur = gcs.link.messages.get("MISSION_CURRENT")
                if cur is not None and (not current or current[-1][1] != cur.seq):
                    current.append((len(v.pos), cur.seq))
                return len(v.pos) > 50 and not v.armed

            seen.until(done, 600)
        finally:
            gcs.close()
    assert not any("Crash" in t for t in seen.texts), seen.texts
    ns, rels = zip(*line)
    # on the legs between the first and the last waypoint, at cruise: the straight 3D line
    start = next(i for i, seq in current if seq >= first_wp + 1)
    end = next(i for i, seq in current if seq >= last_wp)
    errors, slowed = [], []
    for p in seen.pos[start:end]:
        n = north_of_top(p.lat * 1e-7)
        if not ns[0] + 2 <= n <= ns[-1] - 2:
            continue
        k = min(int((n - ns[0]) // spacing), len(ns) - 2)
        slope = (rels[k + 1] - rels[k]) / spacing
        errors.append(p.relative_alt / 1000 - float(np.interp(n, ns, rels)))
        speed = math.hypot(p.vx, p.vy) / 100
        assert p.vz / 100 <= 1.0 + 0.05  # never faster down than WPNAV_SPEED_DN ...
        assert -p.vz / 100 <= 2.5 + 0.05  # ... nor up than WPNAV_SPEED_UP
        if slope < -0.28:
            slowed.append(speed)
            assert speed <= 1.0 / abs(slope) + 0.3  # the descent limit slows the horizontal speed too
    assert len(errors) > 200
    assert max(abs(e) for e in errors) < 0.5, max(errors, key=abs)
    assert slowed and max(slowed) < 3.8  # a 20 m leg alone is flown at ~4.4 m/s
    # height above ground from the report and from the ground truth stays about the spray height
    in_cruise = [r for r, i in zip(seen.terrain, seen.terrain_at) if start <= i < end]
    assert len(in_cruise) > 20 and all(abs(r.current_height - agl) < 1.0 for r in in_cruise)
    truth = sim.read_truth(str(truth_path))
    reached = {text: t for t, text in truth.events}
    t0, t1 = reached[f"reached #{first_wp}"], reached[f"reached #{last_wp}"]
    cruise = [t for t in truth.samples if t0 <= t.t <= t1]
    assert len(cruise) > 100 and all(abs(t.agl - agl) < 1.0 for t in cruise)
    # RTL climbed to RTL_ALT above home over the hill, came home and landed on home's ground
    assert max(p.relative_alt for p in seen.pos) / 1000 == pytest.approx(45.0, abs=0.6)
    assert abs(seen.pos[-1].relative_alt) < 300 and _near(seen, *HOME, 3.0)
    assert truth.samples[-1].agl == pytest.approx(0.0, abs=0.05)


def test_take_off_and_land_on_the_hill_above_home():
    site = offset(*TOP, -40.0, 10.0)  # on the slope, some 30 m above home
    rise = dem(*site) - dem(*HOME)
    assert rise > 25
    with _start() as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _streams(gcs)
            assert gcs.set_mode("GUIDED") == 0 and gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, rise + 12) == 0
            seen = Seen(gcs)
            seen.until(lambda v: v.pos and _rel(v) > rise + 11.5, 120)
            _goto(gcs, *site, rise + 12)
            seen.until(lambda v: _near(v, *site, 0.5), 200)
            assert gcs.set_mode("LAND") == 0
            seen.until(lambda v: not v.armed, 200)
            landed = seen.pos[-1]
            reports = len(seen.terrain)
            seen.until(lambda v: len(v.terrain) > reports, 5)
            report = seen.terrain[-1]
            # keep home at the foot of the hill (a ground station's DO_SET_HOME locks it), arm
            # on the hill, and take off from its ground: not below it, then above it
            assert gcs.command(mavlink.MAV_CMD_DO_SET_HOME, 0, 0, 0, 0, *HOME, dem(*HOME)) == 0
            assert gcs.set_mode("GUIDED") == 0 and gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == mavlink.MAV_RESULT_FAILED
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, rise + 8) == 0
            seen.until(lambda v: _rel(v) > rise + 7.9, 60)
            seen.until(lambda v: v.terrain[-1].current_height > 7.5, 10)
            up_again = seen.terrain[-1]
            assert gcs.set_mode("LAND") == 0
            seen.until(lambda v: not v.armed, 200)
            assert gcs.command(mavlink.MAV_CMD_GET_HOME_POSITION) == 0
            home_msg = gcs.recv({"HOME_POSITION"}, gcs.wall(5))
        finally:
            gcs.close()
    assert not any("Crash" in t for t in seen.texts), seen.texts
    assert "Disarming motors" in seen.texts
    # it landed on the slope, `rise` metres above home, and the report puts it on the ground
    assert landed.relative_alt / 1000 == pytest.approx(rise, abs=0.3)
    assert landed.alt / 1000 == pytest.approx(dem(*site), abs=0.3)
    assert report.current_height == pytest.approx(0.0, abs=0.3)
    assert up_again.current_height == pytest.approx(8.0, abs=0.5)
    assert seen.pos[-1].relative_alt / 1000 == pytest.approx(rise, abs=0.3)
    assert home_msg is not None and home_msg.altitude / 1000 == pytest.approx(dem(*HOME), abs=0.05)


def test_a_flat_sim_has_no_terrain_and_lands_where_it_took_off(tmp_path):
    home = (21.7046, 105.7312, 12.0)
    truth_path = tmp_path / "truth.jsonl"
    with sim.start_sim(speedup=SPEEDUP, home=home, boot_delay_s=3, truth_path=str(truth_path)) as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _streams(gcs)
            assert gcs.set_mode("GUIDED") == 0 and gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == 0
            seen = Seen(gcs)
            seen.until(lambda v: v.pos and _rel(v) > 9.9, 60)
            assert gcs.set_mode("LAND") == 0
            seen.until(lambda v: not v.armed, 120)
        finally:
            gcs.close()
    assert seen.terrain == []  # no terrain data: no TERRAIN_REPORT
    for p in seen.pos:
        assert p.alt == pytest.approx(12000 + p.relative_alt, abs=2)
    assert abs(seen.pos[-1].relative_alt) < 50
    truth = sim.read_truth(str(truth_path))
    assert all(t.agl == pytest.approx(t.alt_rel, abs=0.002) for t in truth.samples)


AGRODRONE = [sys.executable, "-m", "agrodrone"]


def test_sim_command_flies_over_a_dem_file_and_refuses_a_missing_one(tmp_path):
    missing = subprocess.run(
        [*AGRODRONE, "sim", "--dem", str(tmp_path / "missing.tif")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2, missing.stderr
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "missing.tif" in lines[0]

    hill = write_hill(tmp_path / "hill.tif", FIELD)
    home = f"{HOME[0]},{HOME[1]}"
    proc = subprocess.Popen(
        [*AGRODRONE, "sim", "--listen", "tcp:127.0.0.1:0", "--speedup", "20", "--boot-delay", "2"]
        + ["--home", home, "--dem", str(hill)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        line = proc.stderr.readline()
        assert "ground from the DEM hill.tif" in line, line
        url = line.split("listening on ", 1)[1].split()[0]
        gcs = GroundStation(url, speedup=20)
        try:
            _streams(gcs)
            pos = gcs.wait_position(gcs.wall(10))
            report = gcs.recv({"TERRAIN_REPORT"}, gcs.wall(5))
        finally:
            gcs.close()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert pos.alt / 1000 == pytest.approx(dem(*HOME), abs=0.1) and abs(pos.relative_alt) < 50
    assert report is not None and report.terrain_height == pytest.approx(dem(*HOME), abs=0.1)
