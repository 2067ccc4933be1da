"""Two workers deciding at the same moment on PostgreSQL tell each thing once: deciding and
recording hold the event chain's lock."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deskhand.engine.runtime import Runtime
from deskhand.notifications import due
from deskhand.notifications.messages import Notice
from tests.notifications.conftest import Receiver, make_runtime, notifier
from tests.support import postgres_database


@pytest.fixture
def pg_rt(tmp_path: Path) -> Iterator[Runtime]:
    with postgres_database("deskhand_notify") as url:
        rt = make_runtime(tmp_path, url)
        try:
            yield rt
        finally:
            rt.close()


def test_two_workers_deciding_at_once_tell_each_thing_once(
    pg_rt: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide = due.due
    # Each worker, having decided what is due before recording it, waits for the other to
    # have decided too: without the chain's lock both would record, and both send.
    both_decided = threading.Barrier(2, timeout=3)
    passes = threading.local()

    def deciding(session: Any, **arguments: Any) -> list[Notice]:
        found = decide(session, **arguments)
        passes.count = getattr(passes, "count", 0) + 1
        if passes.count == 2:  # the pass that records (the first only looks)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_decided.wait()
        return found

    monkeypatch.setattr(due, "due", deciding)
    workers = [notifier(pg_rt, receiver.url()) for _ in range(2)]
    queued: list[int] = []
    threads = [
        threading.Thread(target=lambda w=worker: queued.append(w.round())) for worker in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for worker in workers:
        worker.delivery.join()

    assert sorted(queued) == [0, 2]
    assert len(receiver.posts) == 2
