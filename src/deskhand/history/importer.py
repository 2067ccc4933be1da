"""From export files to the canonical ticket and time-entry tables.

Reads every file, recognises its layout, types its text (ids, dates, numbers), folds event logs
into one row per ticket, and counts every row it cannot use in the data-quality ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from deskhand.errors import InputError, UnknownFormatError, UsageError
from deskhand.history.dates import DateOrder, detect_order, parse_datetimes
from deskhand.history.formats import FORMAT_NAMES, Resolved, resolve
from deskhand.history.quality import Ledger
from deskhand.history.schema import (
    TICKET_SCHEMA,
    TIME_SCHEMA,
    empty_tickets,
    empty_time,
    join_key,
    plain_integer_ids,
    with_key,
)
from deskhand.history.sources import LIMITS, RawTable, discover, read_tables

if TYPE_CHECKING:
    from deskhand.history.report import InputFile

DATE_FIELDS = ("opened_at", "resolved_at", "timestamp", "started_at", "ended_at")
# Statuses after which a ticket counts as done; activity after one of them is a reopen.
CLOSED_STATUS = r"(?i)resol|clos|complet|invoic|cancel|done"

Progress = Callable[[str, int], None]


@dataclass
class Imported:
    """Everything read from the input files, typed and in canonical columns."""

    tickets: pl.DataFrame
    time: pl.DataFrame
    has_time: bool
    format: str
    inputs: list[InputFile]
    dates: DateOrder
    event_log: bool
    skipped: list[str]  # files in the given folders whose columns match no export layout
    durations: list[str]  # for each time file, in words: the column and unit its time was read in


@dataclass
class _Part:
    table: RawTable
    resolved: Resolved
    frame: pl.DataFrame
    ledger: Ledger  # what reading it found
    plain_ids: bool | None = None  # every id a plain integer (None: not looked at yet)


def import_history(
    paths: Sequence[Path],
    *,
    ledger: Ledger,
    mapping: Mapping[str, str] | None = None,
    forced_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str = "UTC",
    progress: Progress | None = None,
) -> Imported:
    """Read ``paths`` (files or folders) into canonical tables, recording problems in ``ledger``."""
    importing = Importing(
        paths,
        mapping=mapping,
        forced_format=forced_format,
        dayfirst=dayfirst,
        tz=tz,
        progress=progress,
    )
    return importing.finish(ledger)


class Importing:
    """An import under way.

    Every file's layout is recognised when it starts, so that a file deskhand cannot use is
    refused before any is read. The tables are then read on a second thread, ticket files first,
    while the caller goes on (Polars reads without holding the interpreter): ``tickets`` types
    the tickets while the time files are still being read, ``finish`` the rest. What each file
    adds to the ledger is added in the order the files were found, whatever order they were
    read in.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        mapping: Mapping[str, str] | None = None,
        forced_format: str | None = None,
        dayfirst: bool | None = None,
        tz: str = "UTC",
        progress: Progress | None = None,
    ) -> None:
        mapping = dict(mapping or {})
        opened, self.skipped, unread = _open(paths, mapping, forced_format)
        if not opened:
            raise InputError(
                "None of the files found is a PSA export: " + ", ".join(self.skipped) + ".",
                hint="Name the export files, or use --format generic with --map field=column.",
            )
        self.format = _one_format(opened)
        _check_mapping_used(mapping, opened)
        if not any(item.resolved.kind != "time" for item in opened):
            raise InputError(
                "No ticket file among the inputs — only time entries.",
                hint="Add the ticket export: time alone cannot be put into categories.",
            )
        if progress is not None:
            for path in unread:  # files with no table to read: nothing to wait for
                progress(path.name, path.stat().st_size)
        self.opened = opened
        self.dayfirst, self.tz = dayfirst, tz
        self.has_time = any(item.resolved.kind != "tickets" for item in opened)
        self.parts = _Parts(opened, progress)
        self._tickets: _Tickets | None = None

    def tickets(self) -> pl.DataFrame:
        """The tickets, typed and one row per ticket id, as soon as the ticket files are read
        (their ``key`` may still turn from integer to text in ``finish``, when a time entry's
        id is not a plain integer)."""
        return self._typed_tickets().frame

    def _typed_tickets(self) -> _Tickets:
        if self._tickets is not None:
            return self._tickets
        opened, parts = self.opened, self.parts
        at = [i for i, item in enumerate(opened) if item.resolved.kind != "time"]
        # Each distinct date text is looked at once, by the order's detection and by the parse:
        # a million tickets hold a few hundred thousand distinct times at most (minutes repeat).
        # The time files' dates count too, when they are read at all.
        dated = [i for i, item in enumerate(opened) if i in at or item.dated]
        distinct = {i: _distinct_dates(parts.get(i).frame) for i in dated}
        order = detect_order(
            [text for texts in distinct.values() for text in texts.values()], self.dayfirst
        )
        dates = [Ledger() for _ in opened]
        for i in at:
            parts.typed(i, distinct[i], order, self.tz, dates[i])
        ticket_ledger, duplicates = Ledger(), Ledger()
        typed = [parts.get(i) for i in at]
        tickets = _tickets(typed, ticket_ledger)
        # Ids that were plain integers in every file still are: no need to look again.
        plain = all(part.plain_ids for part in typed)
        tickets = _without_duplicates(with_key(tickets, integer=plain), duplicates)
        self._tickets = _Tickets(tickets, plain, order, distinct, dates, ticket_ledger, duplicates)
        return self._tickets

    def finish(self, ledger: Ledger) -> Imported:
        """The canonical tables, once every file is read; problems are recorded in ``ledger``."""
        opened, parts = self.opened, self.parts
        typed = self._typed_tickets()
        self._tickets = None  # the caller has them: let them go with the caller's copy
        for i, item in enumerate(opened):
            if item.resolved.kind == "time":
                parts.typed(i, typed.distinct.get(i, {}), typed.order, self.tz, typed.dates[i])
        done = [parts.get(i) for i in range(len(opened))]
        parts.release()  # the text the tables were read as goes when ``done`` does
        for part in done:
            ledger.merge(part.ledger)
        for each in typed.dates:
            ledger.merge(each)
        ledger.merge(typed.ledger)
        event_log = any("timestamp" in p.frame.columns for p in done if p.resolved.kind != "time")
        time_parts = [p for p in done if p.resolved.kind != "tickets"]
        time = _time(time_parts, ledger)
        tickets = typed.frame
        plain = typed.plain and all(p.plain_ids for p in time_parts)
        if plain != typed.plain:  # a time entry's id is not a plain integer: join on text
            tickets = with_key(tickets, integer=False)
        time = with_key(time, integer=plain)
        ledger.merge(typed.duplicates)
        from deskhand.history.report import InputFile  # Pydantic: imported while reading

        inputs = [
            InputFile(
                path=p.table.name,
                format=p.resolved.layout.label,
                kind=p.resolved.kind,
                rows=p.frame.height,
                encoding=p.table.encoding,
                delimiter=p.table.delimiter,
            )
            for p in done
        ]
        durations = [_duration_words(p.table.name, p.resolved.fields) for p in time_parts]
        return Imported(
            tickets,
            time,
            bool(time_parts),
            self.format,
            inputs,
            typed.order,
            event_log,
            self.skipped,
            durations,
        )


@dataclass
class _Tickets:
    """The tickets typed, and what typing them found, kept for ``Importing.finish``."""

    frame: pl.DataFrame  # with ``key``
    plain: bool  # every ticket id a plain integer
    order: DateOrder
    distinct: dict[int, dict[str, pl.Series]]  # each table's distinct date texts by field
    dates: list[Ledger]  # each table's unreadable dates
    ledger: Ledger  # tickets without an id
    duplicates: Ledger


@dataclass
class _Opened:
    """A table whose layout is known, not read yet."""

    table: RawTable
    resolved: Resolved
    path: Path
    dated: bool  # whether the columns read hold dates


def _open(
    paths: Sequence[Path], mapping: Mapping[str, str], forced_format: str | None
) -> tuple[list[_Opened], list[str], list[Path]]:
    """Every table found, with its layout; the names of the files skipped as no export; the
    files with no table to read."""
    opened: list[_Opened] = []
    skipped: list[str] = []
    unread: list[Path] = []
    for path, named in discover(paths).items():
        found = 0
        for table in read_tables(path):
            try:
                resolved = resolve(table.name, table.header, mapping, forced_format)
            except UnknownFormatError:
                if named:
                    raise
                skipped.append(table.name)  # a stray file in the folder, not an export
                continue
            dated = any(f in DATE_FIELDS for f in read_fields(resolved))
            opened.append(_Opened(table, resolved, path, dated))
            found += 1
        if not found:
            unread.append(path)
    return opened, skipped, unread


class _Parts:
    """The tables being read on a thread of their own, ticket files first; ``get`` waits for
    one. The thread is a daemon: a run that stops on an error does not wait for it."""

    def __init__(self, opened: Sequence[_Opened], progress: Progress | None) -> None:
        self.opened = opened
        self.progress = progress
        self.loading: dict[int, Future[_Part]] = {i: Future() for i in range(len(opened))}
        self.loaded: dict[int, _Part] = {}
        self.left = {item.path: 0 for item in opened}
        for item in opened:
            self.left[item.path] += 1
        first = sorted(range(len(opened)), key=lambda i: opened[i].resolved.kind == "time")
        threading.Thread(
            target=self._read, args=(first,), name="deskhand-read", daemon=True
        ).start()

    def _read(self, order: Sequence[int]) -> None:
        for i in order:
            future = self.loading[i]
            try:
                future.set_result(_load(self.opened[i]))
            except BaseException as error:  # handed to the thread that waits for it
                # The tables after it are not read: whichever the caller waits for says why.
                for rest in order[order.index(i) :]:
                    self.loading[rest].set_exception(error)
                return

    def get(self, index: int) -> _Part:
        """The table ``index`` (of ``opened``) read, waiting for it; its file's progress is
        told here, on the caller's thread."""
        if index not in self.loaded:
            self.loaded[index] = self.loading[index].result()
            path = self.opened[index].path
            self.left[path] -= 1
            if self.progress is not None and self.left[path] == 0:
                self.progress(path.name, path.stat().st_size)
        return self.loaded[index]

    def release(self) -> None:
        """Forget every table read: the caller has them all."""
        self.loading.clear()
        self.loaded.clear()

    def typed(
        self,
        index: int,
        distinct: Mapping[str, pl.Series],
        order: DateOrder,
        tz: str,
        ledger: Ledger,
    ) -> None:
        part = self.get(index)
        self.loaded[index] = _Part(
            part.table,
            part.resolved,
            _type_dates(part.frame, distinct, order, tz, ledger),
            part.ledger,
            plain_integer_ids(part.frame),
        )


def _load(item: _Opened) -> _Part:
    """One table read (on the reading thread); what it adds to the ledger is kept with it."""
    loaded = load_fields(item.table, item.resolved)
    ledger = Ledger()
    if item.table.ragged_rows:
        ledger.add("ragged_row", item.table.ragged_rows, [item.table.name])
    ledger.add_rows("cell_too_long", loaded.too_long)
    return _Part(item.table, item.resolved, loaded.rows, ledger)


def _distinct_dates(frame: pl.DataFrame) -> dict[str, pl.Series]:
    return {f: frame.get_column(f).unique() for f in DATE_FIELDS if f in frame.columns}


def _duration_words(name: str, fields: Mapping[str, str]) -> str:
    """Which column a time file's durations were read from, and in which unit, as ``_minutes``
    reads them (the first of minutes, hours, seconds, end minus start)."""
    for unit in ("minutes", "hours", "seconds"):
        if unit in fields:
            converted = "" if unit == "minutes" else ", converted to minutes"
            return f"{name}: column {fields[unit]!r} read as {unit}{converted}"
    return f"{name}: {fields['ended_at']!r} minus {fields['started_at']!r}"


class Loaded(NamedTuple):
    """A table's rows in the resolved fields, and the rows left out for a too long cell."""

    rows: pl.DataFrame
    too_long: pl.DataFrame  # file and row of each row left out


def read_fields(resolved: Resolved) -> dict[str, str]:
    """The fields of a table that are read, with their headers."""
    fields = dict(resolved.fields)
    if resolved.kind == "time" and "ended_at" not in fields:
        # A time entry's start only matters to compute its length from its end; reading and
        # parsing millions of unused timestamps would double the time an import takes.
        fields.pop("started_at", None)
    return fields


def load_fields(table: RawTable, resolved: Resolved) -> Loaded:
    """The table's rows in the resolved fields' names, with the file and row they came from;
    a row with a cell longer than ``LIMITS.cell_bytes`` is left out and returned apart."""
    fields = read_fields(resolved)
    extra = [h for f, headers in resolved.fallbacks.items() if f in fields for h in headers]
    frame = table.load([*fields.values(), *extra]).rechunk()
    first_row = 1 if table.encoding != "xlsx" and table.delimiter is None else 2
    columns = {
        field: pl.coalesce([_blank_to_null(h) for h in (header, *resolved.fallbacks[field])])
        if field in resolved.fallbacks
        else pl.col(header)
        for field, header in fields.items()
    }
    frame = frame.select(
        *(column.alias(field) for field, column in columns.items()),
        pl.lit(table.name, dtype=pl.Categorical).alias("file"),
        (pl.int_range(pl.len(), dtype=pl.UInt32) + first_row).alias("row"),
    )
    lengths = pl.max_horizontal(pl.col(list(fields)).str.len_bytes())
    # One look at the longest cell; the rows are sorted out only when one is too long.
    if fields and (frame.select(lengths.max()).item() or 0) > LIMITS.cell_bytes:
        too_long = lengths > LIMITS.cell_bytes
        return Loaded(frame.filter(~too_long), frame.filter(too_long).select("file", "row"))
    return Loaded(frame, frame.clear().select("file", "row"))


def _blank_to_null(header: str) -> pl.Expr:
    text = pl.col(header)
    return pl.when(text.str.strip_chars() == "").then(None).otherwise(text)


def _one_format(parts: Sequence[_Opened]) -> str:
    formats = {p.resolved.layout.format for p in parts} - {"generic"}
    if len(formats) > 1:
        listing = "; ".join(f"{p.table.name}: {p.resolved.layout.label}" for p in parts)
        raise InputError(
            f"The inputs come from different PSAs ({listing}).",
            hint="Analyse each PSA's export separately.",
        )
    return formats.pop() if formats else "generic"


def _check_mapping_used(mapping: Mapping[str, str], parts: Sequence[_Opened]) -> None:
    for field, column in mapping.items():
        if not any(field in p.resolved.fields for p in parts):
            names = ", ".join(p.table.name for p in parts)
            raise UsageError(
                f"--map {field}={column}: no input file has a column named {column!r} ({names}).",
                hint="Column names are matched ignoring case, spaces and underscores.",
            )


def _type_dates(
    frame: pl.DataFrame,
    distinct: Mapping[str, pl.Series],
    order: DateOrder,
    tz: str,
    ledger: Ledger,
) -> pl.DataFrame:
    """``frame`` with its date fields parsed; ``distinct`` holds each field's distinct texts."""
    for field, text in distinct.items():
        # Each distinct text is parsed once, and mapping them back is cheaper than parsing.
        parsed = parse_datetimes(text, order, tz)
        unreadable = parsed.is_null() & text.str.strip_chars().fill_null("").ne("")
        typed = pl.DataFrame({field: text, "typed": parsed, "unreadable": unreadable})
        lined_up = frame.select(field).join(
            typed, on=field, how="left", maintain_order="left", nulls_equal=True
        )
        ledger.add_rows("unparseable_date", frame.filter(lined_up.get_column("unreadable")))
        frame = frame.with_columns(lined_up.get_column("typed").alias(field))
    return frame


def with_ticket_ids(frame: pl.DataFrame, *, plain: bool | None = None) -> pl.DataFrame:
    """Ids as PSAs and spreadsheets write them: ' #24001', '24001.0' -> '24001'; '' -> null.
    ``plain``: whether every id is known to be a plain integer already (None: look)."""
    ids = frame.get_column("ticket_id")
    if plain if plain is not None else plain_integer_ids(frame):
        return frame  # plain integers, as most PSAs number tickets: nothing to clean
    # Most ids are clean; cheap literal tests pick the few that need the regex.
    messy = frame.select(
        pl.col("ticket_id").str.starts_with(" ")
        | pl.col("ticket_id").str.ends_with(" ")
        | pl.col("ticket_id").str.starts_with("#")
        | pl.col("ticket_id").str.contains(".", literal=True)
        | (pl.col("ticket_id") == "")
    ).to_series()
    if messy.any():
        cleaned = (
            ids.filter(messy)
            .str.strip_chars()
            .str.strip_prefix("#")
            .str.replace(r"^(\d+)\.0+$", "${1}")
            .replace("", None)
        )
        ids = ids.scatter(messy.arg_true(), cleaned)
    return frame.with_columns(ids)


def _tickets(parts: Sequence[_Part], ledger: Ledger) -> pl.DataFrame:
    frames = []
    for part in parts:
        frame = with_ticket_ids(part.frame, plain=part.plain_ids)
        frame = _with_ids_only(frame, ledger)
        frame = frame.with_columns(_category(frame.columns))
        frame = _fold_events(frame) if "timestamp" in frame.columns else frame
        frames.append(_conform(frame, TICKET_SCHEMA))
    return pl.concat(frames) if frames else empty_tickets()


def _without_duplicates(tickets: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """One row per ticket id, the last; the others are counted."""
    key = join_key(tickets)
    if tickets.get_column(key).n_unique() == tickets.height:  # one cheap count, usually all
        return tickets
    duplicated = tickets.filter(pl.col(key).is_duplicated())
    if duplicated.height:
        extra = duplicated.height - duplicated.get_column(key).n_unique()
        ledger.add("duplicate_ticket_id", extra, _examples(duplicated))
        tickets = tickets.unique(key, keep="last", maintain_order=True)
    return tickets


def _with_ids_only(frame: pl.DataFrame, ledger: Ledger) -> pl.DataFrame:
    """The rows that have a ticket id; the others are counted (and copied out only if any)."""
    if not frame.get_column("ticket_id").has_nulls():
        return frame
    ledger.add_rows("missing_ticket_id", frame.filter(pl.col("ticket_id").is_null()))
    return frame.filter(pl.col("ticket_id").is_not_null())


def _category(columns: Sequence[str]) -> pl.Expr:
    """The PSA category, with its sub-category when the PSA has one: 'Email / Outlook'."""
    parts = [
        pl.col(c).str.strip_chars().replace("", None)
        for c in ("category", "category2")
        if c in columns
    ]
    if not parts:
        return pl.lit(None, pl.String).alias("category_raw")
    joined = pl.concat_str(parts, separator=" / ", ignore_nulls=True)
    return joined.replace("", None).alias("category_raw")


def _fold_events(frame: pl.DataFrame) -> pl.DataFrame:
    """An event log (one row per status change) -> one row per ticket."""
    frame = frame.sort("ticket_id", "timestamp", nulls_last=True, maintain_order=True)
    latest = [
        pl.col(c).drop_nulls().last().alias(c)
        for c in ("subject", "body", "category_raw", "customer", "tech", "status")
        if c in frame.columns
    ]
    opened = pl.col("timestamp").min()
    if "opened_at" in frame.columns:
        opened = pl.coalesce(pl.col("opened_at").min(), opened)
    resolved = pl.col("timestamp").max()
    if "resolved_at" in frame.columns:
        resolved = pl.coalesce(pl.col("resolved_at").max(), resolved)
    aggregations = [
        *latest,
        opened.alias("opened_at"),
        resolved.alias("resolved_at"),
        pl.col("file").first(),
        pl.col("row").first(),
    ]
    if "status" in frame.columns:
        closed = pl.col("status").str.contains(CLOSED_STATUS).fill_null(False)
        reopened = closed.shift(1).fill_null(False) & ~closed
        aggregations.append(reopened.sum().cast(pl.Int32).alias("reopens"))
    return frame.group_by("ticket_id", maintain_order=True).agg(aggregations)


def _time(parts: Sequence[_Part], ledger: Ledger) -> pl.DataFrame:
    frames = []
    for part in parts:
        frame = with_ticket_ids(part.frame, plain=part.plain_ids)
        if "charge_type" in frame.columns:
            # ConnectWise time can be charged to projects and activities as well as tickets.
            not_ticket = ~pl.col("charge_type").str.contains(r"(?i)service\s*ticket").fill_null(
                True
            )
            ledger.add_rows("time_entry_not_for_ticket", frame.filter(not_ticket))
            frame = frame.filter(~not_ticket)
        frame = _with_ids_only(frame, ledger)
        duration = _minutes(frame)
        if duration.has_nulls():  # a filter copies every column: only when it finds rows
            without = frame.filter(duration.is_null())
            ledger.add_rows("unparseable_number", without.filter(_has_duration_text(frame.columns)))
        frames.append(_conform(frame.with_columns(duration.alias("minutes")), TIME_SCHEMA))
    return pl.concat(frames) if frames else empty_time()


def _minutes(frame: pl.DataFrame) -> pl.Series:
    """Minutes of each time entry: minutes, else hours, else seconds, else end minus start."""
    candidates = []
    if "minutes" in frame.columns:
        candidates.append(_numbers(frame.get_column("minutes")))
    if "hours" in frame.columns:
        candidates.append(_numbers(frame.get_column("hours"), hours=True) * 60)
    if "seconds" in frame.columns:
        candidates.append(_numbers(frame.get_column("seconds")) / 60)
    if "started_at" in frame.columns and "ended_at" in frame.columns:
        elapsed = frame.get_column("ended_at") - frame.get_column("started_at")
        candidates.append(elapsed.dt.total_seconds().cast(pl.Float64) / 60)
    if not candidates:
        return pl.Series("duration", [None] * frame.height, dtype=pl.Float64)
    if len(candidates) == 1:
        return candidates[0].rename("duration")
    return (
        pl.DataFrame([c.rename(str(i)) for i, c in enumerate(candidates)])
        .select(pl.coalesce(pl.all()).alias("duration"))
        .to_series()
    )


def _numbers(text: pl.Series, *, hours: bool = False) -> pl.Series:
    """Text as numbers; what a plain cast cannot read gets a second look: ' 12 ', '1,5'
    (decimal comma), '1,234.5' and '1:30' (h:mm, a duration of 90 minutes in any column)."""
    value = text.to_frame().select(pl.first().cast(pl.Float64, strict=False)).to_series()
    failed = value.is_null() & text.is_not_null()
    if not failed.any():
        return value
    rest = text.filter(failed).str.strip_chars()
    decimal = rest.str.replace(r"^(-?\d+),(\d+)$", "${1}.${2}").str.replace_all(r"[,\s]", "")
    clock = rest.str.extract_groups(r"^(\d+):(\d{2})$")
    clock_minutes = clock.struct.field("1").cast(pl.Float64) * 60 + clock.struct.field("2").cast(
        pl.Float64
    )
    second_look = pl.DataFrame(
        {"value": decimal.cast(pl.Float64, strict=False), "clock": clock_minutes}
    ).select(pl.coalesce("value", pl.col("clock") / 60 if hours else pl.col("clock")))
    return value.scatter(failed.arg_true(), second_look.to_series())


def _has_duration_text(columns: Sequence[str]) -> pl.Expr:
    present = [
        pl.col(c).str.strip_chars().fill_null("").ne("")
        for c in ("minutes", "hours", "seconds")
        if c in columns
    ]
    return pl.any_horizontal(present) if present else pl.lit(False)


def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return frame.select(
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )


def _examples(rows: pl.DataFrame) -> list[str]:
    head = rows.head(5)
    return [f"{f} row {r}" for f, r in zip(head["file"], head["row"], strict=True)]


def format_label(name: str) -> str:
    """``syncro`` -> ``Syncro``."""
    return FORMAT_NAMES.get(name, name)
