"""The mission protocol (missions, fences, rallies) answered as ArduPilot's MissionItemProtocol does.

Uploads are pulled with MISSION_REQUEST (as ArduCopter 4.7 asks), held aside and stored only
when the last item arrived, so a partial upload never replaces what the vehicle flies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from sim.mission import FENCE, HOME_PLACEHOLDER, MAX_ITEMS, MISSION, RALLY, Item, validate

if TYPE_CHECKING:
    from sim.link import Peer
    from sim.simulator import Simulator

_B = mavlink.MAVLink(None, srcSystem=1, srcComponent=1)
_TYPES = (MISSION, FENCE, RALLY)


@dataclass
class _Upload:
    peer: Peer
    mission_type: int
    count: int
    sysid: int
    compid: int
    next_seq: int = 0
    items: list[Item] = field(default_factory=list)
    last_rx: float = 0.0
    last_req: float = 0.0


class MissionTransfers:
    """Upload, download, clear and set-current for all mission types of one vehicle."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.upload: _Upload | None = None
        self._finished: tuple[Peer, int, int, float] | None = None

    # ------------------------------------------------------------------
    def handle(self, peer: Peer, msg) -> bool:
        kind = msg.get_type()
        handler = getattr(self, f"_on_{kind.lower()}", None)
        if handler is None:
            return False
        handler(peer, msg)
        return True

    def update(self, now: float | None = None) -> None:
        up = self.upload
        if up is None:
            return
        now = time.monotonic() if now is None else now
        cfg = self.sim.cfg
        if not up.peer.alive:
            self.upload = None
            return
        if now - up.last_rx > cfg.upload_timeout_s:
            self.upload = None
            self._ack(up.peer, up.sysid, up.compid, mavlink.MAV_MISSION_OPERATION_CANCELLED, up.mission_type)
            return
        if now - up.last_req > cfg.request_resend_s:
            self._request(up, now)

    def peer_gone(self, peer: Peer) -> None:
        if self.upload is not None and self.upload.peer is peer:
            self.upload = None

    # ------------------------------------------------------------------ helpers
    def _send(self, peer: Peer, msg) -> None:
        self.sim.send(peer, msg)

    def _ack(self, peer: Peer, sysid: int, compid: int, result: int, mission_type: int) -> None:
        self._send(peer, _B.mission_ack_encode(sysid, compid, result, mission_type))

    def _request(self, up: _Upload, now: float) -> None:
        up.last_req = now
        self._send(up.peer, _B.mission_request_encode(up.sysid, up.compid, up.next_seq, up.mission_type))

    def _stored(self, mission_type: int) -> list[Item]:
        """Items as a ground station sees them (the mission with home at 0)."""
        items = self.sim.stores[mission_type]
        if mission_type != MISSION:
            return items
        loc = self.sim.copter.home_location()
        if loc is None:
            return [HOME_PLACEHOLDER] + items[1:]
        lat, lon, alt = loc
        home = Item(
            mavlink.MAV_CMD_NAV_WAYPOINT,
            mavlink.MAV_FRAME_GLOBAL,
            0,
            0,
            0,
            0,
            int(round(lat * 1e7)),
            int(round(lon * 1e7)),
            alt,
        )
        return [home] + items[1:]

    @staticmethod
    def _mission_type(msg) -> int:
        return int(getattr(msg, "mission_type", 0) or 0)

    def _supported_type(self, peer: Peer, msg) -> int | None:
        """The mission type a request for us names, or None (after refusing an unknown one
        with MAV_MISSION_UNSUPPORTED, as ArduPilot does)."""
        if not self._for_us(msg):
            return None
        mtype = self._mission_type(msg)
        if mtype not in _TYPES:
            self._ack(peer, msg.get_srcSystem(), msg.get_srcComponent(), mavlink.MAV_MISSION_UNSUPPORTED, mtype)
            return None
        return mtype

    def _for_us(self, msg) -> bool:
        ts = getattr(msg, "target_system", 0)
        return ts in (0, self.sim.sysid)

    def _commit(self, mission_type: int, items: list[Item]) -> None:
        """Store a completed upload: the mission goes to the copter (AP_Mission), fences and
        rally points are only kept for download."""
        if mission_type == MISSION:
            self.sim.copter.store_mission(items)
        else:
            self.sim.stores[mission_type][:] = items

    # ------------------------------------------------------------------ upload
    def _on_mission_count(self, peer: Peer, msg) -> None:
        mtype = self._supported_type(peer, msg)
        if mtype is None:
            return
        sysid, compid = msg.get_srcSystem(), msg.get_srcComponent()
        if self.upload is not None and self.upload.peer is not peer:
            self._ack(peer, sysid, compid, mavlink.MAV_MISSION_DENIED, mtype)
            return
        if msg.count > MAX_ITEMS[mtype]:
            self.upload = None
            self._ack(peer, sysid, compid, mavlink.MAV_MISSION_NO_SPACE, mtype)
            return
        if msg.count == 0:
            self.upload = None
            self._commit(mtype, [HOME_PLACEHOLDER] if mtype == MISSION else [])
            self._ack(peer, sysid, compid, mavlink.MAV_MISSION_ACCEPTED, mtype)
            return
        now = time.monotonic()
        self.upload = _Upload(peer, mtype, msg.count, sysid, compid, last_rx=now)
        self._request(self.upload, now)

    def _on_mission_item_int(self, peer: Peer, msg) -> None:
        self._item(
            peer,
            msg,
            Item(
                msg.command,
                msg.frame,
                msg.param1,
                msg.param2,
                msg.param3,
                msg.param4,
                int(msg.x),
                int(msg.y),
                float(msg.z),
                int(msg.autocontinue),
            ),
        )

    def _on_mission_item(self, peer: Peer, msg) -> None:
        self._item(
            peer,
            msg,
            Item(
                msg.command,
                msg.frame,
                msg.param1,
                msg.param2,
                msg.param3,
                msg.param4,
                int(round(msg.x * 1e7)),
                int(round(msg.y * 1e7)),
                float(msg.z),
                int(msg.autocontinue),
            ),
        )

    def _item(self, peer: Peer, msg, item: Item) -> None:
        if not self._for_us(msg):
            return
        mtype = self._mission_type(msg)
        up = self.upload
        if up is None or up.peer is not peer or up.mission_type != mtype:
            done = self._finished
            if (
                done
                and done[0] is peer
                and done[1] == mtype
                and done[2] == msg.seq
                and time.monotonic() - done[3] < 10.0
            ):
                # the ground station missed our final ACK and sent its last item again
                self._ack(peer, msg.get_srcSystem(), msg.get_srcComponent(), mavlink.MAV_MISSION_ACCEPTED, mtype)
            return
        now = time.monotonic()
        if msg.seq != up.next_seq:
            if msg.seq > up.next_seq:
                self._ack(peer, up.sysid, up.compid, mavlink.MAV_MISSION_INVALID_SEQUENCE, mtype)
            return  # an old item sent again: the request for the wanted one follows on timeout
        up.last_rx = now
        if not (mtype == MISSION and msg.seq == 0):  # item 0 is home: ArduPilot ignores what is sent
            result = validate(item, mtype)
            if result != mavlink.MAV_MISSION_ACCEPTED:
                self.upload = None
                self._ack(peer, up.sysid, up.compid, result, mtype)
                return
        up.items.append(item)
        up.next_seq += 1
        if up.next_seq >= up.count:
            self.upload = None
            self._commit(mtype, up.items)
            self._finished = (peer, mtype, msg.seq, now)
            self._ack(peer, up.sysid, up.compid, mavlink.MAV_MISSION_ACCEPTED, mtype)
            return
        self._request(up, now)

    # ------------------------------------------------------------------ download
    def _on_mission_request_list(self, peer: Peer, msg) -> None:
        mtype = self._supported_type(peer, msg)
        if mtype is None:
            return
        count = len(self._stored(mtype))
        self._send(peer, _B.mission_count_encode(msg.get_srcSystem(), msg.get_srcComponent(), count, mtype))

    def _on_mission_request_int(self, peer: Peer, msg) -> None:
        self._send_item(peer, msg, as_int=True)

    def _on_mission_request(self, peer: Peer, msg) -> None:
        if self.upload is not None and self.upload.peer is peer:
            return  # a GCS echoing our own request; never happens with a sane ground station
        self._send_item(peer, msg, as_int=False)

    def _send_item(self, peer: Peer, msg, *, as_int: bool) -> None:
        mtype = self._supported_type(peer, msg)
        if mtype is None:
            return
        sysid, compid = msg.get_srcSystem(), msg.get_srcComponent()
        items = self._stored(mtype)
        if not 0 <= msg.seq < len(items):
            self._ack(peer, sysid, compid, mavlink.MAV_MISSION_INVALID_SEQUENCE, mtype)
            return
        it = items[msg.seq].reported(mtype)
        current = 1 if (mtype == MISSION and self.sim.copter.nav_index == msg.seq) else 0
        if as_int:
            out = _B.mission_item_int_encode(
                sysid,
                compid,
                msg.seq,
                it.frame,
                it.command,
                current,
                it.autocontinue,
                it.param1,
                it.param2,
                it.param3,
                it.param4,
                it.x,
                it.y,
                it.z,
                mtype,
            )
        else:
            out = _B.mission_item_encode(
                sysid,
                compid,
                msg.seq,
                it.frame,
                it.command,
                current,
                it.autocontinue,
                it.param1,
                it.param2,
                it.param3,
                it.param4,
                it.x * 1e-7,
                it.y * 1e-7,
                it.z,
                mtype,
            )
        self._send(peer, out)

    def _on_mission_ack(self, peer: Peer, msg) -> None:
        pass  # the end of a download: nothing to do, as in ArduPilot

    # ------------------------------------------------------------------ clear / current
    def _on_mission_clear_all(self, peer: Peer, msg) -> None:
        if not self._for_us(msg):
            return
        mtype = self._mission_type(msg)
        types = _TYPES if mtype == mavlink.MAV_MISSION_TYPE_ALL else (mtype,)
        if not set(types) <= set(_TYPES):
            self._ack(peer, msg.get_srcSystem(), msg.get_srcComponent(), mavlink.MAV_MISSION_UNSUPPORTED, mtype)
            return
        for t in types:
            if self.upload is not None and self.upload.mission_type == t:
                self.upload = None
            if t == MISSION:
                self.sim.copter.clear_mission()
            else:
                self._commit(t, [])
        self._ack(peer, msg.get_srcSystem(), msg.get_srcComponent(), mavlink.MAV_MISSION_ACCEPTED, mtype)
        self.sim.mission_current_changed()

    def _on_mission_set_current(self, peer: Peer, msg) -> None:
        if not self._for_us(msg):
            return
        if self.sim.copter.set_mission_current(msg.seq):
            self.sim.mission_current_changed()
