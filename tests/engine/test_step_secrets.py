"""Temporary passwords: made before the reset, kept only encrypted with the server's key, shown
once to an approver, and erased unshown when they expire (24 hours by default). On SQLite and
PostgreSQL, against the sandbox tenant."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update
from tests.engine.test_flow import APPROVER, LISA, approve_all, drafts, status, ticket, work

from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.keys import STEP_SECRET
from deskhand.store.models import EventRecord, StepSecret, now

PASSWORD = re.compile(r"[A-Za-z0-9]{4}-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}")


def reset_lisa(rt: Runtime) -> int:
    """Lisa's password reset, approved and run: the draft id of the reset."""
    ticket_id = ticket(rt, LISA, "Forgot my password", "I forgot my password, please reset it")
    work(rt)
    approve_all(rt, ticket_id)
    work(rt)
    assert status(rt, ticket_id) == "resolved"
    return next(d.id for d in drafts(rt, ticket_id) if d.action == "m365.reset_password")


def stored(rt: Runtime) -> StepSecret:
    with rt.db.reading() as session:
        return session.scalars(select(StepSecret)).one()


def test_a_temporary_password_is_stored_only_encrypted_and_shown_once(rt: Runtime) -> None:
    draft_id = reset_lisa(rt)
    secret = stored(rt)
    assert secret.value is not None
    assert secret.expires_at is not None
    hours = (secret.expires_at - secret.created_at).total_seconds() / 3600
    assert hours == pytest.approx(rt.settings.secret_hours, abs=0.01)
    with rt.db.reading() as session:  # nowhere in the database in clear, not in the log either
        everything = " ".join(
            str(row) for row in session.execute(text("SELECT data FROM events")).scalars()
        )
    shown = approvals.reveal_secret(rt, draft_id, APPROVER)
    assert PASSWORD.fullmatch(shown)
    assert rt.keys.decrypt(STEP_SECRET, secret.value) == shown
    # the password itself, not its pattern: base64 ciphertext can look like one by chance
    assert shown not in secret.value
    assert shown not in everything
    assert stored(rt).value is None
    with pytest.raises(approvals.NoSecretError, match="already shown and erased"):
        approvals.reveal_secret(rt, draft_id, APPROVER)


def test_an_unshown_temporary_password_is_erased_when_it_expires(rt: Runtime) -> None:
    draft_id = reset_lisa(rt)
    assert approvals.show(rt, draft_id).secret_available
    assert Worker(rt, "w").erase_expired_secrets() == 0  # not yet
    with rt.db.session() as session:
        session.execute(update(StepSecret).values(expires_at=now() - timedelta(minutes=1)))
    assert Worker(rt, "w").erase_expired_secrets() == 1
    assert stored(rt).value is None
    assert not approvals.show(rt, draft_id).secret_available
    with rt.db.reading() as session:
        erased = session.scalars(
            select(EventRecord.data).where(EventRecord.type == "secret.erased")
        ).one()
    assert erased == {"position": 1, "reason": "not shown before it expired"}
    with pytest.raises(approvals.NoSecretError, match="already shown and erased"):
        approvals.reveal_secret(rt, draft_id, APPROVER)


def test_asking_for_an_expired_password_erases_it_and_says_when(rt: Runtime) -> None:
    draft_id = reset_lisa(rt)
    with rt.db.session() as session:
        session.execute(update(StepSecret).values(expires_at=now() - timedelta(minutes=1)))
    with pytest.raises(approvals.NoSecretError, match="erased unshown at") as refused:
        approvals.reveal_secret(rt, draft_id, APPROVER)
    assert "DESKHAND_SECRET_HOURS" in str(refused.value)
    assert stored(rt).value is None
