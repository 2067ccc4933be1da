"""Triage before any model is trained (the cold start): deskhand's MSP taxonomy and the intents
the installed specialists declare.

Three kinds of evidence are scored per reading of a ticket, all built from the intents passed
in (the registry's, never a list of deskhand's own):

- the intents' request patterns (``Intent.patterns``, the keyword triage), which catch what a
  plain phrase cannot ("add Ana to the Finance group": a name in between);
- the intents' example phrases (``Intent.examples``), which are requests too;
- the taxonomy's phrases (``taxonomy.yaml``): a category an intent declares
  (``Intent.categories``) counts for that intent.

When neither a pattern nor an example matches, categories without an intent compete as
themselves, so a printer ticket reads as "Printer", not as a weak password reset. Confidence is
the keyword triage's: it needs several hints or one strong phrase, and drops when another
reading is nearly as likely, so a doubtful ticket escalates as ``low_confidence`` rather than
reaching a specialist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from deskhand.domain.intents import Intent
from deskhand.history.taxonomy import (
    BUILTIN_NAME,
    Taxonomy,
    clean_phrase,
    find_phrases,
    load_taxonomy,
    phrase_table,
)
from deskhand.triage.keywords import Triage, confidence, signals

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


class TaxonomyTriage:
    """A classifier made of a taxonomy's phrases and the given intents' patterns and examples."""

    def __init__(self, taxonomy: Taxonomy, intents: Mapping[str, Intent], source: str) -> None:
        self.taxonomy = taxonomy
        self.intents = dict(intents)
        self.source = source  # where the taxonomy was read from, for `deskhand triage models`
        self.routes = taxonomy.intents_by_category(intents)  # category -> the intent it reads as
        self._examples = phrase_table(
            [[clean_phrase(e) for e in intent.examples] for intent in self.intents.values()]
        )

    def read(self, subject: str, body: str, keywords: Triage) -> Reading:
        """The leading reading of the ticket and how sure it is; ``keywords`` gives the names
        and addresses the result carries."""
        scores, evidence = signals(f"{subject}\n{body}", self.intents)
        names = list(self.intents)
        examples = [
            (names[index], phrase, weight)
            for index, phrase, weight in find_phrases(self._examples, subject, body)
        ]
        asks = bool(scores) or bool(examples)
        categories: dict[str, str] = {}  # reading -> category, for readings without an intent
        counted: set[tuple[str, str, int]] = set()  # a phrase counts once per reading and part
        for hit in self.taxonomy.hits(subject, body):
            intent = self.routes.get(hit.category.name)
            reading = intent or f"category: {hit.category.name}"
            if intent is None:
                if asks:  # a request was recognised: what else the ticket mentions is context
                    continue
                categories[reading] = hit.category.name
            counted.add((reading, hit.phrase, hit.weight))
            scores[reading] = scores.get(reading, 0.0) + PHRASE_WEIGHT * hit.weight
            evidence.setdefault(reading, []).append(f"{hit.phrase} ({hit.category.name})")
        for intent, phrase, weight in examples:
            if (intent, phrase, weight) in counted:
                continue
            scores[intent] = scores.get(intent, 0.0) + PHRASE_WEIGHT * weight
            evidence.setdefault(intent, []).append(f"{phrase} (example of {intent})")
        if not scores:
            return Reading(_as(keywords, None, 0.0, ()), None)
        # A tie goes to a reading with an intent (its confidence is halved by the tie anyway),
        # then by name, so the order specialists are installed in never matters.
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0] in categories, item[0]))
        (best, score), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        sure = confidence(score, runner_up)
        if best in categories:
            return Reading(_as(keywords, None, sure, tuple(evidence[best])), categories[best])
        return Reading(_as(keywords, best, sure, tuple(evidence[best])), None)


def _as(keywords: Triage, intent: str | None, sure: float, evidence: tuple[str, ...]) -> Triage:
    return replace(keywords, intent=intent, confidence=sure, method=METHOD, evidence=evidence)


def builtin(intents: Mapping[str, Intent]) -> TaxonomyTriage:
    """The cold-start triage from the taxonomy.yaml shipped with deskhand and ``intents`` (the
    registry's), built once per set of intents."""
    return _built(tuple(intents.items()))


@lru_cache(maxsize=8)
def _built(intents: tuple[tuple[str, Intent], ...]) -> TaxonomyTriage:
    return TaxonomyTriage(_builtin_taxonomy(), dict(intents), BUILTIN_NAME)


@cache
def _builtin_taxonomy() -> Taxonomy:
    return load_taxonomy()
