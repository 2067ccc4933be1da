"""Triage before any model is trained (the cold start): deskhand's built-in MSP taxonomy.

Two kinds of evidence are scored per reading of a ticket: the taxonomy's phrases
(``taxonomy.yaml``; a category with an ``intent:`` counts for that intent) and the keyword
triage's request patterns, which catch what a plain phrase cannot ("add Ana to the Finance
group": a name in between). When no request pattern matches, categories without an intent
compete as themselves, so a printer ticket reads as "Printer", not as a weak password reset.
Confidence is the keyword triage's: it needs several hints or one strong phrase, and drops when
another reading is nearly as likely, so a doubtful ticket escalates as ``low_confidence``
rather than reaching a specialist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from deskhand.triage.keywords import Triage, confidence, signals
from deskhand.triage.taxonomy import BUILTIN_NAME, Taxonomy, load_taxonomy

METHOD = "taxonomy"
# A phrase in the body is half a strong request pattern: phrases say what a ticket is about,
# the patterns what it asks for. A phrase in the subject counts double.
PHRASE_WEIGHT = 0.5


@dataclass(frozen=True)
class Reading:
    """The cold-start triage of a ticket. ``found.intent`` is None when nothing matched, or when
    the leading reading is ``category``, a taxonomy category no intent handles."""

    found: Triage
    category: str | None


@dataclass(frozen=True)
class TaxonomyTriage:
    """A classifier made of a taxonomy's phrases and the keyword triage's request patterns."""

    taxonomy: Taxonomy
    source: str  # where the taxonomy was read from, for `deskhand triage models`

    def read(self, subject: str, body: str, keywords: Triage) -> Reading:
        """The leading reading of the ticket and how sure it is; ``keywords`` gives the names
        and addresses the result carries."""
        scores, evidence = signals(f"{subject}\n{body}")
        asks = bool(scores)
        categories: dict[str, str] = {}  # reading -> category, for readings without an intent
        for hit in self.taxonomy.hits(subject, body):
            reading = hit.category.intent or f"category: {hit.category.name}"
            if hit.category.intent is None:
                if asks:  # a request pattern matched: what else the ticket mentions is context
                    continue
                categories[reading] = hit.category.name
            scores[reading] = scores.get(reading, 0.0) + PHRASE_WEIGHT * hit.weight
            evidence.setdefault(reading, []).append(f"{hit.phrase} ({hit.category.name})")
        if not scores:
            return Reading(_as(keywords, None, 0.0, ()), None)
        # A tie goes to a reading with an intent; its confidence is halved by the tie anyway.
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0] in categories))
        (best, score), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        sure = confidence(score, runner_up)
        if best in categories:
            return Reading(_as(keywords, None, sure, tuple(evidence[best])), categories[best])
        return Reading(_as(keywords, best, sure, tuple(evidence[best])), None)


def _as(keywords: Triage, intent: str | None, sure: float, evidence: tuple[str, ...]) -> Triage:
    return replace(keywords, intent=intent, confidence=sure, method=METHOD, evidence=evidence)


@cache
def builtin() -> TaxonomyTriage:
    """The cold-start triage from the taxonomy.yaml shipped with deskhand, read once."""
    return TaxonomyTriage(load_taxonomy(), BUILTIN_NAME)
