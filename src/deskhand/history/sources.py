"""Finding and reading export files: CSV (plain or gzip), XLSX and JSON pages saved from a PSA API.

Everything is read as text columns; typing happens later, where a bad value can be counted
instead of aborting the whole file. Encodings (UTF-8 with or without BOM, UTF-16, cp1252) and
delimiters (comma, semicolon, tab, pipe) are detected, and what was detected is reported.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from deskhand.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
JSON_SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUFFIXES = CSV_SUFFIXES + JSON_SUFFIXES + XLSX_SUFFIXES

DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 256 * 1024
# Keys under which PSA APIs put the records of a page: Syncro, Autotask, Halo, Graph-style.
JSON_RECORD_KEYS = ("tickets", "ticket_timers", "items", "actions", "timeentries", "data", "value")
# Fields of a nested JSON object that name it best (ConnectWise: {"id": 7, "name": "Email"}).
DISPLAY_KEYS = ("name", "identifier", "body", "value", "id")


@dataclass
class RawTable:
    """One table of text columns from one file (or one sheet of a workbook)."""

    name: str
    header: list[str]
    encoding: str
    delimiter: str | None = None
    ragged_rows: int = 0
    _path: Path | None = None
    _data: bytes | None = None
    _frame: pl.DataFrame | None = field(default=None, repr=False)

    def load(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """All rows, as text, with only ``columns`` (header names) when given."""
        wanted = list(dict.fromkeys(columns)) if columns is not None else None
        if self._frame is not None:
            return self._frame.select(wanted) if wanted is not None else self._frame
        return self._read_csv(wanted)

    def _read_csv(self, columns: list[str] | None) -> pl.DataFrame:
        source: Path | io.BytesIO = (
            self._path
            if self._data is None and self._path is not None
            else io.BytesIO(self._data or b"")
        )
        options: dict[str, Any] = {
            "separator": self.delimiter or ",",
            "infer_schema": False,
            "columns": columns,
            "raise_if_empty": False,
        }
        try:
            return pl.read_csv(source, **options)
        except pl.exceptions.ComputeError as error:
            text = str(error)
            if "more fields" in text:
                self.ragged_rows = _count_ragged_rows(self._text(), self.delimiter or ",")
                if isinstance(source, io.BytesIO):
                    source.seek(0)
                return pl.read_csv(source, truncate_ragged_lines=True, **options)
            if "utf-8" in text.lower() and self.encoding.startswith("utf-8"):
                # The first block was valid UTF-8 but a later one is not: a cp1252 file
                # with plain-ASCII first rows. Transcode once and read again.
                raw = self._data if self._data is not None else _read_bytes(self._path)
                self.encoding = "cp1252"
                self._data = _decode(raw, "cp1252").encode("utf-8")
                return self._read_csv(columns)
            raise InputError(f"{self.name} could not be read as CSV: {_first_line(text)}") from None

    def _text(self) -> str:
        raw = self._data if self._data is not None else _read_bytes(self._path)
        return raw.decode("utf-8", errors="replace")


def discover(paths: Iterable[Path]) -> dict[Path, bool]:
    """Files to read: the given files, and the export files inside the given folders, each
    with whether the user named it (``True``) or it was found in a folder (``False``)."""
    found: dict[Path, bool] = {}
    for path in paths:
        if not path.exists():
            raise InputError(f"{path} does not exist.")
        if path.is_dir():
            inside = sorted(
                p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)
            )
            if not inside:
                raise InputError(
                    f"{path} holds no export files.",
                    hint="deskhand reads " + ", ".join(SUFFIXES) + " files.",
                )
            for inner in inside:
                found.setdefault(inner, False)
        else:
            found[path] = True
    return found


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
    text = _decode(head, encoding, final=False)
    delimiter = sniff_delimiter(text)
    header = _header(text, delimiter)
    if not any(name.strip() for name in header):
        raise InputError(f"{path.name} has no header row.")
    needs_transcoding = path.name.lower().endswith(".gz") or not encoding.startswith("utf-8")
    data: bytes | None = None
    if needs_transcoding:
        raw = _read_bytes(path)
        data = raw if encoding.startswith("utf-8") else _decode(raw, encoding).encode("utf-8")
    table = RawTable(
        name=path.name,
        header=header,
        encoding=encoding,
        delimiter=delimiter,
        _path=path,
        _data=data,
    )
    if _has_no_rows(text):
        raise InputError(
            f"{path.name} has a header but no rows.",
            hint="Export it again with a date range that contains tickets.",
        )
    return table


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    lines = text.splitlines()[:50]
    sample = "\n".join(lines[:-1] if len(lines) > 2 else lines)
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if row]
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


def _header(text: str, delimiter: str) -> list[str]:
    # newline="": lines may end in CR alone (old Mac exports), as csv expects them to.
    row = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    return [name.strip().lstrip("\ufeff") for name in row]


def _has_no_rows(text: str) -> bool:
    rows = csv.reader(io.StringIO(text, newline=""))
    next(rows, None)
    return not any(any(cell.strip() for cell in row) for row in rows)


def _count_ragged_rows(text: str, delimiter: str) -> int:
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = len(next(rows, []))
    return sum(1 for row in rows if len(row) > width)


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _decode(raw: bytes, encoding: str, *, final: bool = True) -> str:
    if encoding == "cp1252":
        # cp1252 leaves five bytes undefined; latin-1 maps them instead of failing.
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict" if final else "replace")
    return decoder.decode(raw, final=final).lstrip("\ufeff")


def _read_head(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read(HEAD_BYTES)
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError) as error:
        raise InputError(f"{path.name} could not be read: {error}") from None


def _read_bytes(path: Path | None) -> bytes:
    if path is None:
        return b""
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as error:
        raise InputError(f"{path.name} could not be read: {error}") from None


def _read_xlsx(path: Path) -> list[RawTable]:
    try:
        import fastexcel

        sheets = fastexcel.read_excel(str(path)).sheet_names
    except Exception as error:  # fastexcel raises its own types for corrupt workbooks
        raise InputError(f"{path.name} is not a readable Excel workbook: {error}") from None
    tables = []
    for sheet in sheets:
        frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0, raise_if_empty=False)
        frame = frame.rename({name: str(name).strip() for name in frame.columns})
        if frame.height == 0:
            continue
        tables.append(
            RawTable(
                name=f"{path.name}[{sheet}]",
                header=frame.columns,
                encoding="xlsx",
                _frame=frame,
            )
        )
    if not tables:
        raise InputError(f"{path.name} has no sheet with rows.")
    return tables


def _read_json(path: Path) -> RawTable:
    raw = _read_bytes(path)
    encoding = _detect_encoding(raw[:HEAD_BYTES])
    text = _decode(raw, encoding)
    records = list(_json_records(text, path.name))
    if not records:
        raise InputError(
            f"{path.name} holds no records.", hint="Save a page of the API's list response."
        )
    columns: dict[str, list[str | None]] = {}
    for index, record in enumerate(records):
        for key, value in record.items():
            column = columns.setdefault(key, [None] * index)
            column.append(_display(value))
        for column in columns.values():
            if len(column) < index + 1:
                column.append(None)
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String()))
    return RawTable(name=path.name, header=frame.columns, encoding=encoding, _frame=frame)


def _json_records(text: str, name: str) -> Iterator[dict[str, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            document = [json.loads(line) for line in lines]  # JSON Lines
        except json.JSONDecodeError:
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
    return str(value)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
