"""Access changes: group memberships and licences. A licence that needs a new seat costs the
client money (billing); a privileged group grants control of the tenant (security). Both are
drafts a technician approves, whatever the tenant's policy says."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.specialists.contract import Plan, PlanContext, ProposedStep, Specialist, TicketView
from deskhand.specialists.replies import named_in_ticket, note, reply
from deskhand.triage.keywords import ACCESS_CHANGE


class AccessChangeRequest(BaseModel):
    """Who, add or remove, and which groups and licences."""

    user_id: str
    user_principal_name: str
    operation: Literal["add", "remove"]
    group_ids: list[str]
    sku_ids: list[str]


class AccessChange(Specialist):
    name = "access_change"
    description = "Adds or removes group memberships and Microsoft 365 licences."
    intents = frozenset({ACCESS_CHANGE})
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
        if not context.groups and not context.skus:
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
        )
        steps = [self._group_step(request, user, g) for g in context.groups]
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
        verb = "added to" if request.operation == "add" else "removed from"
        names = [g.display_name for g in context.groups] + [s.display_name for s in context.skus]
        steps.append(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": reply(
                        ticket,
                        context,
                        f"{user.display_name} has been {verb}: {', '.join(names)}. It can take "
                        "a few minutes to show in Outlook, Teams and file shares.",
                    ),
                },
                reason="Tell the requester it is done.",
            )
        )
        preposition = "to" if request.operation == "add" else "from"
        return Plan(
            summary=f"{request.operation.capitalize()} {user.user_principal_name} "
            f"{preposition} {', '.join(names)}",
            steps=tuple(steps),
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
