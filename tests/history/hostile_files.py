"""Hostile export files, for the tests that feed them to ``deskhand analyze`` and ``deskhand
intake import``: the cases a hostile review found, each with what deskhand must answer, and
hypothesis strategies that make more — random bytes, a good export in random encodings and line
endings, a good export mangled at random.

Every file is a few kilobytes unless its size is the point. A case that could hang the process
reading it (a named pipe, a device) is marked ``in_process=False``: its test runs it in a child
process with a timeout.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from deskhand.history.sources import SUFFIXES
from deskhand.intake.exports import NO_ID, TOO_LONG

MIB = 1 << 20
HEADER = [
    "id", "summary", "board", "status", "company", "type", "dateEntered", "closedDate",
    "contactName", "contactEmailAddress", "initialDescription",
]  # fmt: skip
# Open tickets with a requester each: every row is analysed and every row would be imported.
ROWS = [
    ["24001", "Forgot my password", "Service Desk", "New", "Contoso Dental", "Access",
     "2026-11-20T09:00:00Z", "", "Lisa Chen", "lisa.chen@contosodental.example",
     "Locked out, please reset."],
    ["24002", "Printer on 2nd floor jammed", "Service Desk", "In Progress", "Contoso Dental",
     "Printer", "2026-11-18T10:30:00Z", "", "Tom Becker", "tom.becker@contosodental.example",
     "Paper jam, tray 2; café level"],
    ["24003", "Outlook asks for the password again", "Service Desk", "New", "Contoso Dental",
     "Email", "2026-11-17T08:15:00Z", "", "Lisa Chen", "lisa.chen@contosodental.example",
     "Since this morning — after the update"],
    ["24004", "Access to the Finance share", "Service Desk", "Waiting", "Contoso Dental",
     "Access", "2026-11-16T14:00:00Z", "", "Tom Becker", "tom.becker@contosodental.example",
     "For the quarter's reports, Zürich office"],
]  # fmt: skip
BODY = HEADER.index("initialDescription")
SUBJECT = HEADER.index("summary")

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252")
LINE_ENDS = ("\n", "\r\n", "\r")


def export_text(
    rows: list[list[str]] | None = None, *, delimiter: str = ",", line_end: str = "\n"
) -> str:
    """The good export (or ``rows`` under its header) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(HEADER)
    writer.writerows(ROWS if rows is None else rows)
    return out.getvalue()


def records(rows: list[list[str]] | None = None) -> list[dict[str, object]]:
    """The good export as JSON records, as a PSA's API page holds them."""
    return [dict(zip(HEADER, row, strict=True)) for row in (ROWS if rows is None else rows)]


def with_cell(row: int, column: int, value: str) -> list[list[str]]:
    """The good rows with one cell replaced."""
    rows = [list(r) for r in ROWS]
    rows[row][column] = value
    return rows


@dataclass(frozen=True)
class Outcome:
    """What deskhand must answer for a file.

    ``refused``: the words of the error (exit 2) from both commands; ``None`` when the file is
    read (exit 0), ``analysed`` tickets analysed, ``imported`` would be imported, and the rows
    left out: ``quality`` (analyze's data-quality reason -> count) and ``skipped`` (intake's
    reason -> where).
    """

    refused: str | None = None
    analysed: int = len(ROWS)
    imported: int = len(ROWS)
    quality: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Hostile:
    """One hostile input: ``make`` puts it into a folder and returns the path to give."""

    name: str
    make: Callable[[Path], Path]
    outcome: Outcome
    limits: dict[str, int] = field(default_factory=dict)  # LIMITS fields set for this case
    in_process: bool = True

    def __str__(self) -> str:
        return self.name


def _file(name: str, content: bytes | str | Callable[[], bytes | str]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        data = content() if callable(content) else content
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    return make


def _link(name: str, target: Callable[[Path], Path] | str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.symlink_to(target if isinstance(target, str) else target(folder))
        return path

    return make


def _fifo(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        os.mkfifo(path)
        return path

    return make


def _folder(name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.mkdir()
        return path

    return make


def _nested(depth: int) -> str:
    inner = '{"id": ' * depth + "1" + "}" * depth
    page = json.dumps({"tickets": records()})
    return page.replace('"24001"', inner, 1)


def _gzip_damaged() -> bytes:
    packed = gzip.compress(export_text().encode() * 200)
    return packed[:20] + b"\xff" * 400 + packed[420:]


GZIP = gzip.compress(export_text().encode())
REFUSED_COLUMNS = Outcome(refused="in its first line; deskhand reads files of up to 5,000 columns")
REFUSED_DEVICE = "not an export file"

NAMED: list[Hostile] = [
    # Numbers stay text: a 5,000-digit id is analysed; intake skips it (no ticket number).
    Hostile(
        "json_huge_integer",
        _file(
            "page.json",
            lambda: json.dumps({"tickets": records()}).replace('"24001"', "9" * 5000, 1)
            .replace('"Service Desk"', "1" + "0" * 5000 + ".5", 1),
        ),
        Outcome(imported=3, skipped={NO_ID: ["page.json row 1"]}),
    ),
    Hostile("json_nested_deep_lists", _file("page.json", "[" * 100_000 + "]" * 100_000),
            Outcome(refused="page.json is nested too deeply to read")),
    Hostile("json_nested_deep_in_a_record", _file("page.json", lambda: _nested(50_000)),
            Outcome(refused="page.json is nested too deeply to read")),
    Hostile("json_over_the_size_limit", _file("page.json", lambda: json.dumps(records())),
            Outcome(refused="page.json holds more than 1 KiB of JSON"),
            limits={"json_bytes": 1024}),
    Hostile("json_gz_over_the_size_limit_once_decompressed",
            _file("page.json.gz", lambda: gzip.compress(json.dumps(records()).encode())),
            Outcome(refused="page.json.gz holds more than 1 KiB of JSON"),
            limits={"json_bytes": 1024}),
    Hostile("json_keys_that_differ_by_a_nul", _file("page.json", lambda: json.dumps(
                [{**r, "board\u0000": "x"} for r in records()], ensure_ascii=True)),
            Outcome()),
    Hostile("json_lone_surrogate_and_nul",
            _file("page.json", lambda: json.dumps(records(with_cell(1, SUBJECT, "a\ud800b\x00c")))),
            Outcome()),
    Hostile("json_scalar", _file("page.json", "42"),
            Outcome(refused="page.json holds JSON but no list of records")),
    Hostile("columns_100000",
            _file("wide.csv", lambda: ",".join(f"c{i}" for i in range(100_000)) + "\n1,2\n"),
            REFUSED_COLUMNS),
    Hostile("gzip_damaged_body", _file("tickets.csv.gz", _gzip_damaged),
            Outcome(refused="tickets.csv.gz is not a complete gzip file")),
    Hostile("gzip_cut_short", _file("tickets.csv.gz", GZIP[: len(GZIP) // 2]),
            Outcome(refused="tickets.csv.gz is not a complete gzip file")),
    Hostile("gzip_that_is_plain_text", _file("tickets.csv.gz", export_text()),
            Outcome(refused="tickets.csv.gz is not a gzip file")),
    Hostile("gzip_bomb", _file("tickets.csv.gz", lambda: gzip.compress(
                export_text(ROWS * 2000).encode())),
            Outcome(refused="tickets.csv.gz decompresses to more than 64 KiB"),
            limits={"gzip_bytes": 64 * 1024}),
    Hostile("cr_only_line_endings", _file("tickets.csv", export_text(
                with_cell(0, BODY, "two lines\nin one cell"), line_end="\r")),
            Outcome()),
    Hostile("cell_of_30_mb", _file("tickets.csv", lambda: export_text(
                with_cell(1, BODY, "a" * (30 * MIB)))),
            Outcome(analysed=3, imported=3, quality={"cell_too_long": 1},
                    skipped={TOO_LONG: ["tickets.csv row 3"]})),
    Hostile("cell_over_a_small_limit", _file("tickets.csv", lambda: export_text(
                with_cell(3, SUBJECT, "b" * 80))),
            Outcome(analysed=3, imported=3, quality={"cell_too_long": 1},
                    skipped={TOO_LONG: ["tickets.csv row 5"]}),
            limits={"cell_bytes": 60}),
    Hostile("line_of_10_mb", _file("tickets.csv", lambda: b"x" * (10 * MIB)),
            Outcome(refused="The first line of tickets.csv is longer than 256 KiB")),
    Hostile("line_of_10_mb_of_commas", _file("tickets.csv", lambda: b"x," * (5 * MIB)),
            REFUSED_COLUMNS),
    Hostile("unclosed_quote", _file("tickets.csv", lambda: export_text().replace(
                "Paper jam", '"Paper jam', 1)),
            Outcome(refused="tickets.csv could not be read as CSV")),
    Hostile("nul_in_a_cell", _file("tickets.csv", export_text(
                with_cell(0, SUBJECT, "Forgot\x00my password"))),
            Outcome()),
    Hostile("zero_bytes_only", _file("tickets.csv", b"\x00" * 5000),
            Outcome(refused="tickets.csv is not text")),
    Hostile("utf16_without_a_mark", _file("tickets.csv", export_text().encode("utf-16-le")),
            Outcome()),
    Hostile("utf16_cut_inside_a_character",
            _file("tickets.csv", export_text().encode("utf-16-le") + b"x"),
            Outcome(refused="tickets.csv is not valid utf-16-le text: truncated data")),
    # Cells past the header have no column to go to; the row is read.
    Hostile("ragged_rows", _file("tickets.csv", export_text(
                [[*ROWS[0], "extra", "cells"], *ROWS[1:]])),
            Outcome()),
    Hostile("empty", _file("tickets.csv", b""), Outcome(refused="tickets.csv is empty")),
    Hostile("header_only", _file("tickets.csv", ",".join(HEADER) + "\n"),
            Outcome(refused="tickets.csv has a header but no rows")),
    Hostile("an_image", _file("tickets.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01"),
            Outcome(refused="Could not split tickets.csv into columns")),
    Hostile("corrupt_workbook", _file("tickets.xlsx", b"PK\x03\x04 not really a workbook"),
            Outcome(refused="tickets.xlsx is not a readable Excel workbook")),
    Hostile("folder_named_like_an_export", _folder("tickets.csv"),
            Outcome(refused="tickets.csv holds no export files")),
    Hostile("link_to_nothing", _link("tickets.csv", "/nonexistent/tickets.csv"),
            Outcome(refused="which does not exist")),
    Hostile("name_too_long_for_the_file_system", lambda folder: folder / ("a" * 300 + ".csv"),
            Outcome(refused="… cannot be read: File name too long.")),
    Hostile("dev_zero", lambda folder: Path("/dev/zero"),
            Outcome(refused="/dev/zero is a character device, " + REFUSED_DEVICE),
            in_process=False),
    Hostile("link_to_dev_zero", _link("tickets.csv", "/dev/zero"),
            Outcome(refused="(a link to /dev/zero) is a character device"), in_process=False),
    Hostile("named_pipe", _fifo("tickets.csv"),
            Outcome(refused="tickets.csv is a named pipe (FIFO), " + REFUSED_DEVICE),
            in_process=False),
    Hostile("link_to_a_named_pipe", _link("export.csv", _fifo("pipe.csv")),
            Outcome(refused="is a named pipe (FIFO), " + REFUSED_DEVICE), in_process=False),
]  # fmt: skip


# --- hypothesis: more files of the same kinds ---------------------------------------------

suffixes = st.sampled_from(sorted(SUFFIXES))


@st.composite
def random_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """Random bytes under any name deskhand reads."""
    return f"export{draw(suffixes)}", draw(st.binary(max_size=3000))


@st.composite
def reencoded_exports(draw: st.DrawFn) -> tuple[str, bytes]:
    """The good export, whole, in any encoding, delimiter and line ending a PSA or a
    spreadsheet writes (CSV, or CSV.gz)."""
    text = export_text(
        delimiter=draw(st.sampled_from([",", ";", "\t", "|"])),
        line_end=draw(st.sampled_from(LINE_ENDS)),
    )
    data = text.encode(draw(st.sampled_from(ENCODINGS)))
    if draw(st.booleans()):
        return "tickets.csv.gz", gzip.compress(data)
    return "tickets.csv", data


INTERESTING = [b"\x00", b"\r", b"\n", b'"', b",", b";", b"\xff", b"\xfe\xff", b"\x1f\x8b", b"{"]


@st.composite
def mangled_exports(draw: st.DrawFn) -> tuple[str, bytes]:
    """The good export (CSV, CSV.gz or JSON) cut, spliced and sprinkled with the bytes that
    break parsers."""
    kind = draw(st.sampled_from(["tickets.csv", "tickets.csv.gz", "page.json"]))
    text = json.dumps({"tickets": records()}) if kind == "page.json" else export_text()
    data = bytearray(text.encode(draw(st.sampled_from(ENCODINGS[:3]))))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        action = draw(st.sampled_from(["insert", "delete", "cut", "repeat"]))
        if action == "insert":
            data[at:at] = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=40))]
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(min_value=1, max_value=200))]
    if kind.endswith(".gz"):
        packed = bytearray(gzip.compress(bytes(data)))
        if draw(st.booleans()) and packed:
            at = draw(st.integers(min_value=0, max_value=len(packed) - 1))
            packed[at] ^= draw(st.integers(min_value=1, max_value=255))
        return kind, bytes(packed)
    return kind, bytes(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**4000), max_value=10**4000)  # json.dumps writes up to 4,300 digits
    | st.floats()
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def json_pages(draw: st.DrawFn) -> tuple[str, bytes]:
    """A PSA API page whose records hold any JSON values where the good export's are, or
    any JSON document at all."""
    if draw(st.booleans()):
        document = draw(json_values)
    else:
        document = {
            "tickets": [
                {
                    key: draw(json_values) if draw(st.booleans()) else value
                    for key, value in r.items()
                }
                for r in records()
            ]
        }
    return "page.json", json.dumps(document).encode()
