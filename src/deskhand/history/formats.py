"""The export layouts deskhand recognises, and how a file's header picks one.

A layout names, for each canonical field, the header(s) a PSA uses for it. Headers are compared
after normalising (case, spaces, underscores and punctuation ignored), so ``Ticket Number``,
``ticket_number`` and ``TicketNumber`` are the same column. ``--map field=column`` overrides or
adds a field for any layout and is the whole definition of the ``generic`` one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from deskhand.errors import InputError, UnknownFormatError, UsageError
from deskhand.history.schema import MAP_FIELDS

Kind = Literal["tickets", "time", "tickets+time"]

FORMAT_NAMES = {
    "syncro": "Syncro",
    "connectwise": "ConnectWise Manage",
    "autotask": "Autotask",
    "halo": "HaloPSA",
    "generic": "generic (--map)",
}

# Fields only a layout uses (a mapped generic file uses MAP_FIELDS).
LAYOUT_FIELDS = (*MAP_FIELDS, "category2", "charge_type")

# Who asked: read by `deskhand intake import`, never by analysis (so layout detection and
# scoring stay as they were). Format -> field -> headers to try, first found wins.
REQUESTER_FIELDS = ("requester_email", "requester_name")
REQUESTER_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "syncro": {
        "requester_email": ("contactemail", "ticketcontactemail", "customeremail"),
        "requester_name": ("ticketcontact", "contactname", "contact"),
    },
    "connectwise": {
        "requester_email": ("contactemailaddress", "contactemail", "emailaddress"),
        "requester_name": ("contactname", "contact"),
    },
    "autotask": {
        "requester_email": ("contactemail", "contactemailaddress", "emailaddress"),
        "requester_name": ("contact", "contactname"),
    },
    "halo": {
        "requester_email": ("useremail", "useremailaddress", "emailfrom", "reportedbyemail"),
        "requester_name": ("username", "reportedby", "user"),
    },
}


def normalise_header(name: str) -> str:
    """``Ticket Number`` -> ``ticketnumber``: the form headers are compared in."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


# The fields a time entry's length can be read from: any one of these (or a start and an end)
# is a duration, whichever a layout looks for by default.
DURATIONS = frozenset({"minutes", "hours", "seconds"})
TIMING = DURATIONS | {"started_at", "ended_at"}


def timed(fields: Iterable[str]) -> bool:
    """Whether ``fields`` hold a time entry's length: a duration, or a start and an end."""
    names = set(fields)
    return bool(DURATIONS & names) or {"started_at", "ended_at"} <= names


@dataclass(frozen=True)
class Layout:
    """The columns of one kind of export file of one PSA."""

    format: str
    kind: Kind
    label: str
    columns: Mapping[str, tuple[str, ...]]  # field -> headers to try, first found wins
    needs: tuple[str, ...] = ()  # fields that must be found (or mapped) to recognise the file
    needs_headers: tuple[tuple[str, ...], ...] = ()  # and headers: any one of each group

    def fields_in(self, headers: set[str], mapped: Mapping[str, str]) -> dict[str, str]:
        """field -> normalised header found in ``headers`` (mapped fields left out)."""
        found = {}
        for key, names in self.columns.items():
            if key in mapped:
                continue
            name = next((n for n in names if n in headers), None)
            if name is not None:
                found[key] = name
        return found

    def missing(self, headers: set[str], mapped: Mapping[str, str]) -> list[str]:
        """What this file lacks to be this layout: field names and header names."""
        found = self.fields_in(headers, mapped).keys() | mapped.keys()
        # A duration of another unit stands in for the one this layout reads ("--map
        # seconds=..." on a labour file without its minutes column), but only in a file that is
        # this layout by its own headers: a mapping alone makes no file a PSA's export.
        own = self.fields_in(headers, {}).keys()
        stands_in = timed(found) and all(
            field in own for field in self.needs if field not in TIMING
        )
        lacking = [
            field
            for field in self.needs
            if field not in found and not (field in TIMING and stands_in)
        ]
        lacking += [g[0] for g in self.needs_headers if not any(n in headers for n in g)]
        return lacking

    def score(self, headers: set[str]) -> int:
        return sum(1 for names in self.columns.values() for name in names if name in headers)


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "syncro",
        "tickets",
        "Syncro ticket CSV",
        columns={
            "ticket_id": ("ticketnumber",),
            "subject": ("ticketsubject",),
            "body": ("ticketinitialissue", "ticketdescription"),
            "category": ("ticketissuetype", "tickettype", "issuetype"),
            "customer": ("ticketcustomer", "customer"),
            "tech": ("tech", "tickettech", "assignedto"),
            "status": ("ticketstatus",),
            "opened_at": ("ticketcreated", "created", "createdat"),
            "resolved_at": ("ticketresolved", "ticketresolvedat", "resolvedat", "ticketclosed"),
        },
        needs=("ticket_id", "subject"),
    ),
    Layout(
        "syncro",
        "tickets",
        "Syncro /tickets JSON",
        columns={
            "ticket_id": ("id",),
            "subject": ("subject",),
            "body": ("comments",),
            "category": ("problemtype",),
            "customer": ("customerbusinessthenname", "customerid"),
            "tech": ("user", "userid"),
            "status": ("status",),
            "opened_at": ("createdat",),
            "resolved_at": ("resolvedat",),
        },
        needs=("ticket_id", "subject"),
        needs_headers=(("number",), ("problemtype", "customerbusinessthenname")),
    ),
    Layout(
        "syncro",
        "time",
        "Syncro labour CSV",
        columns={
            "ticket_id": ("ticketnumber",),
            "tech": ("tech", "user"),
            "minutes": ("durationminutes",),
            "started_at": ("createdat", "date"),
        },
        needs=("ticket_id", "minutes"),
        needs_headers=(("billablestatus", "labortype", "labourtype", "durationminutes"),),
    ),
    Layout(
        "syncro",
        "time",
        "Syncro /ticket_timers JSON",
        columns={
            "ticket_id": ("ticketid",),
            "tech": ("userid", "user"),
            "seconds": ("activeduration",),
            "started_at": ("starttime",),
            "ended_at": ("endtime",),
        },
        needs=("ticket_id", "started_at", "ended_at"),
    ),
    Layout(
        "connectwise",
        "tickets",
        "ConnectWise Manage service tickets",
        columns={
            "ticket_id": ("id",),
            "subject": ("summary",),
            "body": ("initialdescription", "description"),
            "category": ("type",),
            "category2": ("subtype",),
            "customer": ("company", "companyname"),
            "tech": ("owner", "resources"),
            "status": ("status",),
            "opened_at": ("dateentered",),
            "resolved_at": ("closeddate", "dateclosed"),
        },
        needs=("ticket_id", "subject"),
        needs_headers=(("board",), ("dateentered",)),
    ),
    Layout(
        "connectwise",
        "time",
        "ConnectWise Manage time entries",
        columns={
            "ticket_id": ("chargetoid",),
            "charge_type": ("chargetotype",),
            "tech": ("member", "membername"),
            "hours": ("actualhours",),
            "started_at": ("timestart",),
            "ended_at": ("timeend",),
        },
        needs=("ticket_id", "hours"),
    ),
    Layout(
        "autotask",
        "tickets",
        "Autotask tickets",
        columns={
            "ticket_id": ("ticketid", "id"),
            "subject": ("title",),
            "body": ("description",),
            "category": ("issuetype",),
            "category2": ("subissuetype",),
            "customer": ("accountname", "companyname", "companyid", "accountid"),
            "tech": ("assignedresourceid", "assignedresource"),
            "status": ("status",),
            "opened_at": ("createdate",),
            "resolved_at": ("completeddate",),
        },
        needs=("ticket_id", "subject", "opened_at"),
    ),
    Layout(
        "autotask",
        "time",
        "Autotask time entries",
        columns={
            "ticket_id": ("ticketid",),
            "tech": ("resourceid", "resource"),
            "hours": ("hoursworked",),
            "started_at": ("startdatetime", "dateworked"),
            "ended_at": ("enddatetime",),
        },
        needs=("ticket_id", "hours"),
        needs_headers=(("resourceid", "dateworked", "hourstobill"),),
    ),
    Layout(
        "halo",
        "tickets",
        "HaloPSA tickets",
        columns={
            "ticket_id": ("id",),
            "subject": ("summary",),
            "body": ("details",),
            "category": ("category1", "tickettype"),
            "category2": ("category2",),
            "customer": ("clientname", "client"),
            "tech": ("agent", "agentname", "agentid"),
            "status": ("status", "statusname"),
            "opened_at": ("dateoccurred", "datecreated"),
            "resolved_at": ("dateclosed", "datecleared"),
        },
        needs=("ticket_id", "subject", "opened_at"),
        needs_headers=(("tickettype", "category1", "clientname"),),
    ),
    Layout(
        "halo",
        "time",
        "HaloPSA actions",
        columns={
            "ticket_id": ("ticketid",),
            "tech": ("who", "agent"),
            "hours": ("timetaken",),
            "started_at": ("datetimestamp", "actiondatecreated"),
        },
        needs=("ticket_id", "hours"),
        needs_headers=(("who", "datetimestamp"),),
    ),
)


@dataclass(frozen=True)
class Resolved:
    """A layout applied to one file: which header feeds which field."""

    layout: Layout
    kind: Kind
    fields: dict[str, str]  # field -> the file's own header name
    # field -> further headers that fill it where the first is empty (DateWorked for
    # StartDateTime, ticket type for a missing category)
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)


def parse_map(pairs: Sequence[str], fields: Sequence[str] = MAP_FIELDS) -> dict[str, str]:
    """``["minutes=Duration", …]`` -> ``{"minutes": "Duration"}``, with a clear error otherwise;
    ``fields`` are the names a command accepts."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        for item in (
            (part for part in pair.split(",") if part.strip()) if "=" not in pair else [pair]
        ):
            field, sep, column = item.partition("=")
            field = field.strip()
            if not sep or not column.strip():
                raise UsageError(
                    f"--map {item!r} is not field=column.", hint="Example: --map minutes=Duration"
                )
            if field not in fields:
                raise UsageError(
                    f"--map: unknown field {field!r}.",
                    hint="Fields: " + ", ".join(fields) + ".",
                )
            mapping[field] = column.strip()
    return mapping


def resolve(
    name: str, header: Sequence[str], mapping: Mapping[str, str], forced: str | None
) -> Resolved:
    """Pick the layout for a file from its header (``forced`` = ``--format``). A ``--map``
    column the file does not have is no error by itself (one mapping serves every file of an
    export), but when the file cannot be read the refusal names it, with the closest name."""
    try:
        return _resolve(name, header, mapping, forced)
    except InputError as error:
        unfound = [
            (key, column)
            for key, column in mapping.items()
            if _find(column, header, {normalise_header(h): h for h in header}) is None
        ]
        if not unfound:
            raise
        said = []
        for key, column in unfound:
            close = difflib.get_close_matches(column, list(header), n=1, cutoff=0.6)
            maybe = f" (did you mean {close[0]!r}?)" if close else ""
            said.append(f"--map {key}={column}: {name} has no column {column!r}{maybe}")
        raise type(error)(f"{error.message} {'; '.join(said)}.", hint=error.hint) from None


def _resolve(
    name: str, header: Sequence[str], mapping: Mapping[str, str], forced: str | None
) -> Resolved:
    by_normal = {normalise_header(h): h for h in reversed(header)}
    headers = set(by_normal)
    mapped = {field: _find(column, header, by_normal) for field, column in mapping.items()}
    present = {field: column for field, column in mapped.items() if column is not None}
    layouts = [layout for layout in LAYOUTS if forced in (None, layout.format)]
    matching = [layout for layout in layouts if not layout.missing(headers, present)]
    if matching:
        layout = max(matching, key=lambda candidate: candidate.score(headers))
        found = layout.fields_in(headers, present)
        if timed(present):
            # A duration the user mapped is the one to read: "--map seconds=Handle Time" on a
            # file whose layout has a minutes column of its own.
            found = {field: normal for field, normal in found.items() if field not in TIMING}
        fields = {field: by_normal[normal] for field, normal in found.items()} | present
        kind = _kind(layout.kind, fields)
        _require(name, header, fields, kind, layout.label)
        fallbacks = {
            key: rest
            for key, names in layout.columns.items()
            if key not in present
            and (rest := tuple(by_normal[n] for n in names if n in headers)[1:])
        }
        return Resolved(layout, kind, fields, fallbacks)
    if forced == "generic" or (forced is None and present):
        generic = Layout("generic", "tickets", FORMAT_NAMES["generic"], columns={})
        kind = _kind("tickets", present)
        _require(name, header, present, kind, generic.label)
        return Resolved(generic, kind, present)
    near = _nearest(layouts, headers, present)
    if near is not None:
        lacking = near.missing(headers, present)
        raise InputError(
            f"{name} looks like a {near.label} but has no column for "
            f"{', '.join(lacking)}. Found: {_listing(header)}.",
            hint=_suggest(lacking, near, header),
        )
    if forced is not None:
        raise InputError(
            f"{name} does not look like a {FORMAT_NAMES[forced]} export. "
            f"Found columns: {_listing(header)}.",
            hint="Check --format, or use --format generic with --map field=column.",
        )
    text = name.lower().removesuffix(".gz").endswith((".csv", ".tsv", ".txt"))
    if text and len(header) == 1:  # the columns ran together: a separator it does not know
        raise UnknownFormatError(
            f"Could not split {name} into columns; its first line is: {_listing(header)}.",
            hint="deskhand reads files separated by commas, semicolons, tabs or pipes. Save "
            "the export again as comma-separated CSV (UTF-8).",
        )
    raise UnknownFormatError(
        f"Could not recognise the format of {name} from its columns: {_listing(header)}.",
        hint=(
            "deskhand knows Syncro, ConnectWise Manage, Autotask and HaloPSA exports. For "
            "anything else, say which column is which, one --map per field: --format generic "
            "--map ticket_id=COLUMN --map opened_at=COLUMN --map category=COLUMN "
            "--map minutes=COLUMN (see `deskhand analyze --help`)."
        ),
    )


def _nearest(
    layouts: Sequence[Layout], headers: set[str], mapped: Mapping[str, str]
) -> Layout | None:
    """The layout this file most likely is, when it lacks only part of what that layout needs."""
    best: tuple[float, int, Layout] | None = None
    for layout in layouts:
        wanted = len(layout.needs) + len(layout.needs_headers)
        have = wanted - len(layout.missing(headers, mapped))
        if have == 0 or have * 2 < wanted:
            continue
        key = (have / wanted, layout.score(headers), layout)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _suggest(lacking: Sequence[str], layout: Layout, header: Sequence[str]) -> str:
    by_normal = {normalise_header(h): h for h in header}
    hints = []
    for item in lacking:
        expected = layout.columns[item][0] if item in layout.columns else item
        near = difflib.get_close_matches(expected, list(by_normal), n=1, cutoff=0.5)
        if item in layout.columns and near:
            guess = by_normal[near[0]]
            hints.append(f"if '{guess}' holds the {item}, use --map {item}={guess}")
        elif item in layout.columns:
            hints.append(f"say which column holds the {item}: --map {item}=COLUMN")
        else:
            hints.append(f"expected a column like '{expected}'")
    text = "; ".join(hints)
    return text[:1].upper() + text[1:] + "."


def _find(column: str, header: Sequence[str], by_normal: Mapping[str, str]) -> str | None:
    if column in header:
        return column
    return by_normal.get(normalise_header(column))


def _kind(declared: Kind, fields: Mapping[str, str]) -> Kind:
    has_time = bool(DURATIONS & fields.keys())
    has_ticket = any(f in fields for f in ("opened_at", "timestamp", "subject", "category"))
    if declared == "tickets" and has_time:
        return "tickets+time" if has_ticket else "time"
    return declared


def _require(
    name: str, header: Sequence[str], fields: Mapping[str, str], kind: Kind, label: str
) -> None:
    missing: list[str] = []
    if "ticket_id" not in fields:
        missing.append("ticket_id")
    if kind != "time" and not ({"opened_at", "timestamp"} & fields.keys()):
        missing.append("opened_at")
    if kind != "tickets" and not timed(fields):
        missing.append("minutes")
    if missing:
        raise InputError(
            f"{name} ({label}): no column for {', '.join(missing)}. Found: {_listing(header)}.",
            hint="Say which column holds it: "
            + " ".join(f"--map {field}=COLUMN" for field in missing),
        )


def _listing(header: Sequence[str], limit: int = 25) -> str:
    shown = ", ".join(header[:limit])
    return shown + (f", … ({len(header)} columns)" if len(header) > limit else "")
