"""Password reset and account unlock: the most frequent ticket at every MSP, and the one an
attacker imitates to take over an account — so the requester is checked and every credential
change is a draft a technician approves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from deskhand.specialists.contract import (
    Intent,
    Plan,
    PlanContext,
    ProposedStep,
    Specialist,
    TicketView,
)
from deskhand.specialists.replies import named_in_ticket, note, reply

PASSWORD_RESET = "password_reset"
ACCOUNT_UNLOCK = "account_unlock"


class PasswordResetRequest(BaseModel):
    """Whose password, and whether only an unlock was asked for."""

    user_id: str
    user_principal_name: str
    synced: bool
    unlock: bool


class PasswordReset(Specialist):
    name = "password_reset"
    description = "Resets a forgotten or expired password, or unlocks a locked-out account."
    intents: ClassVar[Mapping[str, Intent]] = {
        PASSWORD_RESET: Intent(
            description="The user forgot their password, or it expired or stopped working, "
            "and needs a new one.",
            examples=(
                "forgot my password",
                "reset my password",
                "password has expired",
                "Passwort vergessen",
                "Passwort zurücksetzen",
                "wachtwoord vergeten",
                "wachtwoord resetten",
                "mot de passe oublié",
                "réinitialiser mon mot de passe",
            ),
            categories=("Password reset",),
            patterns={
                r"\breset (?:my |the |his |her |their )?password\b": 1.0,
                r"\bpassword (?:reset|expired|has expired|change)\b": 1.0,
                r"\bforg[oe]t+(?:en)? (?:my |the |his |her )?password\b": 1.0,
                r"\bnew password\b": 0.5,
                r"\bcan'?t (?:log|sign) ?in\b|\bcannot (?:log|sign) ?in\b": 0.4,
                r"\bpassword\b": 0.3,
            },
        ),
        ACCOUNT_UNLOCK: Intent(
            description="The user's account is locked out, usually after too many sign-in "
            "attempts, and needs unlocking.",
            examples=(
                "locked out of my account",
                "account is locked",
                "unlock my account",
                "Konto gesperrt",
                "Konto entsperren",
                "account geblokkeerd",
                "account ontgrendelen",
                "compte bloqué",
                "débloquer mon compte",
            ),
            categories=("Account lockout",),
            patterns={
                r"\blocked out\b": 1.0,
                r"\baccount (?:is |got |has been )?locked\b": 1.0,
                r"\bunlock\b": 0.8,
                r"\btoo many (?:attempts|tries)\b": 0.5,
            },
        ),
    }
    Parameters = PasswordResetRequest
    needs_identity = True

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        if len(context.targets) != 1:
            return Plan(
                summary="Password reset: whose account is not clear",
                handoff="The ticket does not name exactly one user in the tenant's directory.",
            )
        user = context.targets[0]
        if not user.account_enabled:
            return Plan(
                summary=f"Password reset for a disabled account ({user.user_principal_name})",
                handoff=f"{user.user_principal_name} is disabled; re-enabling an account is a "
                "decision for a technician, not a password reset.",
            )
        request = PasswordResetRequest(
            user_id=user.id,
            user_principal_name=user.user_principal_name,
            synced=user.synced,
            unlock=context.triage.intent == ACCOUNT_UNLOCK,
        )
        who = {"user_id": user.id, "user_principal_name": user.user_principal_name}
        steps: list[ProposedStep] = []
        if request.unlock and request.synced:
            steps.append(
                ProposedStep(
                    action="ad.unlock_account",
                    params=who,
                    reason=f"{user.display_name} is locked out of Active Directory "
                    f"({'locked' if user.locked else 'not locked now'} when checked).",
                )
            )
            done = f"We have unlocked the account {user.user_principal_name}; please try again."
        else:
            where = "ad" if request.synced else "m365"
            steps.append(
                ProposedStep(
                    action=f"{where}.reset_password",
                    params={**who, "force_change": True},
                    reason=f"{ticket.requester_email} asks for a new password for "
                    f"{user.user_principal_name}"
                    + (
                        " (synced from on-premises AD, so it is reset there)."
                        if request.synced
                        else "."
                    )
                    + (
                        " An unlock was asked for; a cloud account unlocks with a new password."
                        if request.unlock
                        else ""
                    ),
                )
            )
            steps.append(
                ProposedStep(
                    action="m365.revoke_sessions",
                    params=who,
                    reason="Sign out existing sessions, so only the new password works.",
                )
            )
            done = (
                f"The password for {user.user_principal_name} has been reset. A technician will "
                "call you on the number we have on file with a temporary password; you will "
                "choose a new one when you sign in."
            )
        steps.append(
            ProposedStep(
                action="psa.add_internal_note",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "body": note(
                        f"{'Unlock' if request.unlock else 'Password reset'} for "
                        f"{user.user_principal_name} planned by {self.name}.",
                        f"Requester check: {context.identity}.",
                        "Temporary password: see the step in deskhand; give it by phone only.",
                        *named_in_ticket(context),
                    ),
                },
                reason="Record on the ticket what deskhand did and why.",
            )
        )
        steps.append(
            ProposedStep(
                action="psa.send_reply",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "to": ticket.requester_email,
                    "body": reply(done),
                },
                reason="Tell the requester it is done and what happens next.",
            )
        )
        verb = "Unlock" if request.unlock and request.synced else "Reset the password of"
        return Plan(summary=f"{verb} {user.user_principal_name}", steps=tuple(steps))
