"""One real Samba AD domain controller for the whole session, and the accounts the tests use
(registered for every test directory by tests/conftest.py).

Every test makes its own users and groups (unique names), so tests share the DC but no state.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import ldap3
import pytest

from deskhand.connectors.ldap import LdapDirectory
from tests.connectors.ldap import samba_dc
from tests.connectors.ldap.samba_dc import ADMIN_PASSWORD, STAFF_OU, SambaDC, SambaSetupError
from tests.connectors.ldap.support import (
    USER_PASSWORD,
    Person,
    add,
    change,
    directory_for,
    settings,
)

MakeUser = Callable[..., Person]
MakeGroup = Callable[..., str]


@pytest.fixture(scope="session")
def samba(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SambaDC]:
    try:
        dc = samba_dc.start(tmp_path_factory.mktemp("samba-dc"))
    except SambaSetupError as error:
        pytest.fail(str(error))
    yield dc
    dc.stop()


@pytest.fixture(scope="session")
def admin(samba: SambaDC) -> Iterator[ldap3.Connection]:
    """The domain Administrator: sets up and reads back what the connector did."""
    connection = samba.connect("Administrator@deskhand.test", ADMIN_PASSWORD)
    assert connection.bound, connection.result
    yield connection
    connection.unbind()


@pytest.fixture
def directory(samba: SambaDC) -> LdapDirectory:
    """Bound as svc-deskhand, which holds only the rights delegated on OU=Staff."""
    return directory_for(settings(samba))


_serial = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{os.getpid() % 1000}x{next(_serial)}"


@pytest.fixture
def make_user(admin: ldap3.Connection) -> MakeUser:
    def make(
        *,
        display_name: str = "Test User",
        manager: Person | None = None,
        password: str = USER_PASSWORD,
        ou: str = STAFF_OU,
    ) -> Person:
        sam = _unique("u")
        person = Person(
            dn=f"CN={sam},{ou}",
            sam=sam,
            upn=f"{sam}@deskhand.test",
            mail=f"{sam}@client.example",
            password=password,
        )
        attributes: dict[str, object] = {
            "sAMAccountName": sam,
            "userPrincipalName": person.upn,
            "mail": person.mail,
            "displayName": display_name,
            "unicodePwd": f'"{password}"'.encode("utf-16-le"),
            "userAccountControl": 512,
        }
        if manager is not None:
            attributes["manager"] = manager.dn
        add(admin, person.dn, "user", attributes)
        return person

    return make


@pytest.fixture
def make_group(admin: ldap3.Connection) -> MakeGroup:
    def make(*, members: tuple[Person, ...] = ()) -> str:
        name = _unique("g")
        dn = f"CN={name},{STAFF_OU}"
        add(admin, dn, "group", {"sAMAccountName": name})
        for person in members:
            change(admin, dn, "member", ldap3.MODIFY_ADD, person.dn)
        return name

    return make
