"""Mission upload speed on loopback: 50 / 300 / 700 items, clean and with 20 % loss each way.

Prints one table.  The vehicle is the scripted ArduPilot-like peer of the tests
(tests/missions_peer.py: real TCP, real MAVLink 2) with ArduPilot's 1 s re-request.
"upload" is MISSION_COUNT .. final ACK; "verified" adds the read-back and the
item-by-item comparison.  The protocol floor is items x measured round trip (one
request/item exchange per item; the upload cannot go faster than that).
Target (issue 4): 300 items on a clean loopback in well under 1.7 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from missions_peer import Faults, ScriptedVehicle  # noqa: E402

import missions  # noqa: E402
from missions.items import NAV_WAYPOINT, MissionItem  # noqa: E402


def items(n: int) -> list[MissionItem]:
    return [MissionItem.at(i, NAV_WAYPOINT, 21.7046 + i * 1e-6, 105.7312 + i * 1e-6, 3.0) for i in range(n)]


def run(n: int, loss: float, seed: int = 1) -> dict:
    with ScriptedVehicle(faults=Faults(loss=loss, seed=seed)) as peer, missions.Vehicle.connect(peer.url) as v:
        # measure the round trip first (a few parameter reads), as the floor's unit
        for _ in range(5):  # warm up
            v.get_param("WPNAV_SPEED")
        t = time.monotonic()
        for _ in range(20):
            v.get_param("WPNAV_SPEED")
        rtt = (time.monotonic() - t) / 20 if loss == 0 else v.rtt.srtt or 0.0
        lst = items(n)
        t = time.monotonic()
        rep = v.upload(lst)
        up = time.monotonic() - t
        t = time.monotonic()
        problems = missions.compare(lst, v.download())
        down = time.monotonic() - t
        assert not problems, problems[:3]
        return {
            "items": n,
            "loss": loss,
            "upload_s": up,
            "verified_s": up + down,
            "resends": rep.resends,
            "rtt_ms": rtt * 1000,
            "floor_s": n * rtt,
        }


def main() -> None:
    rows = [run(n, loss) for loss in (0.0, 0.2) for n in (50, 300, 700)]
    print(f"{'items':>6} {'loss':>5} {'upload s':>9} {'+verify s':>10} {'resends':>8} {'rtt ms':>7} {'floor s':>8}")
    for r in rows:
        print(
            f"{r['items']:>6} {r['loss']:>5.0%} {r['upload_s']:>9.3f} {r['verified_s']:>10.3f} {r['resends']:>8} "
            f"{r['rtt_ms']:>7.3f} {r['floor_s']:>8.3f}"
        )
    clean300 = next(r for r in rows if r["items"] == 300 and r["loss"] == 0)
    print(f"300 items clean: {clean300['upload_s']:.3f} s (MAVProxy on ArduPilot 4.7 SITL: 1.7 s)")


if __name__ == "__main__":
    main()
