"""Recurring themes: what fits no category, clustered and named, most minutes first."""

from __future__ import annotations

import random

import pytest

from deskhand.history.themes import suggest_categories
from tests.history.test_textmodel import GREETINGS, NAMES

# fmt: off
GENERIC = [
    "monitor", "calendar", "excel", "spreadsheet", "meeting", "chair", "desk", "phone",
    "extension", "voicemail", "label", "folder", "shortcut", "icon", "font", "template",
    "signature", "logo", "website", "domain", "certificate", "renewal", "camera", "badge", "door",
    "alarm", "keycard", "parking", "projector", "screen", "cable", "adapter", "charger", "kitchen",
    "fridge", "tv", "browser", "bookmark", "wallpaper", "restart", "slow", "freeze", "popup",
    "notification", "sound", "volume", "zoom", "webinar", "recording", "invite", "room", "booking",
    "quickbooks", "timesheet", "expenses", "pdf", "scanner", "copier", "toner", "paper", "stapler",
    "courier", "delivery", "invoice", "quote", "contract", "laptop", "mouse", "keyboard",
    "headset", "dock", "usb", "stick", "archive",
]
# fmt: on

EHR = [
    "The EHR crashed again while syncing patient records",
    "EHR sync crash at reception this morning",
    "Sync with the EHR fails and the app crashes",
    "EHR keeps crashing during the nightly sync",
    "EHR crash when the sync starts, lost my notes",
    "EHR client crash after sync error 0x80",
]

PAYROLL = [
    "Sage payroll export fails with an error",
    "Payroll export to Sage failing again",
    "Can't export payroll from Sage",
    "Sage payroll won't export the BACS file",
]


def grab_bag_ticket(rng: random.Random) -> str:
    """A one-off ticket: words from everywhere, no recurring theme."""
    words = " ".join(rng.sample(GENERIC, rng.randint(5, 9)))
    return f"{rng.choice(GREETINGS)} {words}. Thanks {rng.choice(NAMES)}"


def themed_ticket(rng: random.Random, lines: list[str]) -> str:
    extra = " ".join(rng.sample(GENERIC, 2))
    return f"{rng.choice(GREETINGS)} {rng.choice(lines)}. {extra}. {rng.choice(NAMES)}"


def mixed(
    seed: int, themes: list[tuple[list[str], int, float]], grab_bag: int
) -> tuple[list[str], list[float], list[set[int]]]:
    """Shuffled texts and minutes, and for each planted theme the indices of its tickets."""
    rng = random.Random(seed)
    rows: list[tuple[str, float, int]] = [(grab_bag_ticket(rng), 15.0, -1) for _ in range(grab_bag)]
    for number, (lines, count, minutes) in enumerate(themes):
        rows += [(themed_ticket(rng, lines), minutes, number) for _ in range(count)]
    rng.shuffle(rows)
    planted = [
        {i for i, (_, _, theme) in enumerate(rows) if theme == n} for n in range(len(themes))
    ]
    return [text for text, _, _ in rows], [minutes for _, minutes, _ in rows], planted


def test_a_planted_recurring_theme_is_found_and_ranked_first_by_minutes() -> None:
    texts, minutes, [ehr] = mixed(seed=7, themes=[(EHR, 60, 90.0)], grab_bag=200)
    suggestions = suggest_categories(texts, minutes)
    top = suggestions[0]
    assert "ehr" in top.top_terms[:3]
    assert top.label == " · ".join(top.top_terms[:3])
    assert top.tickets >= 40
    assert top.minutes == 90.0 * top.tickets
    assert 1 <= len(top.example_indices) <= 20
    assert set(top.example_indices) <= ehr


def test_suggestions_are_ranked_by_minutes_not_by_tickets() -> None:
    texts, minutes, [ehr, payroll] = mixed(
        seed=7, themes=[(EHR, 40, 90.0), (PAYROLL, 80, 10.0)], grab_bag=200
    )
    suggestions = suggest_categories(texts, minutes)
    assert set(suggestions[0].example_indices) <= ehr
    payroll_suggestion = next(s for s in suggestions if "payroll" in s.top_terms)
    assert payroll_suggestion.tickets == len(payroll)
    assert payroll_suggestion.minutes == 10.0 * len(payroll)
    assert set(payroll_suggestion.example_indices) <= payroll
    assert [s.minutes for s in suggestions] == sorted(
        (s.minutes for s in suggestions), reverse=True
    )


def test_unrelated_tickets_suggest_nothing() -> None:
    texts, minutes, _ = mixed(seed=3, themes=[], grab_bag=300)
    assert suggest_categories(texts, minutes) == []


def test_small_input_suggests_nothing() -> None:
    texts = ["EHR sync crash"] * 9
    assert suggest_categories(texts, [30.0] * 9, min_cluster_size=5) == []


def test_suggestions_are_deterministic_for_a_seed() -> None:
    texts, minutes, _ = mixed(seed=7, themes=[(EHR, 60, 90.0)], grab_bag=200)
    assert suggest_categories(texts, minutes, seed=4) == suggest_categories(texts, minutes, seed=4)


def test_fitting_on_a_sample_still_assigns_every_text() -> None:
    texts, minutes, [ehr] = mixed(seed=7, themes=[(EHR, 60, 90.0)], grab_bag=200)
    top = suggest_categories(texts, minutes, sample=150)[0]
    assert "ehr" in top.top_terms
    assert top.tickets >= 40
    assert set(top.example_indices) <= ehr


def test_missing_minutes_count_as_zero() -> None:
    texts, minutes, [ehr] = mixed(seed=7, themes=[(EHR, 60, 90.0)], grab_bag=200)
    unknown = [None if i in ehr else m for i, m in enumerate(minutes)]
    for suggestion in suggest_categories(texts, unknown):
        if set(suggestion.example_indices) <= ehr:
            assert suggestion.minutes == 0.0


def test_texts_and_minutes_must_pair_up() -> None:
    with pytest.raises(ValueError, match="minute"):
        suggest_categories(["a"] * 20, [1.0] * 19)
