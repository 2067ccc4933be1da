"""What a ticket names besides people: groups, licences, devices and dates — as written.

Extraction only proposes: a group or licence mention is looked up in the tenant's own directory
by ``engine.resolution`` (exact first, then near matches with a score, never the likeliest),
devices and dates are shown to the specialist and the technician. Ticket text is untrusted:
nothing here can change the tenant, the policy or the risk of anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from deskhand.domain.dates import DateMention
from deskhand.triage.dates import find_dates

# Licence names people write, by Microsoft's SKU part number (skuPartNumber in Graph). "E3" is
# two products: whichever of them the tenant has is meant; both, and the requester is asked.
LICENCE_NAMES: dict[str, tuple[str, ...]] = {
    "business premium": ("SPB",),
    "business standard": ("O365_BUSINESS_PREMIUM",),
    "business basic": ("O365_BUSINESS_ESSENTIALS",),
    "apps for business": ("O365_BUSINESS",),
    "apps for enterprise": ("OFFICESUBSCRIPTION",),
    "e1": ("STANDARDPACK",),
    "e3": ("SPE_E3", "ENTERPRISEPACK"),
    "e5": ("SPE_E5", "ENTERPRISEPREMIUM"),
    "f3": ("SPE_F1", "DESKLESSPACK"),
    "exchange online plan 1": ("EXCHANGESTANDARD",),
    "exchange plan 1": ("EXCHANGESTANDARD",),
    "exchange online plan 2": ("EXCHANGEENTERPRISE",),
    "exchange plan 2": ("EXCHANGEENTERPRISE",),
    "power bi pro": ("POWER_BI_PRO",),
    "visio plan 2": ("VISIOCLIENT",),
    "project plan 3": ("PROJECTPROFESSIONAL",),
}
# What to call a product the tenant does not subscribe to, in an escalation.
PRODUCT_NAMES = {
    "SPB": "Microsoft 365 Business Premium",
    "O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
    "O365_BUSINESS_ESSENTIALS": "Microsoft 365 Business Basic",
    "O365_BUSINESS": "Microsoft 365 Apps for business",
    "OFFICESUBSCRIPTION": "Microsoft 365 Apps for enterprise",
    "STANDARDPACK": "Office 365 E1",
    "SPE_E3": "Microsoft 365 E3",
    "ENTERPRISEPACK": "Office 365 E3",
    "SPE_E5": "Microsoft 365 E5",
    "ENTERPRISEPREMIUM": "Office 365 E5",
    "SPE_F1": "Microsoft 365 F3",
    "DESKLESSPACK": "Office 365 F3",
    "EXCHANGESTANDARD": "Exchange Online (Plan 1)",
    "EXCHANGEENTERPRISE": "Exchange Online (Plan 2)",
    "POWER_BI_PRO": "Power BI Pro",
    "VISIOCLIENT": "Visio Plan 2",
    "PROJECTPROFESSIONAL": "Project Plan 3",
}
_ALIAS = re.compile(
    r"(?<![\w-])(?:"
    + "|".join(
        r"\s+".join(map(re.escape, name.split()))
        for name in sorted(LICENCE_NAMES, key=len, reverse=True)
    )
    + r")(?![\w-])",
    re.IGNORECASE,
)
_WORDS_BEFORE = re.compile(r"[\w&'’()+.-]+", re.UNICODE)
# Words that end a group or licence name when reading backwards from "group" / "licence".
_STOP = frozenset(
    """a an the to from into in of for on at with and or add added adding remove removed
    removing put give given giving grant assign assigned get needs need needed wants want
    her him them me my our your their his its she he they we i you please also both same that
    this these those right correct relevant usual appropriate other another which what any
    new existing current old is are was be been as member members access""".split()  # noqa: SIM905
)
# Kinds of group named before the word "group": "the Finance security group".
_GROUP_KINDS = frozenset(
    "security distribution teams team ad m365 microsoft office 365 mail email entra azure".split()  # noqa: SIM905
)
_LICENCE_FILLER = frozenset({"user", "users", "seat", "seats"})
_GROUP_WORD = re.compile(r"\bgroups?\b", re.IGNORECASE)
_LICENCE_WORD = re.compile(r"\blicen[cs]es?\b|\bsubscriptions?\b", re.IGNORECASE)
_GROUP_CALLED = re.compile(
    r"\bgroups?\s+(?:called|named)\s+[\"“']?([\w&'’ -]{2,60}?)[\"”']?"
    r"(?=[.,;:!?\n]|$|\s+(?:and|to|for|please)\b)",
    re.IGNORECASE,
)
_HOSTNAME = re.compile(
    r"(?<![\w@.-])(?=[A-Z0-9-]*\d)[A-Z][A-Z0-9]{1,14}(?:-[A-Z0-9]{1,15})+(?![\w@-])"
)
_DEVICE_CALLED = re.compile(
    r"\b(?:laptop|computer|pc|desktop|workstation|machine|device|host\s*name|asset(?:\s+tag)?|"
    r"service\s+tag|serial(?:\s+number)?|s/n)\s*(?:no\.?|number|#|:|is|called|named)?\s*[:#]?\s*"
    r"(?=[\w-]*\d)([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mentions:
    """Groups, licences, devices and dates a ticket names, as written (deduplicated)."""

    groups: tuple[str, ...] = ()
    licences: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    dates: tuple[DateMention, ...] = ()

    def for_trace(self) -> dict[str, list[str]]:
        """The mentions as the triage event records them (``dates``: written → read)."""
        return {
            "groups": list(self.groups),
            "licences": list(self.licences),
            "devices": list(self.devices),
            "dates": [d.describe() for d in self.dates],
        }


def extract(subject: str, body: str, received: datetime) -> Mentions:
    """The groups, licences, devices and dates named in the ticket; dates relative to
    ``received``, the moment the ticket arrived."""
    text = f"{subject}\n{body}"
    return Mentions(
        groups=_unique(_group_mentions(text)),
        licences=_unique(_licence_mentions(text)),
        devices=_unique(_devices(text)),
        dates=tuple(find_dates(text, received)),
    )


def licence_part_numbers(written: str) -> tuple[str, ...]:
    """The SKU part numbers a friendly licence name stands for ("E3" → SPE_E3, ENTERPRISEPACK)."""
    key = " ".join(written.lower().replace("(", " ").replace(")", " ").split())
    for prefix in ("microsoft 365 ", "office 365 ", "microsoft ", "m365 ", "o365 "):
        key = key.removeprefix(prefix)
    return LICENCE_NAMES.get(key, ())


def _unique(found: list[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for item in found:
        seen.setdefault(" ".join(item.lower().split()), " ".join(item.split()))
    return tuple(seen.values())


def _name_before(text: str, end: int, skip: frozenset[str]) -> str | None:
    """Up to four words just before ``end`` on the same line and in the same sentence, read
    backwards until a stop word; ``skip`` words right before ``end`` are not part of the name."""
    line = re.split(r"[\n.;:!?,]", text[:end])[-1]
    words = _WORDS_BEFORE.findall(line)
    while words and words[-1].lower() in skip:
        words.pop()
    name: list[str] = []
    for word in reversed(words):
        if word.lower() in _STOP or len(name) == 4:
            break
        name.insert(0, word)
    return " ".join(name) or None


def _group_mentions(text: str) -> list[str]:
    found: list[str] = []
    for match in _GROUP_WORD.finditer(text):
        name = _name_before(text, match.start(), _GROUP_KINDS)
        if name is not None:
            found.append(name)
    found.extend(m.group(1).strip() for m in _GROUP_CALLED.finditer(text))
    return [name for name in found if name]


def _licence_mentions(text: str) -> list[str]:
    found = [m.group(0) for m in _ALIAS.finditer(text)]
    for match in _LICENCE_WORD.finditer(text):
        name = _name_before(text, match.start(), _LICENCE_FILLER)
        if name is not None:
            found.append(name)
    return found


def _devices(text: str) -> list[str]:
    named = [m.group(0) for m in _HOSTNAME.finditer(text)]
    named.extend(m.group(1) for m in _DEVICE_CALLED.finditer(text))
    return named
