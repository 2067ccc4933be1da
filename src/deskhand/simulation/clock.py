"""A simulated clock: every timestamp deskhand takes (the event log's, an approval's expiry, a
run's schedule) reads it, so months pass in minutes and nothing sleeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from deskhand.engine.runtime import Runtime
from deskhand.store import models


class SimulatedClock:
    """The moment it is; ``to`` and ``advance`` move it, never back."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def to(self, moment: datetime) -> None:
        self.at = max(self.at, moment)

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@contextmanager
def running_on(clock: SimulatedClock, rt: Runtime) -> Iterator[None]:
    """While inside, deskhand's ``now`` and the runtime's ``clock`` read ``clock``."""
    before = rt.clock
    models.use_clock(clock)
    rt.clock = clock
    try:
        yield
    finally:
        rt.clock = before
        models.use_clock(None)
