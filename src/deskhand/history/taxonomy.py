"""deskhand's MSP ticket taxonomy: categories, the PSA labels that mean them, and the phrases that
give them away in a ticket's text.

The bundled ``taxonomy.yaml`` explains the file format; an MSP can edit a copy of it. Matching is
vectorised with Polars so that a million tickets take seconds, not minutes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deskhand.domain.intents import Intent
from deskhand.errors import InputError

BUILTIN_NAME = "taxonomy.yaml (built in)"

_WORD_CHAR = r"\p{L}\p{M}\p{N}"
# Runs of non-word characters other than a lone space: most separators already are a lone space,
# and leaving them alone makes normalising a million tickets several times faster.
_SEPARATORS = rf"[^{_WORD_CHAR}]*[^{_WORD_CHAR} ][^{_WORD_CHAR}]*| {{2,}}"


def label_key(label: str) -> str:
    """A PSA label reduced to lowercase letters and digits: "Pwd-Reset " -> "pwdreset"."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", label).casefold() if ch.isalnum())


def _words(text: pl.Expr) -> pl.Expr:
    """Text as its words separated by single spaces, with a space at each end.

    Phrases go through the same expression, so " vpn " matches the whole word "VPN," in a ticket
    but not "vpnclient", and "sign in" matches "sign-in".
    """
    words = text.str.replace_all(_SEPARATORS, " ").str.strip_chars(" ")
    return pl.concat_str(pl.lit(" "), words, pl.lit(" "))


class Category(BaseModel):
    """One category: its display name, the PSA labels meaning it, and its tell-tale phrases."""

    # coerce: an MSP who writes the phrase 550 unquoted means the text "550".
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: str
    synonyms: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    # The intent its tickets are, when no specialist's Intent.categories names this category
    # (see Taxonomy.intents_by_category); deskhand's own taxonomy leaves it to the specialists.
    intent: str | None = None

    @field_validator("intent")
    @classmethod
    def _intent_is_a_name(cls, intent: str | None) -> str | None:
        if intent is not None and not re.fullmatch(r"[a-z][a-z0-9_]*", intent):
            raise ValueError(f"intent {intent!r} must be a lowercase name such as password_reset")
        return intent

    @field_validator("name")
    @classmethod
    def _name_has_letters(cls, name: str) -> str:
        if not label_key(name):
            raise ValueError("the name is empty")
        return name.strip()

    @field_validator("synonyms")
    @classmethod
    def _synonyms_have_letters(cls, synonyms: list[str]) -> list[str]:
        for synonym in synonyms:
            if not label_key(synonym):
                raise ValueError(f"synonym {synonym!r} has no letters or digits")
        return synonyms

    @field_validator("phrases")
    @classmethod
    def _phrases_are_usable(cls, phrases: list[str]) -> list[str]:
        return [clean_phrase(raw) for raw in phrases]


class Taxonomy(BaseModel):
    """The categories in file order, plus which of them is the remainder ("Other")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    other: str = "Other"
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        owner: dict[str, str] = {}
        for category in self.categories:
            key = label_key(category.name)
            if key in owner and owner[key] == category.name:
                raise ValueError(f"category {category.name!r} is listed twice")
            if key in owner:
                raise ValueError(
                    f"category {category.name!r} clashes with {owner[key]!r} "
                    f"(names and synonyms are compared ignoring case and punctuation)"
                )
            owner[key] = category.name
        for category in self.categories:
            for synonym in category.synonyms:
                key = label_key(synonym)
                if owner.setdefault(key, category.name) != category.name:
                    raise ValueError(
                        f"synonym {synonym!r} of {category.name!r} already means {owner[key]!r}; "
                        f"a PSA label can mean one category only"
                    )
        remainder = [c for c in self.categories if c.name == self.other]
        if not remainder:
            raise ValueError(
                f"there is no category named {self.other!r}, which `other:` names as the place "
                f"for tickets that fit nothing"
            )
        if remainder[0].phrases:
            raise ValueError(
                f"category {self.other!r} must have no phrases: it is where tickets that match "
                f"nothing go"
            )
        return self

    @property
    def names(self) -> list[str]:
        """Category names in file order."""
        return [category.name for category in self.categories]

    @cached_property
    def _label_lookup(self) -> dict[str, str]:
        lookup: dict[str, str] = {}
        for category in self.categories:
            for label in (category.name, *category.synonyms):
                lookup[label_key(label)] = category.name
        return lookup

    def category_of(self, label: str) -> str | None:
        """The category a PSA label means (its name or a synonym), or None."""
        return self._label_lookup.get(label_key(label))

    def canonical_label(self, raw: pl.Series) -> pl.Series:
        """Map PSA category labels to category names; null where a label means no category.

        Vague labels ("General", "Misc", "Other") map to ``self.other``; labels the taxonomy
        does not know, and empty ones, map to null.
        """
        labels = raw.cast(pl.String)
        # Labels repeat heavily (a million tickets, fifty labels): normalise each distinct one once.
        mapping = {
            label: self._label_lookup.get(label_key(label))
            for label in labels.unique().drop_nulls().to_list()
        }
        return labels.replace_strict(mapping, default=None, return_dtype=pl.String)

    @cached_property
    def _phrase_words(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """The words of all phrases, and the stems of the wildcard ones ("print*" -> "print")."""
        words: set[str] = set()
        stems: set[str] = set()
        for category in self.categories:
            for phrase in category.phrases:
                for word in phrase.replace("'", "").split():
                    (stems if word.endswith("*") else words).add(word.rstrip("*"))
        return frozenset(words), tuple(sorted(stems))

    def knows_word(self, word: str) -> bool:
        """Whether ``word`` (lowercase) appears in some phrase of the taxonomy."""
        words, stems = self._phrase_words
        return word in words or word.startswith(stems)

    @cached_property
    def _phrase_table(self) -> pl.DataFrame:
        """Every phrase as the padded lowercase text it matches, with its category's position
        (``owner``)."""
        return phrase_table([category.phrases for category in self.categories])

    def match(self, subject: pl.Series, body: pl.Series, *, body_chars: int = 1000) -> pl.DataFrame:
        """Categorise tickets by phrase hits: columns ``category`` (null: no hit) and ``score``.

        The score is the number of phrase hits, subject hits counting double; overlapping phrases
        ("shared mailbox", "mailbox*") each count. The best score wins; ties go to the category
        listed first. Only the first ``body_chars`` characters of a body are read: past them lie
        quoted replies and signatures, which mislead.
        """
        if len(subject) != len(body):
            raise ValueError(f"subject has {len(subject)} rows but body has {len(body)}")
        table = self._phrase_table.rename({"owner": "category_index"})
        patterns = table["pattern"].to_list()
        tickets = pl.LazyFrame(
            {"subject": subject.cast(pl.String), "body": body.cast(pl.String)}
        ).with_row_index("row")

        def hits(text: pl.Expr, weight: int) -> pl.LazyFrame:
            """One row per phrase found in ``text``: (row, pattern, weight)."""
            # Aho-Corasick over all phrases at once: one regex per category took 12 s per
            # million tickets, this takes about 2.5 s. Phrases are literals, never regex syntax.
            found = _words(text).str.extract_many(
                patterns, ascii_case_insensitive=True, overlapping=True
            )
            return (
                tickets.select("row", found.alias("pattern"))
                .explode("pattern")
                .drop_nulls("pattern")
                .select("row", pl.col("pattern").str.to_lowercase(), pl.lit(weight).alias("weight"))
            )

        best = (
            pl.concat(
                [hits(pl.col("subject"), 2), hits(pl.col("body").str.slice(0, body_chars), 1)]
            )
            .join(table.lazy(), on="pattern")
            .group_by("row", "category_index")
            .agg(pl.col("weight").sum().cast(pl.Float64).alias("score"))
            .group_by("row")
            .agg(pl.all().sort_by("score", "category_index", descending=[True, False]).first())
        )
        names = pl.Series(self.names, dtype=pl.String)
        return (
            tickets.select("row")
            .join(best, on="row", how="left", maintain_order="left")
            .select(
                pl.col("category_index")
                .replace_strict(range(len(names)), names, default=None, return_dtype=pl.String)
                .alias("category"),
                pl.col("score").fill_null(0.0),
            )
            .collect(engine="streaming")
        )

    def hits(self, subject: str, body: str, *, body_chars: int = 1000) -> list[PhraseHit]:
        """The phrases found in one ticket's subject (weight 2) and body (weight 1), each phrase
        once per part."""
        return [
            PhraseHit(self.categories[index], phrase, weight)
            for index, phrase, weight in find_phrases(
                self._phrase_table, subject, body, body_chars=body_chars
            )
        ]

    def intents_by_category(self, intents: Mapping[str, Intent]) -> dict[str, str]:
        """Category name -> the intent its tickets are: the one a category names itself
        (``intent:``), else the one whose specialist declares the category."""
        declared = {c: name for name, intent in intents.items() for c in intent.categories}
        found = {c.name: c.intent or declared.get(c.name) for c in self.categories}
        return {name: intent for name, intent in found.items() if intent is not None}


def clean_phrase(raw: str) -> str:
    """A phrase as it is matched (lowercase, typographic apostrophes plain); ValueError when it
    cannot match anything or has a '*' other than one at its end."""
    phrase = raw.strip().lower().replace("’", "'")
    if not any(ch.isalnum() for ch in phrase):
        raise ValueError(f"phrase {raw!r} is empty: it has no letters or digits")
    if "*" in phrase.removesuffix("*"):
        raise ValueError(f"phrase {raw!r}: '*' is only allowed once, at the end")
    return phrase


def phrase_table(phrases: Sequence[Sequence[str]]) -> pl.DataFrame:
    """Columns ``owner`` (the position of the list a phrase is in) and ``pattern`` (the padded
    lowercase text the phrase matches), for phrases already cleaned (``clean_phrase``)."""
    rows = []
    for index, owned in enumerate(phrases):
        for phrase in owned:
            rows.append((index, phrase))
            if "'" in phrase:  # "can't" also matches "cant"
                rows.append((index, phrase.replace("'", "")))
    table = pl.DataFrame(rows, schema={"owner": pl.UInt32, "phrase": pl.String}, orient="row")
    stem = pl.col("phrase").str.strip_suffix("*")
    return table.select(
        "owner",
        pl.when(pl.col("phrase").str.ends_with("*"))
        .then(_words(stem).str.strip_suffix(" "))  # no closing space: any word ending
        .otherwise(_words(stem))
        .alias("pattern"),
    ).unique(maintain_order=True)


def find_phrases(
    table: pl.DataFrame, subject: str, body: str, *, body_chars: int = 1000
) -> list[tuple[int, str, int]]:
    """(owner, phrase, weight) for each phrase of a ``phrase_table`` found in one ticket's
    subject (weight 2) and body (weight 1), each phrase once per part."""
    patterns = table["pattern"].to_list()
    found: list[tuple[int, str, int]] = []
    if not patterns:
        return found
    for text, weight in ((subject, 2), (body[:body_chars], 1)):
        matched = (
            pl.select(  # lowercased first: extract_many ignores the case of ASCII letters only
                _words(pl.lit(text.lower(), dtype=pl.String)).str.extract_many(
                    patterns, ascii_case_insensitive=True, overlapping=True
                )
            )
            .to_series()
            .explode()
            .drop_nulls()
            .str.to_lowercase()
        )
        for pattern in dict.fromkeys(matched.to_list()):
            for index in table.filter(pl.col("pattern") == pattern)["owner"]:
                found.append((int(index), pattern.strip(), weight))
    return found


@dataclass(frozen=True)
class PhraseHit:
    """A taxonomy phrase found in a ticket: its category, the phrase, and its weight (2 in the
    subject, 1 in the body)."""

    category: Category
    phrase: str
    weight: int


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy file, or deskhand's built-in one when ``path`` is None."""
    name = BUILTIN_NAME if path is None else path.name
    try:
        if path is None:
            text = resources.files("deskhand.history").joinpath("taxonomy.yaml").read_text("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"Cannot read taxonomy file {path or name}: {error.strerror}.") from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name} is not UTF-8 text: {error.reason} at byte {error.start}."
        ) from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(
            f"{name} is not valid YAML{where}: {problem}.",
            hint="Check the indentation, and quote phrases that contain ': ' or ' #'.",
        ) from None
    if not isinstance(data, dict):
        raise InputError(f"{name} must be a mapping with a `categories:` list; it is not.")
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as error:
        problems = [_describe(problem, data) for problem in error.errors()]
        raise InputError(f"{name} is not a valid taxonomy:\n  " + "\n  ".join(problems)) from None


def _describe(problem: Any, data: dict[str, Any]) -> str:
    """One pydantic error as a sentence naming the category it is about."""
    where: list[str] = []
    loc = problem["loc"]
    if len(loc) >= 2 and loc[0] == "categories" and isinstance(loc[1], int):
        entry = data["categories"][loc[1]]
        label = entry.get("name") if isinstance(entry, dict) else None
        where.append(f"category {loc[1] + 1}" + (f" ({label!r})" if label else ""))
        loc = loc[2:]
        known = "name, synonyms, phrases, intent"
    else:
        known = "other, categories"
    if len(loc) == 2 and isinstance(loc[1], int):
        where.append(f"{str(loc[0]).removesuffix('s')} {loc[1] + 1}")
    elif loc:
        where.append(f"`{loc[0]}`")
    if problem["type"] == "missing":
        message = "is missing"
    elif problem["type"] == "extra_forbidden":
        message = f"is not a known key (expected {known})"
    else:
        message = str(problem["msg"]).removeprefix("Value error, ")
    return (", ".join(where) + ": " if where else "") + message
