"""A local Syncro: a real HTTP server on 127.0.0.1 that answers the requests deskhand makes as
Syncro's REST API v1 does, from data held in memory.

Every request it receives and every response it sends is validated against Syncro's published
description (``contract.checked()``); what does not match is recorded in ``violations`` (the
``standin`` fixture fails the test on any) and the request is answered 400. Answers are built
from the published examples, filled in with the stand-in's data. It pages by 25 (contacts by
50) with ``meta.total_pages``, filters by ``since_updated_at``, refuses a wrong key (401) or a
permission the key lacks (401, as Syncro does), answers 429 beyond ``requests_per_minute`` in
any 60 seconds, and fails on request (``fail_next``) with 5xx, or as a proxy that echoes the
request back (``echo_next``; not Syncro's answer, so not checked against its description).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.connectors.echo import Echo, echoed
from tests.connectors.syncro import contract

API_KEY = "T0k3n-for-the-stand-in"
STATUSES = (
    "New",
    "In Progress",
    "Resolved",
    "Invoiced",
    "Waiting for Parts",
    "Waiting on Customer",
    "Scheduled",
    "Customer Reply",
)
TICKETS_PER_PAGE = 25
CONTACTS_PER_PAGE = 50
API_USER_ID = 7  # the Syncro user that owns the API key

ROUTES = Map(
    [
        Rule("/api/v1/me", endpoint="me", methods=["GET"]),
        Rule("/api/v1/tickets", endpoint="tickets", methods=["GET"]),
        Rule("/api/v1/tickets", endpoint="create_ticket", methods=["POST"]),
        Rule("/api/v1/tickets/<int:ticket_id>", endpoint="ticket", methods=["GET"]),
        Rule("/api/v1/tickets/<int:ticket_id>", endpoint="update_ticket", methods=["PUT"]),
        Rule("/api/v1/tickets/<int:ticket_id>/comment", endpoint="add_comment", methods=["POST"]),
        Rule("/api/v1/tickets/<int:ticket_id>/timer_entry", endpoint="timer", methods=["POST"]),
        Rule("/api/v1/ticket_timers", endpoint="timers", methods=["GET"]),
        Rule("/api/v1/ticket_timers/<int:timer_id>", endpoint="set_billable", methods=["PATCH"]),
        Rule("/api/v1/customers/<int:customer_id>", endpoint="customer", methods=["GET"]),
        Rule("/api/v1/contacts", endpoint="contacts", methods=["GET"]),
    ]
)
PERMISSIONS = {
    "me": None,
    "tickets": "Tickets - List/Search",
    "create_ticket": "Tickets - Create",
    "ticket": "Tickets - View Details",
    "update_ticket": "Tickets - Edit",
    "add_comment": "Tickets - Edit",
    "timer": "Ticket Timers - Overview",
    "timers": "Ticket Timers - Overview",
    "set_billable": "Ticket Timers - Edit",
    "customer": "Customers - View Detail",
    "contacts": "Customers - View Detail",
}


@dataclass
class Received:
    """One request as the stand-in saw it, and its answer's status."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Fault:
    status: int
    times: int
    method: str | None
    path: str | None  # a regular expression searched in the path with its query


@dataclass
class SyncroStandIn:
    """In-memory Syncro with its own clocks: ``clock`` (seconds, for the rate limit) and
    ``now`` (the timestamps it writes); tests may replace both."""

    requests_per_minute: int = 180
    clock: Callable[[], float] = time.monotonic
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    api_key: str = API_KEY
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)  # permissions the key lacks
    date_skew: timedelta = timedelta(0)  # how far the Date header is off the real time
    timers_billable: bool = False  # the billable flag Syncro gives a new timer entry
    received: list[Received] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _echoes: list[Echo] = field(default_factory=list)
    _sent: deque[float] = field(default_factory=deque)
    _next_id: int = 100
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: BaseWSGIServer | None = None

    # --- running ---------------------------------------------------------------------------

    def start(self) -> SyncroStandIn:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}/api/v1"

    # --- data ------------------------------------------------------------------------------

    def add_customer(self, name: str, email: str) -> int:
        customer_id = self._new_id()
        self.customers[customer_id] = {"id": customer_id, "business_name": name, "email": email}
        return customer_id

    def add_contact(self, customer_id: int, name: str, email: str | None) -> int:
        contact_id = self._new_id()
        self.contacts[contact_id] = {
            "id": contact_id,
            "customer_id": customer_id,
            "name": name,
            "email": email,
        }
        return contact_id

    def add_ticket(
        self,
        customer_id: int,
        subject: str,
        body: str,
        *,
        contact_id: int | None = None,
        status: str = "New",
        updated_at: datetime | None = None,
    ) -> int:
        with self._lock:
            ticket_id = self._new_id()
            moment = updated_at or self.now()
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "number": 1000 + len(self.tickets) + 1,
                "customer_id": customer_id,
                "contact_id": contact_id,
                "subject": subject,
                "status": status,
                "created_at": moment,
                "updated_at": moment,
                "comments": [],
                "timers": [],
            }
            self._comment(ticket_id, "Initial Issue", body, hidden=False, user_id=None)
            self.tickets[ticket_id]["updated_at"] = moment
            return ticket_id

    def client_replies(self, ticket_id: int, body: str) -> int:
        """The client answers by e-mail: a public comment without a Syncro user."""
        with self._lock:
            comment = self._comment(ticket_id, "Re: ticket", body, hidden=False, user_id=None)
            return int(comment["id"])

    def fail_next(
        self, status: int, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """Answer the next ``times`` requests that match with ``status`` (500, 503, …); ``path``
        is a regular expression searched in the path and query (``r"/tickets.*page=2"``)."""
        self._faults.append(_Fault(status, times, method, path))

    def echo_next(
        self, path: str, status: int = 502, *, as_json: bool = False, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests matching ``path`` (searched in "METHOD /path?query")
        as a proxy whose error page echoes the request: its line, body and Authorization."""
        self._echoes.append(Echo(path, status, as_json, times))

    def requests_to(self, method: str, path: str) -> list[Received]:
        return [r for r in self.received if r.method == method and r.path == path]

    def _new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def _comment(
        self, ticket_id: int, subject: str, body: str, *, hidden: bool, user_id: int | None
    ) -> dict[str, Any]:
        ticket = self.tickets[ticket_id]
        moment = self.now()
        comment = {
            "id": self._new_id(),
            "ticket_id": ticket_id,
            "subject": subject,
            "body": body,
            "hidden": hidden,
            "user_id": user_id,
            "tech": "deskhand API" if user_id is not None else "Customer-Reply",
            "created_at": moment,
        }
        ticket["comments"].append(comment)
        ticket["updated_at"] = moment
        return comment

    # --- HTTP ------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        seen = Received(request.method, request.path, dict(request.args), body)
        with self._lock:
            self.received.append(seen)
        checked_request = WerkzeugOpenAPIRequest(request)
        try:
            contract.checked().validate_request(checked_request)
        except Exception as error:  # any mismatch with the spec, whatever openapi-core calls it
            return self._violation(
                seen, f"request {request.method} {request.full_path}: {_why(error)}"
            )
        with self._lock:
            echo = next((echo for echo in self._echoes if echo.takes(request)), None)
        if echo is not None:
            seen.status = echo.status
            return echoed(request, echo.status, as_json=echo.as_json)
        response = self._handle(request, seen)
        response.headers["Date"] = format_datetime(datetime.now(UTC) + self.date_skew, usegmt=True)
        seen.status = response.status_code
        try:
            contract.checked().validate_response(checked_request, WerkzeugOpenAPIResponse(response))
        except Exception as error:
            return self._violation(
                seen,
                f"response {response.status_code} to {request.method} {request.path}: "
                f"{_why(error)} {response.get_data(as_text=True)[:300]}",
            )
        return response

    def _violation(self, seen: Received, what: str) -> Response:
        self.violations.append(what)
        seen.status = 400
        return _json({"message": [f"stand-in: not as syncro-swagger.json says: {what}"]}, 400)

    def _handle(self, request: Request, seen: Received) -> Response:
        wait = self._over_limit()
        if wait is not None:
            return _json(contract.TOO_MANY, 429, {"Retry-After": str(math.ceil(wait))})
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _json({"error": "Not authorized"}, 401)
        try:
            endpoint, arguments = ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return _json(contract.NOT_FOUND, error.code or 404)
        if PERMISSIONS[endpoint] in self.denied:
            return _json(contract.NOT_AUTHORISED, 401)
        fault = self._fault(request)
        if fault is not None:
            return _json(contract.FAILED, fault)
        with self._lock:
            handler: Callable[..., Response] = getattr(self, f"_{endpoint}")
            return handler(request, **arguments)

    def _over_limit(self) -> float | None:
        """None if this request is within the limit, else the seconds until one would be."""
        with self._lock:
            moment = self.clock()
            while self._sent and self._sent[0] <= moment - 60:
                self._sent.popleft()
            if len(self._sent) >= self.requests_per_minute:
                return self._sent[0] + 60 - moment
            self._sent.append(moment)
            return None

    def _fault(self, request: Request) -> int | None:
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, request.method):
                    continue
                if fault.path is not None and not re.search(fault.path, request.full_path):
                    continue
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault.status
        return None

    # --- endpoints -------------------------------------------------------------------------

    def _me(self, request: Request) -> Response:
        me = contract.example("/me", "get")
        me.update(user_email="api@msp.example", user_name="deskhand API", user_id=API_USER_ID)
        return _json(me)

    def _tickets(self, request: Request) -> Response:
        rows = list(self.tickets.values())
        if "customer_id" in request.args:
            rows = [t for t in rows if t["customer_id"] == int(request.args["customer_id"])]
        if "since_updated_at" in request.args:
            since = _parse(request.args["since_updated_at"])
            rows = [t for t in rows if t["updated_at"] > since]
        rows.sort(key=lambda t: t["id"], reverse=True)  # newest first, as Syncro lists them
        page, pages, shown = _page(rows, request, TICKETS_PER_PAGE)
        page_body = contract.example("/tickets", "get")
        template = page_body["tickets"][0]
        page_body["tickets"] = [self._listed(template, t) for t in shown]
        page_body["meta"] = {"total_pages": pages, "page": page}
        return _json(page_body)

    def _ticket(self, request: Request, ticket_id: int) -> Response:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return _json(contract.NOT_FOUND, 404)
        return _json({"ticket": self._detail(ticket, "/tickets/{id}", "get")})

    def _create_ticket(self, request: Request) -> Response:
        body = request.get_json()
        # This endpoint's 422 is published as {"error": "..."}, one problem at a time.
        if body.get("customer_id") not in self.customers:
            return _json({"error": "Customer required field"}, 422)
        if not (body.get("subject") or "").strip():
            return _json({"error": "Subject required field"}, 422)
        first = (body.get("comments_attributes") or [{}])[0]
        ticket_id = self.add_ticket(
            body["customer_id"],
            body["subject"],
            first.get("body", ""),
            contact_id=body.get("contact_id"),
        )
        ticket = self.tickets[ticket_id]
        return _json({"ticket": self._detail(ticket, "/tickets", "post")})

    def _update_ticket(self, request: Request, ticket_id: int) -> Response:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return _json(contract.NOT_FOUND, 404)
        status = request.get_json().get("status")
        if status is not None:
            if status not in STATUSES:
                return _json(
                    {"success": False, "message": ["Status is not included in the list"]}, 422
                )
            ticket["status"] = status
            ticket["updated_at"] = self.now()
        return _json({"ticket": self._detail(ticket, "/tickets/{id}", "put")})

    def _add_comment(self, request: Request, ticket_id: int) -> Response:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return _json(contract.NOT_FOUND, 404)
        body = request.get_json()
        blank = [
            f"{name.capitalize()} can't be blank"
            for name in ("body", "subject")
            if not (body.get(name) or "").strip()
        ]
        if blank:
            return _json({"success": False, "message": blank}, 422)
        comment = self._comment(
            ticket_id,
            body["subject"],
            body["body"],
            hidden=bool(body.get("hidden")),
            user_id=API_USER_ID,
        )
        return _json({"comment": self._comment_json(comment)})

    def _timer(self, request: Request, ticket_id: int) -> Response:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return _json(contract.NOT_FOUND, 404)
        body = request.get_json()
        if "start_at" not in body:
            return _json({"error": "no implicit conversion of nil into String"}, 422)
        timer = {
            "id": self._new_id(),
            "ticket_id": ticket_id,
            "start_time": _parse(body["start_at"]),
            "end_time": _parse(body.get("end_at") or body["start_at"]),
            "notes": body.get("notes"),
            "billable": self.timers_billable,
            "created_at": self.now(),
        }
        ticket["timers"].append(timer)
        ticket["updated_at"] = self.now()
        return _json(self._timer_json(timer))

    def _set_billable(self, request: Request, timer_id: int) -> Response:
        for ticket in self.tickets.values():
            for timer in ticket["timers"]:
                if timer["id"] == timer_id:
                    timer["billable"] = request.args["billable"] == "true"
                    # Published without its leading slash (see ``contract``).
                    body = contract.example("ticket_timers/{id}", "patch")
                    answer = {**self._timer_json(timer), "since_updated_at": _stamp(self.now())}
                    return _json({"ticket_timer": _filled(body["ticket_timer"], **answer)})
        return _json(contract.NOT_FOUND, 404)

    def _timers(self, request: Request) -> Response:
        rows = [timer for ticket in self.tickets.values() for timer in ticket["timers"]]
        page, pages, shown = _page(rows, request, TICKETS_PER_PAGE)
        body = contract.example("/ticket_timers", "get")
        body["ticket_timers"] = [self._timer_json(timer) for timer in shown]
        body["meta"] = {"total_pages": pages, "page": page}
        return _json(body)

    def _customer(self, request: Request, customer_id: int) -> Response:
        customer = self.customers.get(customer_id)
        if customer is None:
            return _json(contract.NOT_FOUND, 404)
        template = contract.example("/customers/{id}", "get")["customer"]
        return _json({"customer": self._customer_json(template, customer)})

    def _contacts(self, request: Request) -> Response:
        rows = sorted(self.contacts.values(), key=lambda c: c["id"])
        if "customer_id" in request.args:
            rows = [c for c in rows if c["customer_id"] == int(request.args["customer_id"])]
        page, pages, shown = _page(rows, request, CONTACTS_PER_PAGE)
        body = contract.example("/contacts", "get")
        template = body["contacts"][0]
        body["contacts"] = [self._contact_json(template, contact) for contact in shown]
        body["meta"] = {
            "total_pages": pages,
            "total_entries": len(rows),
            "per_page": CONTACTS_PER_PAGE,
            "page": page,
        }
        return _json(body)

    # --- Syncro's JSON, filled into the published examples ---------------------------------

    def _listed(self, template: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any]:
        contact = self.contacts.get(ticket["contact_id"] or 0)
        # The list carries the first comment only (all_comments defaults to false since 2026).
        return _filled(
            template,
            id=ticket["id"],
            number=ticket["number"],
            subject=ticket["subject"],
            customer_id=ticket["customer_id"],
            customer_business_then_name=self.customers[ticket["customer_id"]]["business_name"],
            status=ticket["status"],
            contact_id=ticket["contact_id"],
            contact_fullname=contact["name"] if contact else None,
            created_at=_stamp(ticket["created_at"]),
            updated_at=_stamp(ticket["updated_at"]),
            comments=[self._comment_json(c) for c in ticket["comments"][:1]],
        )

    def _detail(self, ticket: dict[str, Any], path: str, method: str) -> dict[str, Any]:
        template = contract.example(path, method)["ticket"]
        customer = self.customers[ticket["customer_id"]]
        contact = self.contacts.get(ticket["contact_id"] or 0)
        contacts_template = contract.example("/contacts", "get")["contacts"][0]
        values: dict[str, Any] = {
            "id": ticket["id"],
            "number": ticket["number"],
            "subject": ticket["subject"],
            "customer_id": ticket["customer_id"],
            "customer_business_then_name": customer["business_name"],
            "status": ticket["status"],
            "created_at": _stamp(ticket["created_at"]),
            "updated_at": _stamp(ticket["updated_at"]),
            "comments": [self._comment_json(c) for c in ticket["comments"]],
            "ticket_timers": [self._timer_json(t) for t in ticket["timers"]],
            "customer": self._customer_json(template["customer"], customer),
            "contact": self._contact_json(contacts_template, contact) if contact else None,
        }
        return _filled(template, **{k: v for k, v in values.items() if k in template})

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        template = contract.example("/tickets/{id}/comment", "post")["comment"]
        return _filled(
            template,
            **{k: v for k, v in comment.items() if k != "created_at"},
            created_at=_stamp(comment["created_at"]),
            updated_at=_stamp(comment["created_at"]),
        )

    def _timer_json(self, timer: dict[str, Any]) -> dict[str, Any]:
        template = contract.example("/tickets/{id}/timer_entry", "post")
        seconds = int((timer["end_time"] - timer["start_time"]).total_seconds())
        return _filled(
            template,
            id=timer["id"],
            ticket_id=timer["ticket_id"],
            user_id=API_USER_ID,
            start_time=_stamp(timer["start_time"]),
            end_time=_stamp(timer["end_time"]),
            notes=timer["notes"],
            billable=timer.get("billable", False),
            created_at=_stamp(timer["created_at"]),
            updated_at=_stamp(timer["created_at"]),
            active_duration=seconds,
        )

    def _customer_json(self, template: dict[str, Any], customer: dict[str, Any]) -> dict[str, Any]:
        return _filled(
            template,
            id=customer["id"],
            firstname="",
            lastname="",
            fullname=customer["business_name"],
            business_name=customer["business_name"],
            business_and_full_name=customer["business_name"],
            business_then_name=customer["business_name"],
            email=customer["email"],
            contacts=[],
        )

    def _contact_json(self, template: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
        return _filled(template, **contact)


def _why(error: Exception) -> str:
    """openapi-core's error with the schema errors under it, which say what did not match."""
    cause = error.__cause__
    details = [str(e.message) for e in getattr(cause, "schema_errors", ())]
    return f"{error!r} {cause!r} {'; '.join(details)}".strip()


class _Quiet(WSGIRequestHandler):
    """No access log on the test output (``received`` has every request), and no Date header
    of its own: the stand-in sends the one it means (see ``date_skew``)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


def _filled(template: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The published example with our values; a key it does not have is a stand-in bug."""
    unknown = set(values) - set(template)
    assert not unknown, f"the published example has no {sorted(unknown)}"
    return {**template, **values}


def _page(
    rows: list[dict[str, Any]], request: Request, size: int
) -> tuple[int, int, list[dict[str, Any]]]:
    page = int(request.args.get("page", 1))
    pages = max(1, -(-len(rows) // size))
    return page, pages, rows[(page - 1) * size : page * size]


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
