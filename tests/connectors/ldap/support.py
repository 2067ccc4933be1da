"""What the LDAP tests share besides fixtures: connector settings for the test DC, and reading
back as the Administrator."""

from __future__ import annotations

from dataclasses import dataclass

import ldap3

from deskhand.connectors.calls import Breakers, Caller, CallPolicy
from deskhand.connectors.ldap import LdapDirectory, LdapSettings
from tests.connectors.ldap.samba_dc import (
    BASE_DN,
    CERT_NAME,
    SERVICE_PASSWORD,
    SERVICE_USER,
    SambaDC,
)

USER_PASSWORD = "Start-Passw0rd-1"


@dataclass(frozen=True)
class Person:
    """A user the test made in OU=Staff."""

    dn: str
    sam: str
    upn: str
    mail: str
    password: str


def settings(samba: SambaDC, **changes: object) -> LdapSettings:
    values: dict[str, object] = {
        "servers": [samba.url],
        "base_dn": BASE_DN,
        "bind_user": SERVICE_USER,
        "ca_file": samba.ca_file,
        "tls_server_name": CERT_NAME,
        "timeout_seconds": 10,
    }
    values.update(changes)
    return LdapSettings.model_validate(values)


def directory_for(
    ldap_settings: LdapSettings, password: str = SERVICE_PASSWORD, **kwargs: object
) -> LdapDirectory:
    """A connector whose retries do not wait and whose circuit is its own."""
    caller = Caller(
        "tenant-ad",
        "ldap",
        policy=CallPolicy(timeout_seconds=ldap_settings.timeout_seconds),
        breakers=Breakers(),
        sleep=lambda _seconds: None,
    )
    return LdapDirectory("tenant-ad", ldap_settings, password, caller=caller, **kwargs)  # type: ignore[arg-type]


def read(admin: ldap3.Connection, dn: str, *attributes: str) -> dict[str, list[str]]:
    """Attributes of one object as the Administrator sees them, as text."""
    assert admin.search(dn, "(objectClass=*)", search_scope="BASE", attributes=list(attributes))
    raw = admin.response[0]["raw_attributes"]  # type: ignore[index]
    return {name: [value.decode() for value in raw.get(name, [])] for name in attributes}


def binds(samba: SambaDC, upn: str, password: str) -> tuple[bool, str]:
    """Whether the user can sign in with this password, and the DC's message when not."""
    connection = samba.connect(upn, password)
    bound = connection.bound
    message = str(connection.result.get("message", ""))
    connection.unbind()
    return bound, message


# types-ldap3 leaves Connection.add and Connection.modify unannotated.
def add(admin: ldap3.Connection, dn: str, object_class: str, attributes: dict[str, object]) -> None:
    """Create an object as the Administrator (test setup)."""
    assert admin.add(dn, [object_class], attributes), admin.result  # type: ignore[no-untyped-call]


def change(admin: ldap3.Connection, dn: str, attribute: str, operation: str, value: str) -> None:
    """Change one attribute as the Administrator (test setup)."""
    changes = {attribute: [(operation, [value])]}
    assert admin.modify(dn, changes), admin.result  # type: ignore[no-untyped-call]
