"""The MAVLink mission protocol (mavlink.io "Mission Protocol") for missions, fences
and rally points: upload, download, clear, and upload verified by read-back.

Upload: MISSION_COUNT; the vehicle pulls each item with MISSION_REQUEST_INT or, like
ArduCopter 4.7, MISSION_REQUEST; every request is answered with the MISSION_ITEM_INT
it names (repeated and out-of-order requests included); MISSION_ACK ends it.  A step
with no answer is sent again after the resend timeout (retry.py).  ArduPilot answers
an item it already has with MISSION_ACK INVALID_SEQUENCE and keeps the transfer
open; that tells us our copy of its last request was lost, so the next item is sent
at once instead of waiting for the vehicle's own 1 s re-request.

Timeouts: any step that gets no answer for RetryPolicy.step_timeout_s (6 s) fails
the operation with a MissionError naming the step.  A final ACK lost on the way is
resolved by reading the items back: an upload is only reported when the vehicle
holds exactly what was sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from missions.dialect import enum_name, mavlink, mission_type_id, mission_type_name
from missions.errors import MissionError
from missions.items import MissionItem, compare
from missions.retry import Exchange, answers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from missions.link import Vehicle

ACK_MEANING: dict[int, str] = {
    mavlink.MAV_MISSION_ACCEPTED: "accepted",
    mavlink.MAV_MISSION_ERROR: "the vehicle is not accepting mission commands right now (generic error)",
    mavlink.MAV_MISSION_UNSUPPORTED_FRAME: "an item uses a coordinate frame the vehicle does not support",
    mavlink.MAV_MISSION_UNSUPPORTED: "an item has a command the vehicle does not support",
    mavlink.MAV_MISSION_NO_SPACE: "the items exceed the vehicle's storage space",
    mavlink.MAV_MISSION_INVALID: "an item has an invalid parameter value",
    mavlink.MAV_MISSION_INVALID_PARAM1: "an item's param1 is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM2: "an item's param2 is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM3: "an item's param3 is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM4: "an item's param4 is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM5_X: "an item's x (latitude) is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM6_Y: "an item's y (longitude) is invalid",
    mavlink.MAV_MISSION_INVALID_PARAM7: "an item's z (altitude) is invalid",
    mavlink.MAV_MISSION_INVALID_SEQUENCE: "an item arrived out of sequence",
    mavlink.MAV_MISSION_DENIED: "the vehicle denies mission commands from this ground station "
    "(another one is transferring, or the list is read-only)",
    mavlink.MAV_MISSION_OPERATION_CANCELLED: "the vehicle cancelled the transfer (it waited too long for an item)",
}


def explain_ack(result: int) -> str:
    """'MAV_MISSION_NO_SPACE: the items exceed the vehicle's storage space'."""
    return f"{enum_name('MAV_MISSION_RESULT', result)}: {ACK_MEANING.get(result, 'unknown result code')}"


_DEFINITE_REFUSALS = {mavlink.MAV_MISSION_DENIED, mavlink.MAV_MISSION_UNSUPPORTED, mavlink.MAV_MISSION_NO_SPACE}


class _Cancelled(MissionError):
    """The vehicle cancelled an upload (it may succeed when started again)."""


@dataclass
class TransferReport:
    """What one upload did."""

    mission_type: str
    count: int
    seconds: float = 0.0
    resends: int = 0  # messages sent again after a timeout or a sequence hint
    duplicates: int = 0  # requests the vehicle repeated
    attempts: int = 1
    verified: bool = False
    final_ack_lost: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mission_type": self.mission_type,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "resends": self.resends,
            "duplicates": self.duplicates,
            "attempts": self.attempts,
            "verified": self.verified,
            "notes": self.notes,
        }


def _ours(mt: int):
    return lambda m: getattr(m, "mission_type", 0) == mt


def _count_msg(v: Vehicle, n: int, mt: int) -> Any:
    return mavlink.MAVLink_mission_count_message(v.target_system, v.target_component, n, mt)


def upload(v: Vehicle, items: list[MissionItem], mission_type: str | int = "mission") -> TransferReport:
    """Upload once; if the final ACK went missing, read back to decide (see module doc)."""
    mt = mission_type_id(mission_type)
    name = mission_type_name(mt)
    items = [replace(it, seq=i, mission_type=mt) for i, it in enumerate(items)]
    rep = TransferReport(mission_type=name, count=len(items))
    t0 = time.monotonic()
    _upload_once(v, items, mt, rep)
    if rep.final_ack_lost:
        problems = compare(items, download(v, mt))
        if problems:
            raise MissionError(f"{name} upload: no final MISSION_ACK and the read-back differs ({problems[0]})")
        rep.verified = True
        rep.notes.append("final MISSION_ACK lost; the read-back matches")
    rep.seconds = time.monotonic() - t0
    return rep


_STEP = "step"  # the upload's one request in flight: MISSION_COUNT, then the last item sent


def _upload_once(v: Vehicle, items: list[MissionItem], mt: int, rep: TransferReport) -> None:
    name = mission_type_name(mt)
    count = len(items)
    step = f"MISSION_COUNT ({count} items): no MISSION_REQUEST for item 0"
    with v.inbox(["MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"], match=_ours(mt)) as box:
        ex = Exchange(
            v, box, silence=lambda e: f"{name} upload timed out after {e.timeout_s:.1f} s: {step} ({e.resends} resends)"
        )
        ex.send(_STEP, _count_msg(v, count, mt))
        answered: set[int] = set()  # items the vehicle asked for
        sent: set[int] = set()  # items sent (asked for, or after a sequence hint)
        highest = -1  # highest item sent in answer to a request
        try:
            for msg in ex:
                if msg.get_type() == "MISSION_ACK":
                    result = msg.type
                    if result == mavlink.MAV_MISSION_ACCEPTED:
                        if count == 0 or (count - 1) in sent:
                            return
                        continue  # a stale ACK from an earlier exchange
                    if result == mavlink.MAV_MISSION_INVALID_SEQUENCE:
                        # Answer to an item we sent again after a timeout: ArduPilot already holds
                        # it, so our copy of its request for the next one was lost.
                        last = ex.pending.get(_STEP)
                        if (
                            last is not None
                            and last.tries
                            and last.msg.get_type() == "MISSION_ITEM_INT"
                            and last.msg.seq + 1 < count
                        ):
                            nxt = last.msg.seq + 1
                            sent.add(nxt)
                            ex.send(_STEP, items[nxt].to_message(v.target_system, v.target_component), resend=True)
                        continue
                    if result == mavlink.MAV_MISSION_OPERATION_CANCELLED:
                        raise _Cancelled(f"{name} upload: {explain_ack(result)}")
                    if result == mavlink.MAV_MISSION_ERROR and count and (count - 1) in sent:
                        rep.final_ack_lost = True  # the vehicle finished already and rejects our repeat
                        return
                    if result == mavlink.MAV_MISSION_ERROR and not answered:
                        # "not accepting mission commands right now", or a late answer to an earlier
                        # transfer: keep offering the count until the step times out.
                        step = f"MISSION_COUNT ({count} items): vehicle answers {explain_ack(result)}"
                        continue
                    where = f" at item {highest}" if highest >= 0 else ""
                    raise MissionError(f"{name} upload refused{where}: {explain_ack(result)}")
                seq = msg.seq
                if seq >= count:
                    rep.notes.append(f"vehicle requested item {seq} of {count}; ignored")
                    continue
                if seq in answered:
                    rep.duplicates += 1
                    v.stats["duplicates"] += 1
                else:
                    ex.answered(_STEP)  # the request for a new item answers what we sent last
                answered.add(seq)
                sent.add(seq)
                highest = max(highest, seq)
                ex.send(_STEP, items[seq].to_message(v.target_system, v.target_component))
                ex.progress()
                step = (
                    f"MISSION_ITEM_INT {seq}: no MISSION_ACK"
                    if seq == count - 1
                    else f"MISSION_ITEM_INT {seq}: no request for the next item"
                )
        finally:
            rep.resends += ex.resends


def download(v: Vehicle, mission_type: str | int = "mission") -> list[MissionItem]:
    """Read the vehicle's list: MISSION_REQUEST_LIST, MISSION_COUNT, then MISSION_REQUEST_INT
    per item, up to RetryPolicy.download_window requests in flight (as MAVProxy does;
    ArduPilot answers each request on its own), each resent on its own timer."""
    mt = mission_type_id(mission_type)
    name = mission_type_name(mt)
    ts, tc = v.target_system, v.target_component
    with v.inbox(["MISSION_COUNT", "MISSION_ITEM_INT", "MISSION_ITEM", "MISSION_ACK"], match=_ours(mt)) as box:

        def refused(m: Any, step: str) -> None:
            # ERROR and INVALID_SEQUENCE can be late answers to an upload's repeated items;
            # the definite refusals end the download at once.
            if m.get_type() == "MISSION_ACK" and m.type in _DEFINITE_REFUSALS:
                raise MissionError(f"{name} download refused ({step}): {explain_ack(m.type)}")

        # MISSION_REQUEST_LIST -> MISSION_COUNT
        ex = Exchange(
            v,
            box,
            silence=lambda e: (
                f"{name} download timed out after {e.timeout_s:.1f} s: "
                f"MISSION_REQUEST_LIST: no MISSION_COUNT ({e.resends} resends)"
            ),
        )
        ex.send("list", mavlink.MAVLink_mission_request_list_message(ts, tc, mt))
        for m in ex:
            refused(m, "MISSION_REQUEST_LIST")
            if m.get_type() == "MISSION_COUNT":
                ex.answered("list")
                count = m.count
                break

        # MISSION_REQUEST_INT for each item, a window of them in flight
        def silence(e: Exchange) -> str:
            first = min(cast("Iterable[int]", e.pending))  # after "list", the keys are item numbers
            return (
                f"{name} download timed out after {e.timeout_s:.1f} s: MISSION_REQUEST_INT {first}: "
                f"no MISSION_ITEM_INT ({e.pending[first].tries} resends)"
            )

        ex.silence = silence
        ex.progress()
        got: dict[int, MissionItem] = {}
        next_seq = 0
        window = max(1, v.policy.download_window)
        while len(got) < count:
            while next_seq < count and len(ex.pending) < window:
                ex.send(next_seq, mavlink.MAVLink_mission_request_int_message(ts, tc, next_seq, mt))
                next_seq += 1
            m = ex.next()
            refused(m, f"MISSION_REQUEST_INT {min(cast('Iterable[int]', ex.pending)) if ex.pending else count}")
            if m.get_type() not in ("MISSION_ITEM_INT", "MISSION_ITEM") or m.seq not in ex.pending:
                continue  # a late or repeated answer
            ex.answered(m.seq)
            got[m.seq] = replace(MissionItem.from_message(m), mission_type=mt)
            ex.progress()
        v.send(mavlink.MAVLink_mission_ack_message(ts, tc, mavlink.MAV_MISSION_ACCEPTED, mt))
        return [got[i] for i in range(count)]


def clear(v: Vehicle, mission_type: str | int = "mission") -> None:
    """MISSION_CLEAR_ALL, confirmed by MISSION_ACK."""
    mt = mission_type_id(mission_type)
    name = mission_type_name(mt)
    policy = v.policy
    request = mavlink.MAVLink_mission_clear_all_message(v.target_system, v.target_component, mt)
    with v.inbox(["MISSION_ACK"], match=_ours(mt)) as box:
        for m in answers(
            v,
            box,
            request,
            timeout_s=policy.step_timeout_s,
            silence=lambda n: (
                f"{name} clear timed out after {policy.step_timeout_s:.1f} s: "
                f"MISSION_CLEAR_ALL: no MISSION_ACK ({n} resends)"
            ),
        ):
            if m.type == mavlink.MAV_MISSION_ACCEPTED:
                return
            raise MissionError(f"{name} clear refused: {explain_ack(m.type)}")


def upload_verified(v: Vehicle, items: list[MissionItem], mission_type: str | int = "mission") -> TransferReport:
    """Upload, read back and compare item by item; start again (up to policy.attempts)
    when the vehicle cancels or the read-back differs.  Never returns unless the
    vehicle holds exactly `items`."""
    mt = mission_type_id(mission_type)
    name = mission_type_name(mt)
    items = [replace(it, seq=i, mission_type=mt) for i, it in enumerate(items)]
    t0 = time.monotonic()
    notes: list[str] = []
    resends = duplicates = 0
    for attempt in range(1, v.policy.attempts + 1):
        try:
            rep = upload(v, items, mt)
        except _Cancelled as exc:
            notes.append(f"attempt {attempt}: {exc}")
            continue
        resends += rep.resends
        duplicates += rep.duplicates
        problems = [] if rep.verified else compare(items, download(v, mt))
        if not problems:
            rep.resends, rep.duplicates = resends, duplicates
            rep.attempts, rep.verified = attempt, True
            rep.notes = notes + rep.notes
            rep.seconds = time.monotonic() - t0
            return rep
        notes.append(f"attempt {attempt}: read-back differs: " + "; ".join(problems[:3]))
    raise MissionError(f"{name} upload failed after {v.policy.attempts} attempts: {notes[-1]}")
