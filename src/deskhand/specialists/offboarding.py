"""Offboarding a leaver, now or at the end of their last day: every step the tenant's
offboarding defaults ask for (``lifecycle.offboarding`` in its policy file), in a safe order,
each waiting only for what it must — and what deskhand does not do named for a technician.

The order is the safe one. Sign-in is blocked first (in Active Directory for a user synced from
it — a synced attribute is never changed through Graph — else in Microsoft 365) and every
session revoked after it (a session revoked while sign-in still works is signed in again); the
password is reset and the MFA methods removed once sign-in is blocked. The mailbox is kept as a
shared mailbox (a manual step in Exchange admin center, read back through Graph) and the
licences are removed **only after that conversion is verified**: a licence removed first deletes
the mailbox after 30 days. Mail is forwarded and the OneDrive files shared with the colleague
the ticket names, or else the leaver's manager from the directory. Group memberships go (the
list kept for undo); for a synced leaver, the AD groups too and the account moves to the
tenant's disabled OU. The tenant's vendor-portal checklist becomes manual steps with its exact
instructions. The note and the reply wait for every step, so the reply says only what verified.

A ticket that names a later day ("her last day is Friday") is scheduled: the plan is approved
ahead and runs at the end of that day (17:00 unless the ticket or the tenant says otherwise) in
the tenant's time zone, not before — acting early would lock a person out on their last days.
Just before it runs, what was approved is checked against the directory again.

What the ticket leaves open is asked, once, of the requester (``Plan.question``), never
guessed: which of two days is the last one, which of the people it names leaves, and — for a
scheduled leaver — who takes over when the colleague it names is not in the directory. A leaver
who goes *now* is not kept waiting on that answer: the security steps run and the hand-over is
named for a technician.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from deskhand.domain.answers import latest_answer, original
from deskhand.domain.asks import asked, listing
from deskhand.domain.dates import DateMention
from deskhand.domain.directory import DirectoryUser
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

OFFBOARDING = "offboarding"


class OffboardingRequest(BaseModel):
    """Who leaves, and whether their account is mastered in on-premises AD."""

    user_id: str
    user_principal_name: str
    synced: bool


class Offboarding(Specialist):
    name = "offboarding"
    description = (
        "Offboards a leaver, now or at the end of their last day, as the tenant's offboarding "
        "defaults say: sign-in blocked and sessions ended first, mail and files handed over, "
        "the mailbox kept as shared before the licences go, groups removed, the vendor "
        "checklist ticked off; names what a technician still does."
    )
    intents: ClassVar[Mapping[str, Intent]] = {
        OFFBOARDING: Intent(
            description="A user leaves the company (a leaver, a termination, their last day) "
            "and their access must be ended and their mailbox and files kept.",
            examples=(
                "please offboard",
                "offboarding",
                "leaver",
                "last day",
                "terminate access",
                "has left the company",
                "Austritt",
                "Mitarbeiter verlässt",
                "uit dienst",
                "départ de l'employé",
            ),
            categories=("User offboarding",),
            patterns={
                r"\boff-?board(?:ing)?\b": 1.0,
                r"\bleaver\b": 0.5,
                r"\blast (?:working )?day\b": 0.8,
                r"\bterminat(?:e|ed|ion)\b": 0.8,
                # Weaker than an explicit ask ("convert her mailbox to shared"): a ticket that
                # says someone left and asks for one thing is that thing (access_change).
                r"\b(?:has |have )?left (?:the company|us|the firm|the practice)\b": 0.4,
                r"\bleaving (?:the company|us|the firm)\b": 0.3,
            },
        ),
    }
    Parameters = OffboardingRequest
    needs_identity = True
    needs_managers = True  # the manager takes over mail and files unless the ticket names someone
    several_users = True  # "forward his mail to Sarah": the leaver and who takes over

    def subject(self, ticket: TicketView, context: PlanContext) -> DirectoryUser | None:
        leaver, _ = _who_leaves(context.targets, f"{ticket.subject}\n{ticket.body}")
        return leaver

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        text = f"{ticket.subject}\n{ticket.body}"
        leaver, delegates = _who_leaves(context.targets, text)
        if leaver is None:
            return Plan(
                summary="Offboarding: ask who leaves",
                question=_ask_who_leaves(context.targets),
            )
        defaults = context.lifecycle.offboarding
        days = later_days(ticket, context)
        if several(days):
            return Plan(
                summary=f"Offboarding of {leaver.user_principal_name}: ask which day",
                question=which_day(days, f"{leaver.display_name}'s last day"),
            )
        when = _last_moment(days, context, defaults.leave_at)
        if leaver.admin:
            return Plan(
                summary=f"Offboarding of an administrator ({leaver.user_principal_name})",
                handoff=f"{leaver.user_principal_name} holds an administrative role: offboarding "
                "an administrator is a technician's, start to finish.",
            )
        unknown = None if delegates else _unknown_taker(original(text), context)
        if unknown is not None and when is not None:
            # Scheduled: there is time to ask. Now, the security steps do not wait for the
            # answer; the hand-over is left for a technician, by name.
            return Plan(
                summary=f"Offboarding of {leaver.user_principal_name}: ask who takes over",
                question=f"Who should take over {leaver.display_name}'s mail and files? We "
                f"found nobody called {unknown} in your directory; please reply with their "
                "e-mail address.",
            )
        delegate = (
            delegates[0]
            if delegates
            else None
            if unknown
            else _requester_takes_over(context, text) or _manager(leaver, context)
        )
        steps, done, left = _steps(ticket, context, leaver, delegate, text, unknown)
        runs_at = _shown(when) if when is not None else None
        steps.append(
            KeyedStep(
                "note",
                ProposedStep(
                    action="psa.add_internal_note",
                    params={
                        "psa_ticket_id": ticket.psa_ticket_id,
                        "body": note(
                            f"Offboarding of {leaver.user_principal_name} planned by "
                            f"{self.name}"
                            + (f", to run at {runs_at}" if runs_at else "")
                            + ": "
                            + "; ".join(done)
                            + ".",
                            f"Requester check: {context.identity}.",
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
                            f"{leaver.display_name}'s offboarding is done: " + listing(done) + "."
                        ),
                    },
                    reason="Tell the requester what is done and what a technician still does.",
                ),
            )
        )
        at = f"at {runs_at}" if runs_at else "now"
        return Plan(
            summary=f"Offboard {leaver.user_principal_name} {at}",
            steps=in_order(steps),
            left=tuple(left),
            not_before=when,
        )


def _steps(
    ticket: TicketView,
    context: PlanContext,
    leaver: DirectoryUser,
    delegate: DirectoryUser | None,
    text: str,
    unknown: str | None = None,
) -> tuple[list[KeyedStep], list[str], list[str]]:
    """The steps the tenant's defaults (and the ticket) ask for; what they do, in words for
    the note and the reply; and what is left for a technician."""
    d = context.lifecycle.offboarding
    upn = leaver.user_principal_name
    who = _who(leaver)
    steps: list[KeyedStep] = []
    done: list[str] = []
    left: list[str] = []

    def add(key: str, action: str, params: dict[str, object], reason: str, *waits: str) -> None:
        steps.append(
            KeyedStep(key, ProposedStep(action=action, params=params, reason=reason), waits)
        )

    if leaver.synced:
        add(
            "block",
            "ad.disable_account",
            who,
            f"{upn} is synced from on-premises AD: disable the account there (Microsoft 365 "
            "follows at the next sync; a synced account is never changed through Graph).",
        )
    else:
        add("block", "m365.block_sign_in", who, f"Block {upn} from signing in first.")
    done.append(f"{leaver.display_name} can no longer sign in")
    add(
        "revoke",
        "m365.revoke_sessions",
        who,
        "Sign out every session and device once sign-in is blocked, so nothing stays in.",
        "block",
    )
    done.append("every device has been signed out")
    if d.reset_password:
        add(
            "password",
            "ad.reset_password" if leaver.synced else "m365.reset_password",
            {**who, "force_change": True},
            "A new password nobody is told, so a password someone knows no longer works.",
            "block",
        )
        done.append("their password is changed")
    if d.remove_mfa:
        add(
            "mfa",
            "m365.remove_mfa_methods",
            who,
            "Remove every MFA method, so a phone the leaver keeps cannot approve a sign-in.",
            "block",
        )
        done.append("their MFA methods are removed")
    forward = d.forward_to_manager or _asked(text, "forward_mail")
    files = d.files_to_manager or _asked(text, "files_access")
    if delegate is not None:
        taking = {"delegate_id": delegate.id, "delegate_principal_name": ""}
        if d.auto_reply:
            message = d.auto_reply.format(name=leaver.display_name, delegate=delegate.display_name)
            add(
                "reply_rule",
                "m365.set_auto_reply",
                {**who, "message": message},
                "The tenant's automatic reply for leavers.",
            )
            done.append("an automatic reply is set")
        if forward:
            add(
                "forward",
                "m365.forward_mail",
                {**who, **taking},
                f"Forward new mail to {delegate.display_name}.",
            )
            done.append(f"new mail is forwarded to {delegate.display_name}")
        if files:
            add(
                "files",
                "m365.grant_onedrive_access",
                {**who, **taking},
                f"Give {delegate.display_name} the OneDrive files (move what is needed within "
                "30 days of the licence being removed).",
            )
            done.append(f"{delegate.display_name} can open their OneDrive files")
    elif unknown is not None:
        left.append(
            f"hand the mail and the files over to {unknown} (deskhand found nobody by that name "
            "in the directory and did not guess)"
        )
    elif forward or files or d.auto_reply:
        left.append(
            "forward the mail and share the files: the ticket names nobody to take them over "
            f"and {leaver.display_name} has no manager in the directory"
        )
    if d.convert_to_shared:
        add(
            "shared",
            "exchange.convert_to_shared_mailbox",
            who,
            f"Keep the mail of {upn} as a shared mailbox. It is done in Exchange admin center: "
            "do it as shown, then approve to tick it off; deskhand reads the mailbox type back "
            "through Graph. The licences are removed only after this.",
        )
        done.append("their mailbox is kept as a shared mailbox")
        if d.remove_licences and d.keep_licences_days:
            left.append(
                f"remove the licences {d.keep_licences_days} days after the last day, as the "
                "tenant keeps them that long"
            )
        elif d.remove_licences:
            add(
                "licences",
                "m365.remove_all_licences",
                who,
                "Free the licences, only once the mailbox is verified as shared (a licence "
                "removed first deletes the mailbox after 30 days).",
                "shared",
                "forward",
                "files",
                "reply_rule",
            )
            done.append("their licences are removed")
    elif d.remove_licences:
        left.append(
            "decide about the licences: the mailbox is not kept as a shared mailbox, and "
            "removing them would delete it after 30 days"
        )
    if d.hide_from_address_list:
        add(
            "hide",
            "exchange.hide_from_address_list",
            who,
            "Hide the leaver from the address list, so colleagues stop picking them.",
            "shared",
        )
        done.append("they are hidden from the address list")
    if d.remove_groups:
        add(
            "groups",
            "m365.remove_all_groups",
            who,
            "Remove every group membership (the list is kept, so it can be undone).",
            "block",
            "files",
        )
        done.append(
            "they are removed from the Microsoft 365 groups deskhand can change (a technician "
            "checks any distribution list or dynamic group they are in)"
        )
    if leaver.synced:
        if d.remove_groups:
            add(
                "ad_groups",
                "ad.remove_all_groups",
                who,
                "Remove the Active Directory groups too (the list is kept for undo).",
                "block",
            )
            done.append("they are removed from their Active Directory groups")
        if d.disabled_ou:
            add(
                "ou",
                "ad.move_to_ou",
                {**who, "ou": d.disabled_ou},
                "Move the account to the tenant's OU for disabled users.",
                "block",
            )
            done.append("the account is moved to the disabled users")
    for number, item in enumerate(context.lifecycle.vendor_checklist, start=1):
        if item.offboarding:
            add(
                f"vendor{number}",
                "vendor.checklist_item",
                {"system": item.system, "person": upn, "instructions": item.offboarding},
                f"The tenant's checklist: {item.system}, which deskhand cannot reach. Do it as "
                "shown, then approve to tick it off.",
            )
            done.append(f"their {item.system} access is ended")
    return steps, done, left


def _who_leaves(
    targets: tuple[DirectoryUser, ...], text: str
) -> tuple[DirectoryUser | None, list[DirectoryUser]]:
    """The leaver and the colleagues who take over, among the users the ticket names: a user
    named after "to", "give" or "with" ("forward his mail to Sarah") takes over; exactly one
    other is the leaver. After the requester answered a question, the answer settles it: the
    one it names of several possible leavers leaves; the one it names when the ticket named a
    colleague deskhand did not find ("to Karen") takes over. None when that is not clear."""
    answer = latest_answer(text)
    taking = [t for t in targets if _takes_over(t, text)]
    if answer is not None and not taking:
        first = original(text)
        newly = [t for t in targets if _named(t, answer) and not _named(t, first)]
        if len(newly) == 1 and len(targets) > 1:
            taking = newly
    leaving = [t for t in targets if t not in taking]
    if len(leaving) > 1 and answer is not None:
        chosen = [t for t in leaving if _named(t, answer)]
        if len(chosen) == 1:
            leaving = chosen
    if len(leaving) != 1 or len(taking) > 1:
        return None, []
    return leaving[0], taking


def _named(user: DirectoryUser, text: str) -> bool:
    """The text names the user: their display name, sign-in name or address."""
    said = text.casefold()
    names = (user.display_name, user.user_principal_name, user.mail or "")
    return any(name and name.casefold() in said for name in names)


def _ask_who_leaves(targets: tuple[DirectoryUser, ...]) -> str:
    if not targets:
        return "Who is leaving? Please reply with their e-mail address."
    listed = "\n".join(f"- {u.display_name} ({u.mail or u.user_principal_name})" for u in targets)
    return f"Which of these people is leaving?\n\n{listed}"


def _takes_over(user: DirectoryUser, text: str) -> bool:
    names = {user.display_name, user.display_name.split()[0] if user.display_name else ""}
    names |= {user.user_principal_name, user.mail or ""}
    for name in sorted(filter(None, names), key=len, reverse=True):
        pattern = rf"\b(?:to|give|with|for|over to|cc)\s+(?:\w+\s+){{0,2}}?{re.escape(name)}\b"
        if re.search(pattern, text, re.IGNORECASE):
            return True
    return False


# "forward his mail to Karen", "give Sarah his files": who the ticket says takes over.
_TAKER = re.compile(
    r"\b(?:forward|redirect|send)\w*\b[^.\n]{0,40}?\bto\s+(?P<to>[A-Z][\w'’-]+)"
    r"|\bgive\s+(?P<give>[A-Z][\w'’-]+)\b"
)


def _unknown_taker(text: str, context: PlanContext) -> str | None:
    """A colleague the ticket names to take over the mail or the files whom the directory
    lookup did not find (a first name alone: "to Karen"): named, never guessed."""
    known = {
        word.casefold()
        for user in (*context.targets, *([context.requester] if context.requester else []))
        for word in (user.display_name or "").replace(".", " ").split()
    }
    for match in _TAKER.finditer(text):
        name = match.group("to") or match.group("give")
        if name and name.casefold() not in known and name.casefold() not in _NOT_TAKERS:
            return name
    return None


_NOT_TAKERS = frozenset({"me", "us", "the", "our", "his", "her", "their", "it", "them"})


def _requester_takes_over(context: PlanContext, text: str) -> DirectoryUser | None:
    """The requester, when they ask for the mail or files themselves ("forward it to me")."""
    if context.requester is None:
        return None
    if re.search(r"\b(?:to|give|with|for)\s+me\b", text, re.IGNORECASE) is None:
        return None
    return context.requester


def _manager(user: DirectoryUser, context: PlanContext) -> DirectoryUser | None:
    return next((m for m in context.managers if m.id == user.manager_id), None)


def _asked(text: str, kind: str) -> bool:
    return any(ask.kind == kind for ask in asked(text))


def _names(users: tuple[DirectoryUser, ...]) -> str:
    return ", ".join(u.display_name or u.user_principal_name for u in users)


def _last_moment(days: list[DateMention], context: PlanContext, leave_at: time) -> datetime | None:
    """When access ends: the end of the later day the ticket names (the time it names, or the
    tenant's leave_at), in the tenant's time zone; None for today or no day at all: now."""
    if not days:
        return None
    day = days[0]
    return datetime.combine(day.on, day.at or leave_at, tzinfo=ZoneInfo(context.tenant.time_zone))


def _shown(moment: datetime) -> str:
    """ "Wed 30 Dec 2026 17:00 (Europe/London)": in the tenant's own time."""
    return f"{moment:%a %d %b %Y %H:%M} ({moment.tzinfo})"


def _who(user: DirectoryUser) -> dict[str, object]:
    return {"user_id": user.id, "user_principal_name": user.user_principal_name}
