"""Groups, licences, devices and dates read from ticket text — deterministic, relative to when
the ticket arrived, and never more than what was written."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from deskhand.triage.dates import find_dates
from deskhand.triage.entities import extract, licence_part_numbers

TUESDAY = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("Please add her to the Finanse group", ("Finanse",)),
        ("add him to Finance Share group", ("Finance Share",)),
        ("add her to the Finance security group", ("Finance",)),
        ("remove Tom from the Domain Admins groups.", ("Domain Admins",)),
        ("add him to the group called Night Shift, thanks", ("Night Shift",)),
        ("add me to the same group as Tom", ()),
        ("Please add her to the group", ()),
    ],
)
def test_group_mentions_are_the_words_before_group(text: str, groups: tuple[str, ...]) -> None:
    assert extract("", text, TUESDAY).groups == groups


@pytest.mark.parametrize(
    ("text", "licences"),
    [
        ("give him a Business Premium licence", ("Business Premium",)),
        ("He needs E3 from today", ("E3",)),
        ("an Exchange Online Plan 1 license", ("Exchange Online Plan 1",)),
        ("assign the M365 licence", ("M365",)),
        ("please give him a licence", ()),
        ("Reset my password, I'm locked out", ()),
    ],
)
def test_licence_mentions_by_name_or_before_licence(text: str, licences: tuple[str, ...]) -> None:
    assert extract("", text, TUESDAY).licences == licences


def test_friendly_licence_names_stand_for_part_numbers() -> None:
    assert licence_part_numbers("E3") == ("SPE_E3", "ENTERPRISEPACK")
    assert licence_part_numbers("Microsoft 365 Business Premium") == ("SPB",)
    assert licence_part_numbers("Exchange Online (Plan 1)") == ("EXCHANGESTANDARD",)
    assert licence_part_numbers("Premium Business") == ()


@pytest.mark.parametrize(
    ("text", "devices"),
    [
        ("LAPTOP-7F3K2 will not boot", ("LAPTOP-7F3K2",)),
        ("DESKTOP-AB12CD3 and LAPTOP-7F3K2", ("DESKTOP-AB12CD3", "LAPTOP-7F3K2")),
        ("my laptop is cd-fd-pc01", ("cd-fd-pc01",)),
        ("asset tag 10442 is the one", ("10442",)),
        ("write to tom.becker@contosodental.example", ()),
        ("Please reset my password", ()),
    ],
)
def test_devices_are_hostnames_and_asset_tags(text: str, devices: tuple[str, ...]) -> None:
    assert extract("", text, TUESDAY).devices == devices


@pytest.mark.parametrize(
    ("text", "on", "at"),
    [
        ("She starts from Monday", date(2026, 11, 30), None),
        ("this Tuesday", date(2026, 11, 24), None),  # "this" may be the day received
        ("next Tuesday", date(2026, 12, 1), None),  # a bare or "next" weekday is after it
        ("on 3 December please", date(2026, 12, 3), None),
        ("since 20 November", date(2026, 11, 20), None),  # the nearest: this year's
        ("on 3 January", date(2027, 1, 3), None),  # the nearest: next year's
        ("starting 2026-12-01", date(2026, 12, 1), None),
        ("Dec 3rd, 2027", date(2027, 12, 3), None),
        ("by end of day Friday", date(2026, 11, 27), time(17, 0)),
        ("Friday at 3pm", date(2026, 11, 27), time(15, 0)),
        ("need it by EOD", date(2026, 11, 24), time(17, 0)),
        ("tomorrow at 9:30", date(2026, 11, 25), time(9, 30)),
        ("from next week", date(2026, 11, 30), None),
    ],
)
def test_dates_are_read_relative_to_when_the_ticket_arrived(
    text: str, on: date, at: time | None
) -> None:
    [found] = find_dates(text, TUESDAY)
    assert (found.on, found.at) == (on, at)
    assert found.text in text


@pytest.mark.parametrize("text", ["on 31 February", "on 3/12", "I sat down", "at 25:00 tomorrow"])
def test_impossible_or_ambiguous_dates_are_left_out(text: str) -> None:
    assert find_dates(text, TUESDAY) == []


def test_dates_show_what_was_written_and_what_was_read() -> None:
    named = extract("Starter", "Add Tom from Monday, by end of day Friday.", TUESDAY)
    assert named.for_trace()["dates"] == [
        "from Monday → Mon 30 Nov 2026",
        "by end of day Friday → Fri 27 Nov 2026 17:00",
    ]


def test_extraction_is_deterministic() -> None:
    text = "Add Lisa to the Finanse group and give her E3 from Monday on LAPTOP-7F3K2."
    assert extract("", text, TUESDAY) == extract("", text, TUESDAY)
