"""What the two built-in specialists plan, case by case."""

from __future__ import annotations

from deskhand.actions import action
from deskhand.domain.directory import DirectoryUser
from deskhand.specialists.access_change import AccessChange
from deskhand.specialists.contract import PlanContext, TenantView, TriageView
from deskhand.specialists.password_reset import PasswordReset
from deskhand.testing.samples import (
    ADMINS,
    CLOUD,
    DISABLED,
    FREE,
    FULL,
    GROUP,
    LIST,
    SYNCED,
    TICKET,
)

# The requester as the directory has them: a reply greets them by this name, not the ticket's.
KAREN = DirectoryUser(
    id="u-karen",
    user_principal_name="karen.whitfield@contosodental.example",
    display_name="Karen Whitfield",
)


def context(intent: str, **facts: object) -> PlanContext:
    values: dict[str, object] = {
        "tenant": TenantView(id="contoso-dental", name="Contoso Dental"),
        "triage": TriageView(
            intent=intent, confidence=1.0, removal=bool(facts.pop("removal", False))
        ),
        "requester": KAREN,
        "targets": (CLOUD,),
        "groups": (),
        "skus": (),
        "identity": "target",
    }
    values.update(facts)
    return PlanContext.model_validate(values)


def actions(plan_steps: tuple) -> list[str]:  # type: ignore[type-arg]
    return [step.action for step in plan_steps]


def test_a_cloud_user_s_reset_signs_them_out_and_tells_the_requester() -> None:
    plan = PasswordReset().plan(TICKET, context("password_reset"))
    assert actions(plan.steps) == [
        "m365.reset_password",
        "m365.revoke_sessions",
        "psa.add_internal_note",
        "psa.send_reply",
    ]
    assert plan.steps[0].params["force_change"] is True
    reply = plan.steps[-1].params["body"]
    assert not reply.startswith("Hi")  # the engine frames it in the tenant's template
    assert "call you on the number we have on file" in reply  # never the password in writing
    assert plan.steps[-1].params["to"] == TICKET.requester_email


def test_a_synced_user_is_reset_in_active_directory() -> None:
    plan = PasswordReset().plan(TICKET, context("password_reset", targets=(SYNCED,)))
    assert actions(plan.steps)[0] == "ad.reset_password"
    assert "on-premises" in plan.steps[0].reason


def test_an_unlock_of_a_synced_user_only_unlocks() -> None:
    plan = PasswordReset().plan(TICKET, context("account_unlock", targets=(SYNCED,)))
    assert actions(plan.steps) == ["ad.unlock_account", "psa.add_internal_note", "psa.send_reply"]


def test_an_unlock_of_a_cloud_user_resets_the_password_instead() -> None:
    plan = PasswordReset().plan(TICKET, context("account_unlock"))
    assert actions(plan.steps)[:2] == ["m365.reset_password", "m365.revoke_sessions"]
    assert "cloud account unlocks with a new password" in plan.steps[0].reason


def test_a_disabled_account_is_not_a_password_reset() -> None:
    plan = PasswordReset().plan(TICKET, context("password_reset", targets=(DISABLED,)))
    assert plan.handoff is not None and "disabled" in plan.handoff


def test_a_privileged_group_carries_a_warning_for_the_approver() -> None:
    plan = AccessChange().plan(TICKET, context("access_change", groups=(ADMINS,)))
    assert actions(plan.steps)[0] == "m365.add_group_member"
    assert "privileged group" in plan.steps[0].reason


def test_a_licence_without_a_free_seat_buys_one_first() -> None:
    plan = AccessChange().plan(TICKET, context("access_change", skus=(FULL,)))
    assert actions(plan.steps)[:2] == ["m365.add_license_seats", "m365.assign_license"]
    assert plan.steps[0].params["seats"] == 1
    assert "billed" in plan.steps[0].reason


def test_a_licence_with_a_free_seat_is_just_assigned_unless_already_there() -> None:
    user = CLOUD.model_copy(update={"licenses": ()})
    plan = AccessChange().plan(TICKET, context("access_change", targets=(user,), skus=(FREE,)))
    assert actions(plan.steps)[0] == "m365.assign_license"
    already = AccessChange().plan(TICKET, context("access_change", skus=(FREE,)))
    assert already.handoff is not None and "already" in already.handoff


def test_a_licence_reply_says_what_a_licence_means_not_what_a_group_does() -> None:
    plan = AccessChange().plan(TICKET, context("access_change", groups=(GROUP,), skus=(FULL,)))
    reply = plan.steps[-1].params["body"]
    assert "Lisa Chen has been added to: Finance Share. It can take a few minutes" in reply
    assert "Lisa Chen now has a licence for Business Premium." in reply
    assert "Business Premium" not in reply.split("now has")[0]  # not among the groups

    licence_only = AccessChange().plan(TICKET, context("access_change", skus=(FULL,)))
    words = licence_only.steps[-1].params["body"]
    assert "now has a licence for Business Premium" in words and "up to an hour" in words
    assert "added to" not in words and "Outlook, Teams and file shares" not in words

    removed = AccessChange().plan(TICKET, context("access_change", removal=True, skus=(FREE, FULL)))
    said = removed.steps[-1].params["body"]
    assert "Lisa Chen's licence for Business Basic has been removed" in said
    assert "Business Premium" not in said  # she never had it: nothing changes, nothing said


def test_removal_removes_memberships_and_only_licences_the_user_has() -> None:
    plan = AccessChange().plan(
        TICKET, context("access_change", removal=True, groups=(GROUP,), skus=(FREE, FULL))
    )
    assert actions(plan.steps)[:2] == ["m365.remove_group_member", "m365.remove_license"]
    assert plan.steps[1].params["sku_id"] == FREE.id


def test_a_distribution_list_is_a_manual_step_with_exact_instructions() -> None:
    plan = AccessChange().plan(TICKET, context("access_change", groups=(LIST, GROUP)))
    assert plan.handoff is None
    assert actions(plan.steps)[:2] == [
        "exchange.add_distribution_list_member",
        "m365.add_group_member",
    ]
    manual = plan.steps[0]
    assert manual.params["group_id"] == LIST.id
    assert "then approve to tick it off" in manual.reason
    spec = action(manual.action)
    assert spec.manual
    assert spec.describe(spec.validate(manual.params)) == (
        "Exchange admin center → Recipients → Groups → Distribution list → All Staff → "
        f"Members → Add member → {CLOUD.user_principal_name} → Save"
    )


def test_removal_from_a_distribution_list_is_a_manual_step_too() -> None:
    plan = AccessChange().plan(TICKET, context("access_change", removal=True, groups=(LIST,)))
    assert actions(plan.steps)[0] == "exchange.remove_distribution_list_member"
