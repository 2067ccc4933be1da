"""Exchange Online actions. Graph cannot change a distribution list's members or convert a
mailbox, so these are manual steps: the summary is the exact path in Exchange admin center,
the technician's approval is the tick that says it is done, acting changes nothing, and
checking reads the result back through Graph — a tick without the change is not verified."""

from __future__ import annotations

from typing import Any

from deskhand.actions.contract import Acted, Action, Baseline, Check
from deskhand.connectors.capabilities import (
    M365_ADDRESS_LISTS,
    M365_GROUPS_READ,
    M365_MAILBOXES,
)
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import GroupMemberParams, UserParams
from deskhand.domain.risks import BlastRadius

DONE_BY_HAND = {"manual": "done by the technician who approved it"}


class _ListMembership(Action):
    Params = GroupMemberParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.SECURITY
    manual = True
    safe_to_repeat = True  # acting changes nothing
    needs = (M365_GROUPS_READ,)
    member: bool

    def _is_member(self, params: GroupMemberParams, c: Connectors) -> bool:
        return params.user_id in c.m365.group_members(params.group_id)

    def snapshot(self, params: GroupMemberParams, c: Connectors) -> dict[str, Any]:
        return {"member": self._is_member(params, c)}

    def act(self, params: GroupMemberParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted(dict(DONE_BY_HAND))

    def check(
        self, params: GroupMemberParams, c: Connectors, key: str, baseline: Baseline
    ) -> Check:
        member = self._is_member(params, c)
        if member == self.member:
            return Check(True, {"member": member})
        wanted = "is not" if self.member else "is still"
        return Check(
            False,
            {
                "member": member,
                "manual_step": f"{params.user_principal_name} {wanted} a member of "
                f"{params.group_name}: the step was ticked off before it was done in Exchange "
                "admin center",
            },
        )


class AddDistributionListMember(_ListMembership):
    name = "exchange.add_distribution_list_member"
    summary = (
        "Exchange admin center → Recipients → Groups → Distribution list → {group_name} → "
        "Members → Add member → {user_principal_name} → Save"
    )
    undo = "exchange.remove_distribution_list_member with the same parameters"
    member = True


class RemoveDistributionListMember(_ListMembership):
    name = "exchange.remove_distribution_list_member"
    summary = (
        "Exchange admin center → Recipients → Groups → Distribution list → {group_name} → "
        "Members → select {user_principal_name} → Remove → Save"
    )
    undo = "exchange.add_distribution_list_member with the same parameters"
    member = False


class ConvertToSharedMailbox(Action):
    """Security: it changes who can open the mailbox (the licence it frees is a separate step).
    Checking reads mailboxSettings.userPurpose back through Graph."""

    name = "exchange.convert_to_shared_mailbox"
    Params = UserParams
    radius = BlastRadius.SECURITY
    summary = (
        "Exchange admin center → Recipients → Mailboxes → {user_principal_name} → Others → "
        "Convert to shared mailbox → Confirm"
    )
    undo = (
        "Exchange admin center → Recipients → Mailboxes → (the mailbox) → Others → Convert to "
        "regular mailbox; the user needs a licence with Exchange Online first"
    )
    manual = True
    safe_to_repeat = True  # acting changes nothing
    needs = (M365_MAILBOXES,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return {"purpose": c.m365.mailbox_purpose(params.user_id)}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted(dict(DONE_BY_HAND))

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        purpose = c.m365.mailbox_purpose(params.user_id)
        if purpose == "shared":
            return Check(True, {"purpose": purpose})
        return Check(
            False,
            {
                "purpose": purpose,
                "manual_step": f"the mailbox of {params.user_principal_name} is still a "
                f"{purpose} mailbox: the step was ticked off before it was converted in "
                "Exchange admin center",
            },
        )


class HideFromAddressList(Action):
    """Graph v1.0 cannot hide a mailbox, and cannot reliably show whether one is hidden: its
    user.showInAddressList does not follow Exchange's "Hide from address lists" (Microsoft
    says not to use it) and usually reads null. So checking is honest about what it saw: a
    user Graph still shows in the address lists is not done; one Graph shows hidden is read
    back; and when Graph does not say, the step is done on the technician's tick alone, and its
    record says that it was not read back."""

    name = "exchange.hide_from_address_list"
    Params = UserParams
    radius = BlastRadius.INTERNAL
    summary = (
        "Exchange admin center → Recipients → Mailboxes → {user_principal_name} → General → "
        "Manage general settings → Hide from address lists: on → Save (it leaves the address "
        "book within a day). For a user synced from AD it is set there instead: Active "
        "Directory Users and Computers → the user → Attribute Editor → msExchHideFromAddressLists "
        "→ TRUE, then the next sync"
    )
    undo = (
        "Exchange admin center → Recipients → Mailboxes → (the mailbox) → General → Manage "
        "general settings → Hide from address lists: off → Save"
    )
    manual = True
    safe_to_repeat = True  # acting changes nothing
    needs = (M365_ADDRESS_LISTS,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return {
            "show_in_address_list": M365_ADDRESS_LISTS.of(c).shown_in_address_list(params.user_id)
        }

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted(dict(DONE_BY_HAND))

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        shown = M365_ADDRESS_LISTS.of(c).shown_in_address_list(params.user_id)
        observed: dict[str, Any] = {"show_in_address_list": shown}
        if shown is None:
            observed["not_read_back"] = (
                "Graph does not show whether Exchange hides a mailbox from the address lists: "
                "done on the technician's word, not read back"
            )
            return Check(True, observed)
        if shown:
            observed["manual_step"] = (
                f"Graph still shows {params.user_principal_name} in the address lists: the "
                "step was ticked off before it was done in Exchange admin center"
            )
        return Check(not shown, observed)


ACTIONS = (
    AddDistributionListMember,
    RemoveDistributionListMember,
    ConvertToSharedMailbox,
    HideFromAddressList,
)
