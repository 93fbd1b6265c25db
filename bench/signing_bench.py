"""What MAVLink 2 signing costs: CPU per message and mission-upload time, signed and not.

Prints two tables.
- CPU: pymavlink packing (with the signature: SHA-256 over the packet) and parsing (with the
  check), microseconds per message, for a telemetry message and a mission item.
- Upload: 300 mission items uploaded and read back over the loopback, unsigned and signed,
  on the embedded simulator and, when ARDUPILOT_SITL names an arducopter binary, on
  ArduCopter SITL over its SERIAL1 port (a telemetry radio: the channel that checks).

    python bench/signing_bench.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from missions import Vehicle, compare  # noqa: E402
from missions.dialect import mavlink  # noqa: E402
from missions.items import NAV_WAYPOINT, MissionItem  # noqa: E402
from missions.keys import _send_setup  # noqa: E402
from missions.signing import SigningKey, timestamp_now  # noqa: E402

N_ITEMS = 300


def _mav(key: SigningKey | None) -> mavlink.MAVLink:
    mav = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
    if key is not None:
        mav.signing.secret_key = key.secret
        mav.signing.sign_outgoing = True
        mav.signing.timestamp = timestamp_now()
        mav.signing.link_id = 1
    return mav


def cpu_rows(n: int = 20_000) -> list[tuple[str, float, float, float, float]]:
    key = SigningKey.generate()
    samples = {
        "GLOBAL_POSITION_INT": lambda: mavlink.MAVLink_global_position_int_message(
            1, 217046000, 1057312000, 30000, 3000, 100, -50, 0, 9000
        ),
        "MISSION_ITEM_INT": lambda: mavlink.MAVLink_mission_item_int_message(
            1, 1, 7, 3, NAV_WAYPOINT, 0, 1, 0, 0, 0, 0, 217046000, 1057312000, 3.0, 0
        ),
    }
    rows = []
    for name, make in samples.items():
        figures = []
        for signed in (False, True):
            sender, receiver = _mav(key if signed else None), _mav(key if signed else None)
            msg = make()
            t = time.perf_counter()
            frames = [msg.pack(sender) for _ in range(n)]
            pack_us = (time.perf_counter() - t) / n * 1e6
            t = time.perf_counter()
            for frame in frames:
                assert receiver.parse_char(frame) is not None
            parse_us = (time.perf_counter() - t) / n * 1e6
            figures += [pack_us, parse_us]
        rows.append((name, *figures))
    return rows


def _items() -> list[MissionItem]:
    return [MissionItem.at(i, NAV_WAYPOINT, 21.7046 + i * 1e-6, 105.7312 + i * 1e-6, 3.0) for i in range(N_ITEMS)]


def _upload_s(url: str, key: SigningKey | None, repeats: int) -> float:
    times = []
    with Vehicle.connect(url, timeout=60, key=key) as v:
        for _ in range(repeats):
            items = _items()
            t = time.monotonic()
            v.upload(items)
            problems = compare(items, v.download())
            times.append(time.monotonic() - t)
            assert not problems, problems[:3]
    return statistics.median(times)


def upload_rows(repeats: int) -> list[tuple[str, float, float]]:
    key = SigningKey.generate()
    rows = []
    with sim.start_sim(speedup=10, boot_delay_s=1) as s:
        s.wait_ready(60)
        unsigned = _upload_s(s.url, None, repeats)
    with sim.start_sim(speedup=10, boot_delay_s=1, signing_key=key.secret) as s:
        s.wait_ready(60)
        rows.append(("embedded simulator", unsigned, _upload_s(s.url, key, repeats)))
    if sim.sitl_binary():
        with sim.start_sitl(speedup=10) as h:
            radio = f"tcp:127.0.0.1:{h.port + 2}"
            unsigned = _upload_s(radio, None, repeats)
            with Vehicle.connect(h.url, trusted=True) as v:  # install over SERIAL0 (USB)
                _send_setup(v, key)
            rows.append(("ArduCopter SITL, SERIAL1", unsigned, _upload_s(radio, key, repeats)))
    return rows


def _table(title: str, header: tuple[str, ...], rows: list, fmt: Callable[[float], str]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join([row[0], *(fmt(x) for x in row[1:])]) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    _table(
        "CPU per message (pymavlink, µs)",
        ("message", "pack", "pack signed", "parse", "parse + check"),
        [(r[0], r[1], r[3], r[2], r[4]) for r in cpu_rows()],
        lambda x: f"{x:.1f}",
    )
    rows = upload_rows(args.repeats)
    _table(
        f"{N_ITEMS} mission items uploaded and read back (median of {args.repeats}, s)",
        ("vehicle", "unsigned", "signed", "signed / unsigned"),
        [(name, a, b, b / a) for name, a, b in rows],
        lambda x: f"{x:.3f}",
    )


if __name__ == "__main__":
    main()
