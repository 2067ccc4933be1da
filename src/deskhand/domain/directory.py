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
    dynamic: bool = False  # members follow a rule (Entra dynamic membership): none are removed


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


class AutoReply(_Record):
    """A mailbox's automatic reply (mailboxSettings.automaticRepliesSetting)."""

    status: str  # "disabled", "alwaysEnabled" or "scheduled"
    internal_message: str = ""
    external_message: str = ""
    external_audience: str = "none"  # who outside the organisation gets it: none, contactsOnly, all


class InboxRule(_Record):
    """A rule of a mailbox's inbox (mailFolders/inbox/messageRules)."""

    id: str
    display_name: str
    forward_to: tuple[str, ...] = ()  # the addresses it forwards every message to
    enabled: bool = True


class DriveGrant(_Record):
    """One permission on the root of a user's OneDrive: who may open the files, and how."""

    id: str
    user_id: str | None  # the directory user it is granted to (None: a link, a group, …)
    roles: tuple[str, ...]  # "read", "write", "owner"
    inherited: bool = False


# The sign-in method that stays when every other one is removed.
PASSWORD_METHOD = "passwordAuthenticationMethod"


class AuthMethod(_Record):
    """A way a user signs in or proves it is them (users/{id}/authentication/methods)."""

    id: str
    kind: str  # Graph's type without its namespace: phoneAuthenticationMethod, …
    label: str = ""  # what tells it apart for a person: a phone number, a device's name


class UserProfile(_Record):
    """The organisational attributes of a user, as Microsoft 365 holds them."""

    department: str | None = None
    job_title: str | None = None
    usage_location: str | None = None  # two letters, where the user's services are delivered
    manager_id: str | None = None
    synced: bool = False  # set in on-premises AD, not here


class NewUser(_Record):
    """A user to be created in Microsoft 365."""

    display_name: str
    user_principal_name: str
    mail_nickname: str
    department: str | None = None
    job_title: str | None = None
    usage_location: str | None = None


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


class AdAccount(_Record):
    """A user's account in on-premises Active Directory: where it sits and what it holds, as
    reading it back after creating or moving it shows."""

    id: str  # objectGUID
    distinguished_name: str
    ou: str  # the distinguished name of the organisational unit that holds it
    sam_account_name: str
    user_principal_name: str
    display_name: str
    given_name: str | None = None
    surname: str | None = None
    department: str | None = None
    job_title: str | None = None
    country: str | None = None  # c: two letters, which the sync makes the usage location
    manager_id: str | None = None
    account_enabled: bool = True
    must_change_password: bool = False


class NewAdAccount(_Record):
    """A user account to be created in on-premises Active Directory; ``manager`` is how AD
    knows the manager (an objectGUID or a sign-in name)."""

    sam_account_name: str
    user_principal_name: str
    display_name: str
    given_name: str
    surname: str
    ou: str
    department: str | None = None
    job_title: str | None = None
    country: str | None = None  # c: two letters, which the sync makes the usage location
    manager: str | None = None


def dn_key(dn: str) -> str:
    """A distinguished name as Active Directory compares two: each part's type and value
    without the spaces around them, ignoring case ("OU=Staff, DC=x" is "ou=staff,dc=x")."""
    parts, current, escaped = [], "", False
    for c in dn:
        if escaped:
            current, escaped = current + c, False
        elif c == "\\":
            current, escaped = current + c, True
        elif c == ",":
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    pairs = (part.partition("=") for part in parts if part.strip())
    return ",".join(f"{name.strip()}={value.strip()}".lower() for name, _, value in pairs)
