"""Onboarding a starter: the account, its profile, licences and groups, the tenant's vendor
checklist, and the welcome — as one plan, scheduled for the start date when the ticket names one.

From "New starter: Jane Doe, Front Desk, starts Monday, same access as Jake Morrison":

- **Who**: the starter's name is read from the ticket (they are not in the directory yet); the
  sign-in name is first.last at the tenant's first domain (or the colleague's).
- **Where**: created in Active Directory when the tenant is hybrid and the role names an OU or
  the colleague copied is synced from AD — then the plan waits (bounded, ``m365.await_user``)
  for the directory sync to bring the user to Microsoft 365 before anything is done there, and
  escalates if it never comes; otherwise created in Microsoft 365.
- **What they get**: the licences and groups of the tenant's role template for the department
  the ticket names, or copied from the named colleague — every group a step of its own, so the
  approver trims the list: a group or licence left out of the plan (``PlanContext.left_out``)
  is not planned again, and the note names it; a licence with no free seat is a seat to buy first (a
  billing draft). Groups deskhand does not change in Microsoft 365 (distribution lists, groups
  synced from AD, dynamic groups) are named for a technician.
- **The welcome**: the temporary password is the create step's secret — a technician reveals it
  once and hands it over; it is never in a message. The reply says the account is ready.

A plan for a later start date runs two hours before the tenant's start_at on that day (time for
the directory sync), in the tenant's time zone.

What the ticket leaves open is asked, once, of the requester (``Plan.question``): the starter's
name, whose access or which role they get, which of two days they start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from deskhand.domain.answers import latest_answer
from deskhand.domain.asks import listing
from deskhand.domain.dates import DateMention
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.lifecycle import RoleTemplate
from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.days import later_days, several, which_day
from deskhand.specialists.keyed_steps import KeyedStep, in_order
from deskhand.specialists.replies import named_in_ticket, note, reply

ONBOARDING = "onboarding"
READY_BEFORE = timedelta(hours=2)  # a scheduled starter's plan runs this long before start_at
_NAME = r"[A-Z][\w'’-]+(?:[ \t]+(?:(?:van|de|von|da|del|der|le|la)[ \t]+)?[A-Z][\w'’-]+)+"
# Capitalised words that are not a person's name ("New starter Monday", "Hi Team").
_NOT_NAMES = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "tomorrow",
        "next",
        "we",
        "hi",
        "hello",
        "dear",
        "please",
        "the",
        "our",
        "team",
        "new",
        "starter",
        "hire",
        "sales",
        "it",
        "hr",
        "thanks",
        "regards",
    ]
)
_STARTER = (
    re.compile(
        rf"\b(?i:new\s+(?:starter|hire|joiner|user|employee|colleague|team\s+member))\b"
        rf"[\s:,-]*(?:is\s+|called\s+|named\s+|for\s+)?(?P<name>{_NAME})"
    ),
    re.compile(
        rf"\b(?i:(?:account|accounts|login|logins|user)\s+for\s+(?:our\s+new\s+\w+\s+)?)"
        rf"(?P<name>{_NAME})"
    ),
    re.compile(
        rf"(?P<name>{_NAME})\s+(?i:(?:is\s+)?(?:starts|starting|joins|joining|will\s+start))\b"
    ),
    # an HR form mailed in: "Name: Jane Doe", "Full name: Jane Doe", "Employee name: …"
    re.compile(
        r"(?im:^[ \t]*(?:full[ \t]+|employee[ \t]+|starter[ \t]+)?name[ \t]*[:=][ \t]*)"
        rf"(?P<name>{_NAME})"
    ),
)
_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SAME_AS = re.compile(
    r"\b(?:same|identical|matching)\s+(?:access|permissions|groups|setup|set-?up|rights)?\s*"
    r"(?:as|like)\s+",
    re.IGNORECASE,
)


class OnboardingRequest(BaseModel):
    """Who starts, and from whom their access is copied."""

    display_name: str
    user_principal_name: str


class Onboarding(Specialist):
    name = "onboarding"
    description = (
        "Onboards a starter: creates the account (in AD and waits for the sync on a hybrid "
        "tenant), sets the profile, licences and groups from the tenant's role template or a "
        "named colleague, and the vendor checklist; scheduled for the start date."
    )
    intents: ClassVar[Mapping[str, Intent]] = {
        ONBOARDING: Intent(
            description="A new person joins (a starter, a new hire) and needs an account, "
            "licences and access.",
            examples=(
                "new starter",
                "new hire",
                "new user account",
                "new employee",
                "onboarding",
                "starts on Monday",
                "Neuer Mitarbeiter",
                "nieuwe medewerker",
                "nouvel employé",
            ),
            categories=("New user onboarding",),
            patterns={
                r"\bon-?board(?:ing)?\b": 1.0,
                r"\bnew\s+(?:starter|hire|joiner|employee)\b": 1.0,
                r"\b(?:create|set\s*up|make)\s+(?:a\s+)?(?:new\s+)?(?:user\s+)?account"
                r"\s+for\b": 0.8,
                r"\b(?:starts|joins|starting|joining)\s+(?:on\s+)?(?:monday|tuesday|wednesday|"
                r"thursday|friday|next\s+week|\d)": 0.5,
            },
        ),
    }
    Parameters = OnboardingRequest
    new_people = True  # the starter is not in the directory yet
    several_users = True  # the colleague to copy, the manager
    needs_managers = True  # the colleague's manager is the starter's too
    needs_memberships = True  # "same access as Bob": Bob's groups

    def subject(self, ticket: TicketView, context: PlanContext) -> DirectoryUser | None:
        return _colleague(context, f"{ticket.subject}\n{ticket.body}")

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        text = f"{ticket.subject}\n{ticket.body}"
        name = _starter_name(text, context)
        if name is None:
            return Plan(
                summary="Onboarding: ask the starter's name",
                question="What is the new starter's first and last name, as it should appear "
                "in the address book?",
            )
        colleague = _colleague(context, text)
        role_name, role = _role(text, context)
        if colleague is None and role is None:
            roles = list(context.lifecycle.roles)
            return Plan(
                summary=f"Onboarding of {name}: ask what access they need",
                question=f"Whose access should {name} get? Please reply with the name of the "
                "colleague whose access they should copy"
                + (f", or with one of these roles: {', '.join(roles)}." if roles else "."),
            )
        days = later_days(ticket, context)
        if several(days):
            return Plan(
                summary=f"Onboarding of {name}: ask which day",
                question=which_day(days, f"{name}'s first day"),
            )
        domain = _domain(context, colleague)
        if domain is None:
            return Plan(
                summary=f"Onboarding of {name}: no domain for the sign-in name",
                handoff="The tenant has no e-mail domain in deskhand and no colleague to copy.",
            )
        given, surname = name.split(" ", 1)
        alias = _alias(given, surname)
        upn = f"{alias}@{domain}"
        hybrid = context.directory == "hybrid" and (
            (role is not None and role.ou is not None)
            or (colleague is not None and colleague.synced)
        )
        when = _start(days, context)
        steps, done, left = _steps(
            context, name, given, surname, alias, upn, role_name, role, colleague, hybrid
        )
        runs_at = f"{when:%a %d %b %Y %H:%M} ({when.tzinfo})" if when is not None else None
        steps.append(
            KeyedStep(
                "note",
                ProposedStep(
                    action="psa.add_internal_note",
                    params={
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "body": note(
                            f"Onboarding of {name} ({upn}) planned by {self.name}"
                            + (f", to run at {runs_at}" if runs_at else "")
                            + ": "
                            + "; ".join(done)
                            + ".",
                            "The temporary password is the account step's secret: reveal it "
                            "once in deskhand and hand it over by phone or in person.",
                            *_left_out_words(context),
                            *named_in_ticket(context, runs_at),
                        ),
                    },
                    reason="Record on the ticket what deskhand did and why.",
                ),
            )
        )
        steps.append(
            KeyedStep(
                "reply",
                ProposedStep(
                    action="psa.send_reply",
                    params={
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "to": ticket.requester_email,
                        "body": reply(
                            f"{name}'s account is ready: they sign in as {upn}. "
                            + _capital(listing(done[1:]))
                            + ("." if done[1:] else ""),
                            "Your technician will give you or their manager the temporary "
                            "password by phone or in person; it is never sent by e-mail.",
                        ),
                    },
                    reason="Tell the requester the account is ready.",
                ),
            )
        )
        at = f"at {runs_at}" if runs_at else "now"
        return Plan(
            summary=f"Onboard {name} as {upn} {at}",
            steps=in_order(steps),
            left=tuple(left),
            not_before=when,
        )


def _steps(
    context: PlanContext,
    name: str,
    given: str,
    surname: str,
    alias: str,
    upn: str,
    role_name: str | None,
    role: RoleTemplate | None,
    colleague: DirectoryUser | None,
    hybrid: bool,
) -> tuple[list[KeyedStep], list[str], list[str]]:
    steps: list[KeyedStep] = []
    done: list[str] = []
    left: list[str] = []

    def add(key: str, action: str, params: dict[str, object], reason: str, *waits: str) -> None:
        steps.append(
            KeyedStep(key, ProposedStep(action=action, params=params, reason=reason), waits)
        )

    manager = _manager(colleague, context)
    department = role_name
    if hybrid:
        ou = role.ou if role is not None and role.ou else None
        if ou is None:
            left.append(
                f"create {name}'s account in Active Directory: the role has no OU in the "
                "tenant's template and deskhand does not guess one"
            )
            return steps, [f"{name}'s account is not created yet"], left
        add(
            "account",
            "ad.create_user",
            {
                "display_name": name,
                "given_name": given,
                "surname": surname,
                "sam_account_name": alias[:20],
                "user_principal_name": upn,
                "ou": ou,
                "department": department,
                "job_title": role.job_title if role is not None else None,
                "usage_location": context.lifecycle.usage_location,
                "manager": manager.user_principal_name if manager is not None else None,
            },
            f"Create {name} in Active Directory ({ou}); Microsoft 365 follows at the next sync.",
        )
        add(
            "synced",
            "m365.await_user",
            {"user_principal_name": upn},
            "Wait for the directory sync to bring the account to Microsoft 365 (bounded: the "
            "run escalates if it does not come).",
            "account",
        )
        ready = "synced"
    else:
        add(
            "account",
            "m365.create_user",
            {
                "display_name": name,
                "user_principal_name": upn,
                "mail_nickname": alias,
                "department": department,
                "job_title": role.job_title if role is not None else None,
                "usage_location": context.lifecycle.usage_location,
            },
            f"Create {name} in Microsoft 365 with a temporary password they change at first "
            "sign-in.",
        )
        ready = "account"
        if manager is not None:
            add(
                "manager",
                "m365.set_profile",
                {"user_id": upn, "user_principal_name": upn, "manager_id": manager.id},
                f"{manager.display_name} is their manager, as {colleague_name(colleague)}'s.",
                "account",
            )
    done.append(f"{name}'s account is created")
    for sku in _licences(context, role, colleague):
        if _left_out(context, sku.id, sku.display_name, sku.part_number):
            continue
        if sku.available < 1:
            add(
                f"seat:{sku.id}",
                "m365.add_license_seats",
                {"sku_id": sku.id, "sku_name": sku.display_name, "seats": 1},
                f"Every {sku.display_name} seat is taken: buy one for {name} (billing).",
            )
        add(
            f"licence:{sku.id}",
            "m365.assign_license",
            {"user_id": upn, "user_principal_name": upn, "sku_id": sku.id, "sku_name": ""},
            f"The {sku.display_name} licence, " + _why(role_name, colleague, "has"),
            ready,
            f"seat:{sku.id}",
        )
        done.append(f"they have {sku.display_name}")
    groups, kept = _groups(context, role, colleague)
    named = [
        g
        for g in ([] if colleague is not None or role is None else role.groups)
        if not _left_out(context, g)
    ]
    for group_name in named:  # the role's groups, by name: binding finds each in the tenant
        add(
            f"group:{group_name}",
            "m365.add_group_member",
            {
                "user_id": upn,
                "user_principal_name": upn,
                "group_id": group_name,
                "group_name": "",
            },
            f"Member of {group_name}, " + _why(role_name, None, "is"),
            ready,
        )
    if hybrid and role is not None:
        for group_name in role.ad_groups:
            if _left_out(context, group_name):
                continue
            add(
                f"ad_group:{group_name}",
                "ad.add_group_member",
                {
                    "user_id": upn,
                    "user_principal_name": upn,
                    "group_id": group_name,
                    "group_name": "",
                },
                f"Member of the Active Directory group {group_name}, "
                + _why(role_name, None, "is"),
                "account",
            )
    if named:
        done.append(f"they are in {listing(list(named))}")
    for group in groups:
        add(
            f"group:{group.id}",
            "m365.add_group_member",
            {
                "user_id": upn,
                "user_principal_name": upn,
                "group_id": group.id,
                "group_name": "",
            },
            f"Member of {group.display_name}, " + _why(role_name, colleague, "is"),
            ready,
        )
    if groups:
        done.append(f"they are in {listing([g.display_name for g in groups])}")
    for group in kept:  # changed in Exchange admin center or in AD, once the account exists
        kind = "mailing list" if group.mail_enabled else "group (in Active Directory)"
        left.append(f"add them to the {group.display_name} {kind}")
    for number, item in enumerate(context.lifecycle.vendor_checklist, start=1):
        if item.onboarding:
            add(
                f"vendor{number}",
                "vendor.checklist_item",
                {"system": item.system, "person": upn, "instructions": item.onboarding},
                f"The tenant's checklist: {item.system}, which deskhand cannot reach. Do it as "
                "shown, then approve to tick it off.",
            )
            done.append(f"their {item.system} access is set up")
    return steps, done, left


def _why(role_name: str | None, colleague: DirectoryUser | None, verb: str) -> str:
    if colleague is not None:
        return f"as {colleague.display_name} {verb}."
    return f"from the {role_name} role's template."


def colleague_name(user: DirectoryUser | None) -> str:
    return user.display_name if user is not None else "the role"


def _starter_name(text: str, context: PlanContext) -> str | None:
    known = {fold(u.display_name) for u in context.targets}
    if context.requester is not None:
        known.add(fold(context.requester.display_name))
    for pattern in _STARTER:
        for match in pattern.finditer(text):
            name = " ".join(match.group("name").split())
            words = name.split(" ")
            if fold(name) in known or len(words) > 4:
                continue
            if any(word.lower() in _NOT_NAMES for word in words):
                continue
            return name
    answer = latest_answer(text)  # asked for the name: the answer is the name ("Jane Doe.")
    if answer is not None:
        line = answer.strip().splitlines()[0].strip(" .!")
        if re.fullmatch(_NAME, line) and len(line.split()) <= 4:
            return " ".join(line.split())
    return None


def _colleague(context: PlanContext, text: str) -> DirectoryUser | None:
    """The user named after "same access as", else the only user the ticket names."""
    for match in _SAME_AS.finditer(text):
        after = fold(text[match.end() : match.end() + 80])
        for user in context.targets:
            first = fold(user.display_name).split(" ")[0]
            if after.startswith(fold(user.display_name)) or after.startswith(first):
                return user
            if after.startswith("me") and context.requester is not None:
                return context.requester
    return context.targets[0] if len(context.targets) == 1 else None


def _role(text: str, context: PlanContext) -> tuple[str | None, RoleTemplate | None]:
    for name, role in context.lifecycle.roles.items():
        if re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE):
            return name, role
    return None, None


def _manager(colleague: DirectoryUser | None, context: PlanContext) -> DirectoryUser | None:
    if colleague is None or not colleague.manager_id:
        return None
    return next((m for m in context.managers if m.id == colleague.manager_id), None)


def _licences(
    context: PlanContext, role: RoleTemplate | None, colleague: DirectoryUser | None
) -> list[Sku]:
    """The role's licences (by product name or part number), else the colleague's."""
    by_name = {s.display_name.casefold(): s for s in context.subscriptions}
    by_name |= {s.part_number.casefold(): s for s in context.subscriptions}
    if role is not None and role.licences:
        return [by_name[n.casefold()] for n in role.licences if n.casefold() in by_name]
    if colleague is not None:
        by_id = {s.id: s for s in context.subscriptions}
        return [by_id[i] for i in colleague.licenses if i in by_id]
    return []


def _groups(
    context: PlanContext, role: RoleTemplate | None, colleague: DirectoryUser | None
) -> tuple[list[DirectoryGroup], list[DirectoryGroup]]:
    """The Microsoft 365 groups to add (the colleague's, else the role's) and those deskhand
    does not change there (for a technician)."""
    if colleague is not None:
        found = list(context.memberships.get(colleague.id, ()))
    else:
        return [], []
    found = [g for g in found if not g.privileged]  # never copied: an administrator's rights
    found = [g for g in found if not _left_out(context, g.id, g.display_name)]
    changeable = [g for g in found if not (g.mail_enabled or g.synced or g.dynamic)]
    kept = [g for g in found if g.mail_enabled or g.synced]
    return changeable, kept


def _left_out_words(context: PlanContext) -> list[str]:
    names = [n for n in context.left_out if not _GUID.fullmatch(n)]  # ids are for matching
    return [f"Left out by the approver: {', '.join(names)}."] if names else []


def _left_out(context: PlanContext, *names: str) -> bool:
    """An approver left this group or licence (by id or name) out of an earlier plan."""
    dropped = {n.casefold() for n in context.left_out}
    return any(name and name.casefold() in dropped for name in names)


def _domain(context: PlanContext, colleague: DirectoryUser | None) -> str | None:
    if context.tenant.domains:
        return context.tenant.domains[0]
    if colleague is not None and "@" in colleague.user_principal_name:
        return colleague.user_principal_name.split("@", 1)[1]
    return None


def _alias(given: str, surname: str) -> str:
    plain = unicodedata.normalize("NFKD", f"{given}.{surname}".lower())
    ascii_only = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9.]+", "", ascii_only.replace(" ", "."))


def _start(days: list[DateMention], context: PlanContext) -> datetime | None:
    if not days:
        return None
    day = days[0]
    zone = ZoneInfo(context.tenant.time_zone)
    return (
        datetime.combine(day.on, day.at or context.lifecycle.start_at, tzinfo=zone) - READY_BEFORE
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.strip().lower())
    plain = re.sub(r"^(?:dr|mr|mrs|ms)\.?\s+", "", plain)
    return "".join(c for c in plain if not unicodedata.combining(c))
