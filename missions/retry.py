"""When to send a request again, and when to give up.

A fixed 1.5 s retry (what the mavlink.io mission protocol suggests) makes a lossy
link crawl: with 20 % loss each way a third of the exchanges need a resend.  So the
resend timer follows the measured round trip, the way TCP does (Jacobson/Karels,
RFC 6298: srtt + 4 * rttvar, Karn's rule: no samples from resent exchanges), kept
between `rto_min_s` and `rto_max_s` (1.5 s).  Losses on a radio link are random, not
congestion, so an unanswered resend only stretches the timer of that one exchange by
1.3x (`rto_for(n)`), and the next exchange starts from the measured value again.  What bounds the wait is `step_timeout_s`: a step (one request and its
answer) that gets no answer at all for that long fails, naming the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from missions.errors import MissionError

if TYPE_CHECKING:
    from missions.link import Inbox, Vehicle


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts of the MAVLink exchanges (seconds)."""

    step_timeout_s: float = 6.0  # no answer to a step for this long: the operation fails
    rto_initial_s: float = 1.0  # resend timer before any round trip was measured
    rto_min_s: float = 0.03
    rto_max_s: float = 1.5
    attempts: int = 3  # whole uploads tried when the vehicle cancels or the read-back differs
    download_window: int = 5  # item requests in flight during a download (MAVProxy asks 5 ahead)


class RttEstimator:
    """Smoothed round trip and the resend timeout derived from it."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.srtt: float | None = None
        self.rttvar = 0.0

    def sample(self, rtt: float) -> None:
        """A round trip measured on an exchange that was not resent."""
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt

    @property
    def rto(self) -> float:
        """Resend timeout of an exchange's first send."""
        p = self.policy
        base = p.rto_initial_s if self.srtt is None else self.srtt + max(0.01, 4 * self.rttvar)
        return min(p.rto_max_s, max(p.rto_min_s, base))

    def rto_for(self, resends: int) -> float:
        """Resend timeout after `resends` unanswered sends of the same exchange."""
        return min(self.policy.rto_max_s, self.rto * 1.3 ** min(resends, 30))


def answers(v: "Vehicle", box: "Inbox", request: Any, *, timeout_s: float,
            silence: Callable[[int], str]) -> Iterator[Any]:
    """Send `request`, resend it on the round-trip timer, and yield what comes back.

    The caller returns (or breaks) once an answer satisfies it; nothing satisfying for
    `timeout_s` raises MissionError(silence(resends)), naming the step. The first answer
    to a request that was never resent is a round-trip sample (Karn's rule).
    """
    v.send(request)
    start = sent_at = time.monotonic()
    tries = 0
    sampled = False
    while True:
        now = time.monotonic()
        if now - start >= timeout_s:
            raise MissionError(silence(tries))
        m = box.get(min(v.rtt.rto_for(tries) - (now - sent_at), timeout_s - (now - start)))
        if m is None:
            if time.monotonic() - sent_at >= v.rtt.rto_for(tries):
                v.send(request)
                v.stats["resends"] += 1
                tries += 1
                sent_at = time.monotonic()
            continue
        if not tries and not sampled:
            v.rtt.sample(time.monotonic() - sent_at)
            sampled = True
        yield m
