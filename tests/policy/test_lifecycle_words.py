"""A tenant's lifecycle templates in words (what `deskhand tenants policy` and the tenant's page
show): the offboarding steps are the ones the offboarding specialist plans, in its order, so a
technician who reads them before approving reads what will be planned."""

from __future__ import annotations

import pytest

from deskhand.domain.directory import DirectoryUser
from deskhand.domain.lifecycle import Lifecycle
from deskhand.policy.lifecycle_words import lifecycle_words, offboarding
from deskhand.specialists.contract import PlanContext, TenantView, TriageView
from deskhand.specialists.offboarding import Offboarding
from deskhand.testing.samples import TICKET
from tests.policy.installed import parse_policy

MANAGER = DirectoryUser(
    id="u-maria", user_principal_name="maria.alvarez@contosodental.example", display_name="Maria"
)
EVERYTHING = Lifecycle.model_validate(
    {
        "offboarding": {
            "auto_reply": "{name} has left; write to {delegate}.",
            "disabled_ou": "OU=Disabled Users,DC=contosodental,DC=example",
        },
        "vendor_checklist": [
            {"system": "Dentrix", "offboarding": "Office Manager → Users → Inactive"},
            {"system": "Phones", "onboarding": "Add an extension"},  # nothing for a leaver
            {"system": "Distributor portal", "offboarding": "One seat fewer"},
        ],
    }
)
NOTHING_ASKED = Lifecycle.model_validate(
    {
        "offboarding": {
            key: False
            for key in (
                "reset_password",
                "remove_mfa",
                "forward_to_manager",
                "files_to_manager",
                "convert_to_shared",
                "remove_licences",
                "remove_groups",
                "hide_from_address_list",
            )
        }
    }
)

KEEPING = Lifecycle.model_validate(
    {"offboarding": {"keep_licences_days": 30}, "usage_location": "GB"}
)


def planned(lifecycle: Lifecycle, *, synced: bool) -> list[str]:
    leaver = DirectoryUser(
        id="u-tom",
        user_principal_name="tom.becker@contosodental.example",
        display_name="Tom Becker",
        manager_id=MANAGER.id,
        synced=synced,
    )
    context = PlanContext(
        tenant=TenantView(id="contoso-dental", name="Contoso Dental"),
        triage=TriageView(intent="offboarding", confidence=1.0, removal=True),
        requester=MANAGER,
        targets=(leaver,),
        groups=(),
        skus=(),
        identity="manager",
        lifecycle=lifecycle,
        managers=(MANAGER,),
    )
    ticket = TICKET.model_copy(update={"body": "Please offboard Tom Becker today."})
    return [step.action for step in Offboarding().plan(ticket, context).steps]


@pytest.mark.parametrize("lifecycle", [EVERYTHING, Lifecycle(), NOTHING_ASKED, KEEPING])
@pytest.mark.parametrize("synced", [True, False])
def test_the_steps_shown_are_the_steps_the_offboarding_specialist_plans(
    lifecycle: Lifecycle, synced: bool
) -> None:
    steps = offboarding(lifecycle, "UTC").steps
    shown = [
        step.synced if synced else step.cloud
        for step in steps
        if step.condition is None and (step.synced if synced else step.cloud)
    ]
    assert shown == planned(lifecycle, synced=synced)


def test_what_the_tenant_switched_off_is_said_as_not_done() -> None:
    words = offboarding(NOTHING_ASKED, "UTC")
    assert "The password is not reset (reset_password: false)." in words.not_done
    assert "A leaver synced from AD stays in their OU (no disabled_ou)." in words.not_done
    forward = next(s for s in words.steps if s.cloud == "m365.forward_mail")
    assert forward.condition == "only when the ticket asks for it"
    assert offboarding(EVERYTHING, "UTC").not_done == ()


def test_the_licences_without_a_shared_mailbox_are_left_to_a_technician() -> None:
    lifecycle = Lifecycle.model_validate({"offboarding": {"convert_to_shared": False}})
    words = offboarding(lifecycle, "UTC")
    assert "m365.remove_all_licences" not in [s.cloud for s in words.steps]
    assert any("left to a technician" in line for line in words.not_done)


def test_the_time_zone_roles_and_vendor_checklist_are_read_from_the_policy() -> None:
    policy = parse_policy(
        "approvers: [approver]\napproval_expiry_hours: 24\ntime_zone: Europe/London\n"
        "lifecycle:\n"
        "  offboarding:\n    leave_at: '18:30'\n"
        "  start_at: '08:15'\n"
        "  roles:\n"
        "    Front Desk:\n"
        "      licences: [Microsoft 365 Business Basic]\n"
        "      groups: [Front Desk, All Staff]\n"
        "    Hygienist:\n"
        "      ad_groups: [Clinical]\n"
        "      ou: OU=Clinical,DC=contosodental,DC=example\n"
        "  vendor_checklist:\n"
        "    - system: Dentrix\n      offboarding: Inactive\n",
        "contoso.yaml",
    )
    words = lifecycle_words(policy)
    assert words.time_zone == "Europe/London" and words.start_at == "08:15"
    assert "18:30 (Europe/London)" in words.offboarding.when
    front, hygienist = words.roles
    assert (front.name, front.licences, front.groups) == (
        "Front Desk",
        "Microsoft 365 Business Basic",
        "Front Desk, All Staff",
    )
    assert (front.ad_groups, front.ou) == ("", "")
    assert (hygienist.licences, hygienist.ad_groups) == ("none", "Clinical")
    assert hygienist.ou == "OU=Clinical,DC=contosodental,DC=example"
    [dentrix] = words.vendors
    assert (dentrix.system, dentrix.leaver, dentrix.starter) == ("Dentrix", "Inactive", None)


def test_licences_the_tenant_keeps_for_some_days_are_said_as_left_to_a_technician() -> None:
    words = offboarding(KEEPING, "UTC")
    assert "m365.remove_all_licences" not in [s.cloud for s in words.steps]
    assert (
        "The licences stay 30 days after the last day; a technician removes them then "
        "(keep_licences_days: 30)."
    ) in words.not_done
    removed = next(
        s for s in offboarding(Lifecycle(), "UTC").steps if s.cloud == "m365.remove_all_licences"
    )
    assert "keep_licences_days: 0" in removed.words


def test_the_usage_location_a_starter_gets_is_said_and_so_is_its_absence() -> None:
    policy = parse_policy(
        "approvers: [approver]\napproval_expiry_hours: 24\nlifecycle:\n  usage_location: GB\n",
        "contoso.yaml",
    )
    assert lifecycle_words(policy).usage_location.startswith(
        "GB, given to each starter (for one created in Active Directory, as the account's country"
    )
    unset = parse_policy("approvers: [approver]\napproval_expiry_hours: 24\n", "contoso.yaml")
    assert lifecycle_words(unset).usage_location.startswith("none (no usage_location)")
