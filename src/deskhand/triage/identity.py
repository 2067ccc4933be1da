"""Identity before security actions: may this requester ask for this change to this user?

Allowed: the target user themself, the target's manager in the directory, or a contact the
client authorised in the PSA. Anyone else — a colleague, an outside address, a look-alike
address — makes the run escalate as ``identity_unverified``.

Allowed is not always enough. A VIP or admin target, a privileged group, an address outside the
client's domains, a display name that is not the one on record, or urgency-and-secrecy language
in the ticket make the verdict ``needs_verification``: the drafts are still made, and say why
a technician must call the requester back before approving; a security draft is refused
until the approver says how they did (``engine.approvals``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from deskhand.domain.directory import DirectoryUser, PsaContact
from deskhand.triage.warning_signs import (
    address_trick,
    canonical_address,
    domain_of,
    warning_signs,
)

_TITLES = {"dr", "mr", "mrs", "ms", "mx", "prof"}


class Verdict(StrEnum):
    TARGET = "target"
    MANAGER = "manager"
    AUTHORISED_CONTACT = "authorised_contact"
    NEEDS_VERIFICATION = "needs_verification"  # one of the above, with warning signs
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class IdentityCheck:
    verdict: Verdict
    detail: str
    warnings: tuple[str, ...] = ()  # why a verified requester still needs a call-back

    @property
    def verified(self) -> bool:
        """The requester may ask (drafts are made); ``needs_verification`` says check first."""
        return self.verdict is not Verdict.UNVERIFIED


def check_identity(
    requester: str,
    target: DirectoryUser,
    manager: DirectoryUser | None,
    contacts: Sequence[PsaContact],
    *,
    requester_name: str = "",
    on_directory: DirectoryUser | None = None,
    domains: Sequence[str] = (),
    text: str = "",
    grants_privilege: bool = False,
) -> IdentityCheck:
    """Compare the requester's address with the target, their manager and the contacts; then
    look for what raises the requirement: the target, the change, the sender and the text.
    ``on_directory`` is the directory user the requester's address belongs to, if any: the
    display name the ticket came with must be theirs."""
    who = canonical_address(requester)
    relation, detail, on_record = _relation(who, target, manager, contacts)
    if relation is Verdict.UNVERIFIED:
        return IdentityCheck(
            Verdict.UNVERIFIED,
            detail + _why_not(who, requester_name, domains, target, manager, contacts),
        )
    warnings = []
    if target.vip:
        warnings.append(f"{target.user_principal_name} is a VIP")
    if target.admin:
        warnings.append(f"{target.user_principal_name} holds an administrative role")
    if grants_privilege:
        warnings.append("the change grants a privileged group (administrative rights)")
    if domains and domain_of(who) not in {canonical_address(d) for d in domains}:
        warnings.append(f"the mail came from outside the client's domains ({', '.join(domains)})")
    if requester_name and not _same_person(requester_name, on_record):
        warnings.append(
            f"the display name {requester_name!r} is not the one on record ({on_record!r})"
        )
    elif (
        requester_name
        and on_directory is not None
        and not _same_person(requester_name, on_directory.display_name)
    ):
        warnings.append(
            f"the display name {requester_name!r} is not the directory's name for {who} "
            f"({on_directory.display_name!r})"
        )
    warnings.extend(warning_signs(text))
    if not warnings:
        return IdentityCheck(relation, detail)
    return IdentityCheck(
        Verdict.NEEDS_VERIFICATION,
        f"{detail}, but {'; '.join(warnings)}. Call the requester back on the number on file "
        "before approving.",
        tuple(warnings),
    )


def _relation(
    who: str, target: DirectoryUser, manager: DirectoryUser | None, contacts: Sequence[PsaContact]
) -> tuple[Verdict, str, str]:
    """How the requester relates to the target, in words, and the name on record for them."""
    if who in _addresses(target):
        return Verdict.TARGET, f"{who} is {target.user_principal_name}", target.display_name
    if manager is not None and who in _addresses(manager):
        return (
            Verdict.MANAGER,
            f"{who} is the manager of {target.user_principal_name} in the directory",
            manager.display_name,
        )
    for contact in contacts:
        if contact.authorised and canonical_address(contact.email) == who:
            return (
                Verdict.AUTHORISED_CONTACT,
                f"{who} is an authorised contact of the client",
                contact.name,
            )
    return (
        Verdict.UNVERIFIED,
        f"{who} is not {target.user_principal_name}, not their manager and not an authorised "
        "contact of the client",
        "",
    )


def _why_not(
    who: str,
    requester_name: str,
    domains: Sequence[str],
    target: DirectoryUser,
    manager: DirectoryUser | None,
    contacts: Sequence[PsaContact],
) -> str:
    """What else an unverified requester's mail shows: a look-alike address, an outside
    domain, the display name of someone who could have asked."""
    notes = []
    trick = address_trick(who)
    if trick:
        notes.append(f"the address {trick}")
    elif domains and domain_of(who) not in {canonical_address(d) for d in domains}:
        notes.append(f"it is outside the client's domains ({', '.join(domains)})")
    if requester_name:
        people = [(target.display_name, target.user_principal_name)]
        if manager is not None:
            people.append((manager.display_name, manager.user_principal_name))
        people.extend((c.name, c.email) for c in contacts if c.authorised)
        for name, address in people:
            if _tokens(name) and _tokens(requester_name) == _tokens(name):
                notes.append(
                    f"the display name {requester_name!r} is that of {address}, but the mail "
                    f"came from {who}"
                )
                break
    return "".join(f"; {note}" for note in notes)


def _same_person(given: str, on_record: str) -> bool:
    """Every word of the display name is in the name on record (an initial may stand for a word)."""
    record = _tokens(on_record)
    return all(
        word in record or (len(word) == 1 and any(r.startswith(word) for r in record))
        for word in _tokens(given)
    )


def _tokens(name: str) -> set[str]:
    """The words of a name, without case, accents, titles or order: "Nguyễn, Émile" and
    "emile nguyen" are the same."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in letters if not unicodedata.combining(c))
    return {w for w in re.findall(r"\w+", plain) if w not in _TITLES}


def _addresses(user: DirectoryUser) -> set[str]:
    return {canonical_address(a) for a in (user.user_principal_name, user.mail) if a}
