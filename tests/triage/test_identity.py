"""May this requester ask for a security change to this user?"""

from __future__ import annotations

from deskhand.domain.directory import DirectoryUser, PsaContact
from deskhand.triage.identity import Verdict, check_identity

TARGET = DirectoryUser(
    id="1",
    user_principal_name="tom@contoso.example",
    display_name="Tom",
    mail="t.b@contoso.example",
)
MANAGER = DirectoryUser(id="2", user_principal_name="karen@contoso.example", display_name="Karen")
CONTACTS = [
    PsaContact(email="owner@contoso.example", name="Owner", authorised=True),
    PsaContact(email="reception@contoso.example", name="Reception", authorised=False),
]


def verdict(requester: str) -> Verdict:
    return check_identity(requester, TARGET, MANAGER, CONTACTS).verdict


def test_the_target_by_upn_or_mail_case_insensitive() -> None:
    assert verdict("Tom@Contoso.example") is Verdict.TARGET
    assert verdict("t.b@contoso.example") is Verdict.TARGET


def test_the_manager_and_an_authorised_contact() -> None:
    assert verdict("karen@contoso.example") is Verdict.MANAGER
    assert verdict("owner@contoso.example") is Verdict.AUTHORISED_CONTACT


def test_everyone_else_is_unverified_with_a_reason() -> None:
    for requester in ("reception@contoso.example", "tom@contoso.example.evil", "ceo@gmail.com"):
        check = check_identity(requester, TARGET, MANAGER, CONTACTS)
        assert check.verdict is Verdict.UNVERIFIED and not check.verified
        assert "not their manager" in check.detail


def test_no_manager_in_the_directory_is_not_a_way_in() -> None:
    assert (
        check_identity("karen@contoso.example", TARGET, None, CONTACTS).verdict
        is Verdict.UNVERIFIED
    )
