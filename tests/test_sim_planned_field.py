"""A planned sample field flown end to end: fields -> planner -> missions -> the simulator.

The mission is built and flown by the missions package's own Vehicle (real TCP, real MAVLink);
the simulator's ground truth says where liquid really came out and how much.
"""

from __future__ import annotations

import math
import threading

import pytest
from sim_groundstation import point_segment_m

import fields
import missions
import planner
import sim

SPEEDUP = 60


def test_planned_sortie_sprays_only_the_swaths_and_empties_the_tank_as_planned(samples):
    field = fields.load(samples / "dai-tu-paddies.geojson")[0]
    plan = planner.plan(field, planner.params_for("generic-10l-hex", edge_passes=0)).to_dict()
    sortie = plan["sorties"][-1]
    ms = missions.build_mission(plan, sortie["index"])
    reload_ = plan["reload"]
    swaths = [leg for leg in sortie["legs"] if leg["kind"] == "swath"]
    half_swath = plan["params"]["swath_m"] / 2

    with sim.start_sim(
        speedup=SPEEDUP,
        boot_delay_s=3,
        home=(reload_["lat"], reload_["lon"], 20.0),
        tank_l=plan["drone"]["tank_l"],
        pump_max_l_min=plan["sprayer"]["pump_max_l_min"],
    ) as s:
        disarmed_after_flight = threading.Event()
        flew = []

        def on_message(m) -> None:
            if m.get_type() == "GLOBAL_POSITION_INT" and m.relative_alt > 1000:
                flew.append(True)
            if m.get_type() == "HEARTBEAT" and m.get_srcSystem() == 1 and flew:
                if not m.base_mode & 128:
                    disarmed_after_flight.set()

        v = missions.Vehicle.connect(s.url, timeout=30)
        try:
            v.add_listener(on_message)
            v.wait_position(timeout=60)
            v.set_params(ms.params)
            v.upload_verified(ms.mission)
            v.set_mode("GUIDED")
            v.arm()
            v.mission_start()
            assert disarmed_after_flight.wait(sortie["flight_time_s"] * 3 / SPEEDUP + 30), "sortie never ended"
        finally:
            v.close()
        truth = s.truth()

    # liquid came out only over the planned swaths
    frame = field.frame
    lines = []
    for leg in swaths:
        pts = [frame.to_local(lon, lat) for lon, lat in leg["coords"]]
        lines.append(pts)

    def distance_to_swaths(lat: float, lon: float) -> float:
        x, y = frame.to_local(lon, lat)
        best = math.inf
        for pts in lines:
            for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
                dx, dy = x1 - x0, y1 - y0
                t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy or 1)))
                best = min(best, math.hypot(x - x0 - t * dx, y - y0 - t * dy))
        return best

    spraying = truth.spraying()
    assert len(spraying) > 100
    worst = max(distance_to_swaths(smp.lat, smp.lon) for smp in spraying)
    assert worst < half_swath + 1.0, f"liquid {worst:.1f} m from the nearest swath"
    # ... and the planned volume came out (the pump follows ground speed, so the dose holds)
    assert truth.sprayed_l == pytest.approx(sortie["volume_l"], rel=0.06)
    assert truth.tank_l == pytest.approx(plan["drone"]["tank_l"] - truth.sprayed_l, abs=1e-6)
    # back at the reload point, on the ground, disarmed
    last = truth.samples[-1]
    assert not last.armed and last.alt_rel < 0.3
    assert (
        point_segment_m((last.lat, last.lon), (reload_["lat"], reload_["lon"]), (reload_["lat"], reload_["lon"]))[0]
        < 3.0
    )
