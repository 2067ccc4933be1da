"""Technicians are told over a real HTTP webhook (apprise's json://): what waits, batched per
tenant; what expires, once; what escalated or failed — and never twice, never a ticket's body."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand.domain import events as ev
from deskhand.domain.escalations import Reason
from deskhand.engine.escalation import escalate
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import EventRecord, Run, Ticket
from deskhand.web.app import create_app
from tests.notifications.conftest import PUBLIC_URL, Receiver, notifier
from tests.web.conftest import add_users, sign_in


def _titles(receiver: Receiver) -> list[str]:
    return [message["title"] for message in receiver.messages()]


def test_waiting_plans_are_one_message_per_tenant_and_escalations_one_each(
    rt: Runtime, receiver: Receiver
) -> None:
    notify = notifier(rt, receiver.url())

    assert notify.round() == 2
    notify.delivery.join()

    assert sorted(_titles(receiver)) == [
        "[Contoso Dental] 4 new plan(s) wait for approval",
        "[Contoso Dental] Escalated: Password reset for Dr. Raman",
    ]
    waiting = next(m["message"] for m in receiver.messages() if "wait" in m["title"])
    assert "4 plan(s) with" in waiting and "Oldest: ticket 1 “Forgot my password”" in waiting
    assert "“Locked out” from" in waiting
    assert f"{PUBLIC_URL}/plans?tenant=contoso-dental" in waiting
    assert notify.delivery.counts["delivered"] == 2


def test_a_restarted_worker_does_not_tell_again_and_a_new_plan_is_told_alone(
    rt: Runtime, receiver: Receiver
) -> None:
    first = notifier(rt, receiver.url())
    first.round()
    first.delivery.join()
    told = len(receiver.posts)

    restarted = notifier(rt, receiver.url())  # a new process: nothing kept in memory
    assert restarted.round() == 0

    add_ticket(
        rt,
        "contoso-dental",
        "anna.kowalski@contosodental.example",
        "Password expired",
        "My password expired, please reset it.",
    )
    Worker(rt, "test-worker").run_once()
    assert restarted.round() == 1
    restarted.delivery.join()
    assert len(receiver.posts) == told + 1
    newest = receiver.messages()[-1]
    assert newest["title"] == "[Contoso Dental] 1 new plan(s) wait for approval"
    assert "“Password expired”" in newest["message"]
    assert "Forgot my password” from" not in newest["message"]  # told before: only named oldest


def test_drafts_about_to_expire_are_told_once_before_they_expire(
    rt: Runtime, receiver: Receiver
) -> None:
    hour_ahead = notifier(rt, receiver.url(), notify_expiry_minutes=60)
    hour_ahead.round()
    hour_ahead.delivery.join()
    assert not [m for m in receiver.messages() if "expire" in m["title"]]  # 24 h left

    day_ahead = notifier(rt, receiver.url(), notify_expiry_minutes=25 * 60)
    assert day_ahead.round() == 1
    day_ahead.delivery.join()
    expiring = [m for m in receiver.messages() if "expire" in m["title"]]
    assert [m["title"] for m in expiring] == ["[Contoso Dental] 4 plan(s) expire soon"]
    assert "go to the escalation queue" in expiring[0]["message"]

    assert day_ahead.round() == 0


def test_a_failed_execution_is_its_own_kind_and_a_target_can_ask_for_it_alone(
    rt: Runtime, receiver: Receiver
) -> None:
    notify = notifier(rt, "execution_failed=" + receiver.url("/failures"))
    assert notify.round() == 0  # an identity escalation and waiting plans: not asked for

    with rt.db.reading() as session:
        run_id = session.scalar(select(Ticket.id).where(Ticket.subject == "Locked out"))
    escalate(rt, run_id, Reason.EXECUTION_FAILED, "Step 1 failed: the directory said no")
    assert notify.round() == 1
    notify.delivery.join()

    ((path, message),) = receiver.posts
    assert path == "/failures"
    assert message["title"] == "[Contoso Dental] Execution failed: Locked out"
    assert "Why: a step failed when it ran." in message["message"]


def test_no_message_holds_a_ticket_body_or_the_webhook_token(
    rt: Runtime, receiver: Receiver
) -> None:
    notify = notifier(rt, receiver.url(), notify_expiry_minutes=25 * 60)
    notify.round()
    notify.delivery.join()
    with rt.db.reading() as session:
        bodies = list(session.scalars(select(Ticket.body)))
        events = list(session.scalars(select(EventRecord).where(EventRecord.type.like("notice.%"))))
    sent = " ".join(m["title"] + m["message"] for m in receiver.messages())
    assert len(receiver.posts) == 3
    for body in bodies:
        assert body not in sent
        assert body[:40] not in sent
    recorded = " ".join(str(e.data) for e in events)
    assert "T0ken-Only-In-Tests" not in recorded
    delivered = [e for e in events if e.type == ev.NoticeDelivered.TYPE]
    assert {e.data["target"] for e in delivered} == {f"json://127.0.0.1:{receiver.port}/…"}


def test_each_link_opens_the_web_app_page_of_what_it_tells(rt: Runtime, receiver: Receiver) -> None:
    notify = notifier(rt, receiver.url())
    notify.round()
    notify.delivery.join()
    escalation = next(m["message"] for m in receiver.messages() if "Escalated" in m["title"])
    waiting = next(m["message"] for m in receiver.messages() if "wait" in m["title"])
    ticket_link = escalation.rsplit("Open it at ", 1)[1].strip()
    plans_link = waiting.rsplit("Approve them at ", 1)[1].strip()
    card_line = next(line for line in waiting.splitlines() if "“Forgot my password” from" in line)
    card_link = card_line.rsplit(", ", 1)[1]
    with rt.db.reading() as session:
        run_id = session.scalar(select(Run.id).join(Ticket).where(Ticket.subject.like("Forgot%")))
    assert card_link == f"{PUBLIC_URL}/plans/{run_id}"

    add_users(rt)
    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "dana@msp.example")
        ticket_page = client.get(ticket_link.removeprefix(PUBLIC_URL))
        plans_page = client.get(plans_link.removeprefix(PUBLIC_URL))
        card_page = client.get(urlsplit(card_link).path)
    assert ticket_page.status_code == 200
    assert "Password reset for Dr. Raman" in ticket_page.text
    assert plans_page.status_code == 200 and "Forgot my password" in plans_page.text
    assert card_page.status_code == 200
    assert f'id="plan-{run_id}"' in card_page.text  # the card it points at
