"""``deskhand analyze`` as a user runs it: a real process, its exit code, stdout and stderr."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from deskhand.history.taxonomy import load_taxonomy
from deskhand.specialists.registry import discover
from tests.history.test_formats import SYNCRO_LABOUR, SYNCRO_TICKETS
from tests.support import EXAMPLES, SHARED_DATA, WriteCsv

BPIC13_MAP = [
    "--map", "ticket_id=case:concept:name", "--map", "timestamp=time:timestamp",
    "--map", "category=product", "--map", "tech=org:resource",
    "--map", "status=lifecycle:transition",
]  # fmt: skip
HELPDESK_MAP = [
    "--map", "ticket_id=case:concept:name", "--map", "timestamp=time:timestamp",
    "--map", "category=product", "--map", "tech=org:resource", "--map", "status=concept:name",
    "--map", "customer=customer",
]  # fmt: skip


def deskhand(*args: str | Path, columns: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskhand", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": str(columns), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )


def analyze_json(*args: str | Path) -> dict[str, Any]:
    result = deskhand("analyze", "--json", *args)
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    return analyze_json(EXAMPLES, "--rate", "65")


@pytest.fixture(scope="module")
def recategorized() -> dict[str, Any]:
    return analyze_json(EXAMPLES, "--rate", "65", "--recategorize")


def test_example_json_has_the_documented_shape(example: dict[str, Any]) -> None:
    assert set(example) >= {
        "window", "totals", "categories", "suggested_categories", "data_quality", "format",
    }  # fmt: skip
    assert set(example["window"]) == {"start", "end", "days"}
    assert example["window"]["days"] == 90
    assert set(example["totals"]) == {"tickets", "minutes", "minutes_source"}
    assert example["totals"]["minutes_source"] == "logged"
    assert example["format"] == "Syncro"
    first = example["categories"][0]
    assert set(first) == {
        "category", "tickets", "minutes", "share_of_minutes", "median_minutes", "p90_minutes",
        "rank_by_minutes", "rank_by_count", "minutes_source", "categorized_by", "specialist",
        "taxonomy_category", "zero_minute_tickets",
    }  # fmt: skip


def test_example_is_ranked_by_minutes_and_counts_add_up(example: dict[str, Any]) -> None:
    rows = example["categories"]
    assert [r["rank_by_minutes"] for r in rows] == list(range(1, len(rows) + 1))
    minutes = [r["minutes"] for r in rows]
    assert minutes == sorted(minutes, reverse=True)
    assert sum(r["tickets"] for r in rows) == example["totals"]["tickets"] == 6000
    assert sum(minutes) == pytest.approx(example["totals"]["minutes"])
    assert sorted(r["rank_by_count"] for r in rows) == list(range(1, len(rows) + 1))


def test_example_shows_the_psa_s_own_categories_untouched(example: dict[str, Any]) -> None:
    tickets = pl.read_csv(EXAMPLES / "tickets.csv", infer_schema=False)
    labels = tickets.get_column("Ticket Issue Type").str.strip_chars().replace("", None)
    own = dict(labels.fill_null("(no category)").value_counts().iter_rows())
    shown = {row["category"]: row["tickets"] for row in example["categories"]}
    assert shown == own  # every label, under its own name and with its own count
    beside = {row["category"]: row["taxonomy_category"] for row in example["categories"]}
    assert beside["New User"] == "New user onboarding"
    assert beside["Printer"] == "Printer"
    assert beside["Misc"] == "Other"
    categorization = example["categorization"]
    assert not categorization["recategorized"]
    assert categorization["merged"] == []
    assert "none was renamed or merged" in categorization["reason"]
    assert 0.28 < categorization["vague_share"] < 0.40
    top_suggestion = example["suggested_categories"][0]
    assert "opalchart" in top_suggestion["top_terms"]
    assert top_suggestion["tickets"] >= 30


def test_recategorized_example_merges_into_the_taxonomy_and_says_what_into_what(
    recategorized: dict[str, Any],
) -> None:
    rows = recategorized["categories"]
    most_frequent = min(rows, key=lambda r: r["rank_by_count"])
    assert most_frequent["category"] == "Password reset"
    assert most_frequent["rank_by_minutes"] > 5
    assert rows[0]["category"] == "New user onboarding"
    categorization = recategorized["categorization"]
    assert categorization["recategorized"]
    assert {"psa", "taxonomy"} <= set(categorization["by"])
    merged = {(m["psa_category"], m["category"]): m["tickets"] for m in categorization["merged"]}
    assert merged[("New User", "New user onboarding")] == 66
    assert merged[("Other", "Password reset")] > 0
    assert (
        sum(merged.values()) + sum(r["tickets"] for r in rows if r["categorized_by"].get("psa"))
        >= recategorized["totals"]["tickets"]
    )
    assert "Merging was asked for (--recategorize" in categorization["reason"]


def test_example_json_says_which_installed_specialist_covers_each_category(
    example: dict[str, Any],
) -> None:
    registry = discover()
    routes = load_taxonomy().intents_by_category(registry.intents)
    rows = example["categories"]
    for row in rows:
        intent = routes.get(row["taxonomy_category"] or row["category"])
        assert row["specialist"] == (registry.by_intent[intent].name if intent else None), row
    coverage = example["coverage"]
    assert coverage["specialists"] == sorted(registry.by_name)
    covered = sum(row["minutes"] for row in rows if row["specialist"])
    assert covered > 0
    assert coverage["covered_minutes"] == pytest.approx(covered)
    assert coverage["total_minutes"] == pytest.approx(example["totals"]["minutes"])
    assert coverage["share"] == pytest.approx(covered / example["totals"]["minutes"], abs=1e-6)
    costliest = next(
        r
        for r in rows
        if r["specialist"] is None
        and "Other" not in (r["category"], r["taxonomy_category"])
        and r["category"] != "(no category)"
    )
    assert coverage["largest_uncovered"] == {
        "category": costliest["category"],
        "share": costliest["share_of_minutes"],
    }


def test_at_80_columns_the_terminal_names_the_specialists_and_what_they_cover() -> None:
    result = deskhand("analyze", EXAMPLES, columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.split()[-1:] == ["Specialist"] for line in lines), result.stdout
    reset = next(line for line in lines if "Password Reset" in line)
    assert reset.rstrip().endswith("password reset"), reset
    printed = " ".join(result.stdout.split())
    assert re.search(
        r"deskhand's specialists cover \d+% of the technician minutes in this history "
        r"\([\d,.]+ of [\d,.]+ h\)\.",
        printed,
    ), printed
    assert re.search(r"The largest category no specialist covers: [^,]+, [\d.]+% of the", printed)
    assert "none: a technician does them" in printed


def test_example_data_quality_is_counted(example: dict[str, Any]) -> None:
    quality = example["data_quality"]
    assert quality["time_entry_over_24h"] == 3
    assert quality["negative_duration"] == 2
    assert quality["time_entry_unknown_ticket"] == 5
    assert quality["closed_with_zero_logged_time"] > 100


def test_minutes_agree_with_an_independent_sum_of_the_labour_file(example: dict[str, Any]) -> None:
    labour = pl.read_csv(EXAMPLES / "labour.csv", infer_schema=False)
    tickets = pl.read_csv(EXAMPLES / "tickets.csv", infer_schema=False)
    minutes = pl.col("Duration Minutes").cast(pl.Float64)
    per_ticket = (
        labour.filter(minutes <= 1440)  # negative entries are corrections: they net out
        .join(tickets.select("Ticket Number"), on="Ticket Number", how="semi")
        .group_by("Ticket Number")
        .agg(minutes.sum().clip(lower_bound=0))
    )
    expected = per_ticket.get_column("Duration Minutes").sum()
    assert example["totals"]["minutes"] == pytest.approx(expected)


def test_terminal_output_html_and_csv(tmp_path: Path) -> None:
    html, table = tmp_path / "report.html", tmp_path / "out" / "categories.csv"
    result = deskhand("analyze", EXAMPLES, "--rate", "65", "--out", html, "--csv", table)
    assert result.returncode == 0, result.stderr
    assert "Categories ranked by total technician minutes" in result.stdout
    assert "New User (New user" in result.stdout  # the taxonomy's name beside the PSA's
    assert "Categories are the PSA's own, untouched" in " ".join(result.stdout.split())
    assert f"HTML report written to {html}" in result.stdout
    page = html.read_text()
    assert "Where your technicians" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "report must work offline"
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    document = json.loads(deskhand("analyze", "--json", EXAMPLES).stdout)
    assert [row["category"] for row in rows] == [c["category"] for c in document["categories"]]


def test_json_is_the_same_with_or_without_the_html_report_s_details(
    tmp_path: Path, example: dict[str, Any]
) -> None:
    # --json alone leaves out the top categories' details (only the HTML report shows them);
    # with --out they are computed, and the JSON must not change.
    html = tmp_path / "report.html"
    result = deskhand("analyze", "--json", EXAMPLES, "--rate", "65", "--out", html)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == example
    page = html.read_text()
    assert page.count('<div class="detail">') == 5
    assert "Example tickets" in page and "<svg" in page.split('id="trend"')[1]


def test_bpic13_event_log_with_the_documented_map() -> None:
    document = analyze_json(SHARED_DATA / "bpic13.events.csv", *BPIC13_MAP, "--days", "1000")
    events = pl.read_csv(SHARED_DATA / "bpic13.events.csv", infer_schema=False)
    assert document["totals"]["tickets"] == events.get_column("case:concept:name").n_unique()
    assert document["totals"]["minutes_source"] == "elapsed"
    assert document["format"] == "generic (--map)"
    assert document["categories"][0]["category"].startswith("PROD")
    assert any("event log" in note for note in document["notes"])


def test_helpdesk_event_log_with_business_hours() -> None:
    document = analyze_json(
        SHARED_DATA / "helpdesk.events.csv", *HELPDESK_MAP,
        "--business-hours", "08:00-18:00", "--tz", "Europe/Rome", "--days", "2000",
    )  # fmt: skip
    assert document["totals"]["minutes_source"] == "business_hours"
    assert document["totals"]["tickets"] == 4580
    elapsed = analyze_json(SHARED_DATA / "helpdesk.events.csv", *HELPDESK_MAP, "--days", "2000")
    assert document["totals"]["minutes"] < elapsed["totals"]["minutes"]


def test_an_event_log_s_proxy_is_named_as_one_in_the_headline_table_and_report(
    tmp_path: Path,
) -> None:
    html = tmp_path / "report.html"
    result = deskhand(
        "analyze", SHARED_DATA / "helpdesk.events.csv", *HELPDESK_MAP, "--days", "2000",
        "--out", html,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = " ".join(result.stdout.split())
    assert "Categories ranked by total elapsed hours (a proxy)" in printed
    assert "takes the most elapsed hours (a proxy)" in printed
    assert "technician minutes" not in printed and "technician time" not in printed
    assert "deskhand's specialists cover 0% of the elapsed hours (a proxy) in this history" in (
        printed
    )
    assert "The largest category no specialist covers: Value " in printed
    page = " ".join(html.read_text().split())
    assert "ranked by total elapsed hours (a proxy) per category" in page
    assert "specialists cover 0% of the elapsed hours (a proxy) in this history" in page
    assert "technician minutes" not in page


def assert_clear_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:")
    for needle in needles:
        assert needle in " ".join(result.stderr.split()), result.stderr


def test_unusable_inputs_exit_2_with_a_message(tmp_path: Path, write_csv: WriteCsv) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert_clear_error(deskhand("analyze", empty), "empty.csv is empty")
    header_only = write_csv("header.csv", SYNCRO_TICKETS, [])
    assert_clear_error(deskhand("analyze", header_only), "has a header but no rows")
    unknown = write_csv("weird.csv", ["foo", "bar"], [["1", "2"]])
    assert_clear_error(deskhand("analyze", unknown), "Could not recognise", "--map")
    assert_clear_error(deskhand("analyze", tmp_path / "missing.csv"), "does not exist")


def test_missing_required_column_says_found_expected_and_map(write_csv: WriteCsv) -> None:
    tickets = write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [["1", "VPN down", "A", "B", "x", "New", "VPN", "1/2/2026", "", ""]],
    )
    header = [h if h != "Duration Minutes" else "Duration" for h in SYNCRO_LABOUR]
    labour = write_csv("labor.csv", header, [["A", "1", "D", "5", "", "", "1/2/2026", ""]])
    assert_clear_error(
        deskhand("analyze", tickets, labour),
        "labor.csv looks like a Syncro labour CSV",
        "Found: Customer, Ticket Number, Tech, Duration",
        "--map minutes=Duration",
    )
    fixed = deskhand("analyze", "--json", tickets, labour, "--map", "minutes=Duration")
    assert fixed.returncode == 0, fixed.stderr
    assert json.loads(fixed.stdout)["totals"]["minutes"] == 5


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (["--map", "colour=red"], "unknown field 'colour'"),
        (["--tz", "Mars/Base"], "Unknown time zone"),
        (["--business-hours", "nine-to-five"], "is not HH:MM-HH:MM"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since comes after --until"),
        (["--until", "2020-01-01"], "No tickets were opened between"),
        (["--minutes-from", "logged", "--format", "syncro"], None),
        (["--rate", "-5"], "--rate -5.0"),
    ],
)
def test_bad_options_exit_2_with_a_message(options: list[str], needle: str | None) -> None:
    result = deskhand("analyze", EXAMPLES, *options)
    if needle is None:
        assert result.returncode == 0, result.stderr
    else:
        assert_clear_error(result, needle)


def test_messy_encodings_and_delimiters_still_analyse(tmp_path: Path, write_csv: WriteCsv) -> None:
    rows = [
        ["1", "Café printer jam", "Zürich AG", "Dana", "Line one\nline two", "Resolved",
         "Printer", "29/2/2016 01:16", "", ""],
        ["2", "Password reset", "Zürich AG", "Dana", "", "Resolved", "Password", "1/3/2016 10:00",
         "", ""],
        ["3", "VPN", "Zürich AG", "Dana", "", "Resolved", "VPN", "not a date", "", ""],
    ]  # fmt: skip
    write_csv("tickets.csv", SYNCRO_TICKETS, rows, delimiter=";", encoding="cp1252")
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [["Zürich AG", "1", "Dana", "12", "", "", "29/2/2016 02:00", ""],
         ["Zürich AG", "2", "Dana", "lots", "", "", "1/3/2016 10:30", ""]],
        encoding="utf-8-sig",
    )  # fmt: skip
    result = deskhand("analyze", "--json", tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["dates"]["order"] == "day_first"
    assert "29/2/2016" in document["dates"]["evidence"]
    assert document["data_quality"] == {
        "unparseable_date": 1,
        "missing_opened_at": 1,
        "unparseable_number": 1,
        "closed_with_zero_logged_time": 1,
    }
    encodings = {f["path"]: (f["encoding"], f["delimiter"]) for f in document["inputs"]}
    assert encodings == {"tickets.csv": ("cp1252", ";"), "labour.csv": ("utf-8-sig", ",")}
    assert document["totals"] == {"tickets": 2, "minutes": 12.0, "minutes_source": "logged"}


def test_json_mode_prints_only_json_even_when_there_are_warnings(write_csv: WriteCsv) -> None:
    path = write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [["1", "x", "A", "D", "", "Resolved", "Email", "1/2/2026", "", ""]] * 2,
    )
    result = deskhand("analyze", "--json", path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data_quality"]["duplicate_ticket_id"] == 1
    assert result.stderr == ""


def test_version_and_help() -> None:
    assert deskhand("--version").stdout.startswith("deskhand ")
    help_text = deskhand("analyze", "--help").stdout
    for option in ("--map", "--dayfirst", "--minutes-from", "--business-hours", "--recategorize"):
        assert option in help_text


CONTACTS = ["Contact ID", "Opened", "Category", "Handle Time", "State", "Summary"]
CONTACTS_MAP = [
    "--map", "ticket_id=Contact ID", "--map", "opened_at=Opened", "--map", "category=Category",
    "--map", "status=State", "--map", "subject=Summary",
]  # fmt: skip


def test_handle_time_in_seconds_is_read_with_map_seconds_and_the_note_names_the_unit(
    write_csv: WriteCsv,
) -> None:
    # A service desk's contact log, one row per contact with its handle time in seconds.
    path = write_csv(
        "contacts.csv",
        CONTACTS,
        [
            ["C1", "2026-03-02 09:00", "Software", "600", "Closed", "Excel crashes"],
            ["C2", "2026-03-02 10:00", "Software", "1800", "Closed", "Outlook slow"],
            ["C3", "2026-03-02 11:00", "Support", "5400", "Closed", "Question"],
            ["C4", "2026-03-03 09:00", "Hardware", "2700", "Closed", "Laptop dock"],
        ],
    )
    document = analyze_json(path, *CONTACTS_MAP, "--map", "seconds=Handle Time")
    minutes = {row["category"]: row["minutes"] for row in document["categories"]}
    assert minutes == {"Software": 40.0, "Support": 90.0, "Hardware": 45.0}
    assert "time_entry_over_24h" not in document["data_quality"]
    assert any(
        "column 'Handle Time' read as seconds, converted to minutes" in note
        for note in document["notes"]
    ), document["notes"]
    # Read as minutes, the same column is 60 times too much: three contacts "over 24 h", left
    # out; the 10-minute one counted as 600. The note says minutes.
    as_minutes = analyze_json(path, *CONTACTS_MAP, "--map", "minutes=Handle Time")
    assert as_minutes["data_quality"]["time_entry_over_24h"] == 3
    assert as_minutes["totals"]["minutes"] == 600.0
    assert any("'Handle Time' read as minutes" in note for note in as_minutes["notes"])


def test_a_syncro_labour_file_with_its_time_in_seconds_is_read_with_map_seconds(
    tmp_path: Path, write_csv: WriteCsv
) -> None:
    ticket = ["Client", "Dana", "", "Resolved", "Printer", "1/2/2026 09:00", "", ""]
    write_csv("tickets.csv", SYNCRO_TICKETS, [[str(n), f"Printer {n}", *ticket] for n in (1, 2)])
    # The labour export with "Duration Seconds" where Syncro writes "Duration Minutes" (the
    # layout's own minutes column is absent), then with both: the mapped one is read.
    seconds_only = [c if c != "Duration Minutes" else "Duration Seconds" for c in SYNCRO_LABOUR]
    entry = ["Client", "1", "Dana", "1200", "", "", "1/2/2026 10:00", ""]
    write_csv("labour.csv", seconds_only, [entry, [*entry[:1], "2", *entry[2:]]])
    mapped = ("--format", "syncro", "--map", "seconds=Duration Seconds")
    document = analyze_json(tmp_path, *mapped)
    assert document["totals"]["minutes"] == 40.0
    assert any("'Duration Seconds' read as seconds" in note for note in document["notes"])
    both = [*SYNCRO_LABOUR, "Duration Seconds"]
    write_csv("labour.csv", both, [[*entry[:3], "20", *entry[4:], "1200"]])
    document = analyze_json(tmp_path, *mapped)
    assert document["totals"]["minutes"] == 20.0
    assert any("'Duration Seconds' read as seconds" in note for note in document["notes"])


def test_tickets_closed_with_no_logged_time_are_counted_named_and_left_out_of_medians(
    tmp_path: Path, write_csv: WriteCsv
) -> None:
    ticket = ["Client", "Dana", "", "Resolved", "Printer", "1/2/2026 09:00", "", ""]
    rows = [[str(n), f"Printer {n}", *ticket] for n in range(1, 7)]
    rows.append(
        ["7", "Printer 7", "Client", "Dana", "", "In Progress", "Printer", "1/2/2026", "", ""]
    )
    write_csv("tickets.csv", SYNCRO_TICKETS, rows)
    # Tickets 1-3 have 10, 20 and 30 minutes; 4-6 were closed with none; 7 is still open.
    labour = [
        ["Client", str(n), "Dana", str(10 * n), "", "", "1/2/2026 10:00", ""] for n in (1, 2, 3)
    ]
    write_csv("labour.csv", SYNCRO_LABOUR, labour)
    html = tmp_path / "report.html"
    result = deskhand("analyze", "--json", tmp_path, "--out", html)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["data_quality"]["closed_with_zero_logged_time"] == 3
    assert document["zero_minute_tickets"] == {"count": 3, "ticket_ids": ["4", "5", "6"]}
    [printer] = document["categories"]
    assert printer["tickets"] == 7  # still counted as tickets
    assert printer["zero_minute_tickets"] == 3
    assert printer["median_minutes"] == 15.0  # of 10, 20, 30 and the open ticket's 0
    page = " ".join(html.read_text().split())
    assert "3 tickets were resolved or closed with no time logged against them" in page
    assert "4, 5, 6" in page
    printed = " ".join(deskhand("analyze", tmp_path).stdout.split())
    assert "ticket 4, ticket 5, ticket 6" in printed


def test_the_reading_bar_shows_on_a_terminal_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deskhand.cli import analyze as command
    from deskhand.cli.common import err

    export = tmp_path / "tickets.csv"
    export.write_text("Ticket Number\n1\n")
    monkeypatch.setattr(err, "_force_terminal", False)
    with command._reading_bar([export]) as advance:
        assert advance is None  # nothing to show where no one watches
    monkeypatch.setattr(err, "_force_terminal", True)
    with command._reading_bar([export]) as advance:
        assert advance is not None
        advance("tickets.csv", export.stat().st_size)


def test_files_read_before_the_bar_is_made_still_advance_it() -> None:
    from deskhand.cli.analyze import _Read

    read, shown = _Read(), []
    read.told("tickets.csv", 10)  # read while the bar was being made
    read.show(lambda name, size: shown.append((name, size)))
    read.told("labour.csv", 20)
    assert shown == [("tickets.csv", 10), ("labour.csv", 20)]
    nothing = _Read()
    nothing.told("tickets.csv", 10)
    nothing.show(None)  # no bar where no one watches
    assert nothing.files == [("tickets.csv", 10)]
