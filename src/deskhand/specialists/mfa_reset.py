"""MFA reset: a new or lost phone, or an Authenticator app that stopped working — the most
common security ticket after a forgotten password. Every MFA method is removed (the password
stays) and every session signed out, so the user sets MFA up again at their next sign-in.

Until they do, the password alone signs in, and whoever signs in first registers the new
method. So the requester is checked as for a password reset (the target, their manager or an
authorised contact; a VIP or an administrator needs a call-back), both changes are security
drafts a technician approves, and a ticket that reads like an attack — prompts the user did not
start, an account that may be compromised — goes to a technician instead: there, removing MFA
would help the attacker. MFA kept in Duo, not in Microsoft 365, is reset in Duo's own portal.
"""

from __future__ import annotations

import re
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

MFA_RESET = "mfa_reset"

_MFA = r"(?:mfa|2fa|multi-?factor|two-?factor|2-step|two-step|authenticator)"
# Signs of an attack rather than a lost phone: a prompt or sign-in the user did not start.
_COMPROMISE = re.compile(
    r"\b(?:did ?n[o'’]?t|never) (?:make|made|request(?:ed)?|initiate[d]?|trigger(?:ed)?|"
    r"try(?:ing)? to|tried to|sign ?in|log ?in|ask(?:ed)? for)\b|\b(?:not|wasn'?t|was not) me\b|"
    r"\bhack(?:ed)?\b|\bcompromised?\b|\bsuspicious\b|\bunauthori[sz]ed\b|"
    r"\bsomeone (?:else )?(?:is |was )?trying\b",
    re.IGNORECASE,
)
_DUO = re.compile(r"\bduo\b", re.IGNORECASE)


class MfaResetRequest(BaseModel):
    """Whose MFA is set up again, and whether their account comes from on-premises AD."""

    user_id: str
    user_principal_name: str
    synced: bool


class MfaReset(Specialist):
    name = "mfa_reset"
    description = (
        "Resets a user's MFA after a new or lost phone or a broken Authenticator app: every "
        "method removed and every session signed out, set up again at the next sign-in."
    )
    intents: ClassVar[Mapping[str, Intent]] = {
        MFA_RESET: Intent(
            description="The user's multi-factor sign-in (MFA: the Authenticator app, a phone "
            "number, a security key) must be set up again: a new or lost phone, or an "
            "Authenticator app that no longer works.",
            examples=(
                "reset my MFA",
                "new phone authenticator",
                "lost my phone can't sign in MFA",
                "Authenticator app not working",
                "re-register MFA",
                "MFA zurücksetzen",
                "neues Handy Authenticator",
                "MFA opnieuw instellen",
                "nieuwe telefoon authenticator",
                "réinitialiser l'authentification MFA",
                "nouveau téléphone authenticator",
            ),
            categories=("MFA",),
            patterns={
                rf"\b(?:reset|remove|clear|re-?register|re-?set ?up|set ?up again)\b"
                rf"[^.\n]{{0,40}}?\b{_MFA}\b": 1.0,
                rf"\b{_MFA}\b[^.\n]{{0,30}}?\b(?:reset|re-?register|not working|stopped "
                r"working|broken|does ?n[o'’]?t work)\b": 0.8,
                r"\b(?:new|lost|stolen|broken|replaced|changed|different) (?:my |a |her |his )?"
                r"(?:phone|mobile|handset|iphone|android)\b": 0.5,
                rf"\b{_MFA}\b": 0.4,
                r"\bverification codes?\b|\bnot (?:receiving|getting) (?:the |a |any )?"
                r"codes?\b": 0.3,
            },
        ),
    }
    Parameters = MfaResetRequest
    needs_identity = True

    def plan(self, ticket: TicketView, context: PlanContext) -> Plan:
        text = f"{ticket.subject}\n{ticket.body}"
        if len(context.targets) != 1:
            return Plan(
                summary="MFA reset: whose account is not clear",
                handoff="The ticket does not name exactly one user in the tenant's directory.",
            )
        user = context.targets[0]
        upn = user.user_principal_name
        if not user.account_enabled:
            return Plan(
                summary=f"MFA reset for a disabled account ({upn})",
                handoff=f"{upn} is disabled; re-enabling an account is a decision for a "
                "technician, not an MFA reset.",
            )
        attack = _COMPROMISE.search(text)
        if attack:
            return Plan(
                summary=f"Possible account compromise, not an MFA reset ({upn})",
                handoff=f"The ticket says {attack.group(0)!r}: a sign-in or prompt the user may "
                "not have started. Removing the MFA methods would let whoever has the password "
                "set up their own, so a technician handles it as a security incident (reset "
                "the password, sign out every session, check the sign-in logs).",
            )
        if _DUO.search(text):
            return Plan(
                summary=f"MFA reset in Duo for {upn}",
                handoff="The ticket names Duo: Duo's MFA is reset in the Duo Admin Panel "
                "(Users → the user → their phones), which deskhand cannot reach.",
            )
        request = MfaResetRequest(user_id=user.id, user_principal_name=upn, synced=user.synced)
        who = {"user_id": request.user_id, "user_principal_name": request.user_principal_name}
        steps = (
            ProposedStep(
                action="m365.remove_mfa_methods",
                params=who,
                reason=f"{ticket.requester_email} asks for the MFA of {upn} to be set up again: "
                "remove every method (Authenticator app, phone, security key, …) so an old or "
                "lost phone no longer approves a sign-in. The password stays"
                + (
                    "; MFA lives in Microsoft 365 for an account synced from on-premises AD too."
                    if request.synced
                    else "."
                ),
            ),
            ProposedStep(
                action="m365.revoke_sessions",
                params=who,
                reason="Sign out every session once the methods are gone: a lost phone may "
                "still be signed in.",
            ),
            ProposedStep(
                action="psa.add_internal_note",
                params={
                    "psa_ticket_id": ticket.psa_ticket_id,
                    "body": note(
                        f"MFA reset for {upn} planned by {self.name}.",
                        f"Requester check: {context.identity}.",
                        "Until MFA is set up again the password alone signs in: the user "
                        "should do it straight away.",
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
                        f"MFA for {upn} has been reset and every device signed out. The "
                        "password has not changed.",
                        "At the next sign-in (Outlook, Teams or office.com), Microsoft asks for "
                        "more information: install the Microsoft Authenticator app on the "
                        "phone, choose to add a work or school account, and scan the QR code "
                        "shown on screen. Please do it as soon as you can; an old or lost phone "
                        "no longer approves sign-ins.",
                    ),
                },
                reason="Tell the requester it is done and how MFA is set up again.",
            ),
        )
        return Plan(summary=f"Reset the MFA of {upn}", steps=steps)
