"""Reading export files: encodings, delimiters, gzip, Excel, JSON pages, and broken files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deskhand.errors import InputError
from deskhand.history.sources import discover, read_tables, sniff_delimiter
from tests.support import WriteCsv, csv_text

HEADER = ["Ticket Number", "Ticket Subject"]


def only_table(path: Path):  # type: ignore[no-untyped-def]
    tables = read_tables(path)
    assert len(tables) == 1
    return tables[0]


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"tickets\.csv is empty"):
        read_tables(path)


def test_header_without_rows_is_an_input_error(write_csv: WriteCsv) -> None:
    with pytest.raises(InputError, match="header but no rows"):
        read_tables(write_csv("tickets.csv", HEADER, []))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_detected(write_csv: WriteCsv, delimiter: str) -> None:
    rows = [["1", "Printer, 2nd floor; jammed"], ["2", "VPN down"]]
    table = only_table(write_csv("t.csv", HEADER, rows, delimiter=delimiter))
    assert table.delimiter == delimiter
    assert table.load().rows() == [("1", "Printer, 2nd floor; jammed"), ("2", "VPN down")]


def test_utf8_with_bom_gives_clean_headers(write_csv: WriteCsv) -> None:
    table = only_table(write_csv("t.csv", HEADER, [["1", "Café"]], encoding="utf-8-sig"))
    assert table.header == HEADER
    assert table.encoding == "utf-8-sig"
    assert table.load().columns == HEADER
    assert table.load().row(0) == ("1", "Café")


def test_cp1252_is_detected_and_decoded(write_csv: WriteCsv) -> None:
    table = only_table(
        write_csv("t.csv", HEADER, [["1", "Café – naïve “quotes”"]], encoding="cp1252")
    )
    assert table.encoding == "cp1252"
    assert table.load().row(0) == ("1", "Café – naïve “quotes”")


def test_cp1252_after_a_long_ascii_start_is_still_decoded(tmp_path: Path) -> None:
    rows = [[str(i), "plain ascii subject"] for i in range(20000)] + [["20000", "Zürich office"]]
    path = tmp_path / "t.csv"
    path.write_bytes(csv_text(HEADER, rows).encode("cp1252"))
    table = only_table(path)
    frame = table.load()
    assert frame.height == 20001
    assert frame.row(-1) == ("20000", "Zürich office")
    assert table.encoding == "cp1252"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(csv_text(HEADER, [["1", "Überweisung"]]).encode("utf-16"))
    assert only_table(path).load().row(0) == ("1", "Überweisung")


def test_quoted_newlines_stay_inside_the_cell(write_csv: WriteCsv) -> None:
    body = 'line one\nline two, with "quotes"'
    assert only_table(write_csv("t.csv", HEADER, [["1", body]])).load().row(0) == ("1", body)


def test_gzip_csv(tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(csv_text(HEADER, [["1", "x"]]).encode()))
    assert only_table(path).load().row(0) == ("1", "x")


def test_only_requested_columns_are_loaded(write_csv: WriteCsv) -> None:
    table = only_table(write_csv("t.csv", [*HEADER, "Notes"], [["1", "x", "long"]]))
    assert table.load(["Notes"]).columns == ["Notes"]


def test_ragged_rows_are_counted_and_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    table = only_table(path)
    assert table.load().rows() == [("1", "2"), ("3", "4"), ("6", "7")]
    assert table.ragged_rows == 1


def test_xlsx_sheets_become_tables(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tickets"
    sheet.append(["id", "summary"])
    sheet.append([1, "Outlook"])
    book.create_sheet("Empty")
    time = book.create_sheet("Time")
    time.append(["chargeToId", "actualHours"])
    time.append([1, 1.5])
    path = tmp_path / "export.xlsx"
    book.save(path)
    tables = read_tables(path)
    assert [t.name for t in tables] == ["export.xlsx[Tickets]", "export.xlsx[Time]"]
    assert tables[1].load().row(0) == ("1", "1.5")


def test_corrupt_xlsx_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        read_tables(path)


def test_json_page_with_records_and_nested_names(tmp_path: Path) -> None:
    page = {
        "tickets": [
            {"id": 7, "company": {"id": 3, "name": "Acme"}, "closed": True, "tags": []},
            {"id": 8, "company": None, "extra": 1.5},
        ],
        "meta": {"total_pages": 1, "page": 1},
    }
    path = tmp_path / "page1.json"
    path.write_text(json.dumps(page))
    frame = only_table(path).load()
    assert frame.columns == ["id", "company", "closed", "tags", "extra"]
    assert frame.rows() == [("7", "Acme", "true", None, None), ("8", None, None, None, "1.5")]


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1}\n{"id": 2}\n')
    assert only_table(path).load().get_column("id").to_list() == ["1", "2"]


def test_invalid_json_names_the_place(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"tickets": [1,,]}')
    with pytest.raises(InputError, match=r"t\.json is not valid JSON: .* line 1"):
        read_tables(path)


def test_folder_finds_export_files_only(tmp_path: Path, write_csv: WriteCsv) -> None:
    write_csv("a.csv", HEADER, [["1", "x"]])
    (tmp_path / "notes.md").write_text("ignore me")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text("[]")
    named = tmp_path / "sub" / "b.json"
    found = discover([tmp_path, named])
    assert [(p.name, was_named) for p, was_named in found.items()] == [
        ("a.csv", False),
        ("b.json", True),
    ]


def test_missing_path_and_empty_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        discover([tmp_path / "nope.csv"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no export files"):
        discover([tmp_path / "empty"])


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=25
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from([",", ";", "\t", "|"]),
    st.integers(min_value=2, max_value=5).flatmap(
        lambda width: st.lists(
            st.lists(cells, min_size=width, max_size=width), min_size=1, max_size=15
        )
    ),
)
def test_any_cell_text_round_trips(tmp_path: Path, delimiter: str, rows: list[list[str]]) -> None:
    header = [f"column {i}" for i in range(len(rows[0]))]
    if not any(cell.strip() for row in rows for cell in row):
        rows = [*rows, ["x"] * len(header)]
    path = tmp_path / "t.csv"
    path.write_bytes(csv_text(header, rows, delimiter).encode("utf-8"))
    table = only_table(path)
    assert table.delimiter == delimiter
    got = table.load().rows()
    assert got == [tuple(cell if cell != "" else None for cell in row) for row in rows]


def test_sniffing_single_column_text_falls_back_to_comma() -> None:
    assert sniff_delimiter("just one column\nvalue\n") == ","
