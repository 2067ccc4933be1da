"""How deskhand reaches one client's Active Directory: the part of the tenant configuration
that the LDAP connector reads."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class LdapSettings(BaseModel):
    """Domain controllers, where users live, and the account deskhand binds as."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    servers: list[str] = Field(
        min_length=1,
        description="Domain controllers, tried in order: ldaps://dc1.client.local:636 or "
        "ldap://dc1.client.local:389 with start_tls",
    )
    base_dn: str = Field(description="Where users and groups are searched: DC=client,DC=local")
    bind_user: str = Field(
        description="The service account: a DN or a user principal name (svc@client.local)"
    )
    start_tls: bool = Field(False, description="Upgrade ldap:// connections with StartTLS")
    ca_file: Path | None = Field(
        None, description="PEM file of the CA that signed the DCs' certificates"
    )
    verify_tls: bool = Field(True, description="Check the DC's certificate (only off to debug)")
    tls_server_name: str | None = Field(
        None,
        description="The name on the DC's certificate, when servers are given by IP address",
    )
    timeout_seconds: float = Field(10.0, gt=0, description="For connecting and for each request")

    @field_validator("servers")
    @classmethod
    def _servers_are_ldap_urls(cls, servers: list[str]) -> list[str]:
        for server in servers:
            parts = urlsplit(server)
            if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
                raise ValueError(
                    f"{server!r} is not an LDAP server address; write it as "
                    "ldaps://dc1.client.local:636 (or ldap://…:389 with start_tls: true)"
                )
            try:
                parts.port  # noqa: B018 - urlsplit checks the port only when asked
            except ValueError:
                raise ValueError(f"{server!r} has a port that is not a number") from None
        return servers

    @model_validator(mode="after")
    def _passwords_need_encryption(self) -> LdapSettings:
        plain = [s for s in self.servers if s.startswith("ldap:")]
        if plain and not self.start_tls:
            # AD refuses unicodePwd over an unencrypted connection; fail at load, not at reset.
            raise ValueError(
                f"{', '.join(plain)} would be plain LDAP, and Active Directory refuses password "
                "resets over it: use ldaps://…:636, or set start_tls: true"
            )
        return self

    def host_port(self, server: str) -> tuple[str, int, bool]:
        """Host, port and whether the connection starts with TLS (ldaps)."""
        parts = urlsplit(server)
        secure = parts.scheme == "ldaps"
        return parts.hostname or "", parts.port or (636 if secure else 389), secure
