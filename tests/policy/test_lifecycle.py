"""The policy's ``lifecycle`` section and ``time_zone``: a tenant's offboarding defaults, starter
roles and vendor checklist, read with every mistake named by file and line."""

from __future__ import annotations

from datetime import time
from importlib import resources

import pytest

from deskhand.domain.lifecycle import Lifecycle, VendorItem
from deskhand.errors import InputError
from tests.policy.installed import parse_policy

TAIL = "approvers: [approver, admin]\napproval_expiry_hours: 24\n"


def lifecycle(text: str) -> Lifecycle:
    return parse_policy(TAIL + text, "contoso.yaml").lifecycle


def test_a_policy_without_lifecycle_has_the_safe_defaults() -> None:
    found = parse_policy(TAIL, "contoso.yaml")
    assert found.lifecycle == Lifecycle()
    assert found.time_zone == "UTC"
    offboarding = found.lifecycle.offboarding
    assert offboarding.convert_to_shared and offboarding.remove_licences
    assert offboarding.leave_at == time(17, 0)


def test_the_built_in_policy_documents_a_lifecycle_example_that_loads() -> None:
    text = resources.files("deskhand.policy").joinpath("default_policy.yaml").read_text("utf-8")
    start = text.index("# lifecycle:")
    lines = []
    for line in text[start:].splitlines():
        if not line.startswith("# "):
            break
        lines.append(line.removeprefix("# "))
    found = lifecycle("\n".join(lines) + "\n")
    assert found.offboarding.disabled_ou == "OU=Disabled Users,DC=contoso,DC=local"
    assert found.offboarding.auto_reply is not None and "{delegate}" in found.offboarding.auto_reply
    sales = found.role("sales")
    assert sales is not None and sales.groups == ["Sales Team", "All Staff"]
    assert found.vendor_checklist[0].system == "Dentrix"
    assert found.start_at == time(9, 0)


def test_settings_are_read_as_written() -> None:
    found = lifecycle(
        "lifecycle:\n"
        "  offboarding:\n"
        "    leave_at: 18:30\n"
        "    remove_mfa: false\n"
        "  vendor_checklist:\n"
        "    - system: Pax8\n"
        "      offboarding: Reduce the seat count by one\n"
    )
    assert found.offboarding.leave_at == time(18, 30)  # unquoted: YAML 1.1 reads it as a number
    assert found.offboarding.remove_mfa is False
    assert found.vendor_checklist == [
        VendorItem(system="Pax8", offboarding="Reduce the seat count by one")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "lifecycle:\n  offboarding:\n    remove_mfaa: true\n",
            "contoso.yaml, line 5: `lifecycle.offboarding.remove_mfaa`: is not a lifecycle "
            "setting; check its spelling.",
            id="unknown setting",
        ),
        pytest.param(
            "lifecycle:\n  offboarding:\n    remove_mfa: maybe\n",
            "contoso.yaml, line 5: `lifecycle.offboarding.remove_mfa`: must be true or false.",
            id="not a yes or no",
        ),
        pytest.param(
            "lifecycle:\n  offboarding:\n    leave_at: teatime\n",
            "contoso.yaml, line 5: `lifecycle.offboarding.leave_at`: must be a time of day as "
            "HH:MM, like 17:00.",
            id="not a time",
        ),
        pytest.param(
            "lifecycle:\n  vendor_checklist:\n    - system: Pax8\n    - offboarding: x\n",
            "contoso.yaml, line 6: `lifecycle.vendor_checklist[2].system`: is missing.",
            id="an item without its system",
        ),
        pytest.param(
            "lifecycle:\n  roles:\n    Sales: [Sales Team]\n",
            "contoso.yaml, line 5: `lifecycle.roles.Sales`: must be `name: value` lines.",
            id="a role as a list",
        ),
        pytest.param(
            "time_zone: BST\n",
            "contoso.yaml, line 3: `time_zone`: 'BST' is not a time zone this machine knows.",
            id="an abbreviation for a time zone",
        ),
    ],
)
def test_a_mistake_is_named_with_its_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_policy(TAIL + text, "contoso.yaml")
    assert raised.value.message == expected


def test_licences_kept_for_some_days_are_a_whole_number_up_to_ninety() -> None:
    found = lifecycle("lifecycle:\n  offboarding:\n    keep_licences_days: 30\n")
    assert found.offboarding.keep_licences_days == 30
    with pytest.raises(InputError) as raised:
        lifecycle("lifecycle:\n  offboarding:\n    keep_licences_days: 365\n")
    assert raised.value.message == (
        "contoso.yaml, line 5: `lifecycle.offboarding.keep_licences_days`: must be a whole "
        "number of days from 0 to 90."
    )


def test_a_usage_location_is_two_capital_letters() -> None:
    assert lifecycle("lifecycle:\n  usage_location: GB\n").usage_location == "GB"
    with pytest.raises(InputError) as raised:
        lifecycle("lifecycle:\n  usage_location: Britain\n")
    assert raised.value.message == (
        "contoso.yaml, line 4: `lifecycle.usage_location`: must be a country's two capital "
        "letters, like GB or DE."
    )
