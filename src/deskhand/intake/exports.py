"""Tickets from a PSA's export files (ConnectWise Manage, Autotask, HaloPSA, Syncro) as intake:
for an MSP whose PSA deskhand cannot read live yet.

Files are read and recognised by the same code as ``deskhand analyze`` (history/), plus the
requester's columns. Which rows become tickets: open ones (a closed, resolved or completed
status is skipped), each with a ticket number, a requester e-mail and a subject or body. Every
row that does not become a ticket is reported with its reason and its file and row.

An imported ticket's PSA ticket id is ``<psa>:<number>`` (``connectwise:24001``): the trace
shows where it came from, a re-import finds it again, and it can never be taken for a ticket
of the tenant's own PSA that has the same number. Its origin is stored as an export of that PSA
(``TicketOrigin.EXPORT``, ``exported_from``): the tenant's PSA does not have the ticket, so its
notes are kept in deskhand, a reply needs the tenant's own e-mail (``binding``), and anything
else on it is for the technician to do in the PSA the export came from.

Each row's text is cleaned as every intake's is (``deskhand.intake.arrival.receive``); a row
that still cannot be stored is quarantined with its file and row (``deskhand.intake.quarantine``)
and the import goes on with the next.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from deskhand.domain.origin import TicketOrigin
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError, UnknownFormatError
from deskhand.history.formats import (
    FORMAT_NAMES,
    REQUESTER_COLUMNS,
    Resolved,
    normalise_header,
    resolve,
)
from deskhand.history.importer import CLOSED_STATUS, with_ticket_ids
from deskhand.history.reading import load_fields
from deskhand.history.sources import LIMITS, RawTable, discover, read_tables, size_words
from deskhand.intake import quarantine
from deskhand.intake.arrival import Arrival, cleaned, receive
from deskhand.store.models import Tenant, Ticket

# Reasons a row is not imported; the report groups by them.
NO_ID = "no ticket number"
CLOSED = "closed"
NO_ADDRESS = "no requester e-mail address"
NO_TEXT = "no subject or body"
REPEATED = "repeated in the export"
KNOWN = "already in deskhand"
TOO_LONG = "a cell too long to be ticket text"

MAX_NUMBER = 48  # tickets.psa_ticket_id holds 64 characters, with the "<psa>:" in front
SOURCE = "import"  # for the quarantine


@dataclass(frozen=True)
class ExportTicket:
    """One open ticket read from an export, ready to store."""

    psa: str  # the export's PSA: connectwise, autotask, halo, syncro
    number: str
    requester_email: str
    requester_name: str  # "" when the export does not name the contact
    subject: str
    body: str
    where: str  # "tickets.csv row 4"

    @property
    def psa_ticket_id(self) -> str:
        return f"{self.psa}:{self.number}"

    def arrival(self) -> Arrival:
        return Arrival(
            requester_email=self.requester_email,
            psa_ticket_id=self.psa_ticket_id,
            subject=self.subject,
            body=self.body,
            origin=TicketOrigin.EXPORT,
            exported_from=FORMAT_NAMES[self.psa],
            display_name=self.requester_name or None,
        )


@dataclass(frozen=True)
class Skipped:
    """A row that did not become a ticket, and why."""

    where: str
    reason: str
    number: str | None = None
    detail: str = ""  # the status, the address that is not one, the earlier row…


@dataclass(frozen=True)
class ExportFile:
    name: str
    format: str  # the layout's label: "ConnectWise Manage service tickets"
    rows: int
    encoding: str


@dataclass
class ExportReading:
    """What the files hold: the tickets to store and the rows that will not be."""

    tickets: list[ExportTicket] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[ExportFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import stored (or, for a dry run, would store) for one tenant."""

    tenant_id: str
    dry_run: bool
    files: list[ExportFile]
    stored: list[tuple[str, int | None]] = field(default_factory=list)  # (PSA id, ticket id)
    skipped: list[Skipped] = field(default_factory=list)
    # Rows kept aside in the quarantine (for a dry run: those that would be), with the reason.
    quarantined: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_export(
    paths: Sequence[Path],
    *,
    mapping: Mapping[str, str] | None = None,
    forced_format: str | None = None,
    open_only: bool = True,
) -> ExportReading:
    """Read ticket export files (or folders of them) into tickets and counted skips."""
    mapping = dict(mapping or {})
    reading = ExportReading()
    seen: dict[str, str] = {}  # PSA ticket id -> where it was first read
    for path, named in discover(paths).items():
        for table in read_tables(path):
            try:
                resolved = resolve(table.name, table.header, mapping, forced_format)
            except UnknownFormatError:
                if named:
                    raise
                reading.warnings.append(f"{table.name}: not a PSA export; skipped")
                continue
            if resolved.layout.format not in REQUESTER_COLUMNS:
                raise InputError(
                    f"{table.name}: deskhand cannot tell which PSA this export comes from.",
                    hint="Say it with --format connectwise|autotask|halo|syncro, and name "
                    "differently called columns with --map field=COLUMN.",
                )
            if resolved.kind == "time":
                reading.warnings.append(
                    f"{table.name} is a {resolved.layout.label} file, not tickets; skipped"
                )
                continue
            for key, column in mapping.items():
                if key not in resolved.fields:
                    raise InputError(
                        f"--map {key}={column}: {table.name} has no column named {column!r}.",
                        hint="Column names are matched ignoring case, spaces and underscores.",
                    )
            resolved = _with_requester(resolved, table.header)
            _read_table(table, resolved, open_only, reading, seen)
    if not reading.files:
        raise InputError(
            "None of the files is a ticket export.",
            hint="Export the tickets (not time entries) from the PSA as CSV, XLSX or JSON.",
        )
    return reading


def _with_requester(resolved: Resolved, header: Sequence[str]) -> Resolved:
    """The resolved layout plus the requester's columns, where the file has them."""
    by_normal = {normalise_header(h): h for h in reversed(header)}
    fields = dict(resolved.fields)
    fallbacks = dict(resolved.fallbacks)
    for key, names in REQUESTER_COLUMNS[resolved.layout.format].items():
        if key in fields:  # --map named it
            continue
        present = [by_normal[name] for name in names if name in by_normal]
        if present:
            fields[key] = present[0]
            if present[1:]:
                fallbacks[key] = tuple(present[1:])
    return dataclasses.replace(resolved, fields=fields, fallbacks=fallbacks)


def _read_table(
    table: RawTable,
    resolved: Resolved,
    open_only: bool,
    reading: ExportReading,
    seen: dict[str, str],
) -> None:
    label = resolved.layout.label
    if "requester_email" not in resolved.fields:
        raise InputError(
            f"{table.name} ({label}) has no column for the requester's e-mail address. "
            f"Found: {', '.join(table.header)}.",
            hint="Say which column holds it: --map requester_email=COLUMN (and the contact's "
            "name: --map requester_name=COLUMN).",
        )
    if open_only and "status" not in resolved.fields:
        raise InputError(
            f"{table.name} ({label}) has no status column, so open tickets cannot be told from "
            "closed ones.",
            hint="Say which column holds it: --map status=COLUMN, or import every row with --all.",
        )
    loaded = load_fields(table, resolved)
    frame = with_ticket_ids(loaded.rows)
    reading.files.append(
        ExportFile(table.name, label, frame.height + loaded.too_long.height, table.encoding)
    )
    longest = f"over {size_words(LIMITS.cell_bytes)}; an unclosed quote can make one"
    for file, number in loaded.too_long.iter_rows():
        reading.skipped.append(Skipped(f"{file} row {number}", TOO_LONG, detail=longest))
    if table.ragged_rows:
        reading.warnings.append(
            f"{table.name}: {table.ragged_rows} row(s) had more cells than the header; "
            "the extra cells were ignored"
        )
    psa = resolved.layout.format
    for row in frame.iter_rows(named=True):
        where = f"{row['file']} row {row['row']}"
        skipped = _skip_reason(row, open_only, where)
        if skipped is not None:
            reading.skipped.append(skipped)
            continue
        ticket = ExportTicket(
            psa=psa,
            number=row["ticket_id"],
            requester_email=_text(row, "requester_email"),
            requester_name=_text(row, "requester_name"),
            subject=_text(row, "subject"),
            body=_text(row, "body"),
            where=where,
        )
        first = seen.setdefault(ticket.psa_ticket_id, where)
        if first != where:
            reading.skipped.append(Skipped(where, REPEATED, ticket.number, f"first at {first}"))
            continue
        reading.tickets.append(ticket)


def _skip_reason(row: Mapping[str, object], open_only: bool, where: str) -> Skipped | None:
    number = row["ticket_id"]
    if not isinstance(number, str):
        return Skipped(where, NO_ID)
    if len(number) > MAX_NUMBER:
        return Skipped(where, NO_ID, detail=f"{number[:20]!r}… is too long for a ticket number")
    status = _text(row, "status")
    if open_only and re.search(CLOSED_STATUS, status):
        return Skipped(where, CLOSED, number, f"status {status!r}")
    address = _text(row, "requester_email")
    if not address:
        return Skipped(where, NO_ADDRESS, number)
    if not _looks_like_address(address):
        return Skipped(where, NO_ADDRESS, number, f"{address!r} is not an e-mail address")
    if not _text(row, "subject") and not _text(row, "body"):
        return Skipped(where, NO_TEXT, number)
    return None


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    return value.strip() if isinstance(value, str) else ""


def _looks_like_address(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in text))


def import_export(
    rt: Runtime, tenant_id: str, reading: ExportReading, *, dry_run: bool = False
) -> ImportReport:
    """Store the read tickets for the tenant and queue each for the dispatcher, skipping
    those already in deskhand; with ``dry_run``, only say what would be stored."""
    report = ImportReport(
        tenant_id,
        dry_run,
        reading.files,
        skipped=list(reading.skipped),
        warnings=list(reading.warnings),
    )
    with rt.db.reading() as session:
        if session.get(Tenant, tenant_id) is None:
            known = ", ".join(session.scalars(select(Tenant.id).order_by(Tenant.id)))
            raise InputError(f"No tenant {tenant_id!r}.", hint=f"Tenants: {known or 'none'}.")
    for ticket in reading.tickets:
        if dry_run:
            _try(rt, tenant_id, report, ticket)
            continue
        try:
            stored = _store(rt, tenant_id, ticket)
        except Exception as error:  # one row that cannot be stored never stops the rest
            if quarantine.transient(error):
                raise
            report.quarantined.append(_hold(rt, tenant_id, ticket, error))
            continue
        if stored is None:
            report.skipped.append(Skipped(ticket.where, KNOWN, ticket.number))
        else:
            report.stored.append((ticket.psa_ticket_id, stored))
    return report


def _try(rt: Runtime, tenant_id: str, report: ImportReport, ticket: ExportTicket) -> None:
    """What a real import would do with the ticket, storing nothing."""
    try:
        cleaned(ticket.arrival())
    except InputError as error:
        report.quarantined.append(Skipped(ticket.where, error.message, ticket.number))
        return
    if _stored_as(rt, tenant_id, ticket) is None:
        report.stored.append((ticket.psa_ticket_id, None))
    else:
        report.skipped.append(Skipped(ticket.where, KNOWN, ticket.number))


def _hold(rt: Runtime, tenant_id: str, ticket: ExportTicket, error: Exception) -> Skipped:
    with rt.db.session() as session:
        item = quarantine.hold(
            session,
            tenant_id,
            SOURCE,
            f"{ticket.where}: {ticket.psa_ticket_id}",
            error,
            ticket.arrival().content(),
        )
        return Skipped(ticket.where, item.reason, ticket.number, f"quarantined as #{item.id}")


def _stored_as(rt: Runtime, tenant_id: str, ticket: ExportTicket) -> int | None:
    with rt.db.reading() as session:
        return session.scalar(
            select(Ticket.id).where(
                Ticket.tenant_id == tenant_id, Ticket.psa_ticket_id == ticket.psa_ticket_id
            )
        )


def _store(rt: Runtime, tenant_id: str, ticket: ExportTicket) -> int | None:
    """Store one ticket and queue its run, in one transaction; None when it is already in
    deskhand (stored before, or by another import a moment ago)."""
    for attempt in (1, 2):
        if _stored_as(rt, tenant_id, ticket) is not None:
            return None
        try:
            with rt.db.session() as session:
                tenant = session.get(Tenant, tenant_id)
                assert tenant is not None
                stored, _ = receive(session, tenant, ticket.arrival())
                return stored.id
        except IntegrityError:  # another import stored the ticket (or its requester) just now
            if attempt == 2:
                raise
    return None
