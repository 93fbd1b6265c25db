"""Helpers for the telemetry tests: a rectangular plan.json and a real MAVLink TCP vehicle stand-in."""

from __future__ import annotations

import json
import socket
import threading
import time

import shapely
from pymavlink.dialects.v20 import ardupilotmega as mavlink
from shapely.geometry import box

from fields.frame import LocalFrame

LON0, LAT0 = 105.7312, 21.7046
T0_US = 1_750_000_000_000_000  # 2025-06-15T15:06:40Z


def rect_plan(
    w: float = 120.0,
    h: float = 40.0,
    swath: float = 5.0,
    dose: float = 15.0,
    keepout: list | None = None,
    field_id: str = "t-field",
    coop: str = "htx-t",
    lon0: float = LON0,
    lat0: float = LAT0,
):
    """A plan.json dict (docs/plan-format.md subset) for a w x h m rectangle, and its swaths (lon/lat)."""
    frame = LocalFrame.for_lonlat(lon0, lat0)
    x0, y0 = frame.to_local(lon0, lat0)
    b = box(x0, y0, x0 + w, y0 + h)
    swaths = []
    for i in range(int(h // swath)):
        y = y0 + swath / 2 + i * swath
        a, c = frame.to_wgs84(x0, y), frame.to_wgs84(x0 + w, y)
        swaths.append((a, c) if i % 2 == 0 else (c, a))

    def g(geom):
        return json.loads(shapely.to_geojson(frame.geom_to_wgs84(geom)))

    zones = []
    sprayable = b
    for k, (zx, zy, r) in enumerate(keepout or []):
        z = shapely.Point(x0 + zx, y0 + zy).buffer(r)
        zones.append({"id": f"z{k}", "kind": "no_spray", "buffer_m": 0, "height_m": None, "geometry": g(z)})
        sprayable = sprayable.difference(z)
    plan = {
        "format": "agrodrone-plan",
        "version": 1,
        "created_by": "test",
        "field": {
            "id": field_id,
            "name": "Test rectangle",
            "properties": {"crop": "rice", "eppo": "ORYSA", "cooperative": coop},
            "utm_epsg": frame.utm_epsg,
            "area_ha": b.area / 1e4,
            "sprayable_ha": sprayable.area / 1e4,
            "boundary": g(b),
            "sprayable": g(sprayable),
            "keepout": zones,
        },
        "drone": {
            "preset": "generic-10l-hex",
            "name": "Hex 10 L",
            "tank_l": 10,
            "swath_m": swath,
            "pump_max_l_min": 2.4,
        },
        "params": {"dose_l_ha": dose, "swath_m": swath, "speed_m_s": 5, "height_m": 3},
        "sprayer": {"flow_l_min": dose * swath * 5 * 0.006, "speed_m_s": 5, "pump_max_l_min": 2.4},
        "reload": {"lon": lon0, "lat": lat0},
        "sorties": [{"index": 1, "legs": _legs((lon0, lat0), swaths)}],
    }
    return plan, swaths


def _legs(reload, swaths) -> list[dict]:
    """Contiguous legs: reload -> swath, swath -> swath transits, last swath -> reload."""
    legs, here = [], reload
    for k, (a, b) in enumerate(swaths):
        legs.append({"kind": "transit", "coords": [list(here), list(a)], "length_m": 0})
        legs.append({"kind": "swath", "swath": k, "coords": [list(a), list(b)], "length_m": 0})
        here = b
    legs.append({"kind": "transit", "coords": [list(here), list(reload)], "length_m": 0})
    return legs


def pwm_for(dose: float, swath: float, speed: float = 5.0, pump_max: float = 2.4) -> int:
    return int(round(1000 + dose * swath * speed * 0.006 / pump_max * 1000))


class FakeVehicleServer:
    """A real TCP MAVLink 2 endpoint streaming heartbeat, position and servo at `hz`.

    Not ArduPilot: a deterministic source whose every sent message (time, counter) is
    recorded, so a test can check exactly what a logger must hold. `drop()` closes the
    current client (a link loss); the server keeps listening for the reconnect.
    """

    def __init__(self, hz: float = 50.0) -> None:
        self.hz = hz
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(2)
        self.port = self.sock.getsockname()[1]
        self.url = f"tcp:127.0.0.1:{self.port}"
        self.sent: list[tuple[float, int]] = []  # (wall time after send, counter)
        self.counter = 0
        self._stop = threading.Event()
        self._drop = threading.Event()
        self.mav = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except TimeoutError:
                continue
            self._drop.clear()
            try:
                self._stream(client)
            except OSError:
                pass
            finally:
                client.close()

    def _stream(self, client: socket.socket) -> None:
        period = 1.0 / self.hz
        nxt = time.monotonic()
        while not self._stop.is_set() and not self._drop.is_set():
            k = self.counter
            frames = []
            if k % int(self.hz) == 0:
                frames.append(
                    mavlink.MAVLink_heartbeat_message(
                        mavlink.MAV_TYPE_QUADROTOR,
                        mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                        mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | mavlink.MAV_MODE_FLAG_SAFETY_ARMED,
                        3,
                        4,
                        3,
                    )
                )
            frames.append(
                mavlink.MAVLink_global_position_int_message(
                    k, int((LAT0 + k * 1e-7) * 1e7), int(LON0 * 1e7), 30_000, 3_000, 0, 0, 0, 0
                )
            )
            frames.append(mavlink.MAVLink_servo_output_raw_message(k * 1000, 0, *([1500] * 8 + [1000] * 8)))
            client.sendall(b"".join(self._pack(f) for f in frames))
            self.sent.append((time.time(), k))
            self.counter += 1
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))

    def _pack(self, msg) -> bytes:
        buf = bytes(msg.pack(self.mav))
        self.mav.seq = (self.mav.seq + 1) % 256  # as MAVLink.send does
        return buf

    def drop(self) -> None:
        self._drop.set()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()
