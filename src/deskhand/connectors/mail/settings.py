"""The settings of a tenant's mail connections, as its connection file gives them: ``mail:``
with ``kind: smtp`` (approved replies) and ``intake: imap:`` (a support mailbox). Each password
is a secret, resolved on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SmtpSettings(BaseModel):
    """The ``mail:`` section of a tenant's connection file with ``kind: smtp``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)  # smtp.office365.com, mail.client.com
    port: int = Field(587, gt=0, lt=65536)
    starttls: bool = True  # upgrade the connection before AUTH; off only on a trusted relay
    username: str | None = None  # None: the server relays without AUTH
    from_address: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")  # support@client.com
    from_name: str | None = None  # "Contoso IT Support"
    ca_file: Path | None = None  # PEM of the CA that signed the server's certificate
    verify_tls: bool = True  # check the server's certificate (only off to debug)
    timeout_seconds: float = Field(20.0, gt=0)


class ImapSettings(BaseModel):
    """The ``intake: imap:`` section of a tenant's connection file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)  # imap.hosted-mail.example
    port: int | None = Field(None, gt=0, lt=65536)  # default: 993 (imaps) or 143 (starttls)
    tls: Literal["imaps", "starttls"] = "imaps"
    username: str = Field(min_length=1)
    folder: str = Field("INBOX", min_length=1)  # where new requests arrive
    processed_folder: str | None = None  # where stored messages are moved; None: only \Seen
    ca_file: Path | None = None  # PEM of the CA that signed the server's certificate
    timeout_seconds: float = Field(20.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.tls == "imaps" else 143)
