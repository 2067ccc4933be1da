"""Looking up what a ticket names in the tenant's own directory — users, groups, licences.

Nothing is guessed: an address or a full name must match exactly one directory object. A name
that matches no user exactly ("Tom", "Tom Beker", "Zed Quimby") is scored against this tenant's
users only and left *unresolved* with its near matches, so the dispatcher can ask the requester
which one they meant; an unknown address, or two users named, is a problem that escalates
(``low_confidence``). Deskhand never acts on the likeliest candidate.

Groups and licences the ticket names ("the Finanse group", "a Business Premium licence", "E3")
are resolved the same way for a specialist that plans with them: exactly (display name, SKU
part number, a known product name), else near matches with a score, which are asked about. One
that is close to nothing in the tenant escalates: the requester cannot make a group or a
subscription exist — creating one, or buying one, is a technician's decision with the client.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from deskhand.connectors.ad import ActiveDirectory
from deskhand.connectors.m365 import M365
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, Sku
from deskhand.domain.events import EntityResolved
from deskhand.triage.entities import PRODUCT_NAMES, licence_part_numbers
from deskhand.triage.keywords import Triage
from deskhand.triage.warning_signs import canonical_address

_TITLE = re.compile(r"^(?:dr|mr|mrs|ms|mx|prof)\.?\s+", re.IGNORECASE)
# Vendor prefixes people leave out: "Business Premium" means "Microsoft 365 Business Premium".
_SKU_PREFIXES = ("microsoft 365 ", "office 365 ", "microsoft ")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# Capitalised words that are not names: greetings, sentence starts, request words.
_NOT_NAMES = frozenset(
    """a about access account add admin admins after all also am an and any approve are as asap
    at be best but by can cheers could dear do does dr for from get give good grant group
    has have he hello her hey hi his i if im in is it its just kind license licence locked
    many me mr mrs ms my need needs new no not of office on or our password please prof re
    regards remove reset she so some team thank thanks the their them they this to today
    unlock urgent us we what when who will with would you your""".split()  # noqa: SIM905
)
TOKEN_MATCH = 0.8  # a word of the name written in the ticket vs a word of the user's name
MAX_CANDIDATES = 3  # more near matches than this: a person picks, deskhand does not ask


@dataclass(frozen=True)
class Candidate:
    """A directory user whose name is close to a name in the ticket, with how close (0–1)."""

    user: DirectoryUser
    score: float


@dataclass(frozen=True)
class Near:
    """A group or licence of this tenant close to what the ticket wrote, and how close (0–1)."""

    name: str  # its display name
    score: float


@dataclass(frozen=True)
class Unclear:
    """A group or licence the ticket names that is not exactly one of the tenant's: as written,
    and this tenant's closest ones, best first."""

    kind: str  # group, licence
    written: str
    candidates: tuple[Near, ...]


@dataclass
class Unresolved:
    """What the ticket names that matches nothing in the directory exactly. People: the names
    as written and this tenant's users closest to them, best first (none: nobody came close).
    Groups and licences: each mention with its near matches (``unclear``)."""

    names: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    unclear: list[Unclear] = field(default_factory=list)
    users: bool = True  # whom the ticket is about is unknown too


@dataclass
class Resolution:
    requester: DirectoryUser | None = None
    targets: list[DirectoryUser] = field(default_factory=list)
    groups: list[DirectoryGroup] = field(default_factory=list)
    skus: list[Sku] = field(default_factory=list)
    subscriptions: list[Sku] = field(default_factory=list)  # every licence the tenant has
    events: list[EntityResolved] = field(default_factory=list)
    problem: str | None = None
    unresolved: Unresolved | None = None  # the target is not known: ask, never pick


def with_lockout(users: list[DirectoryUser], ad: ActiveDirectory) -> list[DirectoryUser]:
    """The synced ``users`` with the lockout Active Directory has for them: Microsoft 365 does
    not see an on-premises lockout. Unchanged for a tenant without AD (NoDirectory)."""
    if getattr(ad, "absent", None) or not any(user.synced for user in users):
        return users
    return [
        user.model_copy(update={"locked": ad.account_state(user.user_principal_name).locked})
        if user.synced
        else user
        for user in users
    ]


def resolve(
    subject: str,
    body: str,
    requester_email: str,
    found: Triage,
    m365: M365,
    *,
    tenant_name: str = "",
    strict: frozenset[str] = frozenset(),
    several: bool = False,
    new_people: bool = False,
) -> Resolution:
    """Match the ticket's addresses and names against the directory. ``tenant_name`` is not a
    person's name ("Contoso Dental" in a signature is not the "Contoso Dental IT Admin").
    ``strict``: the kinds ("group", "licence") whose every mention must resolve — those the
    specialist plans with; other mentions are only matched exactly. ``several``: the specialist
    tells apart several users the ticket names (a leaver and the colleague who takes over);
    otherwise more than one is a problem, and deskhand does not pick. ``new_people``: the
    ticket may name people who are not in the directory yet (a starter): a name or address
    that matches nobody is not asked about; the users it does name are still resolved."""
    text = f"{subject}\n{body}"
    users = m365.list_users()
    result = Resolution(requester=_by_address(users, requester_email))
    groups, skus = m365.list_groups(), m365.subscribed_skus()
    result.subscriptions = list(skus)
    _resolve_named(text, groups, result, kind="group")
    _resolve_skus(text, skus, result)
    # "remove Tom Becker's licence": the words before "licence" are a person, not a product.
    people = [name for user in users for name in _names(user)]
    unclear: list[Unclear] = []
    if "licence" in strict:
        licences = [m for m in found.named.licences if not _within(_own(m), people)]
        unclear += _resolve_licence_mentions(licences, skus, result)
    if "group" in strict:
        taken = [s.display_name for s in result.skus] + list(found.named.licences) + people
        mentions = [m for m in found.named.groups if not _within(_own(m), taken)]
        unclear += _resolve_group_mentions(mentions, groups, result)
    # For near matches, what names a group, a licence or the tenant is not a person's name.
    loose = text
    ignore = [g.display_name for g in result.groups] + [s.display_name for s in result.skus]
    for phrase in [*ignore, tenant_name]:
        if phrase:
            loose = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", loose, flags=re.IGNORECASE)
    _resolve_targets(
        text, loose, requester_email, found, users, result, several=several, new_people=new_people
    )
    if unclear:
        if result.unresolved is None:
            result.unresolved = Unresolved(users=False)
        result.unresolved.unclear = unclear
    return result


def _by_address(users: list[DirectoryUser], address: str) -> DirectoryUser | None:
    # ASCII-only lower-casing: str.lower() would turn a look-alike (a Kelvin sign) into the
    # real letter and find the real user.
    address = canonical_address(address)
    for user in users:
        known = {canonical_address(user.user_principal_name), canonical_address(user.mail or "")}
        if address in known - {""}:
            return user
    return None


def _names(user: DirectoryUser) -> set[str]:
    """A user's full name as people write it: with or without the title ("Dr. Priya Raman")."""
    name = user.display_name.strip()
    return {name, _TITLE.sub("", name)} - {""}


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def _resolve_targets(
    text: str,
    loose: str,
    requester_email: str,
    found: Triage,
    users: list[DirectoryUser],
    out: Resolution,
    *,
    several: bool = False,
    new_people: bool = False,
) -> None:
    named: dict[str, DirectoryUser] = {}
    for address in found.emails:
        user = _by_address(users, address)
        out.events.append(
            EntityResolved(
                kind="user", query=address, resolved=user.user_principal_name if user else None
            )
        )
        if user is not None:
            named[user.id] = user
        elif address != requester_email.lower() and not new_people:
            out.problem = f"{address} is not a user in this tenant's directory."
    for user in users:
        if any(_mentions(text, name) for name in _names(user)) and user.id not in named:
            named[user.id] = user
            out.events.append(
                EntityResolved(
                    kind="user", query=user.display_name, resolved=user.user_principal_name
                )
            )
    # The requester's own name in a signature is not a second target.
    if out.requester is not None and len(named) > 1:
        named.pop(out.requester.id, None)
    if not named and out.problem is None and not new_people:
        # Beside "me"/"my", a lone first name is someone else ("Maria approved it, add me"):
        # the requester stays the target unless a fuller name is close to another user.
        least = 2 if found.first_person else 1
        names, candidates = _near_matches(loose, users, out.requester, least)
        if candidates or not found.first_person:
            out.unresolved = Unresolved(names=names, candidates=candidates)
            for name in names or ["the target user"]:
                close = [(c.user, score(name, c.user)) for c in candidates]
                close = [(user, points) for user, points in close if points > 0]
                out.events.append(
                    EntityResolved(
                        kind="user",
                        query=name,
                        resolved=None,
                        candidates=[user.user_principal_name for user, _ in close],
                        scores=[points for _, points in close],
                    )
                )
            return
    if not named and found.first_person and out.requester is not None:
        named[out.requester.id] = out.requester
        out.events.append(
            EntityResolved(
                kind="user", query="the requester", resolved=out.requester.user_principal_name
            )
        )
    out.targets = list(named.values())
    if len(out.targets) > 1 and out.problem is None and not several:
        upns = ", ".join(u.user_principal_name for u in out.targets)
        out.problem = f"The ticket names more than one user ({upns}); deskhand will not pick one."
    if not out.targets and out.problem is None and not new_people:
        out.problem = "The ticket names no user that is in this tenant's directory."


def fold(text: str) -> str:
    """Lower case without diacritics or titles: "Dr. José Núñez" → "josé núñez" → "jose nunez"."""
    plain = unicodedata.normalize("NFKD", _TITLE.sub("", text.strip()))
    return "".join(c for c in plain if not unicodedata.combining(c)).lower()


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s._'’-]+", fold(text)) if w]


def score(name: str, user: DirectoryUser) -> float:
    """How close ``name`` (as a ticket writes it) is to ``user`` (0–1): every word written must
    be close to a word of the user's display name, UPN or mail; a partial name scores lower
    than the whole one ("Tom" is 0.84 of "Tom Becker", "Tom Beker" 0.95)."""
    spellings = [user.display_name, user.user_principal_name.split("@")[0]]
    if user.mail:
        spellings.append(user.mail.split("@")[0])
    return similarity(name, spellings)


def similarity(name: str, spellings: list[str]) -> float:
    """How close ``name`` is to the best of ``spellings`` (0–1), word by word as ``score``."""
    words = _words(name)
    theirs = {w for spelling in spellings for w in _words(spelling)}
    if not words or not theirs:
        return 0.0
    best = [max(SequenceMatcher(None, w, t).ratio() for t in theirs) for w in words]
    if min(best) < TOKEN_MATCH:
        return 0.0
    whole = max(
        SequenceMatcher(None, " ".join(words), " ".join(_words(s))).ratio() for s in spellings
    )
    return round(0.7 * sum(best) / len(best) + 0.3 * whole, 2)


def _phrases(text: str) -> list[str]:
    """Runs of up to three capitalised words, as people write a name ("Tom", "Tom Beker"),
    without greetings, request words and such."""
    runs: list[list[str]] = []
    end = -1
    for match in _WORD.finditer(text):
        word = match.group(0).removesuffix("'s").removesuffix("’s")
        if not word[0].isupper() or len(word) < 2 or fold(word) in _NOT_NAMES:
            end = -1
            continue
        if match.start() == end + 1 and text[end] == " " and len(runs[-1]) < 3:
            runs[-1].append(word)
        else:
            runs.append([word])
        end = match.end()
    return list(dict.fromkeys(" ".join(run) for run in runs))


def _near_matches(
    text: str, users: list[DirectoryUser], requester: DirectoryUser | None, least: int
) -> tuple[list[str], list[Candidate]]:
    """The names of at least ``least`` words in ``text`` (but the requester's own) and the
    users close to them, best first. Only ``users`` (this tenant's directory) are candidates."""
    names: list[str] = []
    best: dict[str, Candidate] = {}
    for name in _phrases(text):
        if len(name.split()) < least:
            continue
        if requester is not None and score(name, requester) > 0:
            continue  # the requester's own name, in a greeting or a signature
        close = [Candidate(user, score(name, user)) for user in users]
        close = [c for c in close if c.score > 0]
        names.append(name)
        for candidate in close:
            known = best.get(candidate.user.id)
            if known is None or candidate.score > known.score:
                best[candidate.user.id] = candidate
    if best:  # the names that came close to someone; the rest were other capitalised words
        names = [n for n in names if any(score(n, c.user) > 0 for c in best.values())]
    return names, sorted(best.values(), key=lambda c: (-c.score, c.user.display_name))


def _resolve_named(text: str, groups: list[DirectoryGroup], out: Resolution, *, kind: str) -> None:
    for group in groups:
        if _mentions(text, group.display_name):
            out.groups.append(group)
            out.events.append(
                EntityResolved(kind=kind, query=group.display_name, resolved=group.id)
            )


def _resolve_skus(text: str, skus: list[Sku], out: Resolution) -> None:
    for sku in skus:
        names = {sku.display_name, sku.part_number}
        lowered = sku.display_name.lower()
        names.update(lowered[len(p) :] for p in _SKU_PREFIXES if lowered.startswith(p))
        if any(_mentions(text, name) for name in names if len(name) > 2):
            out.skus.append(sku)
            out.events.append(
                EntityResolved(kind="licence", query=sku.display_name, resolved=sku.id)
            )


def _within(written: str, names: list[str]) -> bool:
    """``written`` is one of ``names``, part of one, or contains one (word for word)."""
    return any(_mentions(name, written) or _mentions(written, name) for name in names if name)


def _own(written: str) -> str:
    """ "Tom Becker's" → "Tom Becker"."""
    return re.sub(r"['’]s\b", "", written)


def _licence_spellings(sku: Sku) -> list[str]:
    lowered = sku.display_name.lower()
    spellings = [sku.display_name, sku.part_number]
    spellings += [lowered[len(p) :] for p in _SKU_PREFIXES if lowered.startswith(p)]
    return spellings


def _is_licence(written: str, sku: Sku) -> bool:
    folded = fold(written)
    return any(folded == fold(s) for s in _licence_spellings(sku)) or (
        sku.part_number in licence_part_numbers(written)
    )


def _resolve_licence_mentions(
    mentions: list[str], skus: list[Sku], out: Resolution
) -> list[Unclear]:
    unclear: list[Unclear] = []
    for written in mentions:
        exact = [sku for sku in skus if _is_licence(written, sku)]
        if any(sku in out.skus for sku in exact) or _within(
            written, [s.display_name for s in out.skus]
        ):
            continue  # named exactly elsewhere in the ticket ("Microsoft 365 E3" holds "E3")
        if len(exact) == 1:
            out.skus.append(exact[0])
            out.events.append(EntityResolved(kind="licence", query=written, resolved=exact[0].id))
            continue
        if exact:  # "E3" when the tenant has both Microsoft 365 E3 and Office 365 E3
            near = tuple(Near(sku.display_name, 1.0) for sku in exact)
        else:
            near = _near(written, [(sku.display_name, _licence_spellings(sku)) for sku in skus])
        if any(n.name in {s.display_name for s in out.skus} for n in near):
            continue  # the exact name is written elsewhere too (the requester's answer)
        out.events.append(_unresolved("licence", written, near))
        if near:
            unclear.append(Unclear("licence", written, near))
            continue
        has = ", ".join(f"{s.display_name} ({s.part_number})" for s in skus) or "none"
        products = " or ".join(PRODUCT_NAMES.get(p, p) for p in licence_part_numbers(written))
        what = f"{written!r} ({products})" if products else repr(written)
        out.problem = out.problem or (
            f"The ticket asks for the licence {what}, which matches none of this tenant's "
            f"subscriptions (it has: {has}). Adding a subscription is for a technician to "
            "decide with the client."
        )
    return unclear


def _resolve_group_mentions(
    mentions: list[str], groups: list[DirectoryGroup], out: Resolution
) -> list[Unclear]:
    unclear: list[Unclear] = []
    for written in mentions:
        named = [g.display_name for g in out.groups]
        if _within(written, named):
            continue
        near = _near(written, [(g.display_name, [g.display_name]) for g in groups])
        if any(n.name in named for n in near):
            continue  # the exact name is written elsewhere too (the requester's answer)
        out.events.append(_unresolved("group", written, near))
        if near:
            unclear.append(Unclear("group", written, near))
            continue
        out.problem = out.problem or (
            f"The ticket names the group {written!r}, and no group of this tenant is that or "
            "close to it. Whether to create it, or which group is meant, is for a technician "
            "to settle with the client."
        )
    return unclear


def _near(written: str, named: list[tuple[str, list[str]]]) -> tuple[Near, ...]:
    """The names whose spellings are close to ``written``, best first."""
    close = [Near(name, similarity(written, spellings)) for name, spellings in named]
    return tuple(sorted((n for n in close if n.score > 0), key=lambda n: (-n.score, n.name)))


def _unresolved(kind: str, written: str, near: Sequence[Near]) -> EntityResolved:
    """The event for a mention that matched nothing exactly, with its near candidates."""
    return EntityResolved(
        kind=kind,
        query=written,
        resolved=None,
        candidates=[n.name for n in near],
        scores=[n.score for n in near],
    )
