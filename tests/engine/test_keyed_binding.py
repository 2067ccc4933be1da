"""An approval is bound by a keyed hash (HMAC with the server's key, kept outside the database)
to the step, its payload, its approver and its expiry; the executor checks it against the
approval row and against the chained ``draft.approved`` event. Someone who can write the
database — even one who stole the key — cannot make an approved step do something else.
On SQLite and PostgreSQL, against the sandbox tenant."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from tests.audit.tampering import tamper
from tests.engine.test_flow import KAREN, applied, approve_all, escalation, status, ticket, work

from deskhand.audit.chain import verify
from deskhand.connectors.sandbox.seed import object_id
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.keys import APPROVAL_BINDING, ServerKeys
from deskhand.store.models import Approval, EventRecord, Run, Step, now

DOMAIN_ADMINS = object_id("contoso-dental", "group", "domain admins")
REQUEST = ("Access", "Please add Tom Becker to the Finance Share group.")


def approved_group_step(rt: Runtime) -> tuple[int, int]:
    """A ticket whose plan adds Tom to Finance Share, every draft approved, not yet run."""
    ticket_id = ticket(rt, KAREN, *REQUEST)
    work(rt)
    approve_all(rt, ticket_id)
    with rt.db.reading() as session:
        step_id = session.scalars(
            select(Step.id)
            .join(Run, Run.id == Step.run_id)
            .where(Run.ticket_id == ticket_id, Step.action == "m365.add_group_member")
        ).one()
    return ticket_id, step_id


def retarget(rt: Runtime, step_id: int, *, with_key: bool) -> None:
    """Point the approved step at Domain Admins in the database and re-bind its approval: with
    the public hash function only, or (``with_key``) with a stolen server key as well."""
    with rt.db.session() as session:
        step = session.get(Step, step_id)
        assert step is not None and step.approval is not None
        params = {**step.params, "group_id": DOMAIN_ADMINS, "group_name": "Domain Admins"}
        step.params = params
        approval = step.approval
        approval.payload_hash = state.payload_hash(step.tenant_id, step.action, params)
        if with_key:
            message = state.binding_message(step, approval, params, "dana@msp.example")
            approval.binding = rt.keys.sign(APPROVAL_BINDING, message)


def refused(rt: Runtime, ticket_id: int, already: int = 0) -> str:
    """Why the run of ``ticket_id`` was refused; ``already`` memberships ran before it."""
    work(rt)
    assert status(rt, ticket_id) == "escalated"
    found = escalation(rt, ticket_id)
    assert found.reason == "approval_mismatch" and "Nothing ran" in found.detail
    assert len(applied(rt, "add_group_member")) == already
    return found.detail


def test_a_step_retargeted_and_rehashed_in_the_database_is_refused(rt: Runtime) -> None:
    ticket_id, step_id = approved_group_step(rt)
    retarget(rt, step_id, with_key=False)
    detail = refused(rt, ticket_id)
    assert "keyed binding does not match" in detail
    with rt.db.reading() as session:
        assert verify(session).ok  # the log itself was not touched: the binding caught it


def test_a_step_rebound_with_a_stolen_key_is_refused_by_the_chained_event(rt: Runtime) -> None:
    ticket_id, step_id = approved_group_step(rt)
    retarget(rt, step_id, with_key=True)
    assert "does not match the chained event" in refused(rt, ticket_id)


def test_an_approval_event_edited_out_of_the_chain_is_refused(rt: Runtime) -> None:
    ticket_id, step_id = approved_group_step(rt)
    retarget(rt, step_id, with_key=True)
    with rt.db.reading() as session:
        event = session.scalars(
            select(EventRecord).where(
                EventRecord.type == "draft.approved", EventRecord.step_id == step_id
            )
        ).one()
        with rt.db.session() as writing:
            approval = writing.get(Step, step_id).approval  # type: ignore[union-attr]
            data = {
                **event.data,
                "binding": approval.binding,
                "payload_hash": approval.payload_hash,
            }
    tamper(rt.db.engine, "UPDATE events SET data = :data WHERE id = :id", data=data, id=event.id)
    assert "no longer in the hash chain" in refused(rt, ticket_id)


def test_an_expired_approval_extended_in_the_database_is_refused(rt: Runtime) -> None:
    ticket_id, step_id = approved_group_step(rt)
    with rt.db.session() as session:
        session.execute(
            update(Approval)
            .where(Approval.step_id == step_id)
            .values(expires_at=now() + timedelta(days=30))
        )
    assert "keyed binding does not match" in refused(rt, ticket_id)


def test_approvals_fail_closed_when_the_key_file_is_not_the_one_that_bound_them(
    rt: Runtime,
) -> None:
    ticket_id, _ = approved_group_step(rt)
    path = rt.settings.server_keys()
    path.unlink()
    ServerKeys.load(path)  # a new key: as on a machine that was never given the deployment's
    assert "keyed binding does not match" in refused(rt, ticket_id)


def test_started_and_verified_steps_record_the_hash_and_binding_they_acted_on(
    rt: Runtime,
) -> None:
    ticket_id, step_id = approved_group_step(rt)
    work(rt)
    assert status(rt, ticket_id) == "resolved"
    with rt.db.reading() as session:
        approval = session.scalars(select(Approval).where(Approval.step_id == step_id)).one()
        events = {
            record.type: record.data
            for record in session.scalars(select(EventRecord).where(EventRecord.step_id == step_id))
        }
    assert approval.binding is not None and approval.binding.startswith(rt.keys.current + ":")
    assert events["step.started"]["payload_hash"] == approval.payload_hash
    assert events["step.started"]["binding"] == approval.binding
    assert events["step.verified"]["payload_hash"] == approval.payload_hash
    assert events["draft.approved"]["binding"] == approval.binding


def test_an_approval_given_before_a_key_rotation_still_runs_until_its_key_is_retired(
    rt: Runtime,
) -> None:
    kept, _ = approved_group_step(rt)
    old = rt.keys.current
    rt.keys.rotate()
    work(rt)
    assert status(rt, kept) == "resolved"  # the old key still checks what it bound
    retired, _ = approved_group_step(rt)
    bound_with = rt.keys.current
    assert bound_with != old
    rt.keys.rotate()
    ServerKeys.load(rt.settings.server_keys()).retire(bound_with)
    assert "keyed binding does not match" in refused(rt, retired, already=1)
