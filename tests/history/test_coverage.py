"""What deskhand's installed specialists cover of a history: the specialist of each category,
the share of the minutes they take on, and the costliest category they leave to technicians."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from deskhand.domain.intents import Intent
from deskhand.history.coverage import cover
from deskhand.history.html import render_html
from deskhand.history.report import MinutesSource, Report, specialist_words
from deskhand.history.taxonomy import Taxonomy, load_taxonomy
from deskhand.specialists.registry import discover
from tests.history.test_html import category_rows, findings_section, make_report, parse

# (category, tickets, minutes): onboarding costs most, password resets are most frequent,
# "Dentrix imaging" is the MSP's own PSA label, which no taxonomy category names.
HISTORY = [
    ("New user onboarding", 50, 6000.0),
    ("Password reset", 400, 3000.0),
    ("Dentrix imaging", 30, 1500.0),
    ("Other", 20, 500.0),
]


@dataclass(frozen=True)
class Plugin:
    """A specialist as the registry hands it over: its name and the intents it handles."""

    name: str
    intents: Mapping[str, Intent] = field(default_factory=dict)


def intent(*categories: str) -> Intent:
    return Intent(description="A kind of request.", examples=("an example",), categories=categories)


PASSWORDS = Plugin("password_reset", {"password_reset": intent("Password reset")})


def test_a_category_an_installed_specialist_declares_is_covered_and_a_theme_is_not() -> None:
    rows, coverage = cover(category_rows(HISTORY), load_taxonomy(), [PASSWORDS])
    assert {row.category: row.specialist for row in rows} == {
        "New user onboarding": None,
        "Password reset": "password_reset",
        "Dentrix imaging": None,
        "Other": None,
    }
    assert coverage.covered_minutes == 3000.0
    assert coverage.total_minutes == 11000.0
    assert coverage.share == pytest.approx(3000 / 11000)
    assert coverage.specialists == ["password_reset"]
    assert coverage.largest_uncovered is not None
    assert coverage.largest_uncovered.category == "New user onboarding"
    assert coverage.largest_uncovered.share == pytest.approx(6000 / 11000)


def test_without_installed_specialists_nothing_is_covered() -> None:
    rows, coverage = cover(category_rows(HISTORY), load_taxonomy(), [])
    assert all(row.specialist is None for row in rows)
    assert coverage.share == 0.0 and coverage.covered_minutes == 0.0
    assert coverage.specialists == []


def test_an_msp_s_theme_is_covered_once_mapped_to_an_installed_intent() -> None:
    taxonomy = Taxonomy.model_validate(
        {
            "categories": [
                {"name": "Dentrix imaging", "phrases": ["dentrix"], "intent": "imaging_bridge"},
                {"name": "Other"},
            ]
        }
    )
    imaging = Plugin("imaging", {"imaging_bridge": intent()})
    rows, coverage = cover(category_rows(HISTORY), taxonomy, [imaging])
    assert [row.category for row in rows if row.specialist == "imaging"] == ["Dentrix imaging"]
    assert coverage.covered_minutes == 1500.0
    # Named by the taxonomy but not installed: a technician still does these.
    uninstalled, _ = cover(category_rows(HISTORY), taxonomy, [PASSWORDS])
    assert {row.category: row.specialist for row in uninstalled}["Dentrix imaging"] is None


def test_a_psa_label_that_is_an_intent_s_name_written_otherwise_is_that_intent() -> None:
    printers = Plugin("printer_mapping", {"printer_mapping": intent()})
    spec = [("Printer Mapping", 10, 900.0), ("Printer", 10, 100.0), ("Other", 1, 1.0)]
    rows, _ = cover(category_rows(spec), load_taxonomy(), [printers])
    assert {row.category: row.specialist for row in rows}["Printer Mapping"] == "printer_mapping"
    assert {row.category: row.specialist for row in rows}["Printer"] is None


def test_other_is_never_named_the_largest_uncovered_category() -> None:
    spec = [("Other", 500, 9000.0), ("Printer", 40, 2000.0), ("Password reset", 300, 1000.0)]
    _, coverage = cover(category_rows(spec), load_taxonomy(), [PASSWORDS])
    assert coverage.largest_uncovered is not None
    assert coverage.largest_uncovered.category == "Printer"
    _, everything = cover(category_rows(spec[:1] + spec[2:]), load_taxonomy(), [PASSWORDS])
    assert everything.largest_uncovered is None


def test_the_installed_specialists_cover_the_categories_they_declare() -> None:
    registry = discover()
    taxonomy = load_taxonomy()
    declared = taxonomy.intents_by_category(registry.intents)
    spec = [(name, 10, 100.0) for name in taxonomy.names]
    rows, coverage = cover(category_rows(spec), taxonomy, registry.by_name.values())
    for row in rows:
        expected = declared.get(row.category)
        assert row.specialist == (registry.by_intent[expected].name if expected else None)
    assert coverage.specialists == sorted(registry.by_name)
    assert coverage.covered_minutes == 100.0 * len(declared)


def covered_report(source: MinutesSource = "logged") -> Report:
    rows, coverage = cover(category_rows(HISTORY, source), load_taxonomy(), [PASSWORDS])
    report = make_report(spec=HISTORY, source=source)
    return report.model_copy(update={"categories": rows, "coverage": coverage})


def test_the_report_says_what_the_specialists_cover_in_its_findings() -> None:
    findings = covered_report().headlines()
    assert (
        "deskhand's specialists cover 27% of the technician minutes in this history "
        "(50.0 of 183.3 h)." in findings
    )
    assert (
        "The largest category no specialist covers: New user onboarding, 55% of the "
        "technician minutes." in findings
    )
    assert make_report(spec=HISTORY).coverage_lines() == []


def test_on_a_proxy_the_coverage_is_of_the_proxy_named_as_one() -> None:
    lines = covered_report("elapsed").coverage_lines()
    assert lines[0].startswith("deskhand's specialists cover 27% of the elapsed hours (a proxy) ")
    assert lines[1].endswith("55% of the elapsed hours (a proxy).")
    assert "technician minutes" not in " ".join(lines)


def test_a_specialist_is_written_in_plain_words() -> None:
    assert specialist_words("password_reset") == "password reset"
    assert specialist_words(None) == "none — a technician does these"


def test_the_html_report_names_each_category_s_specialist_and_the_coverage() -> None:
    html = render_html(covered_report())
    findings = " ".join(findings_section(html).split())
    assert "deskhand's specialists cover 27% of the technician minutes in this history" in findings
    assert "The largest category no specialist covers: New user onboarding" in findings
    text = parse(html).visible_text
    assert "“Specialist” is the installed deskhand specialist" in text
    assert "(password reset)" in text  # the installed ones, named in the caption
    row = re.search(r'scope="row">Password reset<.*?</tr>', html, re.DOTALL)
    assert row and ">password reset</td>" in row.group(0)
    assert text.count("none — a technician does these") == 3
    assert parse(html).mismatches == []


def test_a_report_made_without_the_specialists_has_no_specialist_column() -> None:
    text = parse(render_html(make_report(spec=HISTORY))).visible_text
    assert "Specialist" not in text and "a technician does these" not in text
    assert "specialists cover" not in text
