"""The committed synthetic Syncro export has the shape and the pitfalls the demo relies on.

These tests read the files with the csv module only, so they check the data itself and not
deskhand's importers.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "examples" / "syncro-synthetic"
GENERATOR = ROOT / "examples" / "generate_syncro.py"

TICKET_HEADER = [
    "Ticket Number",
    "Ticket Subject",
    "Ticket Customer",
    "Tech",
    "Ticket Initial Issue",
    "Ticket Status",
    "Ticket Issue Type",
    "Ticket Created",
    "Ticket Contact",
    "Ticket Priority",
]
LABOUR_HEADER = [
    "Customer",
    "Ticket Number",
    "Tech",
    "Duration Minutes",
    "Billable Status",
    "Labor Type",
    "Created At",
    "Notes",
]
VAGUE_ISSUE_TYPES = {"other", "general", "misc", ""}
CLOSED_STATUSES = {"Resolved", "Closed", "Invoiced"}


def read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows of one committed CSV file."""
    with (EXPORT / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def syncro_time(text: str) -> datetime:
    """Parse Syncro's US export format, e.g. ``11/20/2026 2:05 PM``."""
    return datetime.strptime(text, "%m/%d/%Y %I:%M %p")


def label_group(issue_type: str) -> str:
    """Fold the MSP's spellings of one label together, as a person reading the export would."""
    label = issue_type.strip().lower()
    if any(word in label for word in ("password", "pwd", "pw reset")):
        return "password reset"
    return label


def test_headers_are_exactly_syncros() -> None:
    assert read("tickets.csv")[0] == TICKET_HEADER
    assert read("labour.csv")[0] == LABOUR_HEADER


def test_about_six_thousand_sequential_tickets_over_ninety_days() -> None:
    _, tickets = read("tickets.csv")
    count = len(tickets)
    assert 5500 <= count <= 6500
    numbers = [int(ticket["Ticket Number"]) for ticket in tickets]
    assert numbers == list(range(24001, 24001 + count))
    created = [syncro_time(ticket["Ticket Created"]) for ticket in tickets]
    assert min(created).date() >= date(2026, 8, 23)
    assert max(created).date() == date(2026, 11, 20)
    assert any(moment.day > 12 for moment in created)
    weekend = sum(moment.weekday() >= 5 for moment in created)
    assert 0 < weekend < 0.1 * count


def test_a_third_of_tickets_have_a_vague_issue_type() -> None:
    _, tickets = read("tickets.csv")
    vague = sum(label_group(ticket["Ticket Issue Type"]) in VAGUE_ISSUE_TYPES for ticket in tickets)
    share = vague / len(tickets)
    assert 0.28 <= share <= 0.40


def test_password_resets_are_the_most_frequent_label_but_not_the_most_minutes() -> None:
    _, tickets = read("tickets.csv")
    _, labour = read("labour.csv")
    group_of = {
        ticket["Ticket Number"]: label_group(ticket["Ticket Issue Type"]) for ticket in tickets
    }
    count = Counter(group for group in group_of.values() if group not in VAGUE_ISSUE_TYPES)
    minutes: Counter[str] = Counter()
    for row in labour:
        group = group_of.get(row["Ticket Number"])
        if group is not None and group not in VAGUE_ISSUE_TYPES:
            minutes[group] += int(row["Duration Minutes"])
    assert count.most_common(1)[0][0] == "password reset"
    assert minutes.most_common(1)[0][0] != "password reset"


def test_labour_export_has_the_usual_data_quality_pitfalls() -> None:
    _, tickets = read("tickets.csv")
    _, labour = read("labour.csv")
    logged = {row["Ticket Number"] for row in labour}
    zero_time = [
        ticket
        for ticket in tickets
        if ticket["Ticket Status"] in CLOSED_STATUSES and ticket["Ticket Number"] not in logged
    ]
    assert zero_time
    durations = [int(row["Duration Minutes"]) for row in labour]
    assert max(durations) > 1440
    assert min(durations) < 0
    known = {ticket["Ticket Number"] for ticket in tickets}
    assert len([row for row in labour if row["Ticket Number"] not in known]) == 5
    assert any("\n" in row["Notes"] for row in labour)


def test_labour_is_logged_after_its_ticket_was_created() -> None:
    _, tickets = read("tickets.csv")
    _, labour = read("labour.csv")
    created = {ticket["Ticket Number"]: syncro_time(ticket["Ticket Created"]) for ticket in tickets}
    for row in labour:
        if row["Ticket Number"] in created:
            assert syncro_time(row["Created At"]) > created[row["Ticket Number"]], row


def test_generator_reproduces_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GENERATOR), str(tmp_path)], check=True, capture_output=True)
    for name in ("tickets.csv", "labour.csv"):
        generated = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        committed = hashlib.sha256((EXPORT / name).read_bytes()).hexdigest()
        assert generated == committed, f"{name} differs from the generator's output: make examples"
