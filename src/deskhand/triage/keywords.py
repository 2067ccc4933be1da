"""A transparent keyword triage: what a ticket asks for, how sure that is, and the words it
used to say so. Every decision carries its evidence, so the trace shows why a ticket went
where it went. (A trained classifier replaces this later; the result has the same shape.)

Ticket text is untrusted: nothing here can choose a tenant, a policy or an approver. It only
proposes an intent and the names to look up in the tenant's directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from deskhand.triage.entities import Mentions

PASSWORD_RESET = "password_reset"
ACCOUNT_UNLOCK = "account_unlock"
ACCESS_CHANGE = "access_change"

# "convert Tom's mailbox to a shared mailbox", "turn his mailbox into a shared one": an access
# change that Exchange, not Graph, makes (the access_change specialist plans a manual step).
_UNTIL_SENTENCE_END = r"(?:(?!\.\s)[^\n])"
SHARED_MAILBOX = (
    rf"\b(?:convert|turn)\b{_UNTIL_SENTENCE_END}{{0,80}}?\bmailbox\b{_UNTIL_SENTENCE_END}{{0,40}}?"
    r"\b(?:to|into)\s+(?:an?\s+)?shared\b"
    rf"|\b(?:convert|turn)\b{_UNTIL_SENTENCE_END}{{0,80}}?\b(?:to|into)\s+(?:an?\s+)?shared\s+"
    r"mail\s?box\b"
)

# intent -> (pattern, weight): several weak hints or one strong phrase make a confident call.
_SIGNALS: dict[str, tuple[tuple[str, float], ...]] = {
    PASSWORD_RESET: (
        (r"\breset (?:my |the |his |her |their )?password\b", 1.0),
        (r"\bpassword (?:reset|expired|has expired|change)\b", 1.0),
        (r"\bforg[oe]t+(?:en)? (?:my |the |his |her )?password\b", 1.0),
        (r"\bnew password\b", 0.5),
        (r"\bcan'?t (?:log|sign) ?in\b|\bcannot (?:log|sign) ?in\b", 0.4),
        (r"\bpassword\b", 0.3),
    ),
    ACCOUNT_UNLOCK: (
        (r"\blocked out\b", 1.0),
        (r"\baccount (?:is |got |has been )?locked\b", 1.0),
        (r"\bunlock\b", 0.8),
        (r"\btoo many (?:attempts|tries)\b", 0.5),
    ),
    ACCESS_CHANGE: (
        (r"\badd\b(?:(?!\.\s)[^\n]){0,80}\bto\b(?:(?!\.\s)[^\n]){0,60}\bgroup\b", 1.0),
        (r"\bremove\b(?:(?!\.\s)[^\n]){0,80}\bfrom\b(?:(?!\.\s)[^\n]){0,60}\bgroup\b", 1.0),
        (r"\b(?:give|grant)\b(?:(?!\.\s)[^\n]){0,60}\baccess\b", 0.8),
        (r"\baccess to\b", 0.5),
        (r"\b(?:assign|add|give|need)\b(?:(?!\.\s)[^\n]){0,60}\blicen[cs]e\b", 1.0),
        (r"\bremove\b(?:(?!\.\s)[^\n]){0,60}\blicen[cs]e\b", 1.0),
        (SHARED_MAILBOX, 1.0),
        (r"\bmember(?:ship)?\b", 0.3),
        (r"\bpermissions?\b", 0.3),
    ),
}
ROUTE_THRESHOLD = 0.5
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_FIRST_PERSON = re.compile(r"\b(?:i|i'?m|me|my|myself)\b", re.IGNORECASE)
_REMOVE = re.compile(r"\b(?:remove|revoke|take away|no longer needs?|left the)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Triage:
    """What the ticket asks for (or None), how sure (0–1), and why."""

    intent: str | None
    confidence: float
    method: str = "keywords"
    emails: tuple[str, ...] = ()
    first_person: bool = False
    removal: bool = False
    evidence: tuple[str, ...] = field(default_factory=tuple)
    named: Mentions = field(default_factory=Mentions)  # groups, licences, devices, dates

    def entities(self) -> dict[str, list[str]]:
        return {
            "emails": list(self.emails),
            "first_person": [str(self.first_person).lower()],
            "operation": ["remove" if self.removal else "add"],
            **self.named.for_trace(),
        }


def triage(subject: str, body: str) -> Triage:
    """Score each intent by the phrases the ticket uses; the best, if clear enough, wins."""
    text = f"{subject}\n{body}"
    scores, evidence = signals(text)
    emails = tuple(dict.fromkeys(e.lower() for e in _EMAIL.findall(text)))
    first_person = bool(_FIRST_PERSON.search(text))
    removal = bool(_REMOVE.search(text))
    if not scores:
        return Triage(None, 0.0, emails=emails, first_person=first_person, removal=removal)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    return Triage(
        best,
        confidence(score, runner_up),
        emails=emails,
        first_person=first_person,
        removal=removal,
        evidence=tuple(evidence[best]),
    )


def asks_for_shared_mailbox(text: str) -> bool:
    """Whether ``text`` asks for a mailbox to be converted to a shared mailbox."""
    return re.search(SHARED_MAILBOX, text.lower()) is not None


def signals(text: str) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Each intent's summed signal weight in ``text``, and the words that matched."""
    lowered = text.lower()
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for intent, patterns in _SIGNALS.items():
        for pattern, weight in patterns:
            match = re.search(pattern, lowered)
            if match:
                scores[intent] = scores.get(intent, 0.0) + weight
                evidence.setdefault(intent, []).append(match.group(0))
    return scores, evidence


def confidence(score: float, runner_up: float) -> float:
    """How sure a reading with ``score`` is when the next best reading has ``runner_up``: it
    grows with evidence and falls when another reading is nearly as likely."""
    return round(min(1.0, score / 1.5) * (1.0 - 0.5 * runner_up / score), 3)
