"""How deskhand reaches one tenant's customer record in the MSP's Syncro account."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Syncro's own statuses (every new account has them), for deskhand's stages of a ticket.
DEFAULT_STATUSES = {
    "working": "In Progress",
    "waiting": "Waiting on Customer",
    "resolved": "Resolved",
    "escalated": "In Progress",
}


class SyncroSettings(BaseModel):
    """The Syncro part of a tenant's connection file. The API key is not here: it is a secret,
    resolved by the tenant configuration and handed to ``SyncroPsa`` on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str  # https://acme.syncromsp.com/api/v1
    customer_id: int = Field(gt=0)  # the tenant's customer record in Syncro
    requests_per_minute: int = Field(180, gt=0)  # Syncro allows 180 per minute per IP
    timeout_seconds: float = Field(20.0, gt=0)
    # Who may ask for changes on someone else's behalf. Syncro's contact has no such field, and
    # its notes and custom properties can be edited by anyone with Customers - Edit (or by the
    # client in the portal), so the list lives in the tenant's configuration, under review.
    authorised_contacts: tuple[str, ...] = ()
    # The Syncro status a ticket is set to as deskhand works it: working (drafts waiting or
    # running), waiting (a question to the requester), resolved, escalated (a technician has
    # it). A stage left out, or an empty map, leaves Syncro's status alone.
    statuses: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STATUSES))

    @field_validator("statuses")
    @classmethod
    def _known_stages(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_STATUSES))
        if unknown:
            raise ValueError(
                f"unknown stage {', '.join(unknown)}; the stages are {', '.join(DEFAULT_STATUSES)}"
            )
        return {stage: status.strip() for stage, status in value.items() if status.strip()}

    @field_validator("base_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ValueError(
                f"{value!r} is not a URL; use your Syncro address with the API path, e.g. "
                "https://acme.syncromsp.com/api/v1"
            )
        return url if url.endswith("/api/v1") else f"{url}/api/v1"

    @field_validator("authorised_contacts")
    @classmethod
    def _lower_case(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(address.strip().lower() for address in value)
