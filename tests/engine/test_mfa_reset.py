"""An MFA reset through the real runtime, on SQLite and PostgreSQL against the sandbox tenant:
"I lost my phone" becomes two security drafts — every MFA method removed (the password stays),
then every session signed out — a note and a reply saying how MFA is set up again; approved,
run and read back from the sandbox. The requester is checked as for a password reset: anyone
else is stopped before anything is drafted, a VIP needs a call-back first, and a ticket that
reads like an attack goes to a technician. Against the Graph stand-in: tests/e2e/test_mfa_reset.py.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from tests.engine.test_flow import (
    JAKE,
    KAREN,
    LISA,
    applied,
    approve_all,
    drafts,
    escalation,
    sign_in,
    status,
    ticket,
    work,
)
from tests.engine.test_offboarding import CONTOSO, PRIYA, TOM, m365, sandbox_user

from deskhand.connectors.sandbox.store import SandboxAuthMethod
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord

APPROVER = "dana@msp.example"
MARIA = "maria.alvarez@contosodental.example"  # the practice owner: a VIP
DRAFTED = ["m365.remove_mfa_methods", "m365.revoke_sessions", "psa.send_reply"]
LOST_PHONE = (
    "Lost my phone",
    "I lost my phone yesterday and now I can't sign in, it keeps asking for the MFA code. "
    "Please reset my MFA.",
)


def registers_mfa(rt: Runtime, upn: str) -> None:
    """The user has the Authenticator app and a phone number registered, as most have."""
    user_id = sandbox_user(rt, upn).id
    with rt.sandbox.session() as session:
        for kind, label in (
            ("microsoftAuthenticatorAuthenticationMethod", "iPhone 12"),
            ("phoneAuthenticationMethod", "+1 555 0142"),
        ):
            session.add(
                SandboxAuthMethod(
                    tenant_id=CONTOSO, id=str(uuid.uuid4()), user_id=user_id, kind=kind, label=label
                )
            )


def methods(rt: Runtime, upn: str) -> list[str]:
    return [m.kind for m in m365(rt).auth_methods(sandbox_user(rt, upn).id)]


def test_a_lost_phone_s_mfa_is_removed_and_every_session_signed_out(rt: Runtime) -> None:
    registers_mfa(rt, LISA)
    before = sign_in(rt, LISA)
    ticket_id = ticket(rt, LISA, *LOST_PHONE)
    assert work(rt) == 1

    assert status(rt, ticket_id) == "awaiting_approval"
    pending = drafts(rt, ticket_id)
    assert [d.action for d in pending] == DRAFTED
    assert [d.blast_radius for d in pending[:2]] == ["security", "security"]
    assert pending[0].requester_check["verdict"] == "target"
    reply = pending[2].proposed_params["body"]
    assert "password has not changed" in reply and "install the Microsoft Authenticator" in reply
    assert applied(rt) == []  # nothing runs before every draft is approved

    approve_all(rt, ticket_id)
    assert work(rt) == 1

    assert status(rt, ticket_id) == "resolved"
    assert methods(rt, LISA) == ["passwordAuthenticationMethod"]  # the password stays
    after = sign_in(rt, LISA)
    assert after.sessions_revoked_at != before.sessions_revoked_at  # type: ignore[attr-defined]
    assert after.password_changed_at == before.password_changed_at  # type: ignore[attr-defined]
    removed = applied(rt)[:3]
    assert removed == ["delete_auth_method", "delete_auth_method", "revoke_sessions"]


def test_a_synced_user_s_mfa_is_reset_in_microsoft_365_as_for_a_cloud_user(rt: Runtime) -> None:
    registers_mfa(rt, TOM)
    ticket_id = ticket(
        rt, KAREN, "New phone for Tom", "Tom Becker has a new phone, please reset his MFA."
    )
    work(rt)

    pending = drafts(rt, ticket_id)
    assert [d.action for d in pending] == DRAFTED  # no Active Directory step
    assert pending[0].requester_check["verdict"] == "authorised_contact"
    approve_all(rt, ticket_id)
    work(rt)
    assert status(rt, ticket_id) == "resolved"
    assert methods(rt, TOM) == ["passwordAuthenticationMethod"]


def test_someone_else_asking_for_another_s_mfa_reset_is_stopped_before_any_draft(
    rt: Runtime,
) -> None:
    ticket_id = ticket(
        rt, JAKE, "MFA", "Please reset the MFA for Priya Raman, she has a new phone."
    )
    work(rt)

    found = escalation(rt, ticket_id)
    assert found.reason == "identity_unverified"
    assert f"not {PRIYA}, not their manager" in found.detail
    assert drafts(rt, ticket_id) == []
    assert applied(rt) == ["add_comment"]  # the escalation's note, nothing else


def test_a_vip_s_mfa_reset_waits_for_the_requester_to_be_called_back(rt: Runtime) -> None:
    ticket_id = ticket(rt, MARIA, "New phone", "I have a new phone, please reset my MFA.")
    work(rt)

    remove, revoke, reply = drafts(rt, ticket_id)
    assert remove.requester_check["verdict"] == "needs_verification"
    assert (remove.verify_first, revoke.verify_first, reply.verify_first) == (True, True, False)
    assert "is a VIP" in remove.requester_check["detail"]
    with pytest.raises(approvals.VerificationRequiredError, match="verify the requester"):
        approvals.approve(rt, remove.id, APPROVER)
    how = "called back on the number on file, Maria confirmed"
    assert approvals.approve(rt, remove.id, APPROVER, verification=how).status == "approved"


def test_prompts_the_user_did_not_start_go_to_a_technician_not_an_mfa_reset(
    rt: Runtime,
) -> None:
    registers_mfa(rt, LISA)
    ticket_id = ticket(
        rt,
        LISA,
        "MFA prompts",
        "I keep getting MFA prompts on my phone that I didn't make. Please reset my MFA.",
    )
    work(rt)

    found = escalation(rt, ticket_id)
    assert found.reason == "needs_human"
    assert "security incident" in found.detail
    assert drafts(rt, ticket_id) == []
    assert len(methods(rt, LISA)) == 3  # nothing removed
    with rt.db.reading() as session:
        triaged = session.scalars(
            select(EventRecord.data).where(
                EventRecord.ticket_id == ticket_id, EventRecord.type == "ticket.triaged"
            )
        ).one()
    assert triaged["intent"] == "mfa_reset"  # routed, then handed over by the specialist
