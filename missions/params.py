"""The parameter protocol: PARAM_SET confirmed by the PARAM_VALUE the vehicle sends back.

A PARAM_SET that is lost, or a PARAM_VALUE that is lost, looks the same from here, so
the set is simply repeated (setting a parameter twice is harmless).  ArduPilot says
nothing for a name it does not know: that times out with the parameter's name.  A
value the vehicle stored differently (clamped, rounded to its integer type) fails.
"""

from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING, Any

from missions.dialect import mavlink
from missions.errors import MissionError
from missions.retry import answers
from missions.sprayer import param_type

if TYPE_CHECKING:
    from missions.link import Vehicle


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def _name_of(m: Any) -> str:
    pid = m.param_id
    if isinstance(pid, bytes):
        pid = pid.decode("ascii", "replace")
    return pid.rstrip("\x00")


def _exchange(v: Vehicle, name: str, request: Any, step: str) -> Any:
    timeout = v.policy.step_timeout_s
    with v.inbox(["PARAM_VALUE"], match=lambda m: _name_of(m) == name) as box:
        for m in answers(
            v,
            box,
            request,
            timeout_s=timeout,
            silence=lambda _: (
                f"{step}: no PARAM_VALUE within {timeout:.1f} s (is the parameter known to this firmware?)"
            ),
        ):
            return m


def set_param(v: Vehicle, name: str, value: float) -> float:
    """Set one parameter; returns the value the vehicle confirmed."""
    if len(name) > 16:
        raise MissionError(f"parameter name {name!r} is longer than 16 characters")
    request = mavlink.MAVLink_param_set_message(
        v.target_system, v.target_component, name.encode("ascii"), float(value), param_type(name)
    )
    m = _exchange(v, name, request, f"PARAM_SET {name}={value:g}")
    got = float(m.param_value)
    if not (math.isclose(got, _f32(value), rel_tol=1e-6, abs_tol=1e-6)):
        raise MissionError(f"PARAM_SET {name}={value:g}: the vehicle kept {got:g}")
    return got


def set_params(v: Vehicle, values: dict[str, float]) -> dict[str, float]:
    """Set parameters in the given order; returns name -> confirmed value."""
    return {name: set_param(v, name, value) for name, value in values.items()}


def get_param(v: Vehicle, name: str) -> float:
    request = mavlink.MAVLink_param_request_read_message(v.target_system, v.target_component, name.encode("ascii"), -1)
    return float(_exchange(v, name, request, f"PARAM_REQUEST_READ {name}").param_value)
