"""May this requester ask for a security change to this user?"""

from __future__ import annotations

from typing import Any

from deskhand.domain.directory import DirectoryUser, PsaContact
from deskhand.triage.identity import IdentityCheck, Verdict, check_identity

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


VIP = TARGET.model_copy(update={"vip": True})
ADMIN = TARGET.model_copy(update={"admin": True})
DOMAINS = ("contoso.example",)


def raised(requester: str, target: DirectoryUser = TARGET, **kwargs: Any) -> IdentityCheck:
    return check_identity(requester, target, MANAGER, CONTACTS, domains=DOMAINS, **kwargs)


def test_a_plain_request_from_the_target_is_just_verified() -> None:
    check = raised("tom@contoso.example", requester_name="Tom", text="Please reset my password")
    assert check.verdict is Verdict.TARGET and check.warnings == ()


def test_vip_and_admin_targets_always_need_verification() -> None:
    for target, why in ((VIP, "is a VIP"), (ADMIN, "holds an administrative role")):
        check = raised("tom@contoso.example", target)
        assert check.verdict is Verdict.NEEDS_VERIFICATION and check.verified
        assert why in check.detail and "Call the requester back" in check.detail


def test_a_privileged_group_grant_needs_verification_even_for_an_authorised_contact() -> None:
    check = raised("owner@contoso.example", grants_privilege=True)
    assert check.verdict is Verdict.NEEDS_VERIFICATION
    assert "owner@contoso.example is an authorised contact" in check.detail
    assert "privileged group" in check.detail


def test_urgency_and_secrecy_in_the_text_raise_the_requirement() -> None:
    text = "CEO here, do it now and don't call me. Reset the password for Tom."
    check = raised("karen@contoso.example", text=text)
    assert check.verdict is Verdict.NEEDS_VERIFICATION
    assert 'urgency and secrecy language ("don\'t call")' in check.detail
    assert 'a claim of authority ("CEO here")' in check.detail


def test_an_authorised_contact_writing_from_outside_the_domains_needs_verification() -> None:
    outside = PsaContact(email="books@accounting.example", name="Books", authorised=True)
    check = check_identity("books@accounting.example", TARGET, MANAGER, [outside], domains=DOMAINS)
    assert check.verdict is Verdict.NEEDS_VERIFICATION
    assert "outside the client's domains (contoso.example)" in check.detail


def test_a_display_name_that_is_not_the_one_on_record_needs_verification() -> None:
    assert raised("karen@contoso.example", requester_name="Karen").verdict is Verdict.MANAGER
    assert raised("tom@contoso.example", requester_name="T.").verdict is Verdict.TARGET
    check = raised("karen@contoso.example", requester_name="Dr. Owner")
    assert check.verdict is Verdict.NEEDS_VERIFICATION
    assert "the display name 'Dr. Owner' is not the one on record ('Karen')" in check.detail


def test_look_alike_addresses_are_unverified_and_say_what_they_imitate() -> None:
    kelvin = raised("\u212aaren@contoso.example")  # KELVIN SIGN: str.lower() makes it a "k"
    assert kelvin.verdict is Verdict.UNVERIFIED
    assert "is a look-alike of karen@contoso.example" in kelvin.detail
    cyrillic = raised("karen@c\u043entoso.example")
    assert cyrillic.verdict is Verdict.UNVERIFIED and "CYRILLIC SMALL LETTER O" in cyrillic.detail
    hidden = raised("karen\u200b@contoso.example")
    assert hidden.verdict is Verdict.UNVERIFIED and "invisible characters" in hidden.detail


def test_an_outsider_using_a_known_display_name_is_named_as_such() -> None:
    check = raised("tom.personal@mail.example", requester_name="Tom")
    assert check.verdict is Verdict.UNVERIFIED
    assert "outside the client's domains" in check.detail
    assert "the display name 'Tom' is that of tom@contoso.example" in check.detail


def test_an_authorised_contact_under_another_name_than_the_directorys_needs_verification() -> None:
    # The PSA knows owner@ as "Owner"; the directory says the address is Olivia Park's.
    olivia = DirectoryUser(
        id="3", user_principal_name="owner@contoso.example", display_name="Olivia Park"
    )
    check = raised("owner@contoso.example", requester_name="Owner", on_directory=olivia)
    assert check.verdict is Verdict.NEEDS_VERIFICATION
    assert "is not the directory's name for owner@contoso.example ('Olivia Park')" in check.detail
    same = raised("owner@contoso.example", requester_name="Owner", on_directory=None)
    assert same.verdict is Verdict.AUTHORISED_CONTACT


def test_case_accents_titles_and_word_order_are_the_same_name() -> None:
    emile = DirectoryUser(
        id="4", user_principal_name="emile@contoso.example", display_name="Émile Nguyễn"
    )
    for shown in ("Nguyen, Emile", "emile nguyen", "Dr. ÉMILE NGUYỄN", "E. Nguyen"):
        check = raised("emile@contoso.example", emile, requester_name=shown, on_directory=emile)
        assert check.verdict is Verdict.TARGET, (shown, check.detail)
    other = raised("emile@contoso.example", emile, requester_name="Emil Nguyen", on_directory=emile)
    assert other.verdict is Verdict.NEEDS_VERIFICATION
    assert "the display name 'Emil Nguyen'" in other.detail
