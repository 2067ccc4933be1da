"""A transparent keyword triage: what a ticket asks for, how sure that is, and the words it
used to say so. Every decision carries its evidence, so the trace shows why a ticket went
where it went. (A trained classifier replaces this later; the result has the same shape.)

It knows no intent of its own: the request patterns it scores are those the installed
specialists declare with their intents (``Intent.patterns``), passed in by the caller.

Ticket text is untrusted: nothing here can choose a tenant, a policy or an approver. It only
proposes an intent and the names to look up in the tenant's directory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from deskhand.domain.intents import Intent
from deskhand.triage.entities import Mentions

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


def triage(subject: str, body: str, intents: Mapping[str, Intent]) -> Triage:
    """Score each of ``intents`` by the request patterns the ticket matches; the best, if clear
    enough, wins."""
    text = f"{subject}\n{body}"
    scores, evidence = signals(text, intents)
    emails = tuple(dict.fromkeys(e.lower() for e in _EMAIL.findall(text)))
    first_person = bool(_FIRST_PERSON.search(text))
    removal = bool(_REMOVE.search(text))
    if not scores:
        return Triage(None, 0.0, emails=emails, first_person=first_person, removal=removal)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))  # a tie: by name
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


def signals(
    text: str, intents: Mapping[str, Intent]
) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Each intent's summed pattern weight in ``text``, and the words that matched."""
    lowered = text.lower()
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for intent, declared in intents.items():
        for pattern, weight in declared.patterns:
            match = re.search(pattern, lowered)
            if match:
                scores[intent] = scores.get(intent, 0.0) + weight
                evidence.setdefault(intent, []).append(match.group(0))
    return scores, evidence


def confidence(score: float, runner_up: float) -> float:
    """How sure a reading with ``score`` is when the next best reading has ``runner_up``: it
    grows with evidence and falls when another reading is nearly as likely."""
    return round(min(1.0, score / 1.5) * (1.0 - 0.5 * runner_up / score), 3)
