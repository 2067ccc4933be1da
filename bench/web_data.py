"""The data set of ``bench/web.py``: a help desk with a backlog of pending drafts and a long
event log, in PostgreSQL. SYNTHETIC: made from the demo tenants' sandbox.

A few hundred template tickets go through the real engine — intake, the real dispatcher in a
worker, approvals and execution for the history — and are then cloned in bulk (COPY) with new
ids until the wanted number of pending drafts and of events is reached. A clone is remapped
consistently: new ticket, run, step, approval, escalation and PSA ids; step parameters naming
the PSA ticket rewritten and their payload hashes recomputed; timestamps shifted. Its events
are appended after the real ones with their hashes recomputed, so the whole log is one valid
hash chain. Its PSA ticket and comments are cloned in the sandbox too, so that the ticket page
and approving find them as they would for a real ticket.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from deskhand.audit.log import canonical_json, event_hash
from deskhand.connectors.sandbox.store import SandboxBase
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.engine.state import payload_hash
from deskhand.engine.worker import Worker
from deskhand.intake.arrival import add_ticket
from deskhand.store.models import Base, ChainHead, EventRecord, now

CONTOSO, NORTHWIND = "contoso-dental", "northwind-law"
DOMAIN = {CONTOSO: "contosodental.example", NORTHWIND: "northwindlaw.example"}
PEOPLE = {
    CONTOSO: (
        "Lisa Chen",
        "Anna Kowalski",
        "Tom Becker",
        "Sofia Martins",
        "Marcus Lee",
        "Rachel Kim",
        "Hannah Brooks",
        "David Osei",
        "Priya Raman",
        "James Okafor",
    ),
    NORTHWIND: (
        "Grace Liu",
        "Samuel Ortiz",
        "Aisha Patel",
        "Daniel Brooks",
        "Monica Reyes",
        "Robert Hale",
    ),
}
AUTHORISED = {CONTOSO: "Karen Whitfield", NORTHWIND: "Monica Reyes"}
UNAUTHORISED = {CONTOSO: "Jake Morrison", NORTHWIND: "Grace Liu"}
GROUPS = {CONTOSO: ("Finance Share", "Front Desk", "Clinical Staff"), NORTHWIND: ("Case Files",)}
UNRECOGNISED = (
    ("Printer jammed", "The printer on the second floor is jammed again."),
    ("Laptop screen", "My laptop screen flickers since this morning."),
    ("Wi-Fi slow", "The Wi-Fi in the back office is very slow today."),
    ("Projector", "The projector in the meeting room does not find the laptop."),
)

# The share of each kind of request among the template tickets.
KINDS = (
    ("self_reset", 0.25),
    ("reset_for", 0.15),
    ("group", 0.15),
    ("licence", 0.10),
    ("unrecognised", 0.25),
    ("unverified", 0.10),
)
# The history (tickets no longer waiting) is this share resolved, the rest escalated.
RESOLVED_SHARE = 0.35


def address(tenant: str, name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{DOMAIN[tenant]}"


def request(kind: str, rng: random.Random) -> tuple[str, str, str, str]:
    """A ticket of ``kind``: (tenant, requester, subject, body)."""
    tenant = rng.choice((CONTOSO, CONTOSO, NORTHWIND))
    name = rng.choice(PEOPLE[tenant])
    first = name.split()[0]
    if kind == "self_reset":
        return (
            tenant,
            address(tenant, name),
            "Forgot my password",
            f"Hi, I forgot my password and can't log in to Outlook. Can you reset it please? "
            f"Thanks, {first}",
        )
    if kind in ("reset_for", "unverified"):
        asking = AUTHORISED[tenant] if kind == "reset_for" else UNAUTHORISED[tenant]
        if asking == name:
            name = PEOPLE[tenant][0]
        return (
            tenant,
            address(tenant, asking),
            f"Password reset for {name}",
            f"{name} is locked out of email, please reset the password for {name}.",
        )
    if kind == "group":
        group = rng.choice(GROUPS[tenant])
        return (
            tenant,
            address(tenant, AUTHORISED[tenant]),
            f"{group} access for {first}",
            f"Please add {name} to the {group} group, thanks.",
        )
    if kind == "licence":
        return (
            tenant,
            address(tenant, AUTHORISED[tenant]),
            "Business Premium licence",
            f"We need a Business Premium license for {name} please.",
        )
    subject, body = rng.choice(UNRECOGNISED)
    return tenant, address(tenant, name), subject, body


def make_templates(rt: Runtime, count: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """Tickets through the real engine: (ticket ids left pending, ticket ids of the history).

    Every other ticket waiting for approval stays so; of the rest, four in five have every
    draft approved and are executed by the worker, one in five has a draft rejected."""
    kinds, weights = zip(*KINDS, strict=True)
    for kind in rng.choices(kinds, weights, k=count):
        add_ticket(rt, *request(kind, rng))
    worker = Worker(rt, "bench-web")
    worker.run_once()
    pending: list[int] = []
    history: list[int] = []
    waiting = approvals.list_drafts(rt, None)
    by_ticket: dict[int, list[int]] = {}
    for draft in waiting:
        by_ticket.setdefault(draft.ticket_id, []).append(draft.id)
    for n, (ticket_id, draft_ids) in enumerate(sorted(by_ticket.items())):
        if n % 2 == 0:
            pending.append(ticket_id)
        elif n % 10 == 9:
            approvals.reject(rt, draft_ids[0], "dana@msp.example", "Not what the client asked.")
        else:
            for draft_id in draft_ids:
                # A VIP's security draft asks how the requester was verified: say it, as a
                # technician would after the call-back.
                approvals.approve(
                    rt,
                    draft_id,
                    "dana@msp.example",
                    verification="called back on the number on file",
                )
    worker.run_once()
    with rt.db.reading() as session:
        every = session.scalars(select(Base.metadata.tables["tickets"].c.id)).all()
    history = sorted(set(every) - set(pending))
    return pending, history


# --- cloning ----------------------------------------------------------------------------------

TABLES = ("tickets", "runs", "steps", "approvals", "escalations", "step_secrets")
PSA_TICKET = re.compile(r"\bPSA ticket (\d+)\b")
IDEMPOTENCY = re.compile(r"^dh-(\d+)-(\d+)$")


@dataclass
class Template:
    """One real ticket with every row that belongs to it, ready to be cloned."""

    ticket_id: int
    status: str
    rows: dict[str, list[dict[str, Any]]]  # table -> rows, in id order
    shapes: list[EventShape]
    psa_ticket: dict[str, Any]
    psa_comments: list[dict[str, Any]]

    @property
    def pending_drafts(self) -> int:
        return sum(1 for a in self.rows["approvals"] if a["status"] == "pending")


def load_templates(rt: Runtime, ticket_ids: Iterable[int]) -> list[Template]:
    tables = Base.metadata.tables
    sandbox = SandboxBase.metadata.tables
    found = []
    with rt.db.engine.connect() as db, rt.sandbox.engine.connect() as sb:
        for ticket_id in ticket_ids:
            rows: dict[str, list[dict[str, Any]]] = {}

            def fetch(name: str, where: Any) -> list[dict[str, Any]]:
                table = tables[name]
                query = select(table).where(where).order_by(table.c.id)
                return [dict(r._mapping) for r in db.execute(query)]

            rows["tickets"] = fetch("tickets", tables["tickets"].c.id == ticket_id)
            rows["runs"] = fetch("runs", tables["runs"].c.ticket_id == ticket_id)
            run_ids = [r["id"] for r in rows["runs"]]
            rows["steps"] = fetch("steps", tables["steps"].c.run_id.in_(run_ids))
            step_ids = [s["id"] for s in rows["steps"]]
            rows["approvals"] = fetch("approvals", tables["approvals"].c.step_id.in_(step_ids))
            rows["escalations"] = fetch(
                "escalations", tables["escalations"].c.ticket_id == ticket_id
            )
            rows["step_secrets"] = fetch(
                "step_secrets", tables["step_secrets"].c.step_id.in_(step_ids)
            )
            events = fetch("events", tables["events"].c.ticket_id == ticket_id)
            ticket = rows["tickets"][0]
            psa_id = int(ticket["psa_ticket_id"])
            psa = sandbox["sandbox_psa_tickets"]
            comments = sandbox["sandbox_psa_comments"]
            psa_ticket = dict(sb.execute(select(psa).where(psa.c.id == psa_id)).one()._mapping)
            psa_comments = [
                dict(r._mapping)
                for r in sb.execute(
                    select(comments).where(comments.c.ticket_id == psa_id).order_by(comments.c.id)
                )
            ]
            found.append(
                Template(
                    ticket_id,
                    ticket["status"],
                    rows,
                    [EventShape.of(e) for e in events],
                    psa_ticket,
                    psa_comments,
                )
            )
    return found


@dataclass
class Counters:
    """The next free id of every table, and the chain's head."""

    ids: dict[str, int]
    last_event_id: int
    last_hash: str

    def take(self, table: str, count: int) -> int:
        first = self.ids[table]
        self.ids[table] += count
        return first


@dataclass
class Clone:
    """One clone of a template: its shift in time and the ids it was given."""

    template: Template
    shift: timedelta
    ids: dict[str, dict[int, int]] = field(default_factory=dict)  # table -> old id -> new id
    psa_ticket_id: str = ""
    hashes: dict[str, str] = field(default_factory=dict)  # old payload hash -> new

    @classmethod
    def plan(cls, template: Template, shift: timedelta, counters: Counters) -> Clone:
        clone = cls(template, shift)
        for table in TABLES:
            old = [row["id"] for row in template.rows[table]]
            first = counters.take(table, len(old))
            clone.ids[table] = {o: first + n for n, o in enumerate(old)}
        old_comments = [c["id"] for c in template.psa_comments]
        first = counters.take("sandbox_psa_comments", len(old_comments))
        clone.ids["comments"] = {o: first + n for n, o in enumerate(old_comments)}
        clone.psa_ticket_id = str(counters.take("sandbox_psa_tickets", 1))
        return clone

    # Values inside text and JSON that name ids of the template.
    def text(self, value: str) -> str:
        old = self.template.psa_ticket["id"]
        return PSA_TICKET.sub(
            lambda m: f"PSA ticket {self.psa_ticket_id}" if int(m[1]) == old else m[0], value
        )

    def json(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if not isinstance(value, str):
            return value
        if key == "psa_ticket_id":
            return self.psa_ticket_id
        if key == "approval_id":
            return str(self.ids["approvals"][int(value)])
        if key == "escalation_id":
            return str(self.ids["escalations"][int(value)])
        if key == "comment_id":
            return str(self.ids["comments"].get(int(value), value))
        if key == "idempotency_key" and (m := IDEMPOTENCY.match(value)):
            return f"dh-{self.ids['runs'][int(m[1])]}-{m[2]}"
        if key in ("payload_hash", "approved_hash", "current_hash"):
            return self.hashes.get(value, value)
        if key == "expires_at":
            return (datetime.fromisoformat(value) + self.shift).isoformat()
        return self.text(value)

    def when(self, value: datetime | None) -> datetime | None:
        return None if value is None else value + self.shift

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """The clone's rows of the application tables."""
        out: dict[str, list[dict[str, Any]]] = {}
        t = self.template.rows
        ticket = t["tickets"][0]
        new_ticket = self.ids["tickets"][ticket["id"]]
        out["tickets"] = [
            {
                **ticket,
                "id": new_ticket,
                "psa_ticket_id": self.psa_ticket_id,
                "created_at": self.when(ticket["created_at"]),
                "updated_at": self.when(ticket["updated_at"]),
            }
        ]
        out["runs"] = [
            {
                **run,
                "id": self.ids["runs"][run["id"]],
                "ticket_id": new_ticket,
                "lease_expires_at": self.when(run["lease_expires_at"]),
                "created_at": self.when(run["created_at"]),
                "updated_at": self.when(run["updated_at"]),
            }
            for run in t["runs"]
        ]
        out["steps"] = []
        for step in t["steps"]:
            params = self.json(step["params"])
            tenant = step["tenant_id"]
            self.hashes[payload_hash(tenant, step["action"], step["params"])] = payload_hash(
                tenant, step["action"], params
            )
            new_run = self.ids["runs"][step["run_id"]]
            out["steps"].append(
                {
                    **step,
                    "id": self.ids["steps"][step["id"]],
                    "run_id": new_run,
                    "params": params,
                    "description": self.text(step["description"]),
                    "idempotency_key": f"dh-{new_run}-{step['position']}",
                    "snapshot": self.json(step["snapshot"]),
                    "result": self.json(step["result"]),
                    "started_at": self.when(step["started_at"]),
                    "finished_at": self.when(step["finished_at"]),
                }
            )
        out["approvals"] = []
        for approval in t["approvals"]:
            edited = self.json(approval["approved_params"])
            if edited is not None:
                step = next(s for s in t["steps"] if s["id"] == approval["step_id"])
                old = payload_hash(
                    approval["tenant_id"], step["action"], approval["approved_params"]
                )
                self.hashes[old] = payload_hash(approval["tenant_id"], step["action"], edited)
            out["approvals"].append(
                {
                    **approval,
                    "id": self.ids["approvals"][approval["id"]],
                    "step_id": self.ids["steps"][approval["step_id"]],
                    "approved_params": edited,
                    "payload_hash": self.hashes.get(approval["payload_hash"] or "", None),
                    "created_at": self.when(approval["created_at"]),
                    "expires_at": self.when(approval["expires_at"]),
                    "decided_at": self.when(approval["decided_at"]),
                    "used_at": self.when(approval["used_at"]),
                }
            )
        out["escalations"] = [
            {
                **e,
                "id": self.ids["escalations"][e["id"]],
                "ticket_id": new_ticket,
                "run_id": self.ids["runs"].get(e["run_id"]) if e["run_id"] else None,
                "created_at": self.when(e["created_at"]),
                "closed_at": self.when(e["closed_at"]),
            }
            for e in t["escalations"]
        ]
        # A cloned temporary password would be shared by every clone: as if shown and erased.
        out["step_secrets"] = [
            {
                **s,
                "id": self.ids["step_secrets"][s["id"]],
                "step_id": self.ids["steps"][s["step_id"]],
                "value": None,
                "created_at": self.when(s["created_at"]),
                "revealed_at": self.when(s["revealed_at"]) or self.when(s["created_at"]),
            }
            for s in t["step_secrets"]
        ]
        return out

    def sandbox_rows(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        psa = self.template.psa_ticket
        new_id = int(self.psa_ticket_id)
        ticket = {
            **psa,
            "id": new_id,
            "number": new_id + 1000,
            "created_at": self.when(psa["created_at"]),
        }
        comments = [
            {
                **c,
                "id": self.ids["comments"][c["id"]],
                "ticket_id": new_id,
                "body": self.text(c["body"]),
                "created_at": self.when(c["created_at"]),
            }
            for c in self.template.psa_comments
        ]
        return ticket, comments

    def events(self, counters: Counters) -> Iterator[str]:
        """The clone's events as COPY lines of the events table, chained after the head."""
        for shape in self.template.shapes:
            event_id = counters.last_event_id + 1
            at = (shape.at + self.shift).isoformat(timespec="microseconds")
            data = shape.fixed_data or canonical_json(self.json(shape.data))
            run_id = self.ids["runs"][shape.run_id] if shape.run_id else None
            step_id = self.ids["steps"][shape.step_id] if shape.step_id else None
            ticket_id = self.ids["tickets"][shape.ticket_id]
            # The body event_hash hashes, written out: canonical JSON has its keys sorted.
            body = (
                f'{shape.head}{at}","data":{data},"id":{event_id},"run_id":{_number(run_id)},'
                f'"step_id":{_number(step_id)}{shape.middle}{ticket_id}{shape.tail}'
            )
            digest = hashlib.sha256(f"{counters.last_hash}\n{body}".encode()).hexdigest()
            fields = (
                str(event_id),
                at,
                shape.copy_prefix,
                _copy_text(shape.tenant_id),
                str(ticket_id),
                _copy_text(run_id),
                _copy_text(step_id),
                _escape(data),
                counters.last_hash,
                digest,
            )
            yield "\t".join(fields) + "\n"
            counters.last_event_id, counters.last_hash = event_id, digest


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


EVENT_COLUMNS = (
    "id, at, type, actor_kind, actor, tenant_id, ticket_id, run_id, step_id, data, prev_hash, hash"
)


@dataclass(frozen=True)
class EventShape:
    """A template event, with the parts of its hashed body that every clone shares."""

    at: datetime
    tenant_id: str | None
    ticket_id: int
    run_id: int | None
    step_id: int | None
    data: dict[str, Any]
    fixed_data: str | None  # its data's canonical JSON, when no clone changes it
    head: str
    middle: str
    tail: str
    copy_prefix: str  # type, actor_kind and actor as COPY fields

    @classmethod
    def of(cls, event: dict[str, Any]) -> EventShape:
        def js(value: Any) -> str:
            return canonical_json(value)

        return cls(
            at=event["at"],
            tenant_id=event["tenant_id"],
            ticket_id=event["ticket_id"],
            run_id=event["run_id"],
            step_id=event["step_id"],
            data=event["data"],
            fixed_data=None if _names_ids(event["data"]) else canonical_json(event["data"]),
            head=f'{{"actor":{js(event["actor"])},"actor_kind":{js(event["actor_kind"])},"at":"',
            middle=f',"tenant_id":{js(event["tenant_id"])},"ticket_id":',
            tail=f',"type":{js(event["type"])}}}',
            copy_prefix="\t".join(_escape(event[k]) for k in ("type", "actor_kind", "actor")),
        )


REMAPPED = {
    "psa_ticket_id",
    "approval_id",
    "escalation_id",
    "comment_id",
    "idempotency_key",
    "payload_hash",
    "approved_hash",
    "current_hash",
    "expires_at",
}


def _names_ids(value: Any, key: str | None = None) -> bool:
    """Whether a clone must change ``value``: it names an id of its ticket."""
    if isinstance(value, dict):
        return any(_names_ids(v, k) for k, v in value.items())
    if isinstance(value, list):
        return any(_names_ids(v) for v in value)
    return isinstance(value, str) and (key in REMAPPED or PSA_TICKET.search(value) is not None)


def _escape(value: str) -> str:
    """A value in PostgreSQL's COPY text format."""
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _escape(json.dumps(value))
    return _escape(str(value))


@dataclass(frozen=True)
class Filled:
    """What the bulk fill added."""

    clones: int
    pending_clones: int
    history_clones: int
    rows: dict[str, int]
    events: int
    first_event_id: int  # the first cloned event


def fill(
    rt: Runtime,
    pending: Sequence[Template],
    history: Sequence[Template],
    drafts: int,
    events: int,
    rng: random.Random,
) -> Filled:
    """Clone templates until there are ``drafts`` pending drafts and ``events`` events."""
    counters = _counters(rt)
    have_drafts = _scalar(rt, "SELECT count(*) FROM approvals WHERE status = 'pending'")
    have_events = first_event_id = counters.last_event_id
    expiry = min(a["expires_at"] - a["created_at"] for t in pending for a in t.rows["approvals"])
    # Pending clones: ids after the history, arrived within the last quarter of the expiry.
    pending_plan: list[Template] = []
    for template in itertools.cycle(sorted(pending, key=lambda t: -t.pending_drafts)):
        missing = drafts - have_drafts
        if missing <= 0:
            break
        if template.pending_drafts > missing:
            fitting = [t for t in pending if 0 < t.pending_drafts <= missing]
            if not fitting:
                break
            template = rng.choice(fitting)
        pending_plan.append(template)
        have_drafts += template.pending_drafts
        have_events += len(template.shapes)
    resolved = [t for t in history if t.status == "resolved"]
    escalated = [t for t in history if t.status != "resolved"]
    history_plan: list[Template] = []
    smallest = min(len(t.shapes) for t in history)
    while events - have_events >= smallest:
        group = resolved if resolved and rng.random() < RESOLVED_SHARE else escalated or resolved
        template = rng.choice(group)
        if len(template.shapes) > events - have_events:
            template = min(history, key=lambda t: len(t.shapes))
        history_plan.append(template)
        have_events += len(template.shapes)
    # Oldest first, so that ids grow with time: the history over the last 90 days, then the
    # pending clones within the last quarter of the approval expiry.
    moment = now()
    start = min(t.rows["tickets"][0]["created_at"] for t in [*pending, *history])
    clones: list[Clone] = []
    for n, template in enumerate(history_plan):
        ago = timedelta(days=90) * (1 - n / max(len(history_plan), 1))
        clones.append(Clone.plan(template, moment - ago - start, counters))
    for n, template in enumerate(pending_plan):
        ago = expiry / 4 * (1 - n / max(len(pending_plan), 1))
        clones.append(Clone.plan(template, moment - ago - start - timedelta(minutes=1), counters))
    counts = _write(rt, clones, counters)
    return Filled(
        len(clones), len(pending_plan), len(history_plan), counts, have_events, first_event_id + 1
    )


def _counters(rt: Runtime) -> Counters:
    ids = {table: _scalar(rt, f"SELECT coalesce(max(id), 0) + 1 FROM {table}") for table in TABLES}
    with rt.sandbox.engine.connect() as sb:
        for table in ("sandbox_psa_tickets", "sandbox_psa_comments"):
            ids[table] = int(
                sb.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one()
            )
    with rt.db.reading() as session:
        head = session.execute(select(ChainHead)).scalar_one()
        return Counters(ids, head.last_event_id, head.last_hash)


def _scalar(rt: Runtime, sql: str) -> int:
    with rt.db.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def _write(rt: Runtime, clones: Sequence[Clone], counters: Counters) -> dict[str, int]:
    """COPY the clones' rows, then their events, then move the chain head and sequences."""
    tables = Base.metadata.tables
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    psa_tickets, psa_comments = [], []
    for clone in clones:
        for table, found in clone.rows().items():
            rows[table].extend(found)
        ticket, comments = clone.sandbox_rows()
        psa_tickets.append(ticket)
        psa_comments.extend(comments)
    raw = rt.db.engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        with connection.cursor() as cursor:
            for table in TABLES:
                columns = [c.name for c in tables[table].columns]
                lines = (
                    "\t".join(_copy_text(row[c]) for c in columns) + "\n" for row in rows[table]
                )
                _copy(cursor, table, ", ".join(columns), lines)
            _copy(cursor, "events", EVENT_COLUMNS, _all_events(clones, counters))
            cursor.execute(
                "UPDATE event_chain SET last_event_id = %s, last_hash = %s WHERE id = 1",
                (counters.last_event_id, counters.last_hash),
            )
            for table in (*TABLES, "events"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        connection.commit()
    finally:
        raw.close()
    sandbox = SandboxBase.metadata.tables
    with rt.sandbox.engine.begin() as sb:
        sb.execute(insert(sandbox["sandbox_psa_tickets"]), psa_tickets)
        if psa_comments:
            sb.execute(insert(sandbox["sandbox_psa_comments"]), psa_comments)
    # What autovacuum would have done long since on a desk with this much history.
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE"))
    return {table: len(found) for table, found in rows.items()}


def _all_events(clones: Sequence[Clone], counters: Counters) -> Iterator[str]:
    for clone in clones:
        yield from clone.events(counters)


def _copy(cursor: Any, table: str, columns: str, lines: Iterable[str]) -> None:
    buffer: list[str] = []
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            buffer.append(line)
            if len(buffer) >= 5000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))


def check_chain_sample(rt: Runtime, first: int, count: int = 2000) -> None:
    """Recompute the hashes of ``count`` cloned events with the log's own function: the bulk
    fill writes the hashed body out itself, and this is where a difference would show."""
    with rt.db.reading() as session:
        records = session.scalars(
            select(EventRecord).where(EventRecord.id >= first).order_by(EventRecord.id).limit(count)
        )
        for record in records:
            if event_hash(record, record.prev_hash) != record.hash:
                raise SystemExit(f"bulk fill: event {record.id}'s hash does not match its content")


def event_counts(rt: Runtime) -> list[int]:
    """How many events each ticket has."""
    with rt.db.engine.connect() as db:
        return [
            int(n)
            for (n,) in db.execute(
                select(func.count())
                .select_from(Base.metadata.tables["events"])
                .group_by(Base.metadata.tables["events"].c.ticket_id)
            )
        ]
