"""Recognising a PSA export from its header, and what the user is told when it cannot be."""

from __future__ import annotations

import pytest

from deskhand.errors import InputError, UsageError
from deskhand.history.formats import normalise_header, parse_map, resolve

SYNCRO_TICKETS = [
    "Ticket Number", "Ticket Subject", "Ticket Customer", "Tech", "Ticket Initial Issue",
    "Ticket Status", "Ticket Issue Type", "Ticket Created", "Ticket Contact", "Ticket Priority",
]  # fmt: skip
SYNCRO_LABOUR = [
    "Customer", "Ticket Number", "Tech", "Duration Minutes", "Billable Status", "Labor Type",
    "Created At", "Notes",
]  # fmt: skip
SYNCRO_TICKETS_JSON = [
    "id", "number", "subject", "created_at", "customer_id", "customer_business_then_name",
    "resolved_at", "problem_type", "status", "user_id", "comments",
]  # fmt: skip
SYNCRO_TIMERS_JSON = [
    "id", "ticket_id", "user_id", "start_time", "end_time", "recorded", "billable", "notes",
    "active_duration", "billable_time",
]  # fmt: skip
CW_TICKETS = [
    "id", "summary", "board", "status", "company", "type", "subType", "item", "dateEntered",
    "closedDate",
]  # fmt: skip
CW_TIME = [
    "id", "chargeToId", "chargeToType", "member", "timeStart", "timeEnd", "actualHours",
    "hoursBilled", "workType", "notes",
]  # fmt: skip
AUTOTASK_TICKETS = [
    "TicketID", "Title", "Description", "IssueType", "SubIssueType", "QueueID", "CreateDate",
    "CompletedDate",
]  # fmt: skip
AUTOTASK_TIME = [
    "TicketID", "ResourceID", "DateWorked", "StartDateTime", "EndDateTime", "HoursWorked",
    "HoursToBill",
]  # fmt: skip
HALO_TICKETS = [
    "id", "summary", "details", "tickettype", "category_1", "category_2", "category_3",
    "client_name", "dateoccurred", "datecreated",
]  # fmt: skip
HALO_ACTIONS = ["id", "ticket_id", "who", "timetaken", "datetimestamp", "note"]


@pytest.mark.parametrize(
    ("header", "label", "kind"),
    [
        (SYNCRO_TICKETS, "Syncro ticket CSV", "tickets"),
        (SYNCRO_LABOUR, "Syncro labour CSV", "time"),
        (SYNCRO_TICKETS_JSON, "Syncro /tickets JSON", "tickets"),
        (SYNCRO_TIMERS_JSON, "Syncro /ticket_timers JSON", "time"),
        (CW_TICKETS, "ConnectWise Manage service tickets", "tickets"),
        (CW_TIME, "ConnectWise Manage time entries", "time"),
        (AUTOTASK_TICKETS, "Autotask tickets", "tickets"),
        (AUTOTASK_TIME, "Autotask time entries", "time"),
        (HALO_TICKETS, "HaloPSA tickets", "tickets"),
        (HALO_ACTIONS, "HaloPSA actions", "time"),
    ],
)
def test_each_psa_layout_is_recognised(header: list[str], label: str, kind: str) -> None:
    resolved = resolve("export.csv", header, {}, None)
    assert resolved.layout.label == label
    assert resolved.kind == kind
    assert "ticket_id" in resolved.fields


def test_header_case_spaces_and_underscores_do_not_matter() -> None:
    header = [h.lower().replace(" ", "_") for h in SYNCRO_LABOUR]
    resolved = resolve("labour.csv", header, {}, None)
    assert resolved.layout.label == "Syncro labour CSV"
    assert resolved.fields["minutes"] == "duration_minutes"


def test_layout_fields_point_at_the_files_own_header_names() -> None:
    resolved = resolve("tickets.csv", SYNCRO_TICKETS, {}, None)
    assert resolved.fields["category"] == "Ticket Issue Type"
    assert resolved.fields["opened_at"] == "Ticket Created"


def test_connectwise_category_keeps_its_sub_type() -> None:
    assert resolve("t.csv", CW_TICKETS, {}, None).fields["category2"] == "subType"


def test_a_near_miss_names_the_missing_column_and_the_map_that_fixes_it() -> None:
    header = ["Customer", "Ticket Number", "Tech", "Duration", "Billable Status", "Notes"]
    with pytest.raises(InputError) as caught:
        resolve("labor.csv", header, {}, None)
    message = str(caught.value)
    assert "labor.csv looks like a Syncro labour CSV" in message
    assert "minutes" in message
    assert "Found: Customer, Ticket Number, Tech, Duration" in message
    assert "--map minutes=Duration" in message


def test_the_suggested_map_fixes_the_near_miss() -> None:
    header = ["Customer", "Ticket Number", "Tech", "Duration", "Billable Status", "Notes"]
    resolved = resolve("labor.csv", header, {"minutes": "Duration"}, None)
    assert resolved.layout.label == "Syncro labour CSV"
    assert resolved.fields["minutes"] == "Duration"


def test_unknown_format_explains_generic_mapping() -> None:
    with pytest.raises(InputError) as caught:
        resolve("weird.csv", ["foo", "bar"], {}, None)
    assert "Could not recognise the format of weird.csv" in str(caught.value)
    assert "--format generic --map ticket_id=COLUMN" in str(caught.value)


def test_generic_mapping_decides_the_kind() -> None:
    mapping = {"ticket_id": "case", "timestamp": "when", "category": "product"}
    assert resolve("log.csv", ["case", "when", "product"], mapping, None).kind == "tickets"
    mapping_time = {"ticket_id": "case", "minutes": "mins"}
    assert resolve("t.csv", ["case", "mins"], mapping_time, "generic").kind == "time"
    both = {"ticket_id": "case", "opened_at": "when", "minutes": "mins"}
    assert resolve("t.csv", ["case", "when", "mins"], both, None).kind == "tickets+time"


def test_generic_tickets_need_a_date() -> None:
    with pytest.raises(InputError, match=r"(?s)no column for opened_at.*--map opened_at=COLUMN"):
        resolve("t.csv", ["case", "product"], {"ticket_id": "case"}, "generic")


def test_forced_format_that_does_not_fit_says_so() -> None:
    with pytest.raises(InputError, match="does not look like a HaloPSA export"):
        resolve("t.csv", ["x", "y"], {}, "halo")


def test_parse_map_accepts_repeats_and_commas_and_rejects_nonsense() -> None:
    assert parse_map(["ticket_id=case:concept:name", "minutes = Duration"]) == {
        "ticket_id": "case:concept:name",
        "minutes": "Duration",
    }
    with pytest.raises(UsageError, match="unknown field 'colour'"):
        parse_map(["colour=red"])
    with pytest.raises(UsageError, match="is not field=column"):
        parse_map(["minutes"])


def test_normalise_header() -> None:
    assert normalise_header(" Ticket_Number ") == normalise_header("TicketNumber") == "ticketnumber"


def test_a_misspelt_map_column_is_named_with_the_closest_one_when_a_file_is_refused() -> None:
    header = ["Ticket", "Created", "Issue Type"]
    mapping = {"ticket_id": "Ticket", "opened_at": "Creatd"}
    with pytest.raises(InputError) as refused:
        resolve("t.csv", header, mapping, "generic")
    assert refused.value.message.endswith(
        "--map opened_at=Creatd: t.csv has no column 'Creatd' (did you mean 'Created'?)."
    )
    # One mapping serves every file of an export: a column another file has is no error here.
    both = {**mapping, "opened_at": "Created", "minutes": "Duration"}
    assert resolve("t.csv", header, both, "generic").fields["opened_at"] == "Created"


def test_the_hint_for_an_unknown_format_repeats_map_for_each_field() -> None:
    with pytest.raises(InputError) as refused:
        resolve("weird.csv", ["foo", "bar"], {}, None)
    assert "--map ticket_id=COLUMN --map opened_at=COLUMN" in (refused.value.hint or "")
