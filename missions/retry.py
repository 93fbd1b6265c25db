"""When to send a request again, and when to give up: the one resend loop.

A fixed 1.5 s retry (what the mavlink.io mission protocol suggests) makes a lossy
link crawl: with 20 % loss each way a third of the exchanges need a resend.  So the
resend timer follows the measured round trip, the way TCP does (Jacobson/Karels,
RFC 6298: srtt + 4 * rttvar, Karn's rule: no samples from resent exchanges), kept
between `rto_min_s` and `rto_max_s` (1.5 s).  Losses on a radio link are random, not
congestion, so an unanswered resend only stretches the timer of that one request by
1.3x (`rto_for(n)`), and the next request starts from the measured value again.  What
bounds the wait is `step_timeout_s`: a step (one request and its answer) that gets no
answer at all for that long fails, naming the step.

An `Inbox` queues what the vehicle sends for one waiting exchange; `Exchange` is that
loop, written once for every protocol: commands and parameters
(one request), mission upload (one request in flight, replaced at each step) and
download (a window of requests, each on its own timer).  `answers` is its one-request
form.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from missions.errors import MissionError

if TYPE_CHECKING:
    from missions.link import Vehicle


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


class Inbox:
    """Messages of some types from the vehicle, queued for one waiting exchange
    (`Vehicle.inbox`: subscribe before sending the request)."""

    def __init__(self, vehicle: Vehicle, types: Iterable[str], match: Callable[[Any], bool] | None) -> None:
        self.vehicle = vehicle
        self.types = frozenset(types)
        self.match = match
        self.q: queue.Queue[Any] = queue.Queue()

    def get(self, timeout: float) -> Any | None:
        """The next message, or None after `timeout` seconds (raises once the link is lost or closed)."""
        v = self.vehicle
        try:
            if v.lost or v.closed:  # what is queued still counts; nothing more will come
                return self.q.get_nowait()
            return self.q.get(timeout=max(0.0, timeout))
        except queue.Empty:
            if v.lost:
                raise MissionError(f"link lost: {v.lost}") from None
            if v.closed:
                raise MissionError("link closed") from None
            return None

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.vehicle._drop_inbox(self)


Message = Any  # a pymavlink message
MessageOrFactory = Any  # a message, or a callable making the message anew at each send


@dataclass
class Request:
    """One request in flight: what was last sent, when, and how often."""

    msg: Message
    make: Callable[[], Message] | None
    sent_at: float
    tries: int = 0  # timer resends since it was put in flight (stretch its timer)
    resent: bool = False  # sent more than once: its answers are no round-trip samples (Karn)
    sampled: bool = False
    every: float | None = None  # asked again at this fixed period: a poll, not a resend


class Exchange:
    """Requests in flight on one inbox, each resent on its own round-trip timer.

    The caller puts requests in flight (`send`), reads what comes back (`next` or
    iterating), and says which request an answer settles (`answered`); resending
    whatever is due, counting the resends and giving up are done here.  A step that
    makes no `progress` for `timeout_s` raises MissionError(silence(self)): the caller
    words it, naming the step.
    """

    def __init__(
        self, v: Vehicle, box: Inbox, *, silence: Callable[[Exchange], str], timeout_s: float | None = None
    ) -> None:
        self.v = v
        self.box = box
        self.silence = silence
        self.timeout_s = v.policy.step_timeout_s if timeout_s is None else timeout_s
        self.pending: dict[Hashable, Request] = {}
        self.resends = 0  # counted resends of this exchange (timer resends and hinted ones)
        self._progress = time.monotonic()

    def send(self, key: Hashable, msg: MessageOrFactory, *, resend: bool = False, every: float | None = None) -> None:
        """Send `msg` and keep it in flight under `key`, replacing what was there.

        `resend`: this send repeats something the vehicle may already have (a sequence
        hint): counted as a resend, and its answer is no round-trip sample.  `every`:
        ask again at that fixed period instead of on the round-trip timer."""
        make = msg if callable(msg) else None
        m = make() if make is not None else msg
        self.v.send(m)
        if resend:
            self._count()
        self.pending[key] = Request(m, make, time.monotonic(), resent=resend, every=every)

    def repeat_every(self, key: Hashable, seconds: float) -> None:
        """From now on ask `key` again every `seconds`, uncounted (the vehicle answered
        "not now": this is polling, not a lost message)."""
        self.pending[key].every = seconds

    def answered(self, key: Hashable, *, keep: bool = False) -> None:
        """An answer to `key` arrived: a round-trip sample if it was sent once; stop
        resending it unless `keep` (the answer did not settle it)."""
        req = self.pending.get(key)
        if req is None:
            return
        if not req.resent and not req.sampled:
            self.v.rtt.sample(time.monotonic() - req.sent_at)
            req.sampled = True
        if not keep:
            del self.pending[key]

    def progress(self) -> None:
        """The operation moved on: the step timeout starts again."""
        self._progress = time.monotonic()

    def _count(self) -> None:
        self.resends += 1
        self.v.stats["resends"] += 1

    def _due(self, req: Request) -> float:
        return req.sent_at + (req.every if req.every is not None else self.v.rtt.rto_for(req.tries))

    def next(self) -> Message:
        """The next message from the inbox; meanwhile resend what is due, and give up
        once the step made no progress for `timeout_s` (or the link is lost)."""
        while True:
            now = time.monotonic()
            give_up = self._progress + self.timeout_s
            if now >= give_up:
                raise MissionError(self.silence(self))
            wake = min([give_up, *(self._due(r) for r in self.pending.values())])
            m = self.box.get(wake - now)  # what already arrived comes before any resend
            if m is not None:
                return m
            now = time.monotonic()
            for req in self.pending.values():
                if now >= self._due(req):
                    if req.make is not None:
                        req.msg = req.make()
                    self.v.send(req.msg)
                    req.sent_at, req.resent = time.monotonic(), True
                    if req.every is None:
                        req.tries += 1
                        self._count()

    def __iter__(self) -> Iterator[Message]:
        while True:
            yield self.next()


_ONE = "request"


def answers(
    v: Vehicle, box: Inbox, request: MessageOrFactory, *, timeout_s: float | None = None, silence: Callable[[int], str]
) -> Iterator[Any]:
    """Send `request`, resend it on the round-trip timer, and yield what comes back.

    The caller returns (or breaks) once an answer satisfies it; nothing satisfying for
    `timeout_s` raises MissionError(silence(resends)), naming the step. The first answer
    to a request that was never resent is a round-trip sample (Karn's rule).
    """
    ex = Exchange(v, box, timeout_s=timeout_s, silence=lambda e: silence(e.resends))
    ex.send(_ONE, request)
    for m in ex:
        ex.answered(_ONE, keep=True)
        yield m
