"""Minutes per ticket: logged time, and the elapsed and business-hours proxies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskhand.errors import UsageError
from deskhand.history.minutes import (
    BusinessHours,
    business_minutes,
    elapsed_minutes,
    with_logged_minutes,
    without_time,
)
from deskhand.history.quality import Ledger
from deskhand.history.schema import TICKET_SCHEMA, TIME_SCHEMA

NINE_TO_FIVE = BusinessHours.parse("09:00-17:00")


def tickets(*ids: str) -> pl.DataFrame:
    rows = [{"ticket_id": i, "file": "t.csv", "row": n + 2} for n, i in enumerate(ids)]
    return pl.DataFrame(rows, schema=TICKET_SCHEMA)


def entries(*pairs: tuple[str, float | None]) -> pl.DataFrame:
    rows = [
        {"ticket_id": t, "minutes": m, "file": "l.csv", "row": n + 2}
        for n, (t, m) in enumerate(pairs)
    ]
    return pl.DataFrame(rows, schema=TIME_SCHEMA)


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(None, id="text ids"),
        pytest.param(pl.Int64, id="integer ids, summed by offset"),
        pytest.param(pl.String, id="ids as the import keys them"),
    ],
)
def test_logged_minutes_sum_per_ticket_and_count_what_they_leave_out(
    keys: type[pl.DataType] | None,
) -> None:
    ledger = Ledger()
    ticket_frame = tickets("1", "2", "3")
    time = entries(
        ("1", 10), ("1", 5.5), ("1", -5.5), ("2", -3), ("2", 1500), ("9", 20), ("2", None)
    )  # fmt: skip
    if keys is not None:
        ticket_frame, time = (
            f.with_columns(pl.col("ticket_id").cast(keys).alias("key"))
            for f in (ticket_frame, time)
        )
    result = with_logged_minutes(ticket_frame, time, ledger)
    # -5.5 reverses an entry; -3 on a ticket with nothing else does not go below zero.
    assert dict(result.select("ticket_id", "minutes").iter_rows()) == {"1": 10.0, "2": 0, "3": 0}
    assert result.columns == [*ticket_frame.columns, "minutes"]
    assert ledger.counts == {
        "negative_duration": 2,
        "time_entry_over_24h": 1,
        "time_entry_unknown_ticket": 1,
    }
    assert ledger.examples["time_entry_unknown_ticket"] == ["l.csv row 7"]


def test_closed_tickets_without_time_are_found() -> None:
    frame = pl.DataFrame(
        {
            "ticket_id": ["1", "2", "3", "4", "5", "6"],
            "status": ["Resolved", "In Progress", None, "Invoiced", "CLOSED by client", "New"],
            "resolved_at": [None, None, datetime(2026, 1, 1, tzinfo=UTC), None, None, None],
            "minutes": [0.0, 0.0, 0.0, 12.0, 0.0, 0.0],
        }
    )
    found = frame.filter(without_time(frame)).get_column("ticket_id").to_list()
    assert found == ["1", "3", "5"]


def test_business_hours_parse_and_reject() -> None:
    assert BusinessHours.parse("08:00-18:00") == BusinessHours(480, 1080)
    assert BusinessHours.parse("8:30 - 17:15").label == "08:30-17:15"
    for bad in ("8-5", "18:00-08:00", "08:00-25:00"):
        with pytest.raises(UsageError):
            BusinessHours.parse(bad)


def proxy(opened: datetime, resolved: datetime | None, tz: str = "UTC") -> tuple[float, float]:
    frame = pl.DataFrame(
        {"opened_at": [opened], "resolved_at": [resolved]},
        schema={
            "opened_at": TICKET_SCHEMA["opened_at"],
            "resolved_at": TICKET_SCHEMA["resolved_at"],
        },
    )
    row = frame.select(
        elapsed_minutes().alias("e"), business_minutes(tz, NINE_TO_FIVE).alias("b")
    ).row(0)
    return row[0], row[1]


def test_friday_evening_to_monday_morning() -> None:
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    monday = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    elapsed, business = proxy(friday, monday)
    assert elapsed == (monday - friday).total_seconds() / 60
    assert business == 60 + 90


def test_business_hours_follow_the_time_zone() -> None:
    # 13:00-15:00 UTC is 08:00-10:00 in New York in November: one business hour.
    start = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
    _, business = proxy(start, start + timedelta(hours=2), tz="America/New_York")
    assert business == 60


def test_unresolved_tickets_have_no_proxy() -> None:
    assert proxy(datetime(2026, 1, 1, tzinfo=UTC), None) == (None, None)


def brute_force(opened: datetime, resolved: datetime, tz: str) -> float:
    """Count business minutes one minute at a time."""
    zone = ZoneInfo(tz)
    minutes, moment = 0, opened
    while moment < resolved:
        local = moment.astimezone(zone)
        in_hours = NINE_TO_FIVE.start <= local.hour * 60 + local.minute < NINE_TO_FIVE.end
        minutes += local.weekday() < 5 and in_hours
        moment += timedelta(minutes=1)
    return float(minutes)


@settings(max_examples=40, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 1)),
    st.integers(min_value=0, max_value=9 * 24 * 60),
)
def test_business_minutes_match_a_minute_by_minute_count(start: datetime, length: int) -> None:
    opened = start.replace(second=0, microsecond=0, tzinfo=UTC)
    resolved = opened + timedelta(minutes=length)
    assert proxy(opened, resolved)[1] == brute_force(opened, resolved, "UTC")
