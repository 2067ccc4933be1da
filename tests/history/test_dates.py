"""Reading PSA dates: ISO, US and day-first, with and without zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskhand.errors import UsageError
from deskhand.history.dates import (
    DateOrder,
    check_timezone,
    detect_order,
    parse_bound,
    parse_datetimes,
)

moments = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2090, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


def parse(values: list[str | None], tz: str = "UTC", dayfirst: bool | None = None) -> list[object]:
    series = pl.Series(values, dtype=pl.String)
    order = detect_order([series], dayfirst)
    return parse_datetimes(series, order, tz).to_list()


def test_day_first_is_detected_when_a_first_field_is_above_12() -> None:
    order = detect_order([pl.Series(["1/3/2016 10:00", "29/2/2016 01:16"])], None)
    assert order.order == "day_first"
    assert "29/2/2016 01:16" in order.evidence


def test_month_first_is_detected_when_a_second_field_is_above_12() -> None:
    order = detect_order([pl.Series(["11/20/2026 2:05 PM", "1/5/2026 9:00 AM"])], None)
    assert order.order == "month_first"
    assert "11/20/2026" in order.evidence


def test_ambiguous_dates_read_month_first_and_say_so() -> None:
    order = detect_order([pl.Series(["1/3/2016", "2/4/2016"])], None)
    assert order.order == "month_first"
    assert "ambiguous" in order.evidence
    assert "--dayfirst" in order.evidence


def test_dayfirst_flag_wins_over_detection() -> None:
    order = detect_order([pl.Series(["11/20/2026"])], True)
    assert order == DateOrder("day_first", "day first (--dayfirst given)")


def test_mixed_orders_pick_the_majority_and_report_both() -> None:
    values = ["13/1/2020", "14/1/2020", "1/13/2020"]
    order = detect_order([pl.Series(values)], None)
    assert order.order == "day_first"
    assert "mixed" in order.evidence
    assert parse(values)[2] is None


def test_iso_only_data_is_iso() -> None:
    assert detect_order([pl.Series(["2026-01-02 10:00"])], None).order == "iso"


def test_day_first_example_from_the_issue_parses() -> None:
    assert parse(["29/2/2016 01:16", "1/3/2016 10:00"]) == [
        datetime(2016, 2, 29, 1, 16, tzinfo=UTC),
        datetime(2016, 3, 1, 10, 0, tzinfo=UTC),
    ]


def test_us_twelve_hour_clock() -> None:
    assert parse(["11/20/2026 2:05 PM", "11/20/2026 12:30 AM"]) == [
        datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
        datetime(2026, 11, 20, 0, 30, tzinfo=UTC),
    ]


def test_offsets_and_z_are_honoured_and_naive_times_use_tz() -> None:
    values = ["2026-07-01T09:00:00Z", "2026-07-01 09:00:00-05:00", "2026-07-01 09:00"]
    assert parse(values, tz="America/New_York") == [
        datetime(2026, 7, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 14, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 13, 0, tzinfo=UTC),
    ]


def test_empty_and_unreadable_values_are_null() -> None:
    assert parse(["", None, "not a date", "2026-02-30 10:00", "2026-01-01"]) == [
        None,
        None,
        None,
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
    ]


def test_two_digit_years_are_read_as_this_century() -> None:
    assert parse(["12/31/25 10:00"]) == [datetime(2025, 12, 31, 10, 0, tzinfo=UTC)]


def test_dotted_dates_are_day_first() -> None:
    assert parse(["03.04.2026 10:00"]) == [datetime(2026, 4, 3, 10, 0, tzinfo=UTC)]


def test_unknown_time_zone_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Unknown time zone"):
        check_timezone("Mars/Olympus")


def test_until_date_means_the_end_of_that_day() -> None:
    assert parse_bound("2026-01-05", "UTC", end_of_day=True) == datetime(
        2026, 1, 5, 23, 59, 59, 999999, tzinfo=UTC
    )
    with pytest.raises(UsageError, match="Cannot read the date"):
        parse_bound("soon", "UTC")


@settings(max_examples=60, deadline=None)
@given(st.lists(moments, min_size=1, max_size=20))
def test_iso_text_round_trips(values: list[datetime]) -> None:
    text = [v.strftime("%Y-%m-%dT%H:%M:%S") for v in values]
    assert parse(text) == [v.replace(tzinfo=UTC) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(moments, min_size=1, max_size=20), st.booleans())
def test_slash_dates_round_trip_when_the_order_is_known(
    values: list[datetime], dayfirst: bool
) -> None:
    pattern = "%d/%m/%Y %H:%M" if dayfirst else "%m/%d/%Y %H:%M"
    text = [v.strftime(pattern) for v in values]
    assert parse(text, dayfirst=dayfirst) == [v.replace(tzinfo=UTC) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(moments, min_size=1, max_size=20))
def test_detection_never_contradicts_proof_in_the_data(values: list[datetime]) -> None:
    # A day above 12 in the first field proves day-first; it must be detected.
    values = [*values, datetime(2020, 1, 13, 10, 0)]
    text = [v.strftime("%d/%m/%Y %H:%M") for v in values]
    order = detect_order([pl.Series(text)], None)
    assert order.order == "day_first"
    parsed = parse_datetimes(pl.Series(text), order, "UTC").to_list()
    assert parsed == [v.replace(tzinfo=UTC) for v in values]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
def test_arbitrary_text_never_raises(values: list[str]) -> None:
    result = parse(list(values))
    assert len(result) == len(values)
    assert all(r is None or isinstance(r, datetime) for r in result)


def test_years_outside_1990_to_2100_are_misreads() -> None:
    # Year 26 AD is a misread two-digit year, not history: it must not become a date.
    assert parse(["0026-01-01"]) == [None]
    assert parse(["2026-01-01"])[0] - datetime(2026, 1, 1, tzinfo=UTC) == timedelta(0)


def _order_value_by_value(column: pl.Series) -> tuple[int, int, str | None, str | None]:
    """What ``detect_order`` decides from, worked out for each distinct value on its own: how
    many look day-first and month-first, and the lowest example of each."""
    import re

    slash = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}")
    day, month = [], []
    for value in set(column.drop_nulls().to_list()):
        found = slash.match(value)
        if found is None or not found[1].isascii() or not found[2].isascii():
            continue
        if int(found[1]) > 12:
            day.append(value)
        if int(found[2]) > 12:
            month.append(value)
    return len(day), len(month), min(day, default=None), min(month, default=None)


date_texts = st.lists(
    st.one_of(
        st.text(alphabet=" 0123456789/.-:", max_size=16),
        st.builds(
            lambda pad, d, m, y, rest: f"{pad}{d}/{m}/{y}{rest}",
            st.sampled_from(["", " ", "  \t"]),
            st.integers(1, 31),
            st.integers(1, 31),
            st.sampled_from(["26", "2026", "20264"]),
            st.sampled_from(["", " 10:00", " 9:05 PM"]),
        ),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=80, deadline=None)
@given(date_texts)
def test_detection_counts_and_names_each_distinct_value(values: list[str]) -> None:
    # detect_order reads each distinct beginning of a date once; its counts and its example are
    # still those of the distinct values, leading spaces and all.
    day, month, day_example, month_example = _order_value_by_value(pl.Series(values))
    order = detect_order([pl.Series(values)], None)
    if day and month:
        assert f"{day:,} dates look day-first and {month:,} month-first" in order.evidence
    elif day:
        assert order.evidence == f"day first, detected: {day_example!r} has a first field above 12"
    elif month:
        assert order.order == "month_first"
        assert f"detected: {month_example!r} has" in order.evidence
    else:
        assert "detected" not in order.evidence
