"""Access changes: group memberships, licences, and a mailbox converted to a shared mailbox. A
licence that needs a new seat costs the client money (billing); a privileged group grants
control of the tenant (security); a conversion changes who can open a mailbox (security, and a
manual step in Exchange admin center). All are drafts a technician approves, whatever the
tenant's policy says."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel

from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.replies import named_in_ticket, note, reply

ACCESS_CHANGE = "access_change"

# Up to the end of the sentence: "add Ana … to the … group" must not span two requests.
_IN_SENTENCE = r"(?:(?!\.\s)[^\n])"
# "convert Tom's mailbox to a shared mailbox", "turn his mailbox into a shared one": an access
# change that Exchange, not Graph, makes (planned as a manual step).
SHARED_MAILBOX = (
    rf"\b(?:convert|turn)\b{_IN_SENTENCE}{{0,80}}?\bmailbox\b{_IN_SENTENCE}{{0,40}}?"
    r"\b(?:to|into)\s+(?:an?\s+)?shared\b"
    rf"|\b(?:convert|turn)\b{_IN_SENTENCE}{{0,80}}?\b(?:to|into)\s+(?:an?\s+)?shared\s+"
    r"mail\s?box\b"
)


def asks_for_shared_mailbox(text: str) -> bool:
    """Whether ``text`` asks for a mailbox to be converted to a shared mailbox."""
    return re.search(SHARED_MAILBOX, text.lower()) is not None


class AccessChangeRequest(BaseModel):
    """Who, add or remove, which groups and licences, and whether their mailbox becomes a
    shared mailbox."""

    user_id: str
    user_principal_name: str
    operation: Literal["add", "remove"]
    group_ids: list[str]
    sku_ids: list[str]
    shared_mailbox: bool = False


class AccessChange(Specialist):
    name = "access_change"
    description = (
        "Adds or removes group memberships and Microsoft 365 licences; converts a mailbox to a "
        "shared mailbox."
    )
    intents: ClassVar[Mapping[str, Intent]] = {
        ACCESS_CHANGE: Intent(
            description="Add or remove a user's group membership, access to a shared folder or "
            "application, or Microsoft 365 licence; or convert a leaver's mailbox to a shared "
            "mailbox.",
            examples=(
                "add me to the group",
                "remove him from the group",
                "give access to the shared folder",
                "assign a license",
                "need a licence",
                "convert mailbox to shared mailbox",
                "zur Gruppe hinzufügen",
                "Zugriff auf den Ordner",
                "Lizenz zuweisen",
                "toevoegen aan de groep",
                "toegang tot de map",
                "licentie toewijzen",
                "ajouter au groupe",
                "accès au dossier",
                "attribuer une licence",
            ),
            categories=("License change", "File share / permissions"),
            patterns={
                rf"\badd\b{_IN_SENTENCE}{{0,80}}\bto\b{_IN_SENTENCE}{{0,60}}\bgroup\b": 1.0,
                rf"\bremove\b{_IN_SENTENCE}{{0,80}}\bfrom\b{_IN_SENTENCE}{{0,60}}\bgroup\b": 1.0,
                rf"\b(?:give|grant)\b{_IN_SENTENCE}{{0,60}}\baccess\b": 0.8,
                r"\baccess to\b": 0.5,
                rf"\b(?:assign|add|give|need)\b{_IN_SENTENCE}{{0,60}}\blicen[cs]e\b": 1.0,
                rf"\bremove\b{_IN_SENTENCE}{{0,60}}\blicen[cs]e\b": 1.0,
                SHARED_MAILBOX: 1.0,
                r"\bmember(?:ship)?\b": 0.3,
                r"\bpermissions?\b": 0.3,
            },
        ),
    }
    Parameters = AccessChangeRequest
    needs_identity = True
    resolves = frozenset({"group", "licence"})

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        if len(context.targets) != 1:
            return Plan(
                summary="Access change: for whom is not clear",
                handoff="The ticket does not name exactly one user in the tenant's directory.",
            )
        user = context.targets[0]
        shared_mailbox = asks_for_shared_mailbox(f"{ticket.subject}\n{ticket.body}")
        if not context.groups and not context.skus and not shared_mailbox:
            return Plan(
                summary=f"Access change for {user.user_principal_name}: nothing to change found",
                handoff="The ticket names no group or licence that exists in the tenant.",
            )
        request = AccessChangeRequest(
            user_id=user.id,
            user_principal_name=user.user_principal_name,
            operation="remove" if context.triage.removal else "add",
            group_ids=[g.id for g in context.groups],
            sku_ids=[s.id for s in context.skus],
            shared_mailbox=shared_mailbox,
        )
        # The conversion comes first: a mailbox whose licence is removed before it is shared
        # is deleted after 30 days.
        steps = [self._shared_mailbox_step(user)] if shared_mailbox else []
        steps.extend(self._group_step(request, user, g) for g in context.groups)
        for sku in context.skus:
            steps.extend(self._licence_steps(request, user, sku))
        if not steps:
            return Plan(
                summary=f"Access change for {user.user_principal_name}: already as asked",
                handoff="Every licence asked for is already in the state asked for.",
            )
        changes = "; ".join(step.reason for step in steps)
        steps.append(
            ProposedStep(
                action="psa.add_internal_note",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "body": note(
                        f"Access change for {user.user_principal_name} planned by {self.name}: "
                        f"{changes}",
                        f"Requester check: {context.identity}.",
                        *named_in_ticket(context),
                    ),
                },
                reason="Record on the ticket what deskhand did and why.",
            )
        )
        groups = [g.display_name for g in context.groups]
        # Only the licences this plan changes: one already as asked gets no step and no words.
        licences = [
            s.display_name
            for s in context.skus
            if (s.id in user.licenses) == (request.operation == "remove")
        ]
        names = groups + licences
        done: list[str] = []
        summary: list[str] = []
        if shared_mailbox:
            done.append(
                f"{user.display_name}'s mailbox is now a shared mailbox: its mail and calendar "
                "are kept. If someone should open it, reply with their name and we will give "
                "them access."
            )
            summary.append(f"Convert the mailbox of {user.user_principal_name} to shared")
        if groups:
            verb = "added to" if request.operation == "add" else "removed from"
            done.append(
                f"{user.display_name} has been {verb}: {', '.join(groups)}. It can take a few "
                "minutes to show in Outlook, Teams and file shares."
            )
        if licences:
            done.append(_licence_words(user.display_name, request.operation, licences))
        if names:
            preposition = "to" if request.operation == "add" else "from"
            summary.append(
                f"{request.operation.capitalize()} {user.user_principal_name} "
                f"{preposition} {', '.join(names)}"
            )
        steps.append(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": reply(" ".join(done)),
                },
                reason="Tell the requester it is done.",
            )
        )
        return Plan(summary="; ".join(summary), steps=tuple(steps))

    def _shared_mailbox_step(self, user: DirectoryUser) -> ProposedStep:
        # Graph cannot convert a mailbox: a technician does, as a manual step. Full Access for
        # someone else is not planned: Graph cannot read mailbox permissions back to verify it.
        return ProposedStep(
            action="exchange.convert_to_shared_mailbox",
            params={"user_id": user.id, "user_principal_name": user.user_principal_name},
            reason=f"Convert the mailbox of {user.user_principal_name} to a shared mailbox. It "
            "is done in Exchange admin center: do it as shown, then approve to tick it off; "
            "deskhand reads the mailbox type back through Graph.",
        )

    def _group_step(
        self, request: AccessChangeRequest, user: DirectoryUser, group: DirectoryGroup
    ) -> ProposedStep:
        # Graph cannot change a distribution list: a technician does, as a manual step.
        action = (
            f"exchange.{request.operation}_distribution_list_member"
            if group.mail_enabled
            else f"m365.{request.operation}_group_member"
        )
        warning = (
            f" {group.display_name} is a privileged group: membership gives administrative "
            "control. Confirm with an authorised contact of the client before approving."
            if group.privileged
            else ""
        )
        preposition = "to" if request.operation == "add" else "from"
        manual = (
            f" {group.display_name} is a distribution list: do it in Exchange admin center as "
            "shown, then approve to tick it off; deskhand reads the members back."
            if group.mail_enabled
            else ""
        )
        return ProposedStep(
            action=action,
            params={
                "user_id": user.id,
                "user_principal_name": user.user_principal_name,
                "group_id": group.id,
                "group_name": group.display_name,
            },
            reason=f"{request.operation.capitalize()} {user.user_principal_name} {preposition} "
            f"{group.display_name}.{warning}{manual}",
        )

    def _licence_steps(
        self, request: AccessChangeRequest, user: DirectoryUser, sku: Sku
    ) -> list[ProposedStep]:
        params = {
            "user_id": user.id,
            "user_principal_name": user.user_principal_name,
            "sku_id": sku.id,
            "sku_name": sku.display_name,
        }
        has_it = sku.id in user.licenses
        if request.operation == "remove":
            if not has_it:
                return []
            return [
                ProposedStep(
                    action="m365.remove_license",
                    params=params,
                    reason=f"Remove {sku.display_name} from {user.user_principal_name}.",
                )
            ]
        if has_it:
            return []
        steps = []
        if sku.available < 1:
            steps.append(
                ProposedStep(
                    action="m365.add_license_seats",
                    params={"sku_id": sku.id, "sku_name": sku.display_name, "seats": 1},
                    reason=f"All {sku.total} seats of {sku.display_name} are in use: one more "
                    "seat must be bought (the client is billed for it).",
                )
            )
        steps.append(
            ProposedStep(
                action="m365.assign_license",
                params=params,
                reason=f"Assign {sku.display_name} to {user.user_principal_name}.",
            )
        )
        return steps


def _licence_words(who: str, operation: str, licences: list[str]) -> str:
    """What a licence change means to the person who asked: what they can use now, and when."""
    plural = len(licences) > 1
    named = " and ".join([", ".join(licences[:-1]), licences[-1]] if plural else licences)
    if operation == "add":
        return (
            f"{who} now has {'licences' if plural else 'a licence'} for {named}. The apps and "
            f"services {'they include' if plural else 'it includes'} can take up to an hour to "
            "be ready; signing out of the Office apps and back in helps."
        )
    return (
        f"{who}'s {'licences' if plural else 'licence'} for {named} "
        f"{'have' if plural else 'has'} been removed: the apps and services "
        f"{'they' if plural else 'it'} included are no longer available to them."
    )
