"""An MFA reset on a real-kind tenant (tests/e2e/conftest.py), on SQLite and PostgreSQL: the
ticket comes in from Syncro, the MFA methods are removed and the sessions revoked through
Microsoft Graph (the stand-in, which checks every call against Graph's schema) — for Pat, whose
account is synced from Active Directory, exactly as for a cloud user, since MFA lives in
Microsoft 365 — and the result is read back from Graph itself."""

from __future__ import annotations

from tests.connectors.graph.standin import GraphStandIn
from tests.connectors.syncro.standin import SyncroStandIn
from tests.e2e.conftest import Client, Desk
from tests.e2e.test_real_tenant import (
    approve_all,
    comments,
    drafts,
    new_ticket,
    step_statuses,
    work,
)


def test_a_synced_user_s_new_phone_resets_their_mfa_through_graph(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, client: Client
) -> None:
    graph.add_auth_method(
        client.pat_graph, "microsoftAuthenticatorAuthenticationMethod", displayName="Pixel 6"
    )
    graph.add_auth_method(client.pat_graph, "phoneAuthenticationMethod", phoneNumber="+1 555 0100")
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.pat_contact,
        "New phone",
        "I got a new phone and the Authenticator app is gone. Please reset my MFA.",
    )
    assert [d.action for d in drafts(desk, ticket_id)] == [
        "m365.remove_mfa_methods",
        "m365.revoke_sessions",
        "psa.send_reply",
    ]
    assert len(graph.methods[client.pat_graph]) == 2
    assert comments(syncro, psa_id) == []  # nothing reaches the client before approval

    approve_all(desk, ticket_id)
    assert work(desk) == 1

    assert graph.methods[client.pat_graph] == []  # only the password is left
    revoked = graph.users[client.pat_graph]["signInSessionsValidFromDateTime"]
    assert revoked != "2026-01-05T09:00:00Z"
    assert set(step_statuses(desk, ticket_id).values()) == {"verified"}
    reply = next(c["body"] for c in comments(syncro, psa_id) if not c["hidden"])
    assert "Microsoft Authenticator" in reply
    assert syncro.tickets[psa_id]["status"] == "Resolved"
    assert "specialist:mfa_reset" in desk.run("trace", str(ticket_id)).stdout
