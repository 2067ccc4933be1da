"""The Trust page and its CSV: figures of drafts decided through the real engine — approved
unchanged, edited, rejected, expired; escalations by reason; a failed execution — shown exactly,
and only for the tenants the user is scoped to."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from deskhand.audit import log
from deskhand.domain.events import SYSTEM, Actor, ActorKind, PlanProposed, RunEscalated
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Approval, Tenant, Ticket, now
from deskhand.web.pages.trust import duration, percent
from tests.web.conftest import sign_in

CONTOSO = "contoso-dental"
NORTHWIND = "northwind-law"
APPROVER = "dana@msp.example"
# A specialist only a Northwind ticket ever had (a plugin since uninstalled): its name is
# Northwind's business, like the tenant's name.
NORTHWIND_ONLY = "northwind_conflict_check"


class Tables(HTMLParser):
    """The text of every cell of the tables that have an id: ``tables[id]`` is a list of rows,
    each a list of cell texts (header and data cells alike), head, body and foot in order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs).get("id")
        if tag == "table" and found:
            self._table = self.tables.setdefault(found, [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(page: str) -> dict[str, list[list[str]]]:
    return Tables(page).tables


def _ticket(rt: Runtime, subject: str) -> int:
    with rt.db.reading() as session:
        return session.execute(select(Ticket.id).where(Ticket.subject == subject)).scalar_one()


def _drafts(rt: Runtime, ticket_id: int) -> list[approvals.DraftView]:
    drafts = approvals.list_drafts(rt, None, ticket_id=ticket_id)
    return sorted(drafts, key=lambda d: d.step_position)


def _work(rt: Runtime) -> None:
    worker = Worker(rt, "test-worker")
    worker.expire_drafts()
    worker.run_once()


def decide_the_demo(rt: Runtime) -> None:
    """Through the engine, on the demo's dispatched tickets and one of Northwind's:

    - "Forgot my password" (password_reset, Contoso): three drafts approved unchanged; its
      steps run and are verified (three and an automatic note: four)
    - "Finance share access for Tom" (access_change, Contoso): the group change approved
      unchanged, the reply edited; the group is deleted before it runs, so the first step
      fails its check, nothing else runs, and the run escalates (plan_invalid)
    - "Business Premium licence" (access_change, Contoso): the seats draft rejected
      (approval_rejected)
    - "Password reset for Dr. Raman" (Contoso): escalated by the demo itself before any plan
      (identity_unverified)
    - "Locked out" (Contoso): left pending, counted nowhere
    - A Northwind password reset: never decided; its draft expires (approval_expired)
    """
    for draft in _drafts(rt, _ticket(rt, "Forgot my password")):
        approvals.approve(rt, draft.id, APPROVER)
    member, reply = _drafts(rt, _ticket(rt, "Finance share access for Tom"))
    assert (member.action, reply.action) == ("m365.add_group_member", "psa.send_reply")
    approvals.approve(rt, member.id, APPROVER)
    approvals.approve(rt, reply.id, APPROVER, edit={"body": "Hi Karen, Tom is in the group."})
    seats = _drafts(rt, _ticket(rt, "Business Premium licence"))[0]
    assert seats.action == "m365.add_license_seats"
    approvals.reject(rt, seats.id, APPROVER, "We buy seats through the distributor.")

    with rt.db.reading() as session:
        contoso = session.get(Tenant, CONTOSO)
    assert contoso is not None
    finance = rt.connectors(contoso).m365.get_group("Finance Share")
    with rt.sandbox.session() as session:  # the client deletes the group meanwhile
        session.execute(
            text("DELETE FROM sandbox_group_members WHERE group_id = :g"), {"g": finance.id}
        )
        session.execute(text("DELETE FROM sandbox_groups WHERE id = :g"), {"g": finance.id})

    add_ticket(
        rt,
        NORTHWIND,
        "grace.liu@northwindlaw.example",
        "Forgot my password",
        "I forgot my password and cannot sign in. Can you reset it? Grace",
    )
    _work(rt)  # runs the approved Contoso steps, drafts Northwind's reset
    with rt.db.session() as session:
        session.execute(
            update(Approval)
            .where(Approval.tenant_id == NORTHWIND)
            .values(expires_at=now() - timedelta(minutes=1))
        )
    _work(rt)  # Northwind's drafts expire


def uninstalled_specialist_escalates(rt: Runtime) -> None:
    """A Northwind run planned by a specialist no Contoso ticket ever had, then escalated."""
    plan = PlanProposed(specialist=NORTHWIND_ONLY, summary="check", actions=["psa.send_reply"])
    specialist = Actor(ActorKind.SPECIALIST, NORTHWIND_ONLY)
    escalated = RunEscalated(escalation_id="9001", reason="needs_human", detail="")
    with rt.db.session() as session:
        for event, actor in ((plan, specialist), (escalated, SYSTEM)):
            log.append(
                session, event, actor=actor, tenant_id=NORTHWIND, ticket_id=9001, run_id=9001
            )


@pytest.fixture
def decided(web_rt: Runtime) -> Runtime:
    """The web tests' demo, decided as ``decide_the_demo`` says, and the uninstalled one."""
    decide_the_demo(web_rt)
    uninstalled_specialist_escalates(web_rt)
    return web_rt


def _page(client: TestClient, query: str = "") -> str:
    response = client.get(f"/trust{query}")
    assert response.status_code == 200, response.text[:500]
    return str(response.text)


def _csv(client: TestClient, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/trust.csv{query}")
    assert response.status_code == 200, response.text[:500]
    return list(csv.DictReader(io.StringIO(response.text)))


def _sum(rows: list[dict[str, str]], column: str, **match: str) -> int:
    return sum(int(r[column]) for r in rows if all(r[k] == v for k, v in match.items()))


def _by_specialist_tenant(page: str) -> dict[tuple[str, str], list[str]]:
    """The "per specialist and tenant" table: (specialist, tenant) → the figures after them."""
    head, *rows = _tables(page)["table-specialist-tenant"]
    assert head[:4] == ["Specialist", "Tenant", "Drafts decided", "Approved unchanged"]
    return {(row[0], row[1]): row[2:] for row in rows}


def _chart_totals(page: str) -> dict[str, dict[str, int]]:
    """What each chart draws, summed over the weeks: chart → series label → total."""
    start = page.index('<script type="application/json" id="trust-data">')
    data: dict[str, Any] = json.loads(page[start:].split(">", 1)[1].split("</script>", 1)[0])
    assert len(data["weeks"]) == 12
    return {
        chart: {series["label"]: sum(series["values"]) for series in data[chart]}
        for chart in ("decisions", "escalations", "executions")
    }


def test_the_page_shows_exactly_what_the_engine_logged(
    decided: Runtime, app_client: TestClient
) -> None:
    sign_in(app_client, APPROVER)
    page = _page(app_client)
    tables = _tables(page)

    # How drafts ended, over the 12 weeks: unchanged, edited, rejected, expired, decided.
    footer = tables["table-decisions"][-1]
    assert footer[0] == "All 12 weeks"
    assert footer[1:7] == ["4", "1", "1", "1", "7", "57%"]
    escalations = tables["table-escalations"]
    reasons = dict(zip(escalations[0][1:], escalations[-1][1:], strict=True))
    assert reasons == {
        "approval_expired": "1",
        "approval_rejected": "1",
        "identity_unverified": "1",
        "needs_human": "1",
        "plan_invalid": "1",
        "Total": "5",
    }
    assert tables["table-executions"][-1] == ["All 12 weeks", "4", "1", "0", "5"]

    # Per specialist and tenant: decided, unchanged, edited, rejected, expired, rate, median,
    # escalations, failed or unverified.
    pairs = _by_specialist_tenant(page)
    reset = pairs[("password reset", "Contoso Dental")]
    assert reset[:6] == ["3", "3", "0", "0", "0", "100%"]
    assert reset[7:] == ["0", "0 of 4"]
    access = pairs[("access change", "Contoso Dental")]  # the group, the reply, the seats
    assert access[:6] == ["3", "1", "1", "1", "0", "33%"]
    assert access[7:] == ["2", "1 of 1"]
    assert pairs[("password reset", "Northwind Law")][:6] == ["1", "0", "0", "0", "1", "0%"]
    assert pairs[("none (escalated before a plan)", "Contoso Dental")][7] == "1"
    assert pairs[("northwind conflict check", "Northwind Law")][7] == "1"
    assert len(pairs) == 5

    headline = page[page.index('id="headline-unchanged"') :]
    assert "57%" in headline.split("</article>")[0]
    assert "4 of 7 drafts decided in 12 weeks" in headline
    timed = page[page.index('id="headline-time"') :].split("</article>")[0]
    assert "Over 5 approvals in 12 weeks" in timed

    charts = _chart_totals(page)
    assert charts["decisions"] == {
        "Approved unchanged": 4,
        "Edited": 1,
        "Rejected": 1,
        "Expired": 1,
    }
    assert charts["escalations"] == {reason: 1 for reason in reasons if reason != "Total"}
    assert charts["executions"] == {"Verified": 4, "Failed": 1, "Unverified": 0}


def test_the_csv_has_the_same_numbers_one_row_per_week_tenant_and_specialist(
    decided: Runtime, app_client: TestClient
) -> None:
    sign_in(app_client, APPROVER)
    response = app_client.get("/trust.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="deskhand-trust-')
    assert disposition.endswith('.csv"')
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    keys = [(r["week_start"], r["tenant_id"], r["specialist"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["tenant"] for r in rows} == {"Contoso Dental", "Northwind Law"}

    assert _sum(rows, "approved_unchanged") == 4
    assert _sum(rows, "approved_edited") == 1
    assert _sum(rows, "rejected") == 1
    assert _sum(rows, "expired") == 1
    assert _sum(rows, "drafts_decided") == 7
    assert _sum(rows, "approvals_timed") == 5
    assert _sum(rows, "escalations") == 5
    assert _sum(rows, "escalations_plan_invalid") == 1
    assert _sum(rows, "escalations_approval_expired", tenant_id=NORTHWIND) == 1
    assert _sum(rows, "executions_verified", specialist="password_reset") == 4
    assert _sum(rows, "executions_failed", specialist="access_change") == 1
    assert _sum(rows, "executions_unverified") == 0
    assert _sum(rows, "approved_unchanged", tenant_id=CONTOSO, specialist="access_change") == 1


def test_a_tech_sees_only_their_tenants_figures_however_they_ask(
    decided: Runtime, app_client: TestClient
) -> None:
    sign_in(app_client, "lee@msp.example")  # tech of contoso-dental
    for query in ("", "?tenant=northwind-law", f"?specialist={NORTHWIND_ONLY}", "?weeks=104"):
        page = _page(app_client, query)
        asks_for_northwind = "=northwind" in query
        assert ("Nothing in this selection" in page) == asks_for_northwind, query
        assert ('id="table-decisions"' in page) != asks_for_northwind, query
        for marker in ("Northwind", "northwindlaw", NORTHWIND_ONLY, "northwind conflict"):
            if marker.replace(" ", "_") not in query:  # what lee typed comes back, no more
                assert marker not in page, (query, marker)
        data = app_client.get(f"/trust.csv{query}").text
        assert "northwind" not in data.lower(), query
        assert NORTHWIND_ONLY not in data

    page = _page(app_client)
    footer = _tables(page)["table-decisions"][-1]
    assert footer[1:6] == ["4", "1", "1", "0", "6"]  # no Northwind expiry
    assert "approval_expired" not in page and "needs_human" not in page
    assert set(_by_specialist_tenant(page)) == {
        ("password reset", "Contoso Dental"),
        ("access change", "Contoso Dental"),
        ("none (escalated before a plan)", "Contoso Dental"),
    }
    assert _sum(_csv(app_client), "drafts_decided") == 6

    # Asking for the other tenant answers like a tenant without events: nothing.
    elsewhere = _page(app_client, "?tenant=northwind-law")
    assert 'id="trust-empty"' in elsewhere and "Nothing in this selection" in elsewhere
    assert 'id="table-decisions"' not in elsewhere
    assert _csv(app_client, "?tenant=northwind-law") == []


def test_a_scoped_approver_and_a_viewer_see_their_own_tenant(
    decided: Runtime, app_client: TestClient
) -> None:
    csrf = sign_in(app_client, "riley@msp.example")  # approver of northwind-law only
    page = _page(app_client)
    assert "Contoso" not in page and "contosodental" not in page
    assert set(_by_specialist_tenant(page)) == {
        ("password reset", "Northwind Law"),
        ("northwind conflict check", "Northwind Law"),
    }
    assert _tables(page)["table-decisions"][-1][1:6] == ["0", "0", "0", "1", "1"]
    assert _csv(app_client, "?tenant=contoso-dental") == []
    app_client.post("/logout", data={"csrf": csrf})

    sign_in(app_client, "vic@msp.example")  # viewer of contoso-dental: may read figures
    assert _tables(_page(app_client))["table-decisions"][-1][1:6] == ["4", "1", "1", "0", "6"]


def test_filters_narrow_to_a_tenant_and_a_specialist(
    decided: Runtime, app_client: TestClient
) -> None:
    sign_in(app_client, APPROVER)
    northwind = _page(app_client, "?tenant=northwind-law")
    assert _tables(northwind)["table-decisions"][-1][1:6] == ["0", "0", "0", "1", "1"]
    assert '<option value="northwind-law" selected>' in northwind
    resets = _page(app_client, "?specialist=password_reset")
    assert _tables(resets)["table-decisions"][-1][1:6] == ["3", "0", "0", "1", "4"]
    assert 'href="/trust.csv?specialist=password_reset"' in resets
    both = _csv(app_client, "?tenant=contoso-dental&specialist=access_change&weeks=4")
    assert {(r["tenant_id"], r["specialist"]) for r in both} == {(CONTOSO, "access_change")}
    assert _sum(both, "approved_edited") == 1


def test_no_events_yet_says_what_to_do(app_client: TestClient) -> None:
    # The web tests' demo: drafts pending and one escalation. Riley's tenant has nothing.
    sign_in(app_client, "riley@msp.example")
    page = _page(app_client)
    assert "No trust figures yet" in page
    assert 'href="/queue"' in page and "Approvals</a>" in page
    assert 'id="trust-data"' not in page and 'id="table-decisions"' not in page
    assert _csv(app_client) == []
    assert app_client.get("/trust.csv").text.startswith("week_start,iso_week,tenant_id,")


def test_escalations_without_decided_drafts_show_without_a_decision_chart(
    app_client: TestClient,
) -> None:
    sign_in(app_client, APPROVER)
    page = _page(app_client)
    assert "No trust figures yet" not in page
    assert "No drafts decided in these weeks" in page and 'id="table-decisions"' not in page
    assert _tables(page)["table-escalations"][-1] == ["All 12 weeks", "1", "1"]


BAD_QUERIES = (
    ("weeks=0", "weeks"),
    ("weeks=-3", "weeks"),
    ("weeks=105", "weeks"),
    ("weeks=abc", "weeks"),
    ("weeks=", "weeks"),
    ("weeks=1e3", "weeks"),
    ("tenant=" + "x" * 500, "tenant"),
    ("specialist=" + "y" * 500, "specialist"),
)


def test_bad_query_parameters_get_a_400_page_saying_what_is_wrong(
    app_client: TestClient,
) -> None:
    sign_in(app_client, APPROVER)
    for query, named in BAD_QUERIES:
        for path in ("/trust", "/trust.csv"):
            response = app_client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query, response.text[:300])
            assert "That address or form is not valid" in response.text
            assert f"({named}: " in response.text, (path, query)
            assert "Traceback" not in response.text


def test_hostile_filter_values_are_escaped_and_show_nothing(
    decided: Runtime, app_client: TestClient
) -> None:
    sign_in(app_client, APPROVER)
    hostile = "<script>alert(1)</script>"
    for query in (f"?tenant={hostile}", f"?specialist={hostile}", "?tenant=%3D1%2B1"):
        page = _page(app_client, query)
        assert "<script>alert(1)" not in page
        assert "Nothing in this selection" in page
        assert _csv(app_client, query) == []


def test_times_to_approve_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (None, 0, 40, 89, 90, 720, 12_600, 129_599, 181_440)] == [
        "—",
        "0 s",
        "40 s",
        "89 s",
        "2 min",
        "12 min",
        "3.5 h",
        "36.0 h",
        "2.1 days",
    ]
    assert [percent(r) for r in (None, 0.0, 4 / 7, 1.0)] == ["—", "0%", "57%", "100%"]
