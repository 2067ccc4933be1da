"""What ``deskhand.connectors.m365.M365`` promises and the actions rely on, held against the
sandbox and against the Graph client talking to the Graph stand-in: the same checks, the same
client, each implementation in turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.capabilities import M365SignIn
from deskhand.connectors.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
)
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxPsa
from tests.connectors.contract.conftest import TENANT, M365Case

PASSWORD = "Tmp-Orchid-4821"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def started() -> datetime:
    # Graph keeps times to the second: a change in this second reads as at its start.
    return datetime.now(UTC).replace(microsecond=0)


# --- users ---------------------------------------------------------------------------------


def test_a_user_is_the_same_by_id_sign_in_name_or_mail(m365_case: M365Case) -> None:
    m365 = m365_case.m365

    ada = m365.get_user("ada@contract.onmicrosoft.com")

    assert m365.get_user(m365_case.ada) == ada
    assert m365.get_user("ada.lovelace@contract.example") == ada
    assert (ada.id, ada.display_name, ada.mail) == (
        m365_case.ada,
        "Ada Lovelace",
        "ada.lovelace@contract.example",
    )
    assert ada.manager_id == m365_case.dan
    assert ada.licenses == tuple(sorted((m365_case.premium, m365_case.full)))
    assert ada.admin and not ada.synced and ada.account_enabled


def test_a_synced_user_reads_as_synced_and_a_lockout_in_ad_is_not_seen(
    m365_case: M365Case,
) -> None:
    carol = m365_case.m365.get_user(m365_case.carol)

    assert carol.synced and not carol.admin
    assert not carol.locked  # Graph does not see on-premises lockouts
    assert not m365_case.m365.sign_in_state(carol.id).locked


def test_every_listed_user_reads_as_get_user_reads_them(m365_case: M365Case) -> None:
    m365 = m365_case.m365

    listed = m365.list_users()

    assert [user.display_name for user in listed] == [
        "Ada Lovelace",
        "Bob Builder",
        "Carol Synced",
        "Dan Manager",
        "Eve Nomail",
    ]
    # Resolution reads targets from the list: an administrator must read as one there too.
    assert listed == [m365.get_user(user.id) for user in listed]


def test_what_is_not_there_is_not_found(m365_case: M365Case) -> None:
    m365 = m365_case.m365
    calls = [
        lambda: m365.get_user("nobody@contract.example"),
        lambda: m365.get_user(UNKNOWN),
        lambda: m365.sign_in_state(UNKNOWN),
        lambda: m365.reset_password(UNKNOWN, PASSWORD, force_change=True),
        lambda: m365.revoke_sessions(UNKNOWN),
        lambda: m365.mailbox_purpose(UNKNOWN),
        lambda: m365.assign_license(UNKNOWN, add=[m365_case.premium], remove=[]),
        lambda: m365.get_group("Back Office"),
        lambda: m365.get_group(UNKNOWN),
        lambda: m365.group_members(UNKNOWN),
        lambda: m365.group_members("Sales"),  # by id only
        lambda: m365.add_group_member(m365_case.sales, UNKNOWN),
        lambda: m365.add_group_member(UNKNOWN, m365_case.bob),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            call()


# --- passwords and sessions ----------------------------------------------------------------


def test_a_cloud_only_reset_is_read_back_with_or_without_a_forced_change(
    m365_case: M365Case,
) -> None:
    m365, bob = m365_case.m365, m365_case.bob
    before = started()

    m365.reset_password(bob, PASSWORD, force_change=True)

    forced = m365.sign_in_state(bob)
    assert forced.password_changed_at is not None and forced.password_changed_at >= before
    assert forced.must_change_password and forced.account_enabled and not forced.locked

    m365.reset_password(bob, PASSWORD[::-1], force_change=False)

    assert not m365.sign_in_state(bob).must_change_password


def test_a_synced_users_password_is_refused_for_ad_to_reset(m365_case: M365Case) -> None:
    m365, carol = m365_case.m365, m365_case.carol
    before = m365.sign_in_state(carol)

    with pytest.raises(ForbiddenError):
        m365.reset_password(carol, PASSWORD, force_change=True)

    assert m365.sign_in_state(carol) == before


def test_a_password_the_complexity_rule_refuses_is_a_conflict_and_changes_nothing(
    m365_case: M365Case,
) -> None:
    m365, bob = m365_case.m365, m365_case.bob
    before = m365.sign_in_state(bob)

    with pytest.raises(ConflictError):
        m365.reset_password(bob, "password", force_change=True)

    assert m365.sign_in_state(bob) == before


def test_revoked_sessions_are_read_back(m365_case: M365Case) -> None:
    m365, bob = m365_case.m365, m365_case.bob
    before = started()

    m365.revoke_sessions(bob)

    revoked = m365.sign_in_state(bob).sessions_revoked_at
    assert revoked is not None and revoked >= before


def test_sign_in_blocked_then_allowed_is_read_back_and_either_may_be_repeated(
    m365_case: M365Case,
) -> None:
    m365, bob = m365_case.m365, m365_case.bob
    assert isinstance(m365, M365SignIn)
    assert m365.sign_in_state(bob).account_enabled

    m365.set_sign_in(bob, enabled=False)
    m365.set_sign_in(bob, enabled=False)

    assert not m365.sign_in_state(bob).account_enabled
    assert not m365.get_user(bob).account_enabled

    m365.set_sign_in(bob, enabled=True)
    m365.set_sign_in(bob, enabled=True)

    assert m365.sign_in_state(bob).account_enabled


def test_a_synced_users_sign_in_is_refused_for_ad_to_change(m365_case: M365Case) -> None:
    m365, carol = m365_case.m365, m365_case.carol
    assert isinstance(m365, M365SignIn)

    with pytest.raises(ForbiddenError):
        m365.set_sign_in(carol, enabled=False)

    assert m365.sign_in_state(carol).account_enabled


# --- groups --------------------------------------------------------------------------------


def test_a_group_is_found_by_id_or_by_name_ignoring_case(m365_case: M365Case) -> None:
    m365 = m365_case.m365

    sales = m365.get_group("sales")

    assert m365.get_group(m365_case.sales) == sales
    assert (sales.id, sales.display_name, sales.mail_enabled) == (m365_case.sales, "Sales", False)
    assert m365.get_group("All Staff").mail_enabled
    assert m365.group_members(m365_case.sales) == [m365_case.ada]
    assert [group.display_name for group in m365.list_groups()] == [
        "All Staff",
        "Engineering",
        "Sales",
    ]


def test_a_member_added_twice_is_there_once_and_the_second_add_conflicts(
    m365_case: M365Case,
) -> None:
    m365, sales, bob = m365_case.m365, m365_case.sales, m365_case.bob

    m365.add_group_member(sales, bob)
    with pytest.raises(ConflictError):
        m365.add_group_member(sales, bob)

    assert sorted(m365.group_members(sales)) == sorted([m365_case.ada, bob])


def test_a_member_removed_twice_is_gone_and_the_second_remove_is_not_found(
    m365_case: M365Case,
) -> None:
    m365, sales, ada = m365_case.m365, m365_case.sales, m365_case.ada

    m365.remove_group_member(sales, ada)
    with pytest.raises(NotFoundError):
        m365.remove_group_member(sales, ada)

    assert m365.group_members(sales) == []


def test_a_distribution_lists_members_are_changed_in_exchange_not_here(
    m365_case: M365Case,
) -> None:
    m365, all_staff = m365_case.m365, m365_case.all_staff

    with pytest.raises(ForbiddenError):
        m365.add_group_member(all_staff, m365_case.eve)
    with pytest.raises(ForbiddenError):
        m365.remove_group_member(all_staff, m365_case.bob)

    assert sorted(m365.group_members(all_staff)) == sorted([m365_case.ada, m365_case.bob])


# --- licences and mailboxes ----------------------------------------------------------------


def seats(case: M365Case) -> dict[str, tuple[str, int, int]]:
    return {s.id: (s.part_number, s.total, s.consumed) for s in case.m365.subscribed_skus()}


def test_a_synced_group_reads_as_synced_and_its_members_are_changed_in_ad_not_here(
    m365_case: M365Case,
) -> None:
    m365 = m365_case.m365
    engineering = m365.get_group(m365_case.engineering)
    assert engineering.synced and not m365.get_group(m365_case.sales).synced
    assert {g.id: g.synced for g in m365.list_groups()}[m365_case.engineering]

    with pytest.raises(ForbiddenError) as refused:
        m365.add_group_member(m365_case.engineering, m365_case.bob)
    with pytest.raises(ForbiddenError):
        m365.remove_group_member(m365_case.engineering, m365_case.carol)

    assert "Active Directory" in str(refused.value)
    assert m365.group_members(m365_case.engineering) == [m365_case.carol]


def test_subscribed_skus_count_their_seats(m365_case: M365Case) -> None:
    assert seats(m365_case) == {
        m365_case.premium: ("SPB", 5, 1),
        m365_case.full: ("O365_BUSINESS_ESSENTIALS", 1, 1),
    }


def test_a_licence_assigned_then_removed_is_read_back_with_its_seat(m365_case: M365Case) -> None:
    m365, bob, premium = m365_case.m365, m365_case.bob, m365_case.premium

    m365.assign_license(bob, add=[premium], remove=[])

    assert m365.get_user(bob).licenses == (premium,)
    assert seats(m365_case)[premium] == ("SPB", 5, 2)

    m365.assign_license(bob, add=[], remove=[premium])

    assert m365.get_user(bob).licenses == ()
    assert seats(m365_case)[premium] == ("SPB", 5, 1)


def test_a_held_licence_assigned_again_changes_nothing(m365_case: M365Case) -> None:
    m365, ada = m365_case.m365, m365_case.ada

    m365.assign_license(ada, add=[m365_case.premium], remove=[])

    assert m365.get_user(ada).licenses == tuple(sorted((m365_case.premium, m365_case.full)))
    assert seats(m365_case)[m365_case.premium] == ("SPB", 5, 1)


def test_no_free_seat_refuses_all_of_the_change(m365_case: M365Case) -> None:
    m365, ada, bob = m365_case.m365, m365_case.ada, m365_case.bob

    with pytest.raises(QuotaExceededError):
        m365.assign_license(bob, add=[m365_case.full], remove=[])
    with pytest.raises(ConflictError):  # a licence Bob does not hold: nothing is added either
        m365.assign_license(bob, add=[m365_case.premium], remove=[m365_case.full])
    with pytest.raises(NotFoundError):  # a SKU the tenant does not subscribe to
        m365.assign_license(ada, add=[UNKNOWN], remove=[m365_case.premium])

    assert m365.get_user(bob).licenses == ()
    assert m365.get_user(ada).licenses == tuple(sorted((m365_case.premium, m365_case.full)))


def test_a_mailbox_reads_as_a_user_mailbox_and_no_mail_address_means_no_mailbox(
    m365_case: M365Case,
) -> None:
    assert m365_case.m365.mailbox_purpose(m365_case.bob) == "user"
    with pytest.raises(NotFoundError):
        m365_case.m365.mailbox_purpose(m365_case.eve)


# --- the actions, as the executor runs them -----------------------------------------------


# Each action with what it acts on (the case's names for them); and whether acting again after
# it landed, as a takeover may, must be taken as "already done" (a membership's act says so).
ACTIONS = [
    ("m365.reset_password", {"user_id": "bob"}, False),
    ("m365.revoke_sessions", {"user_id": "bob"}, False),
    ("m365.block_sign_in", {"user_id": "bob"}, True),
    ("m365.add_group_member", {"user_id": "bob", "group_id": "sales"}, True),
    ("m365.remove_group_member", {"user_id": "ada", "group_id": "sales"}, True),
    ("m365.assign_license", {"user_id": "bob", "sku_id": "premium"}, True),
    ("m365.remove_license", {"user_id": "ada", "sku_id": "premium"}, False),
]
SHOWN = {"user_principal_name": "someone@contract.example", "group_name": "G", "sku_name": "S"}


@pytest.mark.parametrize(("name", "targets", "again"), ACTIONS)
def test_each_action_is_verified_by_reading_back(
    m365_case: M365Case, sandbox: SandboxStore, name: str, targets: dict[str, str], again: bool
) -> None:
    operation = action(name)
    ids = {key: getattr(m365_case, case_name) for key, case_name in targets.items()}
    shown = {key: value for key, value in SHOWN.items() if key in operation.Params.model_fields}
    params = operation.validate({**ids, **shown})
    c = Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=m365_case.m365, ad=NoDirectory(TENANT)
    )
    baseline = Baseline(started() - timedelta(seconds=1), operation.snapshot(params, c))
    assert not operation.check(params, c, "key-1", baseline).done

    secret = operation.secret()
    operation.act(params, c, "key-1", secret)
    assert operation.check(params, c, "key-1", baseline).done

    if again:
        operation.act(params, c, "key-1", secret)
        assert operation.check(params, c, "key-1", baseline).done


def test_sign_in_blocked_by_one_action_is_allowed_again_by_its_undo(
    m365_case: M365Case, sandbox: SandboxStore
) -> None:
    c = Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=m365_case.m365, ad=NoDirectory(TENANT)
    )
    block, allow = action("m365.block_sign_in"), action("m365.allow_sign_in")
    assert block.undo is not None and block.undo.startswith(allow.name)
    params = allow.validate({"user_id": m365_case.bob, **{"user_principal_name": "b@x.example"}})
    block.act(params, c, "key-1", None)
    baseline = Baseline(started(), allow.snapshot(params, c))
    assert baseline.snapshot["account_enabled"] is False
    assert not allow.check(params, c, "key-2", baseline).done

    allow.act(params, c, "key-2", None)

    assert allow.check(params, c, "key-2", baseline).done
    assert not block.check(params, c, "key-1", baseline).done
