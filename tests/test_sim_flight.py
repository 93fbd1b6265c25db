"""Flights against the embedded simulator: tank, battery failsafe and resume, faults, wind."""

from __future__ import annotations

import pytest
from sim_groundstation import GroundStation, mavlink, offset, point_segment_m, pump_samples

import sim

SPEEDUP = 25
REL = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
PUMP_SERVO = 9
ALT = 8.0


def _legs_mission(lat, lon, legs):
    """Home, take-off, then per leg: WP(start), DO_SPRAYER 1, WP(end), DO_SPRAYER 0; then RTL."""
    items = [
        (mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL_INT, 0, 0, 0, 0, lat, lon, 0),
        (mavlink.MAV_CMD_NAV_TAKEOFF, REL, 0, 0, 0, 0, 0, 0, ALT),
    ]
    points = []
    for (n0, e0), (n1, e1) in legs:
        a, b = offset(lat, lon, n0, e0), offset(lat, lon, n1, e1)
        points.append((a, b, len(items)))
        items += [
            (mavlink.MAV_CMD_NAV_WAYPOINT, REL, 0, 0, 0, 0, a[0], a[1], ALT),
            (mavlink.MAV_CMD_DO_SPRAYER, mavlink.MAV_FRAME_MISSION, 1, 0, 0, 0, 0, 0, 0),
            (mavlink.MAV_CMD_NAV_WAYPOINT, REL, 0, 0, 0, 0, b[0], b[1], ALT),
            (mavlink.MAV_CMD_DO_SPRAYER, mavlink.MAV_FRAME_MISSION, 0, 0, 0, 0, 0, 0, 0),
        ]
    items.append((mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, REL, 0, 0, 0, 0, 0, 0, 0))
    return items, points


def _start(gcs: GroundStation, items) -> tuple[float, float]:
    gcs.request_streams(10.0)
    pos = gcs.wait_position(gcs.wall(60))
    assert pos is not None
    assert gcs.upload(items) == mavlink.MAV_MISSION_ACCEPTED
    assert gcs.set_mode("GUIDED") == mavlink.MAV_RESULT_ACCEPTED
    assert gcs.arm()
    assert gcs.command(mavlink.MAV_CMD_MISSION_START, 0, 0) == mavlink.MAV_RESULT_ACCEPTED
    return pos.lat * 1e-7, pos.lon * 1e-7


def _home_of(handle) -> tuple[float, float]:
    return handle.config.home[0], handle.config.home[1]


def test_tank_drains_as_pump_output_times_max_flow_and_runs_dry(tmp_path):
    fill = 0.3
    truth_file = tmp_path / "truth.jsonl"
    # the litres are summed from SERVO_OUTPUT_RAW samples, so they come at the 10 Hz asked for
    # (the default wall-rate cap would space them 0.5 s apart at this speed-up: 5 % of the spraying)
    with sim.start_sim(
        speedup=SPEEDUP,
        boot_delay_s=3,
        tank_fill_l=fill,
        pump_max_l_min=3.0,
        truth_path=str(truth_file),
        max_wall_hz=10 * SPEEDUP,
    ) as s:
        lat, lon = _home_of(s)
        items, legs = _legs_mission(lat, lon, [((20, 0), (20, 150))])
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _start(gcs, items)
            assert gcs.set_param("SPRAY_PUMP_RATE", 12.0) == 12.0
            flight = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=300)
        finally:
            gcs.close()
        truth = s.truth()
    # the tank ran dry, the copter said so, and exactly what was in it came out
    assert "Sprayer: tank empty" in flight.texts
    assert truth.tank_l == 0.0
    assert truth.sprayed_l == pytest.approx(fill, abs=1e-9)
    empty_t = next(t for t, text in truth.events if text == "Sprayer: tank empty")
    # litres = sum of pump output x max flow x time, from what the ground station saw
    litres = 0.0
    servo = [(u / 1e6, pwm) for u, pwm in flight.servo]
    for (t0, pwm), (t1, _) in zip(servo, servo[1:]):
        if t0 >= empty_t:
            break
        litres += max(pwm - 1000, 0) / 1000.0 * 3.0 / 60.0 * (min(t1, empty_t) - t0)
    assert litres == pytest.approx(fill, rel=0.06)
    # after the tank is dry the flow is zero though the pump is still commanded
    after = [smp for smp in truth.samples if smp.t > empty_t + 1]
    assert after and all(smp.flow_l_min == 0 for smp in after)
    assert any(smp.pump_pwm > 1100 for smp in after)
    # the ground truth file holds the same record, complete
    saved = sim.read_truth(str(truth_file))
    assert saved.sprayed_l == pytest.approx(fill, abs=1e-5)
    assert len(saved.samples) == len(truth.samples)
    assert not (tmp_path / "truth.jsonl.part").exists()


def test_low_battery_rtl_then_resume_with_set_current_after_reload():
    with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3) as s:
        lat, lon = _home_of(s)
        items, legs = _legs_mission(lat, lon, [((20, 0), (20, 60)), ((30, 60), (30, 0))])
        second_start_index = legs[1][2]
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            _start(gcs, items)
            # fly until the copter heads for the second swath, then the battery runs low
            first = gcs.watch(
                PUMP_SERVO, until_disarmed=False, sim_timeout=200, stop=lambda f: second_start_index in f.current
            )
            capacity = gcs.get_param("BATT_CAPACITY")
            assert gcs.set_param("BATT_LOW_MAH", capacity) == capacity
            rtl = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=300)
            assert mavlink.COPTER_MODE_RTL in rtl.modes
            assert any(t.startswith("Battery 1 is low") for t in rtl.texts)
            assert second_start_index not in rtl.reached
            last = rtl.positions[-1]
            assert point_segment_m((last[1], last[2]), (lat, lon), (lat, lon))[0] < 3 and last[3] < 0.5
            # the pump stayed off on the way home
            assert all(p[4] <= 1000 for p in pump_samples(rtl))

            # reload: fresh battery, full tank, failsafe threshold back to normal
            assert gcs.set_param("BATT_LOW_MAH", 0) == 0
            assert gcs.set_param("SIM_BATT_SWAP", 1) == 1  # a trigger: every write of 1 acts, reads back as written
            assert gcs.set_param("SIM_SPR_FILL", 1) == 1
            batt = gcs.recv({"BATTERY_STATUS"}, gcs.wall(3))
            assert batt.battery_remaining >= 99
            assert gcs.command(mavlink.MAV_CMD_DO_SET_MISSION_CURRENT, second_start_index) == 0
            cur = gcs.recv({"MISSION_CURRENT"}, 3)
            assert cur.seq == second_start_index
            # resume: take off in GUIDED, then MISSION_START continues at the set item
            assert gcs.set_mode("GUIDED") == 0
            assert gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, ALT) == 0
            gcs.watch(
                PUMP_SERVO,
                until_disarmed=False,
                sim_timeout=60,
                stop=lambda f: f.positions and f.positions[-1][3] > ALT - 0.5,
            )
            assert gcs.command(mavlink.MAV_CMD_MISSION_START, 0, 0) == 0
            resumed = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=300)
        finally:
            gcs.close()
    reached = [seq for seq in resumed.reached]
    assert reached[0] == second_start_index and min(reached) == second_start_index
    assert reached[-1] == len(items) - 1
    # the second swath was sprayed, and nothing else after the resume
    a, b, _ = legs[1]
    on = [p for p in pump_samples(resumed) if p[4] > 1050]
    assert on
    along = []
    for p in on:
        d, pos_along = point_segment_m((p[0], p[1]), a, b)
        assert d < 4.0
        along.append(pos_along)
    assert min(along) < 10 and max(along) > 50
    # and the first swath had been sprayed before the failsafe
    a1, b1, _ = legs[0]
    assert any(point_segment_m((p[0], p[1]), a1, b1)[0] < 4 for p in pump_samples(first) if p[4] > 1050)


@pytest.mark.parametrize(
    "fault, text",
    [
        ({"battery_failure_at_s": 14.0}, "Battery 1 is critical"),
        ({"gps_loss_at_s": 14.0}, "EKF Failsafe: changed to LAND Mode"),
    ],
)
def test_vehicle_faults_trigger_land(fault, text):
    with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3, **fault) as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            gcs.request_streams(10.0)
            assert gcs.wait_position(gcs.wall(60)) is not None
            assert gcs.set_mode("GUIDED") == 0
            assert gcs.arm()
            assert gcs.command(mavlink.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 15) == 0
            flight = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=200)
            if "gps_loss_at_s" in fault:
                gps = gcs.recv({"GPS_RAW_INT"}, gcs.wall(3))
                assert gps.fix_type < mavlink.GPS_FIX_TYPE_2D_FIX
            else:
                batt = gcs.recv({"BATTERY_STATUS"}, gcs.wall(3))
                assert batt.charge_state == mavlink.MAV_BATTERY_CHARGE_STATE_FAILED
                # a failed battery refuses the next arming
                assert gcs.command(mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1) == mavlink.MAV_RESULT_FAILED
        finally:
            gcs.close()
    assert any(text in t for t in flight.texts), flight.texts
    assert mavlink.COPTER_MODE_LAND in flight.modes
    assert max(p[3] for p in flight.positions) > 10  # it was flying when the fault came
    assert flight.positions[-1][3] < 0.5


def _received_seqs(url: str, n: int) -> list[int]:
    gcs = GroundStation(url, speedup=SPEEDUP)
    seqs = []
    try:
        while len(seqs) < n:
            msg = gcs.link.recv_match(blocking=True, timeout=5)
            assert msg is not None
            if msg.get_type() != "BAD_DATA":
                seqs.append(msg.get_seq())
    finally:
        gcs.close()
    return seqs


def _frame_numbers(seqs: list[int]) -> list[int]:
    """Received sequence numbers -> the number of each frame since the link opened (they wrap
    at 256; the first frame read comes well within the first 256)."""
    out = [seqs[0]]
    for a, b in zip(seqs, seqs[1:]):
        out.append(out[-1] + (b - a) % 256)
    return out


def _same_stretch(a: list[int], b: list[int]) -> tuple[list[int], list[int]]:
    """The frames of two runs over the stretch both saw (how many frames the ground station
    skipped before its first heartbeat depends on timing, not on the seed)."""
    lo, hi = max(a[0], b[0]), min(a[-1], b[-1])
    assert hi - lo > 200
    return [n for n in a if lo <= n <= hi], [n for n in b if lo <= n <= hi]


def test_link_faults_are_seeded_and_reproducible():
    runs = []
    for _ in range(2):
        with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3, loss=0.25, duplicate=0.1, seed=7) as s:
            runs.append(_frame_numbers(_received_seqs(s.url, 300)))
    first, second = _same_stretch(*runs)
    assert first == second  # same seed: the same frames lost and doubled
    sent = first[-1] - first[0] + 1  # frames the vehicle sent over this stretch
    delivered = len(set(first))
    assert 0.65 < delivered / sent < 0.85  # about a quarter lost
    assert len(first) - delivered > 5  # some frames came twice
    with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3, loss=0.25, duplicate=0.1, seed=8) as s:
        other, first = _same_stretch(_frame_numbers(_received_seqs(s.url, 300)), runs[0])
        assert other != first


def test_link_cut_silences_both_directions_then_recovers():
    with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3, link_cut_at_s=10.0, link_cut_s=10.0) as s:
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            times = []
            while True:
                msg = gcs.recv({"ATTITUDE"}, gcs.wall(40))
                assert msg is not None
                times.append(msg.time_boot_ms)
                if msg.time_boot_ms > 25_000:
                    break
            gaps = [(a, b) for a, b in zip(times, times[1:]) if b - a > 5000]
            assert len(gaps) == 1 and gaps[0][0] < 10_500 and gaps[0][1] >= 20_000
            assert gcs.get_param("SPRAY_ENABLE") == 1  # the vehicle hears us again
        finally:
            gcs.close()


def test_wind_is_reported_and_gusts_do_not_stop_the_mission():
    with sim.start_sim(speedup=SPEEDUP, boot_delay_s=3, wind_m_s=4.0, wind_dir_deg=90.0, gust_m_s=1.5, seed=3) as s:
        lat, lon = _home_of(s)
        items, legs = _legs_mission(lat, lon, [((15, 0), (15, 40))])
        gcs = GroundStation(s.url, speedup=SPEEDUP)
        try:
            wind = gcs.recv({"WIND"}, gcs.wall(5))
            assert wind.direction == pytest.approx(90.0, abs=40) and 1.5 < wind.speed < 7.0
            _start(gcs, items)
            flight = gcs.watch(PUMP_SERVO, until_disarmed=True, sim_timeout=300)
        finally:
            gcs.close()
    assert flight.reached[-1] == len(items) - 1
    a, b, _ = legs[0]
    assert all(point_segment_m((p[0], p[1]), a, b)[0] < 5 for p in pump_samples(flight) if p[4] > 1050)
