"""An approver trims a starter's plan end to end (issue 15: the groups copied from a colleague are
"shown as a list the approver can trim"), on SQLite and PostgreSQL, against the Syncro and Graph
stand-ins: a cloud-only starter with the same access as a colleague in three groups, one group
left out of the plan — the ticket is planned again, the new plan lacks the group, and once it
is approved and run the starter is in the other two groups only, and the reply to the client
does not say they were put in it."""

from __future__ import annotations

from deskhand.engine import approvals
from deskhand.engine.leave_out import leave_out
from tests.connectors.graph.standin import GraphStandIn
from tests.connectors.syncro.standin import SyncroStandIn
from tests.e2e.conftest import APPROVER, DOMAIN, Client, Desk
from tests.e2e.test_lifecycle import steps_of, the_plan
from tests.e2e.test_real_tenant import comments, new_ticket, work


def test_a_group_left_out_of_a_starter_s_plan_is_not_in_the_plan_made_again(
    desk: Desk, syncro: SyncroStandIn, graph: GraphStandIn, client: Client
) -> None:
    front_desk = graph.add_group("Front Desk")
    imaging = graph.add_group("Imaging Viewers")
    jake = graph.add_user(
        f"jake.morrison@{DOMAIN}",
        "Jake Morrison",
        mail=f"jake.morrison@{DOMAIN}",
        licences=(client.premium,),
        manager=client.olga_graph,
    )
    for group in (front_desk, client.finance, imaging):
        graph.members[group].append(jake)
    psa_id, ticket_id = new_ticket(
        desk,
        syncro,
        client,
        client.olga_contact,
        "New starter",
        "New starter: Jane Doe starts today, same access as Jake Morrison please. Olga",
    )
    first = the_plan(desk, ticket_id)
    offered = [g for s in first.steps for g in s.gives if s.action == "m365.add_group_member"]
    assert sorted(offered) == ["Finance", "Front Desk", "Imaging Viewers"]
    [finance_step] = [s for s in first.steps if s.gives == ["Finance"]]
    assert finance_step.approval_id is not None

    done = leave_out(desk.rt, finance_step.approval_id, APPROVER, "front desk sees no invoices")
    assert [o.id for o in done.left_out] == [client.finance]
    assert work(desk) == 1  # the ticket planned again

    again = the_plan(desk, ticket_id)
    assert again.run_id == done.new_run_id
    groups = [g for s in again.steps for g in s.gives if s.action == "m365.add_group_member"]
    assert sorted(groups) == ["Front Desk", "Imaging Viewers"]
    assert again.reply is not None and "Finance" not in again.reply

    approvals.approve_plan(desk.rt, again.run_id, APPROVER)
    assert work(desk) == 1

    assert {s.status for s in steps_of(desk, again.run_id)} == {"verified"}
    [jane] = [graph.users[u] for u in graph.created]
    assert {g for g, members in graph.members.items() if jane["id"] in members} == {
        front_desk,
        imaging,
    }
    assert all("Finance" not in c["body"] for c in comments(syncro, psa_id) if not c["hidden"])
    notes = [c["body"] for c in comments(syncro, psa_id) if c["hidden"]]
    assert any("Left out by the approver: Finance." in note for note in notes)  # by name
