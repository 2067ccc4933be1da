"""LDAP settings are checked when a tenant's configuration is loaded, not at the first reset."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deskhand.connectors.ldap import LdapSettings


def _settings(**changes: object) -> LdapSettings:
    values: dict[str, object] = {
        "servers": ["ldaps://dc1.client.local"],
        "base_dn": "DC=client,DC=local",
        "bind_user": "svc-deskhand@client.local",
    }
    values.update(changes)
    return LdapSettings.model_validate(values)


def test_plain_ldap_without_start_tls_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="refuses password resets over it"):
        _settings(servers=["ldap://dc1.client.local"])
    assert _settings(servers=["ldap://dc1.client.local"], start_tls=True).start_tls


def test_a_server_that_is_not_an_ldap_address_is_refused() -> None:
    with pytest.raises(ValidationError, match="write it as ldaps://"):
        _settings(servers=["dc1.client.local"])
    with pytest.raises(ValidationError, match="port that is not a number"):
        _settings(servers=["ldaps://dc1.client.local:sixthreesix"])


def test_default_ports_follow_the_scheme() -> None:
    settings = _settings(servers=["ldaps://dc1", "ldap://dc2"], start_tls=True)
    assert settings.host_port("ldaps://dc1") == ("dc1", 636, True)
    assert settings.host_port("ldap://dc2") == ("dc2", 389, False)
