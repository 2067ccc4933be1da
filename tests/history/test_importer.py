"""From export files to canonical tickets and time entries, with every bad row counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from deskhand.errors import InputError, UsageError
from deskhand.history.importer import import_history
from deskhand.history.minutes import with_logged_minutes
from deskhand.history.quality import Ledger
from tests.history.test_formats import (
    AUTOTASK_TICKETS,
    AUTOTASK_TIME,
    CW_TICKETS,
    CW_TIME,
    HALO_ACTIONS,
    HALO_TICKETS,
    SYNCRO_LABOUR,
    SYNCRO_TICKETS,
)
from tests.support import WriteCsv


def syncro_ticket(
    number: str, subject: str, issue_type: str, created: str, status: str = "Resolved"
) -> list[str]:
    return [
        number,
        subject,
        "Acme Dental",
        "Dana K.",
        "body",
        status,
        issue_type,
        created,
        "Pat",
        "2 Normal",
    ]


def test_syncro_csv_pair_with_messy_ids(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("24001", "Reset password", "Password Reset", "11/20/2026 2:05 PM"),
            syncro_ticket("24002", "New starter", "Onboarding", "11/19/2026 9:00 AM"),
        ],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [
            ["Acme", "#24001", "Dana K.", "6", "Billable", "Remote", "11/20/2026 2:30 PM", ""],
            ["Acme", "24002.0", "Lee M.", "45", "Billable", "Remote", "11/19/2026 10:00 AM", ""],
            ["Acme", "24002", "Dana K.", "1:30", "Billable", "Onsite", "11/20/2026 10:00 AM", ""],
        ],
    )
    ledger = Ledger()
    imported = import_history([tmp_path], ledger=ledger, tz="America/Chicago")
    assert imported.format == "syncro"
    assert imported.has_time
    assert imported.dates.order == "month_first"
    tickets = imported.tickets.sort("ticket_id")
    assert tickets.get_column("ticket_id").to_list() == ["24001", "24002"]
    assert tickets.get_column("category_raw").to_list() == ["Password Reset", "Onboarding"]
    assert tickets.get_column("opened_at").to_list()[0] == datetime(2026, 11, 20, 20, 5, tzinfo=UTC)
    time = imported.time.sort("ticket_id", "minutes")
    assert time.get_column("ticket_id").to_list() == ["24001", "24002", "24002"]
    assert time.get_column("minutes").to_list() == [6.0, 45.0, 90.0]
    assert ledger.counts == {}


def test_connectwise_hours_become_minutes_and_non_ticket_time_is_counted(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    write_csv(
        "service_tickets.csv",
        CW_TICKETS,
        [
            [
                "101",
                "Outlook crash",
                "Help Desk",
                "Closed",
                "Acme",
                "Email",
                "Outlook",
                "",
                "2026-03-01T10:00:00Z",
                "",
            ]
        ],
    )
    write_csv(
        "time_entries.csv",
        CW_TIME,
        [
            [
                "1",
                "101",
                "ServiceTicket",
                "jdoe",
                "2026-03-01T10:00:00Z",
                "",
                "1.5",
                "1",
                "Remote",
                "",
            ],
            [
                "2",
                "101",
                "ServiceTicket",
                "jdoe",
                "2026-03-01T12:00:00Z",
                "2026-03-01T12:20:00Z",
                "",
                "",
                "",
                "",
            ],
            ["3", "900", "ProjectTicket", "jdoe", "2026-03-01T10:00:00Z", "", "3", "3", "", ""],
        ],
    )
    ledger = Ledger()
    imported = import_history([tmp_path], ledger=ledger)
    assert imported.tickets.get_column("category_raw").to_list() == ["Email / Outlook"]
    assert sorted(imported.time.get_column("minutes").to_list()) == [20.0, 90.0]
    assert ledger.counts == {"time_entry_not_for_ticket": 1}
    assert ledger.examples["time_entry_not_for_ticket"] == ["time_entries.csv row 4"]


def test_autotask_pair(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv(
        "tickets.csv",
        AUTOTASK_TICKETS,
        [
            [
                "T20260301.0001",
                "VPN down",
                "desc",
                "Network",
                "VPN",
                "5",
                "2026-03-01 08:00",
                "2026-03-01 09:00",
            ]
        ],
    )
    write_csv(
        "time.csv",
        AUTOTASK_TIME,
        [["T20260301.0001", "29682885", "2026-03-01", "", "", "0.75", "1"]],
    )
    imported = import_history([tmp_path], ledger=Ledger())
    assert imported.format == "autotask"
    assert imported.tickets.get_column("category_raw").to_list() == ["Network / VPN"]
    assert imported.time.get_column("minutes").to_list() == [45.0]


def test_halo_pair_with_decimal_comma_and_category_fallback(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    def halo(ticket_id: str, category_1: str) -> list[str]:
        return [ticket_id, "Printer jam", "details", "Incident", category_1, "", "", "Acme",
                "03/04/2026 10:00", ""]  # fmt: skip

    write_csv("tickets.csv", HALO_TICKETS, [halo("55", "Printing"), halo("56", " ")], delimiter=";")
    write_csv(
        "actions.csv",
        HALO_ACTIONS,
        [["1", "55", "Sam", "0,5", "03/04/2026 11:00", "fixed"]],
        delimiter=";",
    )
    imported = import_history([tmp_path], ledger=Ledger(), dayfirst=True)
    assert imported.time.get_column("minutes").to_list() == [30.0]
    tickets = imported.tickets.sort("ticket_id")
    assert tickets.get_column("opened_at").to_list()[0] == datetime(2026, 4, 3, 10, tzinfo=UTC)
    # A blank category_1 falls back to the ticket type, row by row.
    assert tickets.get_column("category_raw").to_list() == ["Printing", "Incident"]


def test_syncro_api_json_pages(tmp_path: Path) -> None:
    ticket = {
        "id": 9001,
        "number": 1001,
        "subject": "MFA broken",
        "created_at": "2026-05-01T09:00:00.000-04:00",
        "customer_id": 4,
        "customer_business_then_name": "Acme",
        "resolved_at": None,
        "problem_type": "MFA",
        "status": "New",
        "user_id": 2,
        "comments": [{"id": 1, "body": "My authenticator app stopped working"}],
    }
    timers = [
        {
            "id": n,
            "ticket_id": 9001,
            "user_id": 2,
            "start_time": f"2026-05-01T{hour}:00:00.000Z",
            "end_time": f"2026-05-01T{hour}:{length}:00.000Z",
            "active_duration": seconds,
        }
        for n, hour, length, seconds in ((1, 13, 10, 600), (2, 14, 25, None))
    ]
    meta = {"total_pages": 1, "page": 1}
    (tmp_path / "tickets-page1.json").write_text(json.dumps({"tickets": [ticket], "meta": meta}))
    (tmp_path / "timers-page1.json").write_text(json.dumps({"ticket_timers": timers, "meta": meta}))
    imported = import_history([tmp_path], ledger=Ledger())
    assert imported.tickets.get_column("body").to_list() == ["My authenticator app stopped working"]
    opened = imported.tickets.get_column("opened_at").to_list()
    assert opened == [datetime(2026, 5, 1, 13, tzinfo=UTC)]
    assert sorted(imported.time.get_column("minutes").to_list()) == [10.0, 25.0]


def test_event_log_is_folded_into_one_row_per_ticket(write_csv: WriteCsv) -> None:
    path = write_csv(
        "events.csv",
        ["case", "when", "state", "product", "who"],
        [
            ["A", "2012-01-01 10:00:00+00:00", "Queued", "PROD1", "ann"],
            ["A", "2012-01-01 12:00:00+00:00", "Resolved", "PROD2", "bob"],
            ["A", "2012-01-02 09:00:00+00:00", "In Progress", "PROD2", ""],
            ["A", "2012-01-02 10:00:00+00:00", "Closed", "", "bob"],
            ["B", "2012-01-03 10:00:00+00:00", "Queued", "PROD1", "ann"],
        ],
    )
    mapping = {
        "ticket_id": "case",
        "timestamp": "when",
        "status": "state",
        "category": "product",
        "tech": "who",
    }
    imported = import_history([path], ledger=Ledger(), mapping=mapping)
    assert imported.event_log
    rows = {row["ticket_id"]: row for row in imported.tickets.iter_rows(named=True)}
    assert rows["A"]["opened_at"] == datetime(2012, 1, 1, 10, tzinfo=UTC)
    assert rows["A"]["resolved_at"] == datetime(2012, 1, 2, 10, tzinfo=UTC)
    assert rows["A"]["category_raw"] == "PROD2"  # the latest value, not the last row's blank
    assert rows["A"]["status"] == "Closed"
    assert rows["A"]["reopens"] == 1
    assert rows["B"]["reopens"] == 0


def test_an_event_log_of_plain_integer_ids_is_joined_on_integers(write_csv: WriteCsv) -> None:
    # The events are typed with integer keys; folding them into tickets works the keys out again.
    path = write_csv(
        "events.csv",
        ["case", "when", "state", "product"],
        [
            ["102", "2012-01-01 10:00:00+00:00", "Queued", "PROD1"],
            ["101", "2012-01-01 11:00:00+00:00", "Queued", "PROD1"],
            ["102", "2012-01-01 12:00:00+00:00", "Closed", "PROD1"],
        ],
    )
    mapping = {"ticket_id": "case", "timestamp": "when", "status": "state", "category": "product"}
    imported = import_history([path], ledger=Ledger(), mapping=mapping)
    keys = dict(imported.tickets.select("ticket_id", "key").iter_rows())
    assert keys == {"101": 101, "102": 102}


def test_tickets_of_an_event_log_and_of_a_plain_table_are_put_together() -> None:
    # The plain table kept its integer keys, the folded event log has none: they are put
    # together without keys, which are then worked out for all.
    from types import SimpleNamespace

    from deskhand.history.importer import _tickets

    where = {
        "file": pl.Series(["t.csv"], dtype=pl.Categorical),
        "row": pl.Series([2], dtype=pl.UInt32),
    }
    table = pl.DataFrame({"ticket_id": ["1"], "key": [1], **where})
    events = pl.DataFrame(
        {"ticket_id": ["2"], "key": [2], "timestamp": [datetime.now(UTC)], **where}
    )
    parts = [SimpleNamespace(frame=frame, plain_ids=True) for frame in (table, events)]
    tickets = _tickets(parts, Ledger())  # type: ignore[arg-type]
    assert tickets.get_column("ticket_id").to_list() == ["1", "2"]
    assert "key" not in tickets.columns


def test_duplicates_keep_the_last_row_and_are_counted(write_csv: WriteCsv) -> None:
    path = write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("1", "first", "Email", "2026-01-01 10:00"),
            syncro_ticket("1", "second", "Email", "2026-01-01 10:00"),
            syncro_ticket("2", "other", "Email", "2026-01-01 10:00"),
        ],
    )
    ledger = Ledger()
    imported = import_history([path], ledger=ledger)
    assert imported.tickets.filter(imported.tickets["ticket_id"] == "1")["subject"].to_list() == [
        "second"
    ]
    assert ledger.counts == {"duplicate_ticket_id": 1}


def test_bad_dates_numbers_and_ids_are_counted_with_where(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("1", "ok", "Email", "2026-01-01 10:00"),
            syncro_ticket("2", "bad date", "Email", "yesterday-ish"),
            syncro_ticket("", "no id", "Email", "2026-01-01 10:00"),
        ],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [
            ["Acme", "1", "Dana", "ten", "Billable", "Remote", "2026-01-01 11:00", ""],
            ["Acme", "1", "Dana", "15", "Billable", "Remote", "2026-01-01 11:00", ""],
        ],
    )
    ledger = Ledger()
    imported = import_history([tmp_path], ledger=ledger)
    assert ledger.counts == {"unparseable_date": 1, "missing_ticket_id": 1, "unparseable_number": 1}
    assert ledger.examples["unparseable_date"] == ["tickets.csv row 3"]
    assert ledger.examples["unparseable_number"] == ["labour.csv row 2"]
    assert imported.tickets.height == 2  # the undated ticket is kept; the window counts it


def test_inputs_from_two_psas_are_refused(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv("tickets.csv", SYNCRO_TICKETS, [syncro_ticket("1", "x", "Email", "2026-01-01")])
    write_csv(
        "time.csv", CW_TIME, [["1", "1", "ServiceTicket", "j", "2026-01-01", "", "1", "1", "", ""]]
    )
    with pytest.raises(InputError, match="different PSAs"):
        import_history([tmp_path], ledger=Ledger())


def test_time_entries_alone_are_refused(write_csv: WriteCsv) -> None:
    path = write_csv(
        "labour.csv", SYNCRO_LABOUR, [["Acme", "1", "D", "5", "", "", "2026-01-01", ""]]
    )
    with pytest.raises(InputError, match="only time entries"):
        import_history([path], ledger=Ledger())


def test_a_map_to_a_column_no_file_has_is_a_usage_error(write_csv: WriteCsv) -> None:
    path = write_csv(
        "tickets.csv", SYNCRO_TICKETS, [syncro_ticket("1", "x", "Email", "2026-01-01")]
    )
    with pytest.raises(UsageError, match="no input file has a column named 'Effort'"):
        import_history([path], ledger=Ledger(), mapping={"minutes": "Effort"})


def test_stray_files_in_a_folder_are_skipped_but_named_ones_are_errors(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    write_csv("tickets.csv", SYNCRO_TICKETS, [syncro_ticket("1", "x", "Email", "2026-01-01")])
    stray = tmp_path / "settings.json"
    stray.write_text('{"theme": "dark", "page_size": 50}')
    imported = import_history([tmp_path], ledger=Ledger())
    assert imported.skipped == ["settings.json"]
    assert imported.tickets.height == 1
    with pytest.raises(InputError, match=r"Could not recognise the format of settings\.json"):
        import_history([tmp_path / "tickets.csv", stray], ledger=Ledger())


def test_a_folder_with_no_export_among_its_files_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.csv").write_text("what,when\nlunch,noon\n")
    with pytest.raises(InputError, match=r"None of the files found is a PSA export: notes\.csv"):
        import_history([tmp_path], ledger=Ledger())


@pytest.mark.parametrize("other", ["0042", "42A"])
def test_ids_that_are_not_plain_integers_stay_tickets_of_their_own(
    write_csv: WriteCsv, tmp_path: Path, other: str
) -> None:
    # Plain integer ids are joined as integers; one id that is not ("0042", "42A") makes the
    # import join on the text, so "42" and "0042" never become one ticket.
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("42", "Printer", "Printer", "11/20/2026 2:05 PM"),
            syncro_ticket(other, "VPN", "VPN", "11/20/2026 3:05 PM"),
        ],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [
            ["Acme", "42", "Dana K.", "10", "Billable", "Remote", "11/20/2026 2:30 PM", ""],
            ["Acme", other, "Dana K.", "30", "Billable", "Remote", "11/20/2026 3:30 PM", ""],
        ],
    )
    ledger = Ledger()
    imported = import_history([tmp_path], ledger=ledger)
    assert imported.tickets.get_column("key").dtype == pl.String
    minutes = with_logged_minutes(imported.tickets, imported.time, ledger)
    assert dict(minutes.select("ticket_id", "minutes").iter_rows()) == {"42": 10.0, other: 30.0}
    assert ledger.counts == {}


def test_plain_integer_ids_are_joined_as_integers(write_csv: WriteCsv, tmp_path: Path) -> None:
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [syncro_ticket("42", "Printer", "Printer", "11/20/2026 2:05 PM")],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [["Acme", "42", "Dana K.", "10", "Billable", "Remote", "11/20/2026 2:30 PM", ""]],
    )
    imported = import_history([tmp_path], ledger=Ledger())
    assert imported.tickets.get_column("key").to_list() == [42]
    assert imported.time.get_column("key").to_list() == [42]


def test_one_file_with_an_id_that_is_not_a_plain_integer_makes_both_join_on_text(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    # The tickets' ids are all plain integers, a time entry's is not: "0043" is no ticket of
    # this export, and must not become ticket 43 by being read as a number.
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("42", "Printer", "Printer", "11/20/2026 2:05 PM"),
            syncro_ticket("43", "VPN", "VPN", "11/20/2026 3:05 PM"),
        ],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [
            ["Acme", "42", "Dana K.", "10", "Billable", "Remote", "11/20/2026 2:30 PM", ""],
            ["Acme", "0043", "Dana K.", "30", "Billable", "Remote", "11/20/2026 3:30 PM", ""],
        ],
    )
    ledger = Ledger()
    imported = import_history([tmp_path], ledger=ledger)
    assert imported.tickets.get_column("key").dtype == pl.String
    minutes = with_logged_minutes(imported.tickets, imported.time, ledger)
    assert dict(minutes.select("ticket_id", "minutes").iter_rows()) == {"42": 10.0, "43": 0.0}
    assert ledger.counts == {"time_entry_unknown_ticket": 1}


def test_a_time_files_dates_decide_the_order_though_tickets_are_typed_first(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    """The ticket files are read and typed while the time files are still being read; when a
    time file's columns hold dates, they count in the order's detection all the same."""
    ticket = ["101", "Outlook crash", "Help Desk", "Closed", "Acme", "Email", "", "", "", ""]
    write_csv("service_tickets.csv", CW_TICKETS, [[*ticket[:8], "01/02/2026 09:00", ""]])
    entry = ["1", "101", "ServiceTicket", "jdoe", "25/01/2026 10:00", "25/01/2026 10:30"]
    write_csv("time_entries.csv", CW_TIME, [[*entry, "", "", "", ""]])
    imported = import_history([tmp_path], ledger=Ledger())
    assert imported.dates.order == "day_first"
    assert "25/01/2026" in imported.dates.evidence
    opened = imported.tickets.get_column("opened_at").item(0)
    assert (opened.month, opened.day) == (2, 1)
    assert imported.time.get_column("minutes").to_list() == [30.0]


def test_what_each_file_adds_to_the_ledger_comes_in_the_order_the_files_were_found(
    write_csv: WriteCsv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """labour.csv is found before tickets.csv but read after it: its rows still come first."""
    from deskhand.history import sources

    monkeypatch.setattr(sources.LIMITS, "cell_bytes", 40)
    long = "x" * 50
    write_csv(
        "tickets.csv",
        SYNCRO_TICKETS,
        [
            syncro_ticket("1", "ok", "Email", "2026-01-01 10:00"),
            syncro_ticket("2", long, "Email", "2026-01-01 10:00"),
        ],
    )
    write_csv(
        "labour.csv",
        SYNCRO_LABOUR,
        [
            ["Acme", "1", "Dana", "15", "Billable", "Remote", "2026-01-01 11:00", ""],
            ["Acme", "1", long, "15", "Billable", "Remote", "2026-01-01 11:00", ""],
        ],
    )
    ledger = Ledger()
    import_history([tmp_path], ledger=ledger)
    assert ledger.counts == {"cell_too_long": 2}
    assert ledger.examples["cell_too_long"] == ["labour.csv row 3", "tickets.csv row 3"]


def test_a_ticket_file_that_fails_to_read_is_the_error_whichever_file_was_waited_for(
    write_csv: WriteCsv, tmp_path: Path
) -> None:
    """The time file is found first and its dates are needed first, but the ticket file is read
    first: its error is the one raised, not a cancelled read of the time file."""
    entry = ["1", "101", "ServiceTicket", "jdoe", "25/01/2026 10:00", "25/01/2026 10:30"]
    write_csv("a_time_entries.csv", CW_TIME, [[*entry, "", "", "", ""]])
    ticket = ["101", "Outlook crash", "Help Desk", "Closed", "Acme", "Email", "", ""]
    write_csv("service_tickets.csv", CW_TICKETS, [[*ticket, "01/02/2026 09:00", ""]] * 3)
    path = tmp_path / "service_tickets.csv"
    path.write_text(path.read_text().replace("Outlook crash", '"Outlook crash', 1))
    with pytest.raises(InputError, match=r"service_tickets\.csv could not be read as CSV"):
        import_history([tmp_path], ledger=Ledger())
