"""Starting ArduCopter SITL (tests marked `sitl`): several instances started at once, as the
fleet tests start them, each get their own ports and answer as their own MAVLink system.

CI once saw two threads pick the same free instance: the SITL that could not bind found the
other's port listening, took it for its own, and both drones of a fleet answered as system 2.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest
from pymavlink import mavutil

import sim


@pytest.mark.sitl
def test_sitl_instances_started_at_once_each_answer_on_their_own_port() -> None:
    sysids = (3, 4, 5)
    with ExitStack() as stack, ThreadPoolExecutor(len(sysids)) as pool:
        started = [pool.submit(sim.start_sitl, params={"MAV_SYSID": s}, wait=False) for s in sysids]
        handles = [stack.enter_context(f.result()) for f in started]
        assert len({h.url for h in handles}) == len(sysids)
        for handle, sysid in zip(handles, sysids):
            link = mavutil.mavlink_connection(handle.url, source_system=254, autoreconnect=False)
            try:
                beat = link.wait_heartbeat(timeout=60)
            finally:
                link.close()
            assert beat is not None, handle.log_tail()
            assert beat.get_srcSystem() == sysid, f"{handle.url} answers as system {beat.get_srcSystem()}"
            assert handle.proc.poll() is None, handle.log_tail()
