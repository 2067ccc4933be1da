"""Keeping to Syncro's request limit (180 a minute) on deskhand's side, so the PSA never has to
refuse us: every request of one API key waits its turn here first."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0


@dataclass
class RequestLimiter:
    """At most ``per_minute`` requests in any 60 seconds.

    A sliding window rather than a token bucket: a bucket that starts full lets through its
    whole capacity plus a minute's refill within one minute, which is over Syncro's limit.
    """

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _sent: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> float:
        """Wait until one more request fits; return how long this call waited."""
        waited = 0.0
        while True:
            with self._lock:
                moment = self.clock()
                while self._sent and self._sent[0] <= moment - WINDOW_SECONDS:
                    self._sent.popleft()
                if len(self._sent) < self.per_minute:
                    self._sent.append(moment)
                    return waited
                pause = self._sent[0] + WINDOW_SECONDS - moment
            self.sleep(pause)
            waited += pause


_LIMITERS: dict[str, RequestLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(api_key: str, per_minute: int) -> RequestLimiter:
    """The process's limiter for one API key: an MSP's tenants usually share one Syncro
    account and key, and its limit is theirs together."""
    digest = hashlib.sha256(api_key.encode()).hexdigest()  # no key kept in memory as a name
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(digest)
        if limiter is None or limiter.per_minute != per_minute:
            limiter = _LIMITERS[digest] = RequestLimiter(per_minute)
        return limiter
