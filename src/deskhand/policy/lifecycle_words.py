"""A tenant's lifecycle templates in plain words, for the technician who reads them before
approving an offboarding: what offboarding a leaver does at this client, step by step in the
order the offboarding specialist plans them, what it leaves out, the starter roles and the
vendor checklist. ``deskhand tenants policy`` and the tenant's page show the same words.

Each offboarding step names the action it plans for a leaver who is cloud-only and for one
synced from Active Directory, so a test holds these words to the specialist's plan."""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.domain.lifecycle import Lifecycle, RoleTemplate
from deskhand.policy.tenant_policy import TenantPolicy

TAKES_OVER = (
    "Who takes over mail and files: the colleague the ticket names (“to me”: the requester), "
    "else the leaver's manager in the directory; with neither, a technician does it."
)
ASKED = "only when the ticket asks for it"


@dataclass(frozen=True)
class LeaverStep:
    """One step of a leaver's offboarding at this client."""

    words: str
    cloud: str | None  # the action planned for a cloud-only leaver; None: not for them
    synced: str | None  # the action planned for a leaver synced from AD; None: not for them
    condition: str | None = None  # when the step is planned at all, if not always

    @property
    def synced_only(self) -> bool:
        """Whether only a leaver synced from Active Directory gets this step."""
        return self.cloud is None


@dataclass(frozen=True)
class Offboarding:
    """A leaver's offboarding here: when it runs, its steps in order, what it leaves out."""

    when: str  # "at once, or for a last day later, … at 17:00 (Europe/London) …"
    takes_over: str
    steps: tuple[LeaverStep, ...]
    not_done: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    """A starter role and what it gives: names joined by commas, "none" for no licence or
    group, empty for no AD group or OU (a cloud-only role has neither)."""

    name: str
    licences: str
    groups: str
    ad_groups: str
    ou: str


@dataclass(frozen=True)
class Vendor:
    """One system of the vendor checklist: what to do there for a leaver and for a starter."""

    system: str
    leaver: str | None
    starter: str | None


@dataclass(frozen=True)
class LifecycleWords:
    """Everything ``deskhand tenants policy`` and the tenant's page show of the templates."""

    time_zone: str
    offboarding: Offboarding
    start_at: str  # when a starter's first day begins: "09:00"
    usage_location: str  # where a new user's services are, in words
    roles: tuple[Role, ...]
    vendors: tuple[Vendor, ...]


def lifecycle_words(policy: TenantPolicy) -> LifecycleWords:
    """The tenant's time zone and lifecycle templates in words."""
    lifecycle = policy.lifecycle
    zone = policy.time_zone
    return LifecycleWords(
        time_zone=zone,
        offboarding=offboarding(lifecycle, zone),
        start_at=f"{lifecycle.start_at:%H:%M}",
        usage_location=_usage_location(lifecycle.usage_location),
        roles=tuple(_role(name, role) for name, role in lifecycle.roles.items()),
        vendors=tuple(
            Vendor(item.system, item.offboarding, item.onboarding)
            for item in lifecycle.vendor_checklist
        ),
    )


def offboarding(lifecycle: Lifecycle, zone: str) -> Offboarding:
    """A leaver's offboarding at a tenant with these templates, in the specialist's order."""
    d = lifecycle.offboarding
    steps: list[LeaverStep] = [
        LeaverStep(
            "Block sign-in: in Active Directory for a user synced from it (Microsoft 365 "
            "follows at the next sync), else in Microsoft 365.",
            "m365.block_sign_in",
            "ad.disable_account",
        ),
        LeaverStep(
            "Sign out every session and device.", "m365.revoke_sessions", "m365.revoke_sessions"
        ),
    ]
    not_done: list[str] = []
    if d.reset_password:
        steps.append(
            LeaverStep(
                "Reset the password to one nobody is told (in AD for a synced user).",
                "m365.reset_password",
                "ad.reset_password",
            )
        )
    else:
        not_done.append("The password is not reset (reset_password: false).")
    if d.remove_mfa:
        steps.append(_both("Remove every MFA method.", "m365.remove_mfa_methods"))
    else:
        not_done.append("The MFA methods stay (remove_mfa: false).")
    if d.auto_reply:
        steps.append(
            _both(
                f"Set the automatic reply: “{d.auto_reply}” ({{name}}: the leaver, {{delegate}}: "
                "who takes over).",
                "m365.set_auto_reply",
            )
        )
    else:
        not_done.append("No automatic reply is set (no auto_reply).")
    steps.append(
        _both(
            "Forward new mail to who takes over.",
            "m365.forward_mail",
            None if d.forward_to_manager else ASKED,
        )
    )
    steps.append(
        _both(
            "Share their OneDrive files with who takes over (move what is needed within 30 "
            "days of the licence going).",
            "m365.grant_onedrive_access",
            None if d.files_to_manager else ASKED,
        )
    )
    if d.convert_to_shared:
        steps.append(
            _both(
                "Keep the mailbox as a shared mailbox: a manual step in Exchange admin center, "
                "read back through Graph.",
                "exchange.convert_to_shared_mailbox",
            )
        )
        if d.remove_licences and d.keep_licences_days:
            not_done.append(
                f"The licences stay {_days(d.keep_licences_days)} after the last day; a "
                f"technician removes them then (keep_licences_days: {d.keep_licences_days})."
            )
        elif d.remove_licences:
            steps.append(
                _both(
                    "Remove every licence, only once the shared mailbox is verified (a licence "
                    "removed first deletes the mailbox after 30 days; keep_licences_days: 0).",
                    "m365.remove_all_licences",
                )
            )
        else:
            not_done.append("The licences stay (remove_licences: false).")
    else:
        not_done.append("The mailbox is not kept as a shared mailbox (convert_to_shared: false).")
        if d.remove_licences:
            not_done.append(
                "The licences are left to a technician: removing them without a shared mailbox "
                "would delete the mail after 30 days."
            )
    if d.hide_from_address_list:
        steps.append(
            _both(
                "Hide them from the address list: a manual step, ticked off.",
                "exchange.hide_from_address_list",
            )
        )
    else:
        not_done.append("They stay in the address list (hide_from_address_list: false).")
    if d.remove_groups:
        steps.append(
            _both(
                "Remove every Microsoft 365 group membership (the list is kept for undo).",
                "m365.remove_all_groups",
            )
        )
        steps.append(
            LeaverStep(
                "Remove every Active Directory group (the list is kept for undo).",
                None,
                "ad.remove_all_groups",
            )
        )
    else:
        not_done.append("Group memberships stay (remove_groups: false).")
    if d.disabled_ou:
        steps.append(LeaverStep(f"Move the account to {d.disabled_ou}.", None, "ad.move_to_ou"))
    else:
        not_done.append("A leaver synced from AD stays in their OU (no disabled_ou).")
    steps.extend(
        _both(f"{item.system}, by hand (ticked off): {item.offboarding}", "vendor.checklist_item")
        for item in lifecycle.vendor_checklist
        if item.offboarding
    )
    steps.append(_both("An internal note on the ticket of what was done.", "psa.add_internal_note"))
    steps.append(
        _both(
            "The reply to the requester, once every step is done: it says only what verified.",
            "psa.send_reply",
        )
    )
    when = (
        "at once, or for a last day later, approved ahead and run at "
        f"{d.leave_at:%H:%M} ({zone}) on that day unless the ticket names a time."
    )
    return Offboarding(when, TAKES_OVER, tuple(steps), tuple(not_done))


def _both(words: str, action: str, condition: str | None = None) -> LeaverStep:
    return LeaverStep(words, action, action, condition)


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def _usage_location(country: str | None) -> str:
    """Where a new user's services are: the onboarding specialist gives it to every starter (in
    Active Directory as the account's country, which the directory sync takes to Microsoft 365)."""
    if country is None:
        return (
            "none (no usage_location): a starter gets none, and Microsoft 365 assigns them no "
            "licence until a technician sets one"
        )
    return (
        f"{country}, given to each starter (for one created in Active Directory, as the "
        "account's country, which the sync takes to Microsoft 365); Microsoft 365 assigns no "
        "licence without one"
    )


def _role(name: str, role: RoleTemplate) -> Role:
    return Role(
        name=name,
        licences=", ".join(role.licences) or "none",
        groups=", ".join(role.groups) or "none",
        ad_groups=", ".join(role.ad_groups),
        ou=role.ou or "",
    )
