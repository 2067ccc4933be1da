"""Earned autonomy (deskhand.trust.autonomy): an internal step graduates from approve to auto
on its own record, and waits again the moment the record degrades. Real runtime, real
dispatcher and approvals, on SQLite and PostgreSQL; the clock is injected (the log's ``now``
and the runtime's ``clock``), nothing sleeps."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from deskhand.audit import log
from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.domain.events import Actor, ActorKind, TenantPolicySet
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.engine import approvals, shadow, state
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.errors import InputError
from deskhand.intake.arrival import add_ticket
from deskhand.plugins import installed
from deskhand.policy.tenant_policy import Autonomy, parse_policy
from deskhand.store.models import EventRecord, Run, Step, Tenant
from deskhand.trust import autonomy, regressions
from deskhand.web.app import create_app
from tests.web.conftest import add_users, sign_in

CONTOSO = "contoso-dental"
APPROVER = "dana@msp.example"
KAREN = "karen.whitfield@contosodental.example"  # office manager, authorised contact
ACCESS = "access_change"
ADD = "m365.add_group_member"  # internal for a group that is not privileged
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

POLICY = """\
blast_radius: {read: auto, internal: approve, security: approve, billing: approve,
  external_communication: approve, destructive: approve}
approvers: [approver, admin]
approval_expiry_hours: 720
autonomy:
  min_approvals: 5
  min_days: 3
  window: 10
"""


class Clock:
    """The moment everything happens at: the log's timestamps and the runtime's clock."""

    def __init__(self, rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at = START
        rt.clock = lambda: self.at
        monkeypatch.setattr(log, "now", lambda: self.at)

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(runtime, tickets=False)
    policy = tmp_path / "contoso.yaml"
    policy.write_text(POLICY)
    with runtime.db.session() as session:
        session.execute(update(Tenant).where(Tenant.id == CONTOSO).values(policy_path=str(policy)))
    yield runtime
    runtime.close()


@pytest.fixture
def clock(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(rt, monkeypatch)


def plan(rt: Runtime) -> int:
    """A ticket asking to add Tom to the Finance Share group, planned; its ticket id."""
    ticket_id = add_ticket(
        rt, CONTOSO, KAREN, "Access", "Please add Tom Becker to the Finance Share group."
    ).ticket_id
    assert Worker(rt, "test-worker").run_once() == 1
    return ticket_id


def steps(rt: Runtime, ticket_id: int) -> dict[str, Step]:
    """The steps of the ticket's (one) run, by action, with their run loaded."""
    with rt.db.session() as session:
        found = session.scalars(
            select(Step).join(Run, Run.id == Step.run_id).where(Run.ticket_id == ticket_id)
        ).all()
        for step in found:
            _ = step.run.specialist
        session.expunge_all()
        return {s.action: s for s in found}


def draft_of(rt: Runtime, ticket_id: int, action: str) -> approvals.DraftView:
    found = approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)
    return next(d for d in found if d.action == action)


def earn(rt: Runtime, clock: Clock, times: int = 5) -> None:
    """``times`` tickets whose group step is approved unchanged, a day apart."""
    for _ in range(times):
        ticket_id = plan(rt)
        approvals.approve(rt, draft_of(rt, ticket_id, ADD).id, APPROVER)
        clock.advance(days=1)


def types(rt: Runtime, *wanted: str) -> list[EventRecord]:
    with rt.db.session() as session:
        rows = session.scalars(
            select(EventRecord).where(EventRecord.type.in_(wanted)).order_by(EventRecord.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_an_internal_step_graduates_after_enough_unchanged_approvals_over_enough_days(
    rt: Runtime, clock: Clock
) -> None:
    earn(rt, clock, times=4)
    ticket_id = plan(rt)
    assert steps(rt, ticket_id)[ADD].decision == "approve"  # 4 approvals are not 5
    approvals.approve(rt, draft_of(rt, ticket_id, ADD).id, APPROVER)
    clock.advance(hours=1)

    granted = plan(rt)
    decided = steps(rt, granted)
    assert decided[ADD].decision == "auto"
    assert decided[ADD].rule.startswith("earned: 5 approvals unchanged since 2 Nov 2026")
    assert decided["psa.send_reply"].decision == "approve"  # the floor: never earned
    [grant] = types(rt, "autonomy.granted")
    assert grant.data["action"] == ADD and grant.data["specialist"] == decided[ADD].run.specialist
    assert grant.data["evidence"]["approvals"] == 5
    assert grant.data["evidence"]["wilson_lower"] > 0.5


def granted(rt: Runtime, clock: Clock) -> int:
    """A ticket planned before the record was earned (its group draft still pending), then the
    record earned and a ticket whose group step ran on the grant; the earlier ticket's id."""
    earlier = plan(rt)
    earn(rt, clock)
    assert steps(rt, plan(rt))[ADD].decision == "auto"
    return earlier


def revocations(rt: Runtime) -> list[EventRecord]:
    return types(rt, "autonomy.revoked")


def front_desk(rt: Runtime) -> str:
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
    assert tenant is not None
    return rt.connectors(tenant).m365.get_group("Front Desk").id


def test_an_edit_revokes_the_grant_in_the_same_transaction(rt: Runtime, clock: Clock) -> None:
    earlier = granted(rt, clock)
    approvals.approve(rt, draft_of(rt, earlier, ADD).id, APPROVER, {"group_id": front_desk(rt)})
    [revoked] = revocations(rt)
    [edit] = [e for e in types(rt, "draft.approved") if e.data["edited"]]
    assert revoked.data["trigger"] == "edited"
    assert revoked.data["trigger_event"] == edit.id
    assert revoked.id == edit.id + 1  # written with the edit, nothing in between
    assert steps(rt, plan(rt))[ADD].decision == "approve"  # waits again


def test_a_rejection_revokes_the_grant(rt: Runtime, clock: Clock) -> None:
    earlier = granted(rt, clock)
    approvals.reject(rt, draft_of(rt, earlier, ADD).id, APPROVER, "not this group")
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == "rejected"
    assert "rejected" in revoked.data["reason"]
    assert steps(rt, plan(rt))[ADD].decision == "approve"


@pytest.mark.parametrize(
    ("how", "trigger"),
    [
        ("act", "failed"),
        ("verify", "unverified"),
        ("uncertain", "unverified"),
        ("refused", "failed"),
    ],
)
def test_a_failed_or_unverified_execution_revokes_the_grant(
    rt: Runtime, clock: Clock, how: str, trigger: str
) -> None:
    granted(rt, clock)
    with rt.db.session() as session:
        step = session.scalars(
            select(Step).where(Step.action == ADD, Step.decision == "auto")
        ).one()
        step.status = "executing"  # as the executor leaves it once it acted
        if how == "uncertain":
            state.uncertain_step(session, step, {})
        elif how == "refused":
            state.refuse_payload(session, step, "1" * 64, "2" * 64)
        else:
            state.fail_step(session, step, how, "the directory said no")
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == trigger
    assert steps(rt, plan(rt))[ADD].decision == "approve"


def test_a_degrading_event_of_another_tenant_or_action_revokes_nothing(
    rt: Runtime, clock: Clock
) -> None:
    earlier = granted(rt, clock)
    reply = draft_of(rt, earlier, "psa.send_reply")
    approvals.reject(rt, reply.id, APPROVER, "wrong tone")  # one rejection: no significant drop
    assert revocations(rt) == []
    assert steps(rt, plan(rt))[ADD].decision == "auto"


def test_a_significant_drop_in_the_unchanged_rate_revokes_the_grant(
    rt: Runtime, clock: Clock
) -> None:
    granted(rt, clock)
    # The grant was earned on 5 unchanged of 5 decisions: lower Wilson bound 0.57. Each ticket
    # after it has its reply (the same specialist's draft) rejected; the window is the last 10
    # decisions. After 7 rejections it holds 3 unchanged of 10 (upper bound 0.61: not yet
    # significant), after 8 it holds 2 of 10 (upper bound 0.51): revoked then, not before.
    fell = None
    for n in range(1, 11):
        ticket_id = plan(rt)
        approvals.reject(rt, draft_of(rt, ticket_id, "psa.send_reply").id, APPROVER, "no")
        if revocations(rt):
            fell = n
            break
    assert fell == 8
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == "drop"
    evidence = revoked.data["evidence"]
    assert evidence["wilson_upper"] < evidence["wilson_lower_at_grant"]
    assert "Wilson bound" in revoked.data["reason"]
    assert steps(rt, plan(rt))[ADD].decision == "approve"


def test_a_floor_step_never_graduates_even_with_a_perfect_record(rt: Runtime, clock: Clock) -> None:
    for _ in range(6):
        ticket_id = plan(rt)
        # The reply to the client, approved unchanged every time, a day apart.
        approvals.approve(rt, draft_of(rt, ticket_id, "psa.send_reply").id, APPROVER)
        clock.advance(days=1)
    decided = steps(rt, plan(rt))
    assert decided["psa.send_reply"].decision == "approve"
    assert decided["psa.send_reply"].blast_radius == "external_communication"
    assert types(rt, "autonomy.granted") == []


def test_consult_refuses_every_floor_radius_whatever_the_record() -> None:
    terms = Autonomy(min_approvals=5, min_days=1)
    fingerprint = autonomy.Fingerprint("1", "p", "cloud: a.example")
    for radius in APPROVAL_FLOOR:
        found = autonomy.consult(
            None,  # type: ignore[arg-type]  # refused before the log is read
            tenant_id=CONTOSO,
            specialist="access_change",
            action="psa.send_reply",
            radius=radius,
            manual=False,
            terms=terms,
            fingerprint=fingerprint,
            now=START,
        )
        assert found == autonomy.Consulted(auto=False)
    assert not autonomy.EARNABLE & APPROVAL_FLOOR


def test_the_wilson_bounds_are_the_textbook_ones() -> None:
    low, high = autonomy.wilson(5, 5)
    assert round(low, 3) == 0.566 and high == 1.0
    low, high = autonomy.wilson(2, 10)
    assert round(low, 3) == 0.057 and round(high, 3) == 0.51
    assert autonomy.wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    "section",
    [
        "autonomy:\n  blast_radius: [security]\n",
        "autonomy:\n  security: auto\n",
        "autonomy:\n  actions: {m365.reset_password: auto}\n",
        "autonomy:\n  radii: [internal, destructive]\n",
    ],
)
def test_a_policy_file_cannot_grant_autonomy_above_the_floor(section: str) -> None:
    text = POLICY.split("autonomy:")[0] + section
    with pytest.raises(InputError) as raised:
        parse_policy(text, "contoso.yaml", installed())
    assert "contoso.yaml, line 6:" in raised.value.message
    assert "not an autonomy setting" in raised.value.message
    assert "always wait for a person" in (raised.value.hint or "")


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("  min_approvals: 0", "`min_approvals` is `0`; it must be a whole number from 5"),
        ("  min_days: two", "`min_days` is `two`"),
        ("  enabled: maybe", "`enabled` is `maybe`; it must be true or false"),
    ],
)
def test_autonomy_settings_are_checked_with_their_line(line: str, said: str) -> None:
    text = POLICY.split("autonomy:")[0] + "autonomy:\n" + line + "\n"
    with pytest.raises(InputError) as raised:
        parse_policy(text, "contoso.yaml", installed())
    assert raised.value.message.startswith("contoso.yaml, line 6: " + said)


def test_autonomy_has_conservative_defaults() -> None:
    text = POLICY.split("autonomy:")[0]
    terms = parse_policy(text, "contoso.yaml", installed()).autonomy
    assert (terms.enabled, terms.min_approvals, terms.min_days, terms.window) == (
        True,
        25,
        14,
        40,
    )
    read = parse_policy(POLICY, "contoso.yaml", installed()).autonomy
    assert (read.min_approvals, read.min_days, read.window) == (5, 3, 10)


def test_a_change_of_policy_revokes_the_grant_at_the_next_plan(
    rt: Runtime, clock: Clock, tmp_path: Path
) -> None:
    granted(rt, clock)
    (tmp_path / "contoso.yaml").write_text(
        POLICY.replace("approval_expiry_hours: 720", "approval_expiry_hours: 48")
    )
    os.utime(tmp_path / "contoso.yaml", (1, 1))  # a new stamp: the runtime reads it again
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == "policy"


def test_a_change_of_specialist_version_revokes_the_grant(
    rt: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    granted(rt, clock)
    [grant] = types(rt, "autonomy.granted")
    specialist = type(rt.registry.by_name[grant.data["specialist"]])
    monkeypatch.setattr(specialist, "version", "2")
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == "specialist_version"
    assert revoked.data["evidence"]["now"] == "2"


def test_a_change_of_directory_shape_revokes_the_grant(rt: Runtime, clock: Clock) -> None:
    granted(rt, clock)
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.domains = [*tenant.domains, "contoso-lab.example"]
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    [revoked] = revocations(rt)
    assert revoked.data["trigger"] == "directory"


def test_autonomy_off_in_the_policy_means_no_grant(
    rt: Runtime, clock: Clock, tmp_path: Path
) -> None:
    (tmp_path / "contoso.yaml").write_text(POLICY + "  enabled: false\n")
    earn(rt, clock, times=6)
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    assert types(rt, "autonomy.granted") == []


def test_too_few_days_means_no_grant(rt: Runtime, clock: Clock) -> None:
    for _ in range(6):
        ticket_id = plan(rt)
        approvals.approve(rt, draft_of(rt, ticket_id, ADD).id, APPROVER)
        clock.advance(hours=5)  # six approvals in 30 hours: fewer than 3 days
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    clock.advance(days=2)
    assert steps(rt, plan(rt))[ADD].decision == "auto"


def cli(rt: Runtime, *args: str) -> Result:
    result = CliRunner().invoke(
        app, ["--db", rt.settings.database_url, "trust", *args], env={"COLUMNS": "80"}
    )
    assert "Traceback" not in result.output
    return result


def test_deskhand_trust_shows_the_figures_the_grant_and_the_revocation(
    rt: Runtime, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKHAND_DATA_DIR", str(tmp_path))
    earlier = granted(rt, clock)
    shown = cli(rt, "--tenant", CONTOSO, "--weeks", "104")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("Contoso Dental · access_change") for line in lines), shown.output
    assert any(line.split()[:3] == ["all", "5", "5"] for line in lines)  # 5 decided, unchanged
    assert "Contoso Dental · access_change · m365.add_group_member, since 7 Nov" in shown.output
    assert "Earned: 5 approvals unchanged since 2 Nov 2026" in shown.output
    said = " ".join(shown.output.split())  # the words, however the lines wrap
    assert "once 5 drafts of it in a row were approved unchanged over at least 3 days" in said

    approvals.reject(rt, draft_of(rt, earlier, ADD).id, APPROVER, "not this group")
    document = json.loads(cli(rt, "--json", "--weeks", "104").output)
    assert document["autonomy"]["grants"] == []
    [revoked] = document["autonomy"]["revocations"]
    assert (revoked["action"], revoked["trigger"]) == (ADD, "rejected")
    [total] = [t for t in document["totals"] if t["tenant"] == CONTOSO]
    assert (total["unchanged"], total["rejected"]) == (5, 1)
    assert {row["week"] for row in document["rows"]} <= set(document["weeks"])
    text = cli(rt, "--specialist", "access_change", "--weeks", "104").output
    assert "Waits for approval again: a draft of it was rejected." in text
    assert "None: every step the policy sends for approval waits for a person." in text

    wrong = cli(rt, "--tenant", "nobody")
    assert wrong.exit_code == 2
    assert "There is no tenant 'nobody'." in wrong.output


def test_the_trust_page_shows_earned_and_lost_autonomy_to_those_who_see_the_tenant(
    rt: Runtime, clock: Clock
) -> None:
    add_users(rt)
    earlier = granted(rt, clock)
    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "vic@msp.example")  # a viewer of Contoso Dental
        page = client.get("/trust?weeks=104").text
        assert f'class="autonomy-grant" data-tenant="{CONTOSO}"' in page
        assert "Earned autonomy" in page and "earned: 5 approvals unchanged since" in page
        assert "autonomy-revoked" not in page

        approvals.reject(rt, draft_of(rt, earlier, ADD).id, APPROVER, "not this group")
        page = client.get("/trust?weeks=104").text
        assert "autonomy-grant" not in page
        assert 'data-trigger="rejected"' in page
        assert "Waits for approval again: a draft of it was rejected." in page

    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "riley@msp.example")  # Northwind Law only
        page = client.get("/trust?weeks=104").text
        assert "autonomy-revoked" not in page and "Waits for approval again" not in page


def test_a_granted_step_runs_and_is_verified_without_its_own_approval(
    rt: Runtime, clock: Clock
) -> None:
    earn(rt, clock)
    ticket_id = plan(rt)
    pending = approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)
    assert ADD not in {d.action for d in pending}  # no draft for the group step
    assert "psa.send_reply" in {d.action for d in pending}  # the reply still needs a person
    for draft in pending:
        approvals.approve(rt, draft.id, APPROVER)
    while Worker(rt, "test-worker").run_once():
        pass
    done = steps(rt, ticket_id)
    assert done[ADD].status == "verified" and done[ADD].decision == "auto"
    assert done["psa.send_reply"].status == "verified"
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
    assert tenant is not None
    tom = rt.connectors(tenant).m365.get_user("tom.becker@contosodental.example")
    finance = rt.connectors(tenant).m365.get_group("Finance Share")
    assert tom.id in rt.connectors(tenant).m365.group_members(finance.id)


def test_a_step_planned_on_a_grant_revoked_before_it_runs_does_not_run(
    rt: Runtime, clock: Clock
) -> None:
    earlier = plan(rt)
    earn(rt, clock)
    ticket_id = plan(rt)
    assert steps(rt, ticket_id)[ADD].decision == "auto"
    approvals.reject(rt, draft_of(rt, earlier, ADD).id, APPROVER, "not this group")  # revoked
    for draft in approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id):
        approvals.approve(rt, draft.id, APPROVER)
    while Worker(rt, "test-worker").run_once():
        pass
    assert steps(rt, ticket_id)[ADD].status == "failed"  # refused: it needs an approval now
    with rt.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
    assert tenant is not None
    tom = rt.connectors(tenant).m365.get_user("tom.becker@contosodental.example")
    finance = rt.connectors(tenant).m365.get_group("Finance Share")
    assert tom.id not in rt.connectors(tenant).m365.group_members(finance.id)


def test_the_built_in_policy_documents_autonomy_with_its_defaults() -> None:
    text = resources.files("deskhand.policy").joinpath("default_policy.yaml").read_text("utf-8")
    start = text.index("# autonomy:")
    block = text[start : text.index("\n\n", start)]
    example = "\n".join(line.removeprefix("# ") for line in block.splitlines())
    terms = parse_policy(POLICY.split("autonomy:")[0] + example, "contoso.yaml", installed())
    assert terms.autonomy == Autonomy()


def test_a_manual_step_never_runs_on_earned_autonomy() -> None:
    found = autonomy.consult(
        None,  # type: ignore[arg-type]  # refused before the log is read
        tenant_id=CONTOSO,
        specialist="offboarding",
        action="vendor.remove_access",
        radius=BlastRadius.INTERNAL,
        manual=True,  # the technician's tick is the approval
        terms=Autonomy(min_approvals=5, min_days=1),
        fingerprint=autonomy.Fingerprint("1", "p", "cloud: a.example"),
        now=START,
    )
    assert found == autonomy.Consulted(auto=False)


def test_approvals_before_the_policy_was_last_set_earn_nothing(rt: Runtime, clock: Clock) -> None:
    earn(rt, clock)
    with rt.db.session() as session:
        log.append(
            session,
            TenantPolicySet("contoso.yaml", "0" * 64, "new rules"),
            actor=Actor(ActorKind.USER, "sam@msp.example"),
            tenant_id=CONTOSO,
        )
    assert steps(rt, plan(rt))[ADD].decision == "approve"  # the record starts again
    assert types(rt, "autonomy.granted") == []


def test_a_regression_alarm_revokes_the_specialists_grants_at_that_tenant_only(
    rt: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    granted(rt, clock)
    [grant] = types(rt, "autonomy.granted")
    specialist = grant.data["specialist"]

    def due(session: object, moment: datetime) -> regressions.Checked:
        alarms = [
            regressions.Comparison(tenant, specialist, "edit_rate", 6, 10, 2, 40, 3.1, (1,))
            for tenant in (CONTOSO, "northwind-law")
        ]
        return regressions.Checked(flagged=alarms, cleared=[], comparisons={})

    monkeypatch.setattr(regressions, "due", due)
    with rt.db.session() as session:
        regressions.check(session, clock.at)
    [flagged, _] = types(rt, "trust.regression_flagged")
    [revoked] = revocations(rt)
    assert revoked.tenant_id == CONTOSO and revoked.data["action"] == ADD
    assert (revoked.data["trigger"], revoked.data["trigger_event"]) == ("regression", flagged.id)
    assert "more drafts needed an edit before approval" in revoked.data["reason"]
    assert steps(rt, plan(rt))[ADD].decision == "approve"


def test_a_plan_in_shadow_is_not_granted_autonomy_whatever_the_record(
    rt: Runtime, clock: Clock
) -> None:
    earn(rt, clock)  # the record earns it: the next live plan would be granted
    shadow.set_mode(rt, CONTOSO, shadow.SHADOW, "sam@msp.example", "back to watching", ACCESS)
    ticket_id = plan(rt)
    assert types(rt, "autonomy.granted") == []  # a shadow plan runs nothing: nothing earned
    [shadowed] = [e for e in types(rt, "plan.shadowed") if e.ticket_id == ticket_id]
    [group] = [s for s in shadowed.data["steps"] if s["action"] == ADD]
    assert group["decision"] == "approve"


def test_a_new_specialist_version_starts_its_own_record(
    rt: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    earn(rt, clock, times=4)  # four approvals of version 1: one short
    monkeypatch.setattr(type(rt.registry.by_name[ACCESS]), "version", "2")
    earn(rt, clock, times=1)  # five in a row, but one of version 2
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    assert types(rt, "autonomy.granted") == []
    earn(rt, clock, times=4)  # five of version 2, over more than three days
    decided = steps(rt, plan(rt))[ADD]
    assert decided.decision == "auto"
    [grant] = types(rt, "autonomy.granted")
    assert grant.data["evidence"]["approvals"] == 5
    assert grant.data["evidence"]["specialist_version"] == "2"


def test_a_policy_edited_in_place_starts_a_new_record(rt: Runtime, clock: Clock) -> None:
    earn(rt, clock, times=4)
    policy = Path(rt.settings.data_dir) / "contoso.yaml"
    policy.write_text(POLICY.replace("approval_expiry_hours: 720", "approval_expiry_hours: 96"))
    os.utime(policy, (1, 1))  # edited by hand, not with `deskhand tenants policy`
    earn(rt, clock, times=1)
    assert steps(rt, plan(rt))[ADD].decision == "approve"
    assert types(rt, "autonomy.granted") == []


def test_each_plan_records_the_fingerprint_it_was_made_under(rt: Runtime, clock: Clock) -> None:
    ticket_id = plan(rt)
    [proposed] = [e for e in types(rt, "plan.proposed") if e.ticket_id == ticket_id]
    recorded = proposed.data["fingerprint"]
    assert set(recorded) == {"specialist_version", "policy", "directory"}
    assert recorded["specialist_version"] == "1"
    assert recorded["directory"].endswith("contosodental.example")
