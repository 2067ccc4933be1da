"""How deskhand reaches one client tenant's Microsoft 365 through Microsoft Graph."""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
GRAPH_V1 = "https://graph.microsoft.com/v1.0"


class GraphSettings(BaseModel):
    """The Graph part of a tenant's connection file. The client secret is not here: it is a
    secret, resolved by the tenant configuration and handed to ``GraphM365`` on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ms_tenant_id: str = Field(min_length=1)  # directory (tenant) id GUID or a verified domain
    client_id: str = Field(min_length=1)  # the app registration's application (client) id
    app_name: str = "deskhand"  # the app registration's name, as fixes name it
    authority_base: str = PUBLIC_AUTHORITY  # national clouds have their own login host
    graph_base_url: str = GRAPH_V1
    # A certificate instead of a client secret: the PEM file holding its private key, and
    # the thumbprint Entra shows under Certificates & secrets.
    certificate_path: Path | None = None
    certificate_thumbprint: str | None = None
    timeout_seconds: float = Field(20.0, gt=0)
    # For a TLS-inspecting proxy between deskhand and Microsoft, which re-signs HTTPS with its
    # own CA: the PEM file of that CA, trusted (besides the system's) for sign-in and Graph.
    ca_file: Path | None = None

    @field_validator("authority_base", "graph_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith("https://"):
            raise ValueError(
                f"{value!r} is not an https URL; leave it out to use Microsoft's public cloud"
            )
        return url

    @field_validator("ca_file")
    @classmethod
    def _ca_loads(cls, value: Path | None) -> Path | None:
        if value is not None:
            trusting(value)  # a file that cannot be trusted is refused at load, not mid-run
        return value

    @model_validator(mode="after")
    def _certificate_in_full(self) -> GraphSettings:
        if (self.certificate_path is None) != (self.certificate_thumbprint is None):
            raise ValueError(
                "a certificate needs both certificate_path (the PEM file with its private key) "
                "and certificate_thumbprint (shown in Entra admin center → App registrations → "
                f"{self.app_name} → Certificates & secrets)"
            )
        return self

    @property
    def authority(self) -> str:
        return f"{self.authority_base}/{self.ms_tenant_id}"


def trusting(ca_file: Path) -> ssl.SSLContext:
    """A TLS context that trusts the system's CAs and the one in ``ca_file``; ValueError saying
    what is wrong with the file otherwise."""
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except FileNotFoundError:
        raise ValueError(f"is {ca_file}, which does not exist") from None
    except ssl.SSLError:  # before OSError, of which it is a kind
        raise ValueError(
            f"is {ca_file}, which holds no PEM certificate; export the CA's certificate as "
            "Base-64 (PEM)"
        ) from None
    except OSError as error:
        raise ValueError(f"is {ca_file}, which cannot be read: {error.strerror}") from None
    return context
