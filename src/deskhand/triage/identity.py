"""Identity before security actions: may this requester ask for this change to this user?

Allowed: the target user themself, the target's manager in the directory, or a contact the
client authorised in the PSA. Anyone else — a colleague, an outside address, a look-alike
name — makes the run escalate as ``identity_unverified``. (Stronger verification, such as a
call-back checklist, comes later.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from deskhand.domain.directory import DirectoryUser, PsaContact


class Verdict(StrEnum):
    TARGET = "target"
    MANAGER = "manager"
    AUTHORISED_CONTACT = "authorised_contact"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class IdentityCheck:
    verdict: Verdict
    detail: str

    @property
    def verified(self) -> bool:
        return self.verdict is not Verdict.UNVERIFIED


def check_identity(
    requester: str,
    target: DirectoryUser,
    manager: DirectoryUser | None,
    contacts: Sequence[PsaContact],
) -> IdentityCheck:
    """Compare the requester's address with the target, their manager and the contacts."""
    who = requester.strip().lower()
    if who in _addresses(target):
        return IdentityCheck(Verdict.TARGET, f"{requester} is {target.user_principal_name}")
    if manager is not None and who in _addresses(manager):
        return IdentityCheck(
            Verdict.MANAGER,
            f"{requester} is the manager of {target.user_principal_name} in the directory",
        )
    for contact in contacts:
        if contact.authorised and contact.email.strip().lower() == who:
            return IdentityCheck(
                Verdict.AUTHORISED_CONTACT, f"{requester} is an authorised contact of the client"
            )
    return IdentityCheck(
        Verdict.UNVERIFIED,
        f"{requester} is not {target.user_principal_name}, not their manager and not an "
        "authorised contact of the client",
    )


def _addresses(user: DirectoryUser) -> set[str]:
    return {a.lower() for a in (user.user_principal_name, user.mail) if a}
