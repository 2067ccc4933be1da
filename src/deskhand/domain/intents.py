"""Intents: the kinds of request deskhand routes, each declared by the specialist that handles it.

Triage knows no intent of its own. The taxonomy and keyword triage used before a model is
trained, the labels a trained classifier's history is read as, and the answers the optional LLM
may give are all built from the intents the installed specialists declare — so a plugin's intent
is routed exactly like one of deskhand's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME = re.compile(r"[a-z][a-z0-9_]*")
# What the LLM answers for a ticket no specialist's intent fits, so no intent may be called so.
OTHER = "other"


class Intent(BaseModel):
    """One intent, as its specialist declares it: what it is, and how tickets word it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(
        description="What such a ticket asks for, in one sentence; the LLM reads it"
    )
    examples: tuple[str, ...] = Field(
        min_length=1,
        description="Short phrases as tickets word the request ('forgot my password', "
        "'Passwort vergessen'), in every language the desk sees; matched as whole words before a "
        "model is trained, shown to the LLM, and each must route to this intent on its own",
    )
    categories: tuple[str, ...] = Field(
        default=(),
        description="Categories of deskhand's taxonomy whose tickets are this intent: their "
        "phrases count for it, and history labelled with them (or their synonyms) trains it",
    )
    patterns: tuple[tuple[str, float], ...] = Field(
        default=(),
        description="Request patterns (regular expression: weight) for what a phrase cannot "
        "catch, such as 'add … to the … group'; matched against the lowercased ticket. A weight "
        "of 1.0 is a clear request on its own; hints of 0.3 to 0.5 add up",
    )

    @field_validator("description")
    @classmethod
    def _description_is_a_sentence(cls, description: str) -> str:
        if not description.strip():
            raise ValueError("the description is empty")
        return description.strip()

    @field_validator("examples")
    @classmethod
    def _examples_are_phrases(cls, examples: tuple[str, ...]) -> tuple[str, ...]:
        for example in examples:
            if not any(ch.isalnum() for ch in example):
                raise ValueError(f"example {example!r} has no letters or digits")
            if "*" in example:
                raise ValueError(f"example {example!r}: examples are plain text, without '*'")
        return tuple(example.strip() for example in examples)

    @field_validator("patterns", mode="before")
    @classmethod
    def _patterns_from_a_mapping(cls, patterns: Any) -> Any:
        return tuple(patterns.items()) if isinstance(patterns, Mapping) else patterns

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(
        cls, patterns: tuple[tuple[str, float], ...]
    ) -> tuple[tuple[str, float], ...]:
        for pattern, weight in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"pattern {pattern!r} is not a regular expression: {error}"
                ) from None
            if not 0.0 < weight <= 1.0:
                raise ValueError(f"pattern {pattern!r} has weight {weight}; use more than 0, to 1")
        return patterns
