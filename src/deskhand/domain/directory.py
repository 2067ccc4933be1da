"""What a client's directory and PSA hold, as deskhand sees them: the shapes every connector
returns, whether it talks to the sandbox, Microsoft Graph, Active Directory or Syncro."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class DirectoryUser(_Record):
    """A user of the client's tenant."""

    id: str
    user_principal_name: str
    display_name: str
    mail: str | None = None
    manager_id: str | None = None
    vip: bool = False  # the client marked them as needing extra care (owner, partner, …)
    admin: bool = False  # holds an administrative role
    synced: bool = False  # mastered in on-premises AD (onPremisesSyncEnabled): reset there
    account_enabled: bool = True
    locked: bool = False  # locked out in AD
    licenses: tuple[str, ...] = ()  # SKU ids assigned


class DirectoryGroup(_Record):
    """A group users can be members of."""

    id: str
    display_name: str
    privileged: bool = False  # membership grants administrative rights (Domain Admins, …)
    mail_enabled: bool = False  # distribution lists and mail-enabled groups: not via Graph
    synced: bool = False  # synced from on-premises AD: its members change there, not via Graph


class Sku(_Record):
    """A licence product the tenant subscribes to, with its seats."""

    id: str
    part_number: str  # e.g. SPB
    display_name: str  # e.g. Microsoft 365 Business Premium
    total: int
    consumed: int

    @property
    def available(self) -> int:
        return self.total - self.consumed


class SignInState(_Record):
    """What reading a user back shows after a credential or session change."""

    password_changed_at: datetime | None
    sessions_revoked_at: datetime | None
    must_change_password: bool
    locked: bool
    account_enabled: bool


class PsaContact(_Record):
    """A person at the client the PSA knows; authorised contacts may ask for changes for others."""

    email: str
    name: str
    authorised: bool = False


class PsaTicket(_Record):
    id: str
    number: str
    customer_id: str
    contact_email: str
    subject: str
    body: str
    status: str
    # The Message-ID of the e-mail the request came as, for a reply to thread under; None for
    # a ticket the PSA opened itself.
    message_id: str | None = None


# The id of a note deskhand keeps itself, on a ticket no PSA holds (``engine.kept_notes``).
KEPT_NOTE = "deskhand-note-"


class PsaComment(_Record):
    """A note on a PSA ticket: internal (hidden from the client) or a public reply."""

    id: str
    ticket_id: str
    subject: str
    body: str
    hidden: bool
    created_at: datetime


class PsaTimeEntry(_Record):
    """Technician time logged on a PSA ticket (a Syncro ticket timer)."""

    id: str
    ticket_id: str
    minutes: int
    notes: str
    billable: bool
