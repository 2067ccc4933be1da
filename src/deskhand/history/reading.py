"""Finding the export tables, recognising their layout, and reading them on a thread of their own.

Polars reads a file without holding the interpreter, so the caller types one table while the
next is read (``importer.Importing``). Every table's layout is recognised before any is read,
so that a file deskhand cannot use is refused at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import polars as pl

from deskhand.errors import UnknownFormatError
from deskhand.history.formats import Resolved, resolve
from deskhand.history.quality import Ledger
from deskhand.history.sources import LIMITS, RawTable, discover, read_tables

DATE_FIELDS = ("opened_at", "resolved_at", "timestamp", "started_at", "ended_at")

Progress = Callable[[str, int], None]  # a file's name and size, once it is read


@dataclass
class Part:
    """A table read: its rows in the resolved fields (see ``load_fields``)."""

    table: RawTable
    resolved: Resolved
    frame: pl.DataFrame
    ledger: Ledger  # what reading it found
    plain_ids: bool | None = None  # every id a plain integer (None: not looked at yet)


@dataclass
class Opened:
    """A table whose layout is known, not read yet."""

    table: RawTable
    resolved: Resolved
    path: Path
    dated: bool  # whether the columns read hold dates


def open_tables(
    paths: Sequence[Path], mapping: Mapping[str, str], forced_format: str | None
) -> tuple[list[Opened], list[str], list[Path]]:
    """Every table found, with its layout; the names of the files skipped as no export; the
    files with no table to read."""
    opened: list[Opened] = []
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
            opened.append(Opened(table, resolved, path, dated))
            found += 1
        if not found:
            unread.append(path)
    return opened, skipped, unread


class Reading:
    """The tables being read on a thread of their own, ticket files first; ``get`` waits for
    one. The thread is a daemon: a run that stops on an error does not wait for it."""

    def __init__(self, opened: Sequence[Opened], progress: Progress | None) -> None:
        self.opened = opened
        self.progress = progress
        self.loading: dict[int, Future[Part]] = {i: Future() for i in range(len(opened))}
        self.loaded: dict[int, Part] = {}
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

    def get(self, index: int) -> Part:
        """The table ``index`` (of ``opened``) read, waiting for it; its file's progress is
        told here, on the caller's thread."""
        if index not in self.loaded:
            self.loaded[index] = self.loading[index].result()
            path = self.opened[index].path
            self.left[path] -= 1
            if self.progress is not None and self.left[path] == 0:
                self.progress(path.name, path.stat().st_size)
        return self.loaded[index]

    def forget(self, index: int) -> None:
        """Let table ``index`` go: the caller has what it needs of it."""
        self.loading.pop(index, None)
        self.loaded.pop(index, None)


def _load(item: Opened) -> Part:
    """One table read (on the reading thread); what it adds to the ledger is kept with it."""
    loaded = load_fields(item.table, item.resolved)
    ledger = Ledger()
    if item.table.ragged_rows:
        ledger.add("ragged_row", item.table.ragged_rows, [item.table.name])
    ledger.add_rows("cell_too_long", loaded.too_long)
    return Part(item.table, item.resolved, loaded.rows, ledger)


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
