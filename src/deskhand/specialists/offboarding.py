"""Offboarding a leaver, now: the security steps first, then the mailbox kept as a shared
mailbox, and what deskhand does not do yet named for a technician — never dropped.

The order is the safe one: sign-in is blocked (in Active Directory for a user synced from it —
a synced attribute is never changed through Graph — else in Microsoft 365) and every session
revoked before anything else; the mailbox is converted to a shared mailbox (a manual step in
Exchange admin center, read back through Graph). Removing the licences must wait until that
conversion is verified (a licence removed first deletes the mailbox after 30 days), and group
memberships, forwarding and file access are the technician's: each is "left for a technician"
on the plan, in the note and in the reply (``Plan.left``).

A ticket that names a later day ("her last day is Friday") is planned now and scheduled: the
plan is approved ahead and runs at the end of that day (17:00, or the time the ticket names) in
the tenant's time zone, not before — acting early would lock a person out on their last days.
Just before it runs, what was approved is checked against the directory again.

The steps say what they wait for: revoking the sessions waits for sign-in to be blocked (a
session revoked while sign-in still works is signed in again); the mailbox conversion waits for
nothing, so a failed block does not keep the mail from being kept; the note and the reply wait
for everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from deskhand.domain.directory import DirectoryUser
from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.replies import named_in_ticket, note, reply

OFFBOARDING = "offboarding"
LEAVE_AT = time(17, 0)  # when a leaver's last day ends, unless the ticket names a time
ALWAYS_LEFT = (
    "remove the licences once the mailbox is verified as shared",
    "remove the group memberships",
)


class OffboardingRequest(BaseModel):
    """Who leaves, and whether their account is mastered in on-premises AD."""

    user_id: str
    user_principal_name: str
    synced: bool


class Offboarding(Specialist):
    name = "offboarding"
    description = (
        "Offboards a leaver, now or at the end of their last day: blocks sign-in, signs out "
        "every session and keeps the mailbox as a shared mailbox; names what a technician "
        "still does."
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

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        if len(context.targets) != 1:
            return Plan(
                summary="Offboarding: who leaves is not clear",
                handoff="The ticket does not name exactly one user in the tenant's directory.",
            )
        user = context.targets[0]
        when = _last_moment(ticket, context)
        if when is not None and len({d.on for d in context.dates}) > 1:
            days = ", ".join(d.describe() for d in context.dates)
            return Plan(
                summary=f"Offboarding of {user.user_principal_name}: which day is not clear",
                handoff=f"The ticket names more than one day ({days}); a technician asks the "
                "requester which is the last day.",
            )
        if user.admin:
            return Plan(
                summary=f"Offboarding of an administrator ({user.user_principal_name})",
                handoff=f"{user.user_principal_name} holds an administrative role: offboarding "
                "an administrator is a technician's, start to finish.",
            )
        steps = [
            *self._access_ended(user),
            ProposedStep(
                action="exchange.convert_to_shared_mailbox",
                after=(),
                params=_who(user),
                reason=f"Keep the mail of {user.user_principal_name} as a shared mailbox. It is "
                "done in Exchange admin center: do it as shown, then approve to tick it off; "
                "deskhand reads the mailbox type back through Graph. Its licences are removed "
                "only after this (a licence removed first deletes the mailbox after 30 days).",
            ),
            ProposedStep(
                action="psa.add_internal_note",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "body": note(
                        f"Offboarding of {user.user_principal_name} planned by {self.name}: "
                        "sign-in blocked, sessions revoked, mailbox kept as a shared mailbox.",
                        f"Requester check: {context.identity}.",
                        *named_in_ticket(context),
                    ),
                },
                reason="Record on the ticket what deskhand did and why.",
            ),
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": reply(
                        f"{user.display_name} can no longer sign in, every device has been "
                        "signed out, and their mailbox is kept as a shared mailbox."
                    ),
                },
                reason="Tell the requester what is done and what a technician still does.",
            ),
        ]
        at = f"at {_shown(when)}" if when is not None else "now"
        return Plan(
            summary=f"Offboard {user.user_principal_name} {at}",
            steps=tuple(steps),
            left=ALWAYS_LEFT,
            not_before=when,
        )

    def _access_ended(self, user: DirectoryUser) -> list[ProposedStep]:
        if user.synced:
            blocked = ProposedStep(
                action="ad.disable_account",
                after=(),
                params=_who(user),
                reason=f"{user.user_principal_name} is synced from on-premises AD: disable the "
                "account there (Microsoft 365 follows at the next sync; a synced account is "
                "never changed through Graph).",
            )
        else:
            blocked = ProposedStep(
                action="m365.block_sign_in",
                after=(),
                params=_who(user),
                reason=f"Block {user.user_principal_name} from signing in first, before "
                "anything else changes.",
            )
        revoked = ProposedStep(
            action="m365.revoke_sessions",
            after=(1,),
            params=_who(user),
            reason="Sign out every session and device, so nothing signed in stays in.",
        )
        return [blocked, revoked]


def _last_moment(ticket: TicketView, context: PlanContext) -> datetime | None:
    """When access ends: the end of the later day the ticket names (17:00, or the time it
    names), in the tenant's time zone; None for today or no day at all: now."""
    if ticket.received_at is None:
        return None
    zone = ZoneInfo(context.tenant.time_zone)
    today = ticket.received_at.astimezone(zone).date()
    later = [d for d in context.dates if d.on > today]
    if not later:
        return None
    day = later[0]
    return datetime.combine(day.on, day.at or LEAVE_AT, tzinfo=zone)


def _shown(moment: datetime) -> str:
    """ "Wed 30 Dec 2026 17:00 (Europe/London)": in the tenant's own time."""
    return f"{moment:%a %d %b %Y %H:%M} ({moment.tzinfo})"


def _who(user: DirectoryUser) -> dict[str, str]:
    return {"user_id": user.id, "user_principal_name": user.user_principal_name}
