"""A moment is written one way for a person, wherever they read it (pages, the CLI, a trace,
a notification); the API and the event log keep ISO 8601."""

from datetime import UTC, datetime, timedelta, timezone

from deskhand.domain.dates import readable


def test_a_moment_reads_as_day_month_year_and_minutes_in_utc() -> None:
    assert readable(datetime(2026, 12, 7, 20, 19, 49, 312035, tzinfo=UTC)) == (
        "7 Dec 2026 20:19 UTC"
    )
    in_new_york = datetime(2026, 12, 7, 15, 19, tzinfo=timezone(timedelta(hours=-5)))
    assert readable(in_new_york) == "7 Dec 2026 20:19 UTC"


def test_an_iso_string_from_an_event_reads_the_same_and_nothing_reads_as_nothing() -> None:
    assert readable("2026-12-07T20:19:49.312035+00:00") == "7 Dec 2026 20:19 UTC"
    assert readable(None) == "" and readable("") == ""
    assert readable("not a date") == "not a date"
