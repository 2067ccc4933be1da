"""The Syncro PSA over its REST API v1: one tenant's customer record, its tickets, their
comments and timers, and its contacts.

Every request waits its turn in the API key's ``RequestLimiter`` and goes through the tenant's
``Caller``: reads are retried when Syncro is unavailable or asks us to slow down; a POST that
creates (a comment, a timer entry, a ticket) is never repeated, since the first may have landed.
A ticket of another customer does not exist for this tenant, as in the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError, NotFoundError
from deskhand.connectors.redaction import Redactor
from deskhand.connectors.syncro.doctor import examine
from deskhand.connectors.syncro.errors import (
    CREATE_TICKET,
    EDIT_TICKET,
    EDIT_TIMER,
    LIST_TICKETS,
    SYSTEM,
    TIMERS,
    VIEW_CUSTOMER,
    VIEW_TICKET,
    refusal,
    unreachable,
)
from deskhand.connectors.syncro.limiter import RequestLimiter, limiter_for
from deskhand.connectors.syncro.records import (
    ListedTicket,
    SyncroCustomer,
    TicketComment,
    TicketDetail,
    TicketPage,
    TimerEntry,
)
from deskhand.connectors.syncro.settings import SyncroSettings
from deskhand.domain.directory import PsaComment, PsaContact, PsaTicket, PsaTimeEntry


class SyncroPsa:
    """One tenant's view of the MSP's Syncro account. Raises ``deskhand.connectors.errors``."""

    system = SYSTEM

    def __init__(
        self,
        tenant_id: str,
        settings: SyncroSettings,
        api_key: str,
        *,
        caller: Caller | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: RequestLimiter | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        self.redactor = Redactor({"Syncro API key": api_key})
        self.caller = caller_for(
            tenant_id, SYSTEM, self.redactor, settings.timeout_seconds, given=caller
        )
        self.limiter = limiter or limiter_for(api_key, settings.requests_per_minute)
        self._http = httpx.Client(
            base_url=settings.base_url + "/",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=self.caller.policy.timeout_seconds,
            transport=transport,
        )
        # Read when a ticket needs them, kept until a ticket names a contact not among them.
        self._emails: dict[int, str] = {}  # contact id → e-mail ("" for a contact without)
        self._customer_email: str | None = None

    def close(self) -> None:
        self._http.close()

    # --- the PSA interface -----------------------------------------------------------------

    def create_ticket(self, contact_email: str, subject: str, body: str) -> PsaTicket:
        """Open a ticket for this customer, from the contact with that address if there is one."""
        payload: dict[str, Any] = {
            "customer_id": self.settings.customer_id,
            "subject": subject,
            "comments_attributes": [{"subject": "Initial Issue", "body": body, "hidden": False}],
        }
        contact_id = self._contact_id(contact_email)
        if contact_id is not None:
            payload["contact_id"] = contact_id
        response = self._send("POST", "/tickets", CREATE_TICKET, idempotent=False, json=payload)
        return self._own(_object(response, "ticket")).ticket

    def get_ticket(self, ticket_id: str) -> PsaTicket:
        return self.ticket_detail(ticket_id).ticket

    def add_comment(self, ticket_id: str, subject: str, body: str, hidden: bool) -> PsaComment:
        """``POST /tickets/{id}/comment``. Syncro needs a subject (422 without, though its spec
        does not say so); an internal note is never e-mailed to the client."""
        self.ticket_detail(ticket_id)  # another customer's ticket does not exist for us
        payload = {"subject": subject, "body": body, "hidden": hidden, "do_not_email": hidden}
        response = self._send(
            "POST",
            f"/tickets/{_id(ticket_id)}/comment",
            EDIT_TICKET,
            idempotent=False,
            json=payload,
        )
        return _comment(_object(response, "comment")).comment

    def list_comments(self, ticket_id: str) -> list[PsaComment]:
        """The ticket's comments, oldest first."""
        return [c.comment for c in self.ticket_detail(ticket_id).comments]

    def contacts(self) -> list[PsaContact]:
        """The customer's contacts that have an e-mail address; authorised are those the
        tenant's configuration lists (see ``SyncroSettings.authorised_contacts``)."""
        found: list[PsaContact] = []
        emails: dict[int, str] = {}
        page, total = 1, 1
        while page <= total:
            params = {"customer_id": self.settings.customer_id, "page": page}
            body = _json(self._send("GET", "/contacts", VIEW_CUSTOMER, params=params))
            total = _total_pages(body)
            for raw in body.get("contacts") or []:
                email = (raw.get("email") or "").strip()
                if raw.get("customer_id") != self.settings.customer_id:
                    continue
                emails[int(raw["id"])] = email
                if not email:
                    continue  # a phone-only contact: no ticket can be matched to them
                authorised = email.lower() in self.settings.authorised_contacts
                found.append(
                    PsaContact(email=email, name=raw.get("name") or email, authorised=authorised)
                )
            page += 1
        self._emails = emails
        return sorted(found, key=lambda contact: contact.name)

    def log_time(self, ticket_id: str, minutes: int, notes: str, billable: bool) -> PsaTimeEntry:
        """A timer entry on the ticket. The spec's ``timer_entry`` body has no billable flag
        (Syncro takes it from the labour settings), so when the new entry's flag is not
        ``billable`` it is set with ``PATCH /ticket_timers/{id}`` (permission Ticket Timers -
        Edit)."""
        entry = self.log_minutes(ticket_id, minutes, notes)
        if entry.billable != billable:
            try:
                response = self._send(
                    "PATCH",
                    f"/ticket_timers/{entry.id}",
                    EDIT_TIMER,
                    params={"billable": "true" if billable else "false"},
                )
            except ConnectorError as error:
                # The entry is in Syncro already: say so, or a technician would log it again.
                raise type(error)(
                    f"timer entry {entry.id} was logged on ticket {ticket_id} but its billable "
                    f"flag is still {entry.billable}: {error.message}",
                    system=SYSTEM,
                    status=error.status,
                    fix=error.fix,
                ) from error
            entry = _timer(_object(response, "ticket_timer"))
        return _time_entry(entry)

    def time_entries(self, ticket_id: str) -> list[PsaTimeEntry]:
        """The ticket's timer entries, as ``GET /tickets/{id}`` lists them."""
        return [_time_entry(timer) for timer in self.ticket_timers(ticket_id)]

    # --- beyond the interface: polling, status, time ----------------------------------------

    def list_tickets(self, updated_since: datetime | None, page: int = 1) -> TicketPage:
        """One page (25 tickets) of this customer's tickets changed after ``updated_since``."""
        params: dict[str, Any] = {"customer_id": self.settings.customer_id, "page": page}
        if updated_since is not None:
            params["since_updated_at"] = _timestamp(updated_since)
        body = _json(self._send("GET", "/tickets", LIST_TICKETS, params=params))
        raws = [
            raw
            for raw in body.get("tickets") or []
            if raw.get("customer_id") == self.settings.customer_id
        ]
        if any(raw.get("contact_id") not in (None, *self._emails) for raw in raws):
            self.contacts()  # a contact we have not seen yet: read them again
        if self._customer_email is None and any(not r.get("contact_id") for r in raws):
            self._customer_email = self.customer().email or ""
        tickets = [
            ListedTicket(_ticket(raw, self._requester(raw)), _moment(raw["updated_at"]))
            for raw in raws
        ]
        return TicketPage(tickets, page=page, total_pages=_total_pages(body))

    def _requester(self, raw: dict[str, Any]) -> str:
        """The listed ticket's contact's address; a ticket without a contact is the customer's
        own (a residential client, or the client's main mailbox)."""
        contact_id = raw.get("contact_id")
        if contact_id:
            return self._emails.get(contact_id, "")
        return self._customer_email or ""

    def pages(self, updated_since: datetime | None, first_page: int = 1) -> Iterator[TicketPage]:
        """Every page of tickets changed after ``updated_since``, from ``first_page`` on."""
        page, total = first_page, first_page
        while page <= total:
            listed = self.list_tickets(updated_since, page)
            total = listed.total_pages
            yield listed
            page += 1

    def ticket_detail(self, ticket_id: str) -> TicketDetail:
        response = self._send("GET", f"/tickets/{_id(ticket_id)}", VIEW_TICKET)
        return self._own(_object(response, "ticket"))

    def update_status(self, ticket_id: str, status: str) -> PsaTicket:
        """Set the ticket's status ("In Progress", "Waiting on Customer", "Resolved", …)."""
        self.ticket_detail(ticket_id)
        response = self._send(
            "PUT", f"/tickets/{_id(ticket_id)}", EDIT_TICKET, json={"status": status}
        )
        return self._own(_object(response, "ticket")).ticket

    def ticket_timers(self, ticket_id: str) -> list[TimerEntry]:
        return self.ticket_detail(ticket_id).timers

    def log_minutes(self, ticket_id: str, minutes: int, note: str) -> TimerEntry:
        """Log time on the ticket (``timer_entry``), ending now: what deskhand spent or saved."""
        if minutes <= 0:
            raise ValueError(f"minutes must be positive, not {minutes}")
        self.ticket_detail(ticket_id)
        end = datetime.now(UTC).replace(microsecond=0)
        payload = {
            "start_at": _timestamp(end - timedelta(minutes=minutes)),
            "end_at": _timestamp(end),
            "notes": note,
        }
        response = self._send(
            "POST", f"/tickets/{_id(ticket_id)}/timer_entry", TIMERS, idempotent=False, json=payload
        )
        return _timer(_json(response))

    def customer(self) -> SyncroCustomer:
        """The tenant's customer record."""
        response = self._send("GET", f"/customers/{self.settings.customer_id}", VIEW_CUSTOMER)
        raw = _object(response, "customer")
        name = raw.get("business_then_name") or raw.get("fullname") or str(raw["id"])
        return SyncroCustomer(id=str(raw["id"]), name=str(name), email=raw.get("email"))

    def doctor(self) -> list[Finding]:
        """Reachability, the key, the permissions actually granted, and clock skew."""
        return self.redactor.findings(examine(self))

    def read(
        self, path: str, permission: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """One GET of the API, through the limiter and the caller (``doctor`` reads this way)."""
        return self._send("GET", path, permission, params=params)

    # --- requests ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        permission: str,
        *,
        idempotent: bool = True,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        def attempt() -> httpx.Response:
            self.limiter.acquire()
            try:
                response = self._http.request(method, path.lstrip("/"), params=params, json=json)
            except httpx.TransportError as error:
                raise unreachable(self.settings.base_url, error) from error
            if not response.is_success:
                raise refusal(response, permission)
            return response

        return self.caller.call(attempt, idempotent=idempotent)

    def _own(self, raw: dict[str, Any]) -> TicketDetail:
        """The ticket, if it is this tenant's; another customer's ticket does not exist here."""
        if raw.get("customer_id") != self.settings.customer_id:
            raise NotFoundError("Not found", system=SYSTEM, status=404)
        contact, customer = raw.get("contact"), raw.get("customer") or {}
        email = (contact.get("email") if contact else customer.get("email")) or ""
        comments = sorted(
            (_comment(c) for c in raw.get("comments") or []),
            key=lambda c: (c.comment.created_at, int(c.comment.id)),
        )
        return TicketDetail(
            ticket=_ticket(raw, email),
            updated_at=_moment(raw["updated_at"]),
            comments=comments,
            timers=[_timer(t) for t in raw.get("ticket_timers") or []],
        )

    def _contact_id(self, email: str) -> int | None:
        self.contacts()
        for contact_id, address in self._emails.items():
            if address.lower() == email.strip().lower():
                return contact_id
        return None


# --- Syncro's JSON to deskhand's records ------------------------------------------------------


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as error:
        raise ConnectorError(
            f"{response.request.url} answered something that is not JSON", system=SYSTEM
        ) from error
    if not isinstance(body, dict):
        # Not the body itself: this is outside the Caller, whose Redactor would take a secret
        # an echoing proxy put in it out.
        raise ConnectorError(
            f"{response.request.url} answered a JSON {type(body).__name__}, not an object",
            system=SYSTEM,
        )
    return body


def _object(response: httpx.Response, key: str) -> dict[str, Any]:
    inner = _json(response).get(key)
    if not isinstance(inner, dict):
        raise ConnectorError(
            f"{response.request.url} answered without {key!r}", system=SYSTEM, status=200
        )
    return inner


def _ticket(raw: dict[str, Any], contact_email: str) -> PsaTicket:
    # The list shows the first comment only (the request itself); the detail shows them all.
    comments = sorted(raw.get("comments") or [], key=lambda c: (c["created_at"], c["id"]))
    return PsaTicket(
        id=str(raw["id"]),
        number=str(raw["number"]),
        customer_id=str(raw["customer_id"]),
        contact_email=contact_email,
        subject=raw.get("subject") or "",
        body=comments[0]["body"] if comments else "",
        status=raw.get("status") or "",
    )


def _comment(raw: dict[str, Any]) -> TicketComment:
    comment = PsaComment(
        id=str(raw["id"]),
        ticket_id=str(raw["ticket_id"]),
        subject=raw.get("subject") or "",
        body=raw.get("body") or "",
        hidden=bool(raw.get("hidden")),
        created_at=_moment(raw["created_at"]),
    )
    return TicketComment(comment, by_staff=raw.get("user_id") is not None)


def _timer(raw: dict[str, Any]) -> TimerEntry:
    return TimerEntry(
        id=str(raw["id"]),
        ticket_id=str(raw["ticket_id"]),
        start=_moment(raw["start_time"]),
        end=_moment(raw["end_time"]),
        notes=raw.get("notes") or "",
        billable=bool(raw.get("billable")),
    )


def _time_entry(timer: TimerEntry) -> PsaTimeEntry:
    return PsaTimeEntry(
        id=timer.id,
        ticket_id=timer.ticket_id,
        minutes=timer.minutes,
        notes=timer.notes,
        billable=timer.billable,
    )


def _total_pages(body: dict[str, Any]) -> int:
    meta = body.get("meta") or {}
    return max(1, int(meta.get("total_pages") or 1))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _timestamp(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _id(ticket_id: str) -> int:
    if not ticket_id.isdigit():
        raise NotFoundError(f"{ticket_id!r} is not a Syncro ticket id", system=SYSTEM, status=404)
    return int(ticket_id)
