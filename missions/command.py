"""COMMAND_LONG with COMMAND_ACK, resent until answered: arming, modes, mission start,
current item, message requests and rates.

ArduPilot answers TEMPORARILY_REJECTED or FAILED while it is not ready (right after
boot, no position yet); `arm` and `set_mode` keep asking until their timeout and then
quote the vehicle's last STATUSTEXT (e.g. "PreArm: Need Position Estimate").
Mode and arming changes are confirmed by the next HEARTBEAT, not by the ACK alone.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from missions.dialect import enum_name, mavlink
from missions.errors import MissionError
from missions.retry import Exchange, answers

UNASKED_S = 3.0  # wait_position: how long a position may take to come unasked

if TYPE_CHECKING:
    from missions.link import Vehicle

# ArduCopter custom_mode numbers (HEARTBEAT.custom_mode).
COPTER_MODES: dict[str, int] = {
    "STABILIZE": 0,
    "ACRO": 1,
    "ALT_HOLD": 2,
    "AUTO": 3,
    "GUIDED": 4,
    "LOITER": 5,
    "RTL": 6,
    "CIRCLE": 7,
    "LAND": 9,
    "DRIFT": 11,
    "SPORT": 13,
    "FLIP": 14,
    "AUTOTUNE": 15,
    "POSHOLD": 16,
    "BRAKE": 17,
    "THROW": 18,
    "AVOID_ADSB": 19,
    "GUIDED_NOGPS": 20,
    "SMART_RTL": 21,
    "FLOWHOLD": 22,
    "FOLLOW": 23,
    "ZIGZAG": 24,
    "SYSTEMID": 25,
    "AUTOROTATE": 26,
    "AUTO_RTL": 27,
}
RESULT_MEANING: dict[int, str] = {
    mavlink.MAV_RESULT_ACCEPTED: "accepted",
    mavlink.MAV_RESULT_TEMPORARILY_REJECTED: "not possible right now",
    mavlink.MAV_RESULT_DENIED: "denied (invalid parameters)",
    mavlink.MAV_RESULT_UNSUPPORTED: "not supported by the vehicle",
    mavlink.MAV_RESULT_FAILED: "failed",
    mavlink.MAV_RESULT_IN_PROGRESS: "in progress",
}
_RETRY_RESULTS = (mavlink.MAV_RESULT_TEMPORARILY_REJECTED, mavlink.MAV_RESULT_FAILED)
FORCE_MAGIC = 21196  # ARM_DISARM param2: skip the pre-arm / in-flight checks


def is_autopilot(m: Any) -> bool:
    """A HEARTBEAT from a vehicle's autopilot, not from a ground station or a companion."""
    return m.type != mavlink.MAV_TYPE_GCS and m.autopilot != mavlink.MAV_AUTOPILOT_INVALID


def mode_name(custom_mode: int) -> str:
    for name, number in COPTER_MODES.items():
        if number == custom_mode:
            return name
    return f"MODE({custom_mode})"


def mode_number(mode: str | int) -> int:
    if isinstance(mode, int):
        return mode
    try:
        return COPTER_MODES[mode.upper()]
    except KeyError:
        raise MissionError(f"unknown Copter mode {mode!r} (one of {', '.join(COPTER_MODES)})") from None


def _cmd_name(command: int) -> str:
    return enum_name("MAV_CMD", command)


class _StatusTexts:
    """The vehicle's STATUSTEXT lines while a command is pending (for error messages)."""

    def __init__(self, v: Vehicle) -> None:
        self.v = v
        self.lines: list[str] = []

    def __call__(self, m: Any) -> None:
        if m.get_type() == "STATUSTEXT":
            self.lines.append(m.text)

    def __enter__(self) -> _StatusTexts:
        self.v.add_listener(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.v.remove_listener(self)

    def last(self) -> str:
        return f' (vehicle says: "{self.lines[-1]}")' if self.lines else ""


def command_long(
    v: Vehicle, command: int, *params: float, timeout: float | None = None, retry_rejected: bool = False
) -> Any:
    """Send COMMAND_LONG until COMMAND_ACK; return the ACK when ACCEPTED.

    With `retry_rejected`, TEMPORARILY_REJECTED and FAILED are asked again (every
    second) until `timeout` (default RetryPolicy.step_timeout_s)."""
    p = [float(x) for x in params] + [0.0] * (7 - len(params))
    timeout = v.policy.step_timeout_s if timeout is None else timeout
    name = _cmd_name(command)
    sends = itertools.count()  # COMMAND_LONG.confirmation: 0, then 1, 2, ... for each resend
    last_result: int | None = None

    def make() -> Any:
        return mavlink.MAVLink_command_long_message(
            v.target_system, v.target_component, command, min(next(sends), 255), *p
        )

    def refused(result: int) -> str:
        return f"{name} refused: {enum_name('MAV_RESULT', result)} ({RESULT_MEANING.get(result, '?')}){texts.last()}"

    def silence(_: Exchange) -> str:
        if last_result is None:
            return f"{name}: no COMMAND_ACK within {timeout:.1f} s"
        return refused(last_result)

    with _StatusTexts(v) as texts, v.inbox(["COMMAND_ACK"], match=lambda m: m.command == command) as box:
        ex = Exchange(v, box, timeout_s=timeout, silence=silence)
        ex.send(command, make)
        for m in ex:
            ex.answered(command, keep=True)
            result = m.result
            if result == mavlink.MAV_RESULT_ACCEPTED:
                return m
            if result == mavlink.MAV_RESULT_IN_PROGRESS:
                continue
            last_result = result
            if retry_rejected and result in _RETRY_RESULTS:
                ex.repeat_every(command, 1.0)  # not ready yet: ask again each second until the timeout
                continue
            raise MissionError(refused(result))
    raise AssertionError("unreachable")  # the exchange raises when it gives up


def _wait_heartbeat(v: Vehicle, ok, what: str, timeout: float) -> None:
    with v.inbox(["HEARTBEAT"], match=lambda m: m.get_srcComponent() == v.target_component) as box:
        if v.heartbeat is not None and ok(v.heartbeat):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = box.get(deadline - time.monotonic())
            if m is not None and ok(m):
                return
    raise MissionError(f"{what}: the vehicle's HEARTBEAT did not confirm it within {timeout:.1f} s")


def set_mode(v: Vehicle, mode: str | int, *, timeout: float | None = None) -> None:
    """MAV_CMD_DO_SET_MODE with the Copter custom mode, confirmed by HEARTBEAT."""
    number = mode_number(mode)
    timeout = v.policy.step_timeout_s if timeout is None else timeout
    command_long(
        v,
        mavlink.MAV_CMD_DO_SET_MODE,
        mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED,
        number,
        timeout=timeout,
        retry_rejected=True,
    )
    _wait_heartbeat(v, lambda m: m.custom_mode == number, f"mode {mode_name(number)}", timeout)


def arm(v: Vehicle, *, force: bool = False, timeout: float | None = None) -> None:
    """Arm (retrying while pre-arm checks fail, up to `timeout`), confirmed by HEARTBEAT."""
    timeout = v.policy.step_timeout_s if timeout is None else timeout
    command_long(
        v, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 1, FORCE_MAGIC if force else 0, timeout=timeout, retry_rejected=True
    )
    _wait_heartbeat(v, lambda m: bool(m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED), "arm", timeout)


def disarm(v: Vehicle, *, force: bool = False, timeout: float | None = None) -> None:
    timeout = v.policy.step_timeout_s if timeout is None else timeout
    command_long(
        v, mavlink.MAV_CMD_COMPONENT_ARM_DISARM, 0, FORCE_MAGIC if force else 0, timeout=timeout, retry_rejected=True
    )
    _wait_heartbeat(v, lambda m: not m.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED, "disarm", timeout)


def mission_start(v: Vehicle, first: int = 0, last: int = 0) -> None:
    """MAV_CMD_MISSION_START (ArduCopter switches to AUTO)."""
    command_long(v, mavlink.MAV_CMD_MISSION_START, first, last)


def set_current(v: Vehicle, seq: int) -> None:
    """MAV_CMD_DO_SET_MISSION_CURRENT; older firmware gets MISSION_SET_CURRENT,
    confirmed by MISSION_CURRENT."""
    try:
        command_long(v, mavlink.MAV_CMD_DO_SET_MISSION_CURRENT, seq)
        return
    except MissionError as exc:
        if "UNSUPPORTED" not in str(exc):
            raise
    request = mavlink.MAVLink_mission_set_current_message(v.target_system, v.target_component, seq)
    with v.inbox(["MISSION_CURRENT"], match=lambda m: m.seq == seq) as box:
        for _ in answers(
            v,
            box,
            request,
            silence=lambda n: (
                f"MISSION_SET_CURRENT {seq}: no MISSION_CURRENT confirming it "
                f"within {v.policy.step_timeout_s:.1f} s ({n} resends)"
            ),
        ):
            return


def _message_id(message: str | int) -> int:
    if isinstance(message, int):
        return message
    mid = getattr(mavlink, f"MAVLINK_MSG_ID_{message.upper()}", None)
    if mid is None:
        raise MissionError(f"unknown MAVLink message {message!r}")
    return mid


def request_message(v: Vehicle, message: str | int, *params: float) -> None:
    """MAV_CMD_REQUEST_MESSAGE: ask for one message now (e.g. HOME_POSITION)."""
    command_long(v, mavlink.MAV_CMD_REQUEST_MESSAGE, _message_id(message), *params)


def set_message_interval(v: Vehicle, message: str | int, hz: float) -> None:
    """MAV_CMD_SET_MESSAGE_INTERVAL; hz <= 0 stops the message."""
    interval_us = -1 if hz <= 0 else int(round(1e6 / hz))
    command_long(v, mavlink.MAV_CMD_SET_MESSAGE_INTERVAL, _message_id(message), interval_us)


def wait_position(v: Vehicle, timeout: float = 120.0) -> tuple[float, float, float]:
    """Wait for a position estimate (GLOBAL_POSITION_INT with non-zero lat/lon):
    right after boot an autopilot ignores or cancels requests and refuses to arm.

    The streams are asked for (REQUEST_DATA_STREAM, as MAVProxy does) only when no position
    comes unasked within UNASKED_S (or half the timeout), and then STREAM_RATES again: on
    ArduPilot that request sets every message of its streams back to one rate, undoing
    `Vehicle.request_streams` (measured on ArduCopter 4.7 SITL: SERVO_OUTPUT_RAW at 4 Hz,
    not the 5 Hz asked)."""
    with v.inbox(["GLOBAL_POSITION_INT"]) as box:
        unasked = min(UNASKED_S, timeout / 2)
        end = time.monotonic() + unasked
        while (left := end - time.monotonic()) > 0:
            m = box.get(left)
            if m is not None and _has_fix(m):
                return _position(m)
        ask = mavlink.MAVLink_request_data_stream_message(
            v.target_system, v.target_component, mavlink.MAV_DATA_STREAM_ALL, 4, 1
        )
        ex = Exchange(
            v,
            box,
            timeout_s=timeout - unasked,
            silence=lambda _e: (
                f"no position estimate from the vehicle within {timeout:.0f} s "
                "(GLOBAL_POSITION_INT stayed at 0,0 or was not sent)"
            ),
        )
        ex.send("streams", ask, every=2.0)
        m = next(m for m in ex if _has_fix(m))  # the exchange raises when it gives up
    v.request_streams()
    return _position(m)


def _has_fix(m: Any) -> bool:
    return bool(m.lat != 0 or m.lon != 0)


def _position(m: Any) -> tuple[float, float, float]:
    return m.lat / 1e7, m.lon / 1e7, m.relative_alt / 1000.0
