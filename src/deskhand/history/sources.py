"""Finding and reading export files: CSV (plain or gzip), XLSX and JSON pages saved from a PSA API.

Everything is read as text columns; typing happens later, where a bad value can be counted
instead of aborting the whole file. Encodings (UTF-8 with or without BOM, UTF-16 with or
without BOM, UTF-32, cp1252), delimiters (comma, semicolon, tab, pipe) and line endings (LF,
CRLF, and CR alone as Excel for Mac writes them) are detected, and what was detected is reported.

Export files come from outside and can be anything: a named pipe, a device, a cut-off gzip
download, a JSON document nested ten thousand deep, a 30 MB cell. Each ends in an
:class:`InputError` that names the file and what to do (or, for one bad row, in that row being
left out and counted), never in a traceback or a hang; the sizes deskhand refuses are in
:data:`LIMITS`. Text holding NUL (which PostgreSQL refuses) is cleaned by ``domain.text.clean``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import mmap
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from deskhand.domain.text import clean
from deskhand.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
JSON_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUFFIXES = CSV_SUFFIXES + JSON_SUFFIXES + XLSX_SUFFIXES

DELIMITERS = (",", ";", "\t", "|")
MIB = 1 << 20
# Keys under which PSA APIs put the records of a page: Syncro, Autotask, Halo, Graph-style.
JSON_RECORD_KEYS = ("tickets", "ticket_timers", "items", "actions", "timeentries", "data", "value")
# Fields of a nested JSON object that name it best (ConnectWise: {"id": 7, "name": "Email"}).
DISPLAY_KEYS = ("name", "identifier", "body", "value", "id")


@dataclass
class Limits:
    """How large a part of an export file may be. Real exports stay far below each; a file
    past one is refused (or, for one cell, its row left out and counted) with a message that
    names the limit and how to split or fix the file. Read when a file is read: setting a
    field of :data:`LIMITS` changes the limit (the tests make them small)."""

    head_bytes: int = 256 * 1024  # the header row must end within the file's first bytes
    columns: int = 5_000
    cell_bytes: int = 8 * MIB  # a longer cell: its row is left out and counted
    json_bytes: int = 256 * MIB  # a JSON file is read whole into memory
    gzip_bytes: int = 2048 * MIB  # what a .gz file may grow to when decompressed


LIMITS = Limits()


@dataclass
class RawTable:
    """One table of text columns from one file (or one sheet of a workbook)."""

    name: str
    header: list[str]
    encoding: str
    delimiter: str | None = None
    eol: str = "\n"  # "\r" for a file whose lines end in CR alone
    ragged_rows: int = 0
    _path: Path | None = None
    _data: bytes | None = None
    _frame: pl.DataFrame | None = field(default=None, repr=False)

    def load(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """All rows, as text, with only ``columns`` (header names) when given."""
        wanted = list(dict.fromkeys(columns)) if columns is not None else None
        if self._frame is not None:
            frame = self._frame.select(wanted) if wanted is not None else self._frame
            return _without_nul(frame)
        holds_nul = self._holds_nul()  # before reading: see below
        frame = self._read_csv(wanted)
        return _without_nul(frame) if holds_nul else frame

    def _holds_nul(self) -> bool:
        """Whether the file has a NUL byte anywhere: one memchr over the file, so that the
        cells are searched only in the rare file that has one. The file is mapped, not copied,
        and before its table is read: its pages count in the process's memory only while
        mapped, and the table read from it is not there yet."""
        if self._data is not None:
            return b"\x00" in self._data
        if self._path is None:
            return False
        try:
            with self._path.open("rb") as handle:
                if os.fstat(handle.fileno()).st_size == 0:
                    return False
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                    return mapped.find(b"\x00") != -1
        except (OSError, ValueError) as error:
            raise InputError(f"{self.name} could not be read: {error}") from None

    def _read_csv(self, columns: list[str] | None) -> pl.DataFrame:
        source: Path | io.BytesIO = (
            self._path
            if self._data is None and self._path is not None
            else io.BytesIO(self._data or b"")
        )
        options: dict[str, Any] = {
            "separator": self.delimiter or ",",
            "eol_char": self.eol,
            "infer_schema": False,
            "columns": columns,
            "raise_if_empty": False,
        }
        try:
            try:
                return pl.read_csv(source, **options)
            except pl.exceptions.ComputeError as error:
                if "more fields" not in str(error):
                    raise
                self.ragged_rows = _count_ragged_rows(self._text(), self.delimiter or ",")
                if isinstance(source, io.BytesIO):
                    source.seek(0)
                return pl.read_csv(source, truncate_ragged_lines=True, **options)
        except pl.exceptions.PolarsError as error:
            text = str(error)
            if "utf-8" in text.lower() and self.encoding.startswith("utf-8"):
                # The first block was valid UTF-8 but a later one is not: a cp1252 file
                # with plain-ASCII first rows. Transcode once and read again.
                raw = self._data if self._data is not None else _read_bytes(self._path)
                self.encoding = "cp1252"
                self._data = _decode(raw, "cp1252", self.name).encode("utf-8")
                return self._read_csv(columns)
            raise InputError(
                f"{self.name} could not be read as CSV: {_first_line(text)}",
                hint="Open it in a spreadsheet and save it again as CSV (UTF-8), or export it "
                "again from the PSA.",
            ) from None

    def _text(self) -> str:
        raw = self._data if self._data is not None else _read_bytes(self._path)
        return raw.decode("utf-8", errors="replace")


def discover(paths: Iterable[Path]) -> dict[Path, bool]:
    """Files to read: the given files, and the export files inside the given folders, each
    with whether the user named it (``True``) or it was found in a folder (``False``)."""
    found: dict[Path, bool] = {}
    for path in paths:
        try:
            for inner, named in _files_at(path):
                found[inner] = named or found.get(inner, False)
        except OSError as error:  # a name too long, a folder that cannot be listed
            shown = str(path) if len(str(path)) <= 120 else f"{str(path)[:100]}…"
            raise InputError(f"{shown} cannot be read: {error.strerror or error}.") from None
    return found


def _files_at(path: Path) -> Iterator[tuple[Path, bool]]:
    if not path.exists():
        if path.is_symlink():
            raise InputError(f"{path} is a link to {path.readlink()}, which does not exist.")
        raise InputError(f"{path} does not exist.")
    if not path.is_dir():
        _check_regular(path)
        yield path, True
        return
    inside = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not inside:
        raise InputError(
            f"{path} holds no export files.",
            hint="deskhand reads " + ", ".join(SUFFIXES) + " files.",
        )
    for inner in inside:
        yield inner, False


def _check_regular(path: Path) -> None:
    """Refuse what is not a file on disk before opening it: reading a named pipe waits for a
    writer forever, and a device such as /dev/zero never ends."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return
    kind = next((words for test, words in _FILE_KINDS if test(mode)), "not a regular file")
    where = f"{path} (a link to {path.resolve()})" if path.is_symlink() else str(path)
    raise InputError(
        f"{where} is {kind}, not an export file.",
        hint="Save the export to a file first and give deskhand that file (or a folder of them).",
    )


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_tables(path: Path) -> list[RawTable]:
    """The tables in one file: one for CSV and JSON, one per non-empty sheet for XLSX."""
    lower = path.name.lower()
    if lower.endswith(XLSX_SUFFIXES):
        return _read_xlsx(path)
    head = _read_head(path)
    if not head.strip():
        raise InputError(f"{path.name} is empty.", hint="Export it again from the PSA.")
    if lower.endswith(JSON_SUFFIXES) or head.lstrip()[:1] in (b"{", b"["):
        return [_read_json(path)]
    return [_open_csv(path, head)]


def _open_csv(path: Path, head: bytes) -> RawTable:
    encoding = _detect_encoding(head)
    text = _decode(head, encoding, path.name, final=False)
    if text.count("\x00") * 2 > len(text):
        raise InputError(
            f"{path.name} is not text: most of its first bytes are zero bytes.",
            hint="Check that it is the export itself, not a damaged download or another kind "
            "of file; export it again from the PSA.",
        )
    delimiter = sniff_delimiter(text)
    rows = _head_rows(text, delimiter)
    header = [name.strip().lstrip("\ufeff") for name in rows[0] or []] if rows else []
    _check_header(path.name, header, len(rows), whole=len(head) < LIMITS.head_bytes)
    if not any(row is None or any(cell.strip() for cell in row) for row in rows[1:]):
        raise InputError(
            f"{path.name} has a header but no rows.",
            hint="Export it again with a date range that contains tickets.",
        )
    needs_transcoding = path.name.lower().endswith(".gz") or not encoding.startswith("utf-8")
    data: bytes | None = None
    if needs_transcoding:
        raw = _read_bytes(path)
        data = (
            raw
            if encoding.startswith("utf-8")
            else _decode(raw, encoding, path.name).encode("utf-8")
        )
    return RawTable(
        name=path.name,
        header=header,
        encoding=encoding,
        delimiter=delimiter,
        eol=_line_end(text),
        _path=path,
        _data=data,
    )


def _line_end(text: str) -> str:
    """``\r`` for lines that end in CR alone (Excel for Mac; a line break inside a cell is
    still LF there), else ``\n`` (which also reads CRLF)."""
    alone = text.count("\r") - text.count("\r\n")
    return "\r" if alone > text.count("\n") else "\n"


def _check_header(name: str, header: Sequence[str], rows: int, *, whole: bool) -> None:
    """The first line must be a header row: a few columns that end early in the file."""
    if len(header) > LIMITS.columns:
        raise InputError(
            f"{name} has {len(header):,} columns or more in its first line; deskhand reads "
            f"files of up to {LIMITS.columns:,} columns.",
            hint="Export only the columns you need (ticket number, subject, dates, category, "
            "time), or check that the file is a PSA export.",
        )
    if not whole and rows < 2:  # the head ended inside the first line
        raise InputError(
            f"The first line of {name} is longer than {size_words(LIMITS.head_bytes)}, so it "
            "is not a header row.",
            hint="Check that the file is a CSV export with one header line; if its lines are "
            "not separated, open it in a spreadsheet and save it again as CSV.",
        )
    if not any(cell.strip() for cell in header):
        raise InputError(f"{name} has no header row.")


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    lines = text.splitlines()[:50]
    sample = "\n".join(lines[:-1] if len(lines) > 2 else lines)
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for row in _head_rows(sample, delimiter) if row]  # None: a long row
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for row in rows if len(row) == width) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head_rows(text: str, delimiter: str) -> list[list[str] | None]:
    """The rows of the start of a file, up to the first one with a cell longer than the csv
    module reads (128 KiB), which is ``None``: it only shows that a row is there."""
    # newline="": lines may end in CR alone (old Mac exports), as csv expects them to.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str] | None] = []
    try:
        rows.extend(reader)
    except csv.Error:
        rows.append(None)
    return rows


def _count_ragged_rows(text: str, delimiter: str) -> int:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = len(next(reader, []))
    ragged = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return ragged
        except csv.Error:  # a cell over 128 KiB; the reader goes on at the next line
            continue
        ragged += len(row) > width


def _detect_encoding(head: bytes) -> str:
    """A byte-order mark's encoding; UTF-16 without one (Excel's "Unicode text" on some
    systems); UTF-8; else cp1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # UTF-16 LE's mark + 00 00
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[: len(head[:4096]) // 2 * 2]
    if sample:
        # Text in UTF-16 without a mark: one byte of each pair is zero, the other is not.
        even, odd = sample[0::2].count(0) * 2 / len(sample), sample[1::2].count(0) * 2 / len(sample)
        if odd > 0.6 and even < 0.1:
            return "utf-16-le"
        if even > 0.6 and odd < 0.1:
            return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _decode(raw: bytes, encoding: str, name: str, *, final: bool = True) -> str:
    """``raw`` as text; the start of a file (``final=False``) never fails, a whole file that
    is not the encoding its start was is an :class:`InputError`."""
    if encoding == "cp1252":
        # cp1252 leaves five bytes undefined; latin-1 maps them instead of failing.
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict" if final else "replace")
    try:
        return decoder.decode(raw, final=final).lstrip("\ufeff")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name} is not valid {encoding} text: {error.reason} at byte {error.start:,}.",
            hint="Open it in a spreadsheet and save it again as CSV UTF-8, or export it again.",
        ) from None


def _read_head(path: Path) -> bytes:
    return _read_bytes(path, LIMITS.head_bytes)


def _read_bytes(path: Path | None, limit: int | None = None) -> bytes:
    """The file's bytes (decompressed for .gz), or its first ``limit`` bytes."""
    if path is None:
        return b""
    packed = path.name.lower().endswith(".gz")
    try:
        if not packed:
            with path.open("rb") as handle:
                return handle.read(limit) if limit is not None else handle.read()
        with gzip.open(path, "rb") as handle:
            raw = handle.read(limit if limit is not None else LIMITS.gzip_bytes + 1)
    except gzip.BadGzipFile:
        raise InputError(
            f"{path.name} is not a gzip file, though its name ends in .gz.",
            hint="If it is a plain CSV, rename it without .gz; else export it again.",
        ) from None
    except (EOFError, zlib.error) as error:
        raise InputError(
            f"{path.name} is not a complete gzip file ({error}).",
            hint="The download or copy was cut short or damaged: fetch it again, or give "
            "deskhand the uncompressed CSV.",
        ) from None
    except OSError as error:
        raise InputError(f"{path.name} could not be read: {error}") from None
    if limit is None and len(raw) > LIMITS.gzip_bytes:
        raise InputError(
            f"{path.name} decompresses to more than {size_words(LIMITS.gzip_bytes)}, the most "
            "deskhand reads from one compressed file.",
            hint="Decompress it and give deskhand the .csv file, or export a shorter period "
            "per file.",
        )
    return raw


def _read_xlsx(path: Path) -> list[RawTable]:
    try:
        import fastexcel

        sheets = fastexcel.read_excel(str(path)).sheet_names
        frames = {
            sheet: pl.read_excel(
                path, sheet_name=sheet, infer_schema_length=0, raise_if_empty=False
            )
            for sheet in sheets
        }
    except Exception as error:  # fastexcel raises its own types for corrupt workbooks
        raise InputError(
            f"{path.name} is not a readable Excel workbook: {_first_line(str(error))}",
            hint="Open it in Excel and save it again as .xlsx, or export it as CSV.",
        ) from None
    tables = []
    for sheet, frame in frames.items():
        name = f"{path.name}[{sheet}]"
        frame = frame.rename({column: str(column).strip() for column in frame.columns})
        if frame.height == 0:
            continue
        _check_header(name, frame.columns, frame.height + 1, whole=True)
        tables.append(RawTable(name=name, header=frame.columns, encoding="xlsx", _frame=frame))
    if not tables:
        raise InputError(f"{path.name} has no sheet with rows.")
    return tables


def _read_json(path: Path) -> RawTable:
    too_large = InputError(
        f"{path.name} holds more than {size_words(LIMITS.json_bytes)} of JSON, the most "
        "deskhand reads from one JSON file.",
        hint="Save the API's list response page by page, one file per page, and give "
        "deskhand the folder.",
    )
    if path.stat().st_size > LIMITS.json_bytes:
        raise too_large
    raw = _read_bytes(path)
    if len(raw) > LIMITS.json_bytes:  # a .json.gz, decompressed
        raise too_large
    encoding = _detect_encoding(raw[: LIMITS.head_bytes])
    text = _decode(raw, encoding, path.name)
    try:
        records = list(_json_records(text, path.name))
        columns: dict[str, list[str | None]] = {}
        for index, record in enumerate(records):
            # Keys cleaned first: two that differ only by a NUL are one column.
            cells = {clean(key): _display(value) for key, value in record.items()}
            for key, cell in cells.items():
                columns.setdefault(key, [None] * index).append(cell)
            for column in columns.values():
                if len(column) < index + 1:
                    column.append(None)
            if len(columns) > LIMITS.columns:
                _check_header(path.name, list(columns), len(records) + 1, whole=True)
    except RecursionError:
        raise InputError(
            f"{path.name} is nested too deeply to read: more than "
            f"{sys.getrecursionlimit():,} levels of lists and objects.",
            hint="A PSA's API page nests a few levels. Check that the file is the API's "
            "response as saved, and save it again.",
        ) from None
    if not records:
        raise InputError(
            f"{path.name} holds no records.", hint="Save a page of the API's list response."
        )
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String()))
    return RawTable(name=path.name, header=frame.columns, encoding=encoding, _frame=frame)


def _json_records(text: str, name: str) -> Iterator[dict[str, Any]]:
    # Numbers stay text as written: a 5,000-digit id is refused by int(), and ids are text.
    try:
        document = json.loads(text, parse_int=str, parse_float=str)
    except json.JSONDecodeError as error:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            document = [json.loads(line, parse_int=str, parse_float=str) for line in lines]
        except json.JSONDecodeError:  # not JSON Lines either
            raise InputError(
                f"{name} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}."
            ) from None
    if isinstance(document, dict):
        for key in (*JSON_RECORD_KEYS, *document.keys()):
            value = document.get(key)
            if isinstance(value, list) and all(isinstance(item, dict) for item in value):
                document = value
                break
        else:
            document = [document]
    if not isinstance(document, list):
        raise InputError(f"{name} holds JSON but no list of records.")
    for item in document:
        if isinstance(item, dict):
            yield item


def _display(value: Any) -> str | None:
    """A JSON value as text: nested objects by their name, lists by their first item."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        for key in DISPLAY_KEYS:
            if value.get(key) is not None:
                return _display(value[key])
        return None
    if isinstance(value, list):
        return _display(value[0]) if value else None
    return clean(str(value))


def _without_nul(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that holds NUL cleaned by ``domain.text.clean``; the
    other cells are not touched."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text:
        return frame
    holding = frame.select(pl.col(text).str.contains("\x00", literal=True).any()).row(0)
    columns = []
    for name, has_nul in zip(text, holding, strict=True):
        if not has_nul:
            continue
        cells = frame.get_column(name)
        dirty = cells.str.contains("\x00", literal=True).fill_null(False)
        cleaned = pl.Series([clean(cell) for cell in cells.filter(dirty)], dtype=pl.String)
        columns.append(cells.scatter(dirty.arg_true(), cleaned))
    return frame.with_columns(columns) if columns else frame


def size_words(size: float) -> str:
    """Bytes for people: 1 GiB, 250 MiB, 12 KiB, 800 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{int(size):,} bytes"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
