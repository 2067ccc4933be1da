"""A real-kind tenant end to end: its connection file points at Syncro, Microsoft Graph and
Active Directory (the stand-ins and a Samba DC); tickets come in by `deskhand intake poll`, the
worker plans and, once a technician approves, acts; every result is read back from the systems
themselves. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ldap3
import pytest
from sqlalchemy import select

from deskhand.engine import approvals
from deskhand.engine.worker import Worker
from deskhand.store.models import Escalation, Run, Step, Ticket
from tests.connectors.graph.standin import PASSWORD_PERMISSION, GraphStandIn
from tests.connectors.ldap.samba_dc import SambaDC
from tests.connectors.ldap.support import binds, read
from tests.connectors.syncro.standin import SyncroStandIn
from tests.e2e.conftest import APPROVER, GRAPH_SECRET_ENV, TENANT, Client, Desk


def comments(syncro: SyncroStandIn, psa_id: int) -> list[dict[str, Any]]:
    """The ticket's comments as Syncro holds them, after the request itself."""
    return list(syncro.tickets[psa_id]["comments"][1:])


def new_ticket(
    desk: Desk, syncro: SyncroStandIn, client: Client, contact: int, subject: str, body: str
) -> tuple[int, int]:
    """A client's ticket in Syncro, read in by `deskhand intake poll` and planned by the worker;
    the PSA's ticket id and deskhand's."""
    psa_id = syncro.add_ticket(client.customer_id, subject, body, contact_id=contact)
    assert "1 new" in desk.run("intake", "poll", "--tenant", TENANT).stdout
    with desk.rt.db.reading() as session:
        ticket_id = session.scalar(
            select(Ticket.id).where(Ticket.tenant_id == TENANT, Ticket.psa_ticket_id == str(psa_id))
        )
    assert ticket_id is not None
    assert work(desk) == 1
    return psa_id, ticket_id


def work(desk: Desk) -> int:
    return Worker(desk.rt, "e2e-worker").run_once()


def drafts(desk: Desk, ticket_id: int) -> list[approvals.DraftView]:
    return approvals.list_drafts(desk.rt, None, status=None, ticket_id=ticket_id)


def approve_all(desk: Desk, ticket_id: int) -> None:
    """Approve as the web app and the API do (a verification note where a draft needs one)."""
    for draft in drafts(desk, ticket_id):
        if draft.status == "pending":
            approvals.approve(
                desk.rt, draft.id, APPROVER, verification="called back on the number on file"
            )


def step_statuses(desk: Desk, ticket_id: int) -> dict[str, str]:
    with desk.rt.db.reading() as session:
        steps = session.scalars(
            select(Step).join(Run, Step.run_id == Run.id).where(Run.ticket_id == ticket_id)
        ).all()
        return {step.action: step.status for step in steps}


def test_doctor_reports_every_real_connection_ok(desk: Desk) -> None:
    found = desk.json("tenants", "doctor", TENANT)[TENANT]
    outcomes: dict[str, set[str]] = defaultdict(set)
    for finding in found:
        outcomes[finding["system"]].add(finding["outcome"])
    assert {system: outcomes[system] for system in ("syncro", "graph", "ldap")} == {
        "syncro": {"ok"},
        "graph": {"ok"},
        "ldap": {"ok"},
    }
    assert all(finding["outcome"] == "ok" for finding in found), found


def test_doctor_fails_on_a_wrong_secret_and_says_where_to_fix_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(GRAPH_SECRET_ENV, "an-expired-secret")
    found = desk.json("tenants", "doctor", TENANT, code=1)[TENANT]
    failed = [f for f in found if f["outcome"] == "fail"]
    assert failed and {f["system"] for f in failed} <= {"graph", "config"}
    token = next(f for f in failed if f["system"] == "graph")
    assert "AADSTS7000215" in token["detail"]
    assert "Entra admin center → App registrations" in (token["fix"] or "")
    assert "Certificates & secrets" in token["fix"]


def test_a_synced_users_password_is_reset_in_active_directory(
    desk: Desk,
    syncro: SyncroStandIn,
    graph: GraphStandIn,
    samba: SambaDC,
    admin: ldap3.Connection,
    client: Client,
) -> None:
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.pat_contact,
        "Can't sign in",
        "I forgot my password, please reset it",
    )
    pending = drafts(desk, ticket_id)
    assert [d.action for d in pending] == [
        "ad.reset_password",
        "m365.revoke_sessions",
        "psa.send_reply",
    ]
    assert read(admin, client.pat.dn, "pwdLastSet")["pwdLastSet"] != ["0"]
    assert comments(syncro, psa_id) == []  # nothing reaches the client before approval

    approve_all(desk, ticket_id)
    assert work(desk) == 1

    assert read(admin, client.pat.dn, "pwdLastSet")["pwdLastSet"] == ["0"]
    assert binds(samba, client.pat.upn, client.pat.password)[0] is False
    temporary = approvals.reveal_secret(desk.rt, pending[0].id, APPROVER)
    bound, message = binds(samba, client.pat.upn, temporary)
    assert not bound and "data 773" in message  # the right password, to be changed at sign-in
    revoked = graph.users[client.pat_graph]["signInSessionsValidFromDateTime"]
    assert revoked != "2026-01-05T09:00:00Z"  # sessions revoked in Entra too
    assert set(step_statuses(desk, ticket_id).values()) == {"verified"}
    written = comments(syncro, psa_id)
    # The internal note, the reply, then who approved it (Syncro shows the key's owner).
    assert [c["hidden"] for c in written] == [True, False, True]
    assert "[deskhand " in written[0]["body"]
    assert "password" in written[1]["body"].lower()
    assert f"Approved by {APPROVER} in deskhand" in written[2]["body"]
    assert syncro.tickets[int(psa_id)]["status"] == "Resolved"
    trace = desk.run("trace", str(ticket_id)).stdout
    assert "specialist:password_reset" in trace


def test_an_authorised_contact_adds_a_colleague_to_a_group(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, client: Client
) -> None:
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.olga_contact,
        "Access for Kim",
        "Hello, please add Kim Cloud to the Finance group. Thanks, Olga",
    )
    planned = drafts(desk, ticket_id)
    assert "m365.add_group_member" in [d.action for d in planned]
    assert {d.requester_check["verdict"] for d in planned} == {"authorised_contact"}
    assert client.kim_graph not in graph.members[client.finance]

    approve_all(desk, ticket_id)
    assert work(desk) == 1

    assert client.kim_graph in graph.members[client.finance]
    added = [body for endpoint, body in graph.bodies if endpoint == "add_member"]
    assert added and added[-1]["@odata.id"].endswith(client.kim_graph)  # checked with CSDL
    assert set(step_statuses(desk, ticket_id).values()) == {"verified"}
    notes = [c for c in comments(syncro, psa_id) if c["hidden"]]
    assert notes and "[deskhand " in notes[0]["body"]
    assert "specialist:access_change" in desk.run("trace", str(ticket_id)).stdout


def test_a_permission_graph_withholds_escalates_with_the_fix_in_plain_words(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, client: Client
) -> None:
    graph.roles.discard(PASSWORD_PERMISSION)
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.kim_contact,
        "Password expired",
        "I forgot my password, please reset it",
    )
    assert drafts(desk, ticket_id)[0].action == "m365.reset_password"
    approve_all(desk, ticket_id)
    work(desk)

    with desk.rt.db.reading() as session:
        escalation = session.scalars(
            select(Escalation).where(Escalation.ticket_id == ticket_id)
        ).one()
        assert escalation.status == "open"
        detail = escalation.detail
    assert PASSWORD_PERMISSION in detail
    assert "Entra admin center → App registrations" in detail
    assert "API permissions" in detail
    assert step_statuses(desk, ticket_id)["m365.reset_password"] not in {"verified", "done"}
    assert not any("[deskhand " in c["body"] and not c["hidden"] for c in comments(syncro, psa_id))
