"""Sending never holds the worker up: a receiver that fails is tried again with a growing
wait and then given up, counted and recorded; a slow one waits on its own thread."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select

from deskhand.domain import events as ev
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.notifications.delivery import Delivery
from deskhand.notifications.messages import Links
from deskhand.notifications.notifier import trial_notice
from deskhand.notifications.targets import Target
from deskhand.store.models import EventRecord
from tests.connectors.mail.server import free_port
from tests.notifications.conftest import Receiver, notifier


def _given_up(rt: Runtime) -> list[dict[str, object]]:
    with rt.db.reading() as session:
        return list(
            session.scalars(
                select(EventRecord.data).where(EventRecord.type == ev.NoticeGivenUp.TYPE)
            )
        )


def test_a_receiver_answering_500_is_tried_again_then_given_up_with_the_reason(
    rt: Runtime, receiver: Receiver
) -> None:
    receiver.status = 500
    notify = notifier(rt, "escalation=" + receiver.url(), attempts=3)

    assert notify.round() == 1
    notify.delivery.join()

    assert len(receiver.posts) == 3  # the first attempt and two more
    assert notify.delivery.counts == {"retried": 2, "given_up": 1}
    (given_up,) = _given_up(rt)
    assert given_up["attempts"] == 3 and given_up["kind"] == "escalation"
    assert "500" in str(given_up["reason"])
    assert "T0ken-Only-In-Tests" not in str(given_up)


def test_a_closed_port_is_given_up_without_a_secret_in_the_log(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"json://127.0.0.1:{free_port()}/hook/Cl0sed-Port-Token-4411"
    notify = notifier(rt, "escalation=env:MSP_HOOK", attempts=2, environ={"MSP_HOOK": url})
    with caplog.at_level(logging.INFO):
        notify.round()
        notify.delivery.join()

    (given_up,) = _given_up(rt)
    assert given_up["target"] == "env:MSP_HOOK"
    assert notify.delivery.counts == {"retried": 1, "given_up": 1}
    assert "given up after 2 attempt(s)" in caplog.text
    assert "Cl0sed-Port-Token-4411" not in caplog.text + str(given_up)


def test_a_slow_receiver_does_not_hold_the_worker_turn(rt: Runtime, receiver: Receiver) -> None:
    receiver.hold.clear()  # every request waits until the test lets it go
    worker = Worker(rt, "test-worker")
    worker.notifier = notifier(rt, receiver.url(), notify_seconds=1)

    worker.notifier.when_due()  # the worker's call
    assert receiver.arrived.wait(10)  # the receiver has the message and is holding it…
    assert not worker.notifier.delivery.idle()  # …while the worker goes on:
    worker.run_once()
    assert worker.notifier.when_due() == 0  # not due again so soon

    receiver.hold.set()
    worker.notifier.delivery.join()
    assert worker.notifier.delivery.counts["delivered"] == 2


def test_a_full_queue_gives_the_message_up_at_once_instead_of_waiting(
    rt: Runtime, receiver: Receiver
) -> None:
    receiver.hold.clear()
    delivery = Delivery(rt.db, environ={}, key=None, capacity=1)
    notice = trial_notice("contoso-dental", "Contoso Dental", Links(None))
    targets = [Target(receiver.url())]

    delivery.hand("first", notice, targets)
    assert receiver.arrived.wait(10)  # being sent: the queue is empty again
    delivery.hand("second", notice, targets)  # waits in the queue, filling it
    delivery.hand("third", notice, targets)  # no room: given up, not waited for

    assert delivery.counts == {"given_up": 1}
    receiver.hold.set()
    delivery.join()
    assert delivery.counts == {"given_up": 1, "delivered": 2}
    (given_up,) = _given_up(rt)
    assert given_up["notice_id"] == "third" and given_up["reason"] == "the sending queue is full"


def test_stopping_with_messages_still_queued_records_them_as_given_up(
    rt: Runtime, receiver: Receiver
) -> None:
    receiver.hold.clear()
    delivery = Delivery(rt.db, environ={}, key=None)
    notice = trial_notice("contoso-dental", "Contoso Dental", Links(None))
    delivery.hand("sending", notice, [Target(receiver.url())])
    assert receiver.arrived.wait(10)  # being sent, held by the receiver
    delivery.hand("waiting", notice, [Target(receiver.url())])

    delivery.close(timeout=0.2)  # the thread is still held by the first

    (given_up,) = _given_up(rt)
    assert given_up["notice_id"] == "waiting"
    assert given_up["reason"] == "deskhand stopped before it was sent"
    receiver.hold.set()


def test_a_running_worker_tells_on_its_own_and_stops_its_sender_with_it(
    rt: Runtime, receiver: Receiver
) -> None:
    worker = Worker(rt, "test-worker")
    worker.notifier = notifier(rt, "escalation=" + receiver.url(), notify_seconds=60)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        assert receiver.arrived.wait(10)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert [m["title"] for m in receiver.messages()] == [
        "[Contoso Dental] Escalated: Password reset for Dr. Raman"
    ]
