"""The Analysis page in a real browser: upload a small PSA export, watch it run, read the report
in the app; and a broken file, whose message says what to do."""

from __future__ import annotations

import csv
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import Shoot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "syncro-synthetic"
TICKETS = 200


def _small_export(folder: Path) -> list[Path]:
    """The first tickets of the synthetic Syncro export, with their time entries."""
    with (EXAMPLE / "tickets.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        header = next(reader)
        tickets = [row for _, row in zip(range(TICKETS), reader, strict=False)]
    ids = {row[header.index("Ticket Number")] for row in tickets}
    with (EXAMPLE / "labour.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        labour_header = next(reader)
        number = labour_header.index("Ticket Number")
        labour = [row for row in reader if row[number] in ids]
    written = []
    for name, head, rows in (
        ("tickets.csv", header, tickets),
        ("labour.csv", labour_header, labour),
    ):
        path = folder / name
        with path.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([head, *rows])
        written.append(path)
    return written


def test_upload_an_export_and_read_its_report_in_the_app(
    approver: Page, shoot: Shoot, tmp_path: Path
) -> None:
    page = approver
    page.goto("/analysis")
    expect(page.get_by_role("heading", name="New analysis")).to_be_visible()
    shoot("form")

    page.locator('input[name="file"]').set_input_files(_small_export(tmp_path))
    page.get_by_role("button", name="Analyse").click()
    page.wait_for_url("**/analysis/*")
    expect(page.get_by_role("heading", level=1)).to_have_text("tickets.csv, labour.csv")
    report = page.locator("#analysis-live")
    expect(report).to_contain_text("Headline findings", timeout=120_000)
    expect(report.locator("table.ranking tbody tr").first).to_be_visible()
    expect(report).to_contain_text("takes the most technician time")
    shoot("report")

    page.goto("/analysis")
    row = page.locator("table.analyses tbody tr", has_text="tickets.csv, labour.csv")
    expect(row.locator(".status")).to_have_text("done")
    shoot("list")


def test_a_file_with_unknown_columns_says_what_to_do(
    approver: Page, shoot: Shoot, tmp_path: Path
) -> None:
    page = approver
    broken = tmp_path / "export.csv"
    broken.write_text("Ref;When;What\n1;2026-01-05;Printer\n", encoding="utf-8")
    page.goto("/analysis")
    page.locator('input[name="file"]').set_input_files(broken)
    page.get_by_role("button", name="Analyse").click()
    page.wait_for_url("**/analysis/*")
    problem = page.locator("#analysis-live .error")
    expect(problem).to_contain_text("Could not recognise the format of export.csv", timeout=60_000)
    expect(problem).to_contain_text("--format generic --map")
    expect(page.locator("#analysis-live")).to_contain_text("--map is Column mapping")
    expect(page.get_by_role("button", name="Run again")).to_be_visible()
    shoot("failed")
