"""From export files to the canonical ticket and time-entry tables.

Reads every file, recognises its layout, types its text (ids, dates, numbers), folds event logs
into one row per ticket, and counts every row it cannot use in the data-quality ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from deskhand.errors import InputError, UsageError
from deskhand.history.dates import DateOrder, detect_order, parse_datetimes
from deskhand.history.distinct import Distinct, find_distinct
from deskhand.history.formats import FORMAT_NAMES
from deskhand.history.quality import Ledger
from deskhand.history.reading import DATE_FIELDS, Opened, Part, Progress, Reading, open_tables
from deskhand.history.schema import (
    TICKET_SCHEMA,
    TIME_SCHEMA,
    empty_tickets,
    empty_time,
    integer_keys,
    join_key,
    with_key,
)

if TYPE_CHECKING:
    from deskhand.history.report import InputFile

# Statuses after which a ticket counts as done; activity after one of them is a reopen.
CLOSED_STATUS = r"(?i)resol|clos|complet|invoic|cancel|done"


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
        opened, self.skipped, unread = open_tables(paths, mapping, forced_format)
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
        self.parts = Reading(opened, progress)
        self._typed: dict[int, Part] = {}
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
            [texts.values for fields in distinct.values() for texts in fields.values()],
            self.dayfirst,
        )
        dates = [Ledger() for _ in opened]
        for i in at:
            self._type(i, distinct[i], order, dates[i])
        ticket_ledger, duplicates = Ledger(), Ledger()
        typed = [self._typed[i] for i in at]
        tickets = _tickets(typed, ticket_ledger)
        # Ids that were plain integers in every file still are: no need to look again.
        plain = all(part.plain_ids for part in typed)
        tickets = _without_duplicates(with_key(tickets, integer=plain), duplicates)
        self._tickets = _Tickets(tickets, plain, order, distinct, dates, ticket_ledger, duplicates)
        return self._tickets

    def finish(self, ledger: Ledger) -> Imported:
        """The canonical tables, once every file is read; problems are recorded in ``ledger``."""
        opened = self.opened
        typed = self._typed_tickets()
        self._tickets = None  # the caller has them: let them go with the caller's copy
        for i, item in enumerate(opened):
            if item.resolved.kind == "time":
                self._type(i, typed.distinct.get(i, {}), typed.order, typed.dates[i])
        done = [self._typed.pop(i) for i in range(len(opened))]
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

    def _type(
        self, index: int, distinct: Mapping[str, Distinct], order: DateOrder, ledger: Ledger
    ) -> None:
        """Type table ``index``'s dates (``distinct``: each date field's distinct texts) and
        look at its ids, once it is read. A table whose ids are plain integers keeps them as its
        ``key`` (see ``with_key``): its millions of ids are cast once."""
        part = self.parts.get(index)
        frame = _type_dates(part.frame, distinct, order, self.tz, ledger)
        keys = integer_keys(frame)
        if keys is not None:
            frame = frame.with_columns(keys)
        self._typed[index] = Part(part.table, part.resolved, frame, part.ledger, keys is not None)
        self.parts.forget(index)  # the text its dates were read as goes


@dataclass
class _Tickets:
    """The tickets typed, and what typing them found, kept for ``Importing.finish``."""

    frame: pl.DataFrame  # with ``key``
    plain: bool  # every ticket id a plain integer
    order: DateOrder
    distinct: dict[int, dict[str, Distinct]]  # each table's distinct date texts by field
    dates: list[Ledger]  # each table's unreadable dates
    ledger: Ledger  # tickets without an id
    duplicates: Ledger


def _distinct_dates(frame: pl.DataFrame) -> dict[str, Distinct]:
    return {f: find_distinct(frame.get_column(f)) for f in DATE_FIELDS if f in frame.columns}


def _duration_words(name: str, fields: Mapping[str, str]) -> str:
    """Which column a time file's durations were read from, and in which unit, as ``_minutes``
    reads them (the first of minutes, hours, seconds, end minus start)."""
    for unit in ("minutes", "hours", "seconds"):
        if unit in fields:
            converted = "" if unit == "minutes" else ", converted to minutes"
            return f"{name}: column {fields[unit]!r} read as {unit}{converted}"
    return f"{name}: {fields['ended_at']!r} minus {fields['started_at']!r}"


def _one_format(parts: Sequence[Opened]) -> str:
    formats = {p.resolved.layout.format for p in parts} - {"generic"}
    if len(formats) > 1:
        listing = "; ".join(f"{p.table.name}: {p.resolved.layout.label}" for p in parts)
        raise InputError(
            f"The inputs come from different PSAs ({listing}).",
            hint="Analyse each PSA's export separately.",
        )
    return formats.pop() if formats else "generic"


def _check_mapping_used(mapping: Mapping[str, str], parts: Sequence[Opened]) -> None:
    for field, column in mapping.items():
        if not any(field in p.resolved.fields for p in parts):
            names = ", ".join(p.table.name for p in parts)
            raise UsageError(
                f"--map {field}={column}: no input file has a column named {column!r} ({names}).",
                hint="Column names are matched ignoring case, spaces and underscores.",
            )


def _type_dates(
    frame: pl.DataFrame,
    distinct: Mapping[str, Distinct],
    order: DateOrder,
    tz: str,
    ledger: Ledger,
) -> pl.DataFrame:
    """``frame`` with its date fields parsed; ``distinct`` holds each field's distinct texts
    and each row's place among them."""
    for field, (text, places) in distinct.items():
        # Each distinct text is parsed once, and putting them back in place is cheaper than
        # parsing.
        parsed = parse_datetimes(text, order, tz)
        unreadable = parsed.is_null() & text.str.strip_chars().fill_null("").ne("")
        if unreadable.any():
            ledger.add_rows("unparseable_date", frame.filter(unreadable.gather(places)))
        frame = frame.with_columns(parsed.gather(places).alias(field))
    return frame


def with_ticket_ids(frame: pl.DataFrame, *, plain: bool | None = None) -> pl.DataFrame:
    """Ids as PSAs and spreadsheets write them: ' #24001', '24001.0' -> '24001'; '' -> null.
    ``plain``: whether every id is known to be a plain integer already (None: look)."""
    ids = frame.get_column("ticket_id")
    if plain if plain is not None else integer_keys(frame) is not None:
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


def _tickets(parts: Sequence[Part], ledger: Ledger) -> pl.DataFrame:
    """The tickets of ``parts``, with the integer ``key`` the parts were typed with when every
    part kept one (an event log's is worked out again once its events are folded)."""
    frames = []
    for part in parts:
        frame = with_ticket_ids(part.frame, plain=part.plain_ids)
        frame = _with_ids_only(frame, ledger)
        frame = frame.with_columns(_category(frame.columns))
        frame = _fold_events(frame) if "timestamp" in frame.columns else frame
        frames.append(_conform(frame, TICKET_SCHEMA))
    if not all("key" in frame.columns for frame in frames):
        frames = [frame.drop("key", strict=False) for frame in frames]
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


def _time(parts: Sequence[Part], ledger: Ledger) -> pl.DataFrame:
    """The time entries of ``parts``, with the integer ``key`` the parts were typed with when
    every part's ids are plain integers."""
    plain = all(part.plain_ids for part in parts)
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
        frame = _conform(frame.with_columns(duration.alias("minutes")), TIME_SCHEMA)
        frames.append(frame if plain else frame.drop("key", strict=False))
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
    """``frame`` in ``schema``'s columns, and its ``key`` when it has one."""
    return frame.select(
        *(
            (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
        ),
        *(["key"] if "key" in frame.columns else []),
    )


def _examples(rows: pl.DataFrame) -> list[str]:
    head = rows.head(5)
    return [f"{f} row {r}" for f, r in zip(head["file"], head["row"], strict=True)]


def format_label(name: str) -> str:
    """``syncro`` -> ``Syncro``."""
    return FORMAT_NAMES.get(name, name)
