"""The analysis pages and API: ``deskhand analyze`` run from the web app on an upload or a saved
export, its progress, its report, and who may see and run it."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from deskhand.accounts import create_token, set_password
from deskhand.engine.runtime import Runtime
from deskhand.history.analysis import AnalyzeOptions, analyze
from deskhand.history.taxonomy import label_key
from deskhand.store.models import Analysis, User
from deskhand.web import analysis_run
from deskhand.web.analysis_options import AnalysisOptions
from deskhand.web.analysis_views import StoredOptions
from deskhand.web.app import create_app
from tests.web.conftest import PASSWORD, sign_in

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "syncro-synthetic"
SMALL_TICKETS = 300
FINISHED = ("done", "failed", "interrupted")


def _files(*paths: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (p.name, p.read_bytes(), "text/csv")) for p in paths]


def _wait(client: TestClient, analysis_id: int, timeout: float = 180.0) -> dict[str, Any]:
    """Poll the API until the analysis finishes; its last state."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/analyses/{analysis_id}").json()
        if body["status"] in FINISHED:
            return body
        assert time.monotonic() < deadline, f"analysis {analysis_id} still {body['status']}"
        time.sleep(0.2)


def _started(response: Any) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/analysis/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _count(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Analysis)) or 0


def _leftovers(rt: Runtime) -> list[Path]:
    folder = rt.settings.data_dir / "analyses"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    """The first tickets of the synthetic Syncro export and their labour: quick to analyse."""
    folder = tmp_path / "small-export"
    folder.mkdir()
    with (EXAMPLE / "tickets.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        header = next(reader)
        tickets = [row for _, row in zip(range(SMALL_TICKETS), reader, strict=False)]
    ids = {row[header.index("Ticket Number")] for row in tickets}
    with (EXAMPLE / "labour.csv").open(newline="", encoding="utf-8") as source:
        reader = csv.reader(source)
        labour_header = next(reader)
        number = labour_header.index("Ticket Number")
        labour = [row for row in reader if row[number] in ids]
    for name, head, rows in (
        ("tickets.csv", header, tickets),
        ("labour.csv", labour_header, labour),
    ):
        with (folder / name).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(head)
            writer.writerows(rows)
    return folder


@pytest.fixture
def dana(signed_in: tuple[TestClient, str], web_rt: Runtime) -> Iterator[tuple[TestClient, str]]:
    """The demo approver of all tenants; every analysis started is finished before teardown."""
    client, csrf = signed_in
    yield client, csrf
    with web_rt.db.reading() as session:
        ids = session.scalars(select(Analysis.id).where(Analysis.status.in_(("queued", "running"))))
        for analysis_id in list(ids):
            _wait(client, analysis_id)


def test_uploaded_synthetic_export_shows_the_top_category_the_cli_reports(
    dana: tuple[TestClient, str],
) -> None:
    client, csrf = dana
    tickets, labour = EXAMPLE / "tickets.csv", EXAMPLE / "labour.csv"
    response = client.post(
        "/analysis",
        data={"csrf": csrf, "rate": "65"},
        files=_files(tickets, labour),
        follow_redirects=False,
    )
    analysis_id = _started(response)
    # The library's answer for the same input, worked out while the app runs its own.
    expected = analyze(AnalyzeOptions(paths=[tickets, labour], rate=65.0))
    top = min(expected.categories, key=lambda row: row.rank_by_minutes)

    state = _wait(client, analysis_id)
    assert state["status"] == "done", state
    assert state["summary"]["top"][0]["category"] == top.category
    assert state["summary"]["tickets"] == expected.totals.tickets

    page = client.get(f"/analysis/{analysis_id}")
    assert page.status_code == 200
    assert f"{top.category} takes the most technician time" in page.text
    first_row = re.search(
        r'<tbody>\s*<tr>\s*<td class="num">1</td>\s*<th scope="row">([^<]+)<', page.text
    )
    assert first_row and first_row.group(1) == top.category
    for heading in ("Headline findings", "Suggested categories", "Data quality"):
        assert heading in page.text
    assert "hx-trigger" not in page.text.split('id="analysis-live"')[1].split(">")[0]

    listing = client.get("/analysis")
    assert "tickets.csv" in listing.text and top.category in listing.text

    report = client.get(f"/analysis/{analysis_id}/report.json").json()
    assert report["categories"][0]["category"] == top.category
    assert client.get(f"/api/v1/analyses/{analysis_id}/report").json() == report
    table = client.get(f"/analysis/{analysis_id}/categories.csv")
    assert table.headers["content-type"].startswith("text/csv")
    assert table.text.splitlines()[1].split(",")[1] == top.category


def test_the_framed_html_report_gets_a_policy_for_its_inline_styles_and_nothing_else(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    response = client.post(
        "/analysis",
        data={"csrf": csrf},
        files=_files(small_export / "tickets.csv", small_export / "labour.csv"),
        follow_redirects=False,
    )
    analysis_id = _started(response)
    assert _wait(client, analysis_id)["status"] == "done"

    framed = client.get(f"/analysis/{analysis_id}/report.html")
    assert framed.status_code == 200
    assert "<style>" in framed.text  # the report styles itself inline …
    policy = framed.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy  # … which its own policy allows,
    assert "script-src" not in policy and "default-src 'none'" in policy  # and nothing more
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy
    page = client.get(f"/analysis/{analysis_id}")
    assert f'<iframe src="/analysis/{analysis_id}/report.html" sandbox' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    download = client.get(f"/analysis/{analysis_id}/report.html?download=true")
    assert download.headers["content-disposition"].startswith("attachment")


def test_the_page_and_the_framed_report_say_what_the_installed_specialists_cover(
    dana: tuple[TestClient, str], small_export: Path, web_rt: Runtime
) -> None:
    client, csrf = dana
    response = client.post(
        "/analysis",
        data={"csrf": csrf},
        files=_files(small_export / "tickets.csv", small_export / "labour.csv"),
        follow_redirects=False,
    )
    analysis_id = _started(response)
    assert _wait(client, analysis_id)["status"] == "done"

    report = client.get(f"/analysis/{analysis_id}/report.json").json()
    coverage = report["coverage"]
    assert coverage["specialists"] == sorted(web_rt.registry.by_name)
    covered = [row for row in report["categories"] if row["specialist"]]
    assert covered, "the runtime's specialists were not given to the analysis"
    page = html.unescape(client.get(f"/analysis/{analysis_id}").text)
    assert "deskhand's specialists cover" in page
    assert "of the technician minutes covered by deskhand's specialists" in page
    assert '<th scope="col">Specialist</th>' in page
    assert covered[0]["specialist"].replace("_", " ") in page
    assert "none — a technician does these" in page
    framed = html.unescape(client.get(f"/analysis/{analysis_id}/report.html").text)
    assert "The largest category no specialist covers: " in framed


def test_a_malformed_csv_fails_with_its_message_on_the_page(
    dana: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, csrf = dana
    bad = tmp_path / "tickets.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=_files(bad), follow_redirects=False)
    )

    state = _wait(client, analysis_id)
    assert state["status"] == "failed"
    assert "Could not recognise the format of tickets.csv" in state["error"]
    page = client.get(f"/analysis/{analysis_id}")
    assert page.status_code == 200
    assert "Could not recognise the format of tickets.csv from its columns: foo, bar." in page.text
    assert "Traceback" not in page.text
    assert "Run again" in page.text
    assert client.get(f"/analysis/{analysis_id}/report.json").status_code == 409
    assert client.get(f"/api/v1/analyses/{analysis_id}/report").status_code == 409


def _tickets_rows(small_export: Path, count: int = 40) -> list[list[str]]:
    with (small_export / "tickets.csv").open(newline="", encoding="utf-8") as source:
        return [row for _, row in zip(range(count + 1), csv.reader(source), strict=False)]


def _written(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def _without(rows: list[list[str]], column: str) -> list[list[str]]:
    drop = rows[0].index(column)
    return [[value for i, value in enumerate(row) if i != drop] for row in rows]


BAD_UPLOADS = {
    "empty": (lambda rows: b"", "tickets.csv is empty.", "Export it again from the PSA."),
    "unknown delimiter": (
        lambda rows: _written(rows, delimiter="#"),
        "Could not split tickets.csv into columns",
        "Save the export again as comma-separated CSV",
    ),
    "missing column": (
        lambda rows: _written(_without(rows, "Ticket Created")),
        "no column for opened_at. Found: Ticket Number, Ticket Subject",
        "--map opened_at=COLUMN",
    ),
    "carriage returns alone": (
        lambda rows: b"Ref,Opened\r1,2\n3,4\r\n",
        "Could not recognise the format of tickets.csv from its columns: Ref, Opened.",
        "--format generic --map",
    ),
    "not a CSV": (
        lambda rows: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        "Could not split tickets.csv into columns",
        "Save the export again as comma-separated CSV",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_fails_with_what_to_do_on_the_page_and_in_the_api(
    dana: tuple[TestClient, str], small_export: Path, case: str
) -> None:
    client, csrf = dana
    content, message, hint = BAD_UPLOADS[case]
    upload = [("file", ("tickets.csv", content(_tickets_rows(small_export)), "text/csv"))]
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=upload, follow_redirects=False)
    )

    state = _wait(client, analysis_id)
    assert state["status"] == "failed", state
    assert message in state["error"] and hint in state["hint"], state
    page = client.get(f"/analysis/{analysis_id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert message in text and hint in text
    assert "Traceback" not in text and "unexpected error" not in text


def test_a_windows_1252_export_is_read_and_its_encoding_reported(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    rows = _tickets_rows(small_export)
    subject = rows[0].index("Ticket Subject")
    rows[1][subject] = "Café printer – €20 toner"
    content = _written(rows, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    upload = [("file", ("tickets.csv", content, "text/csv"))]
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=upload, follow_redirects=False)
    )

    state = _wait(client, analysis_id)
    assert state["status"] == "done", state
    report = client.get(f"/api/v1/analyses/{analysis_id}/report").json()
    assert [f["encoding"] for f in report["inputs"]] == ["cp1252"]
    page = client.get(f"/analysis/{analysis_id}")
    assert "<code>tickets.csv</code>: tickets, 40 rows, Syncro ticket CSV, cp1252," in page.text


def test_bad_upload_requests_get_json_errors_from_the_api(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, csrf = dana
    headers = {"X-CSRF-Token": csrf}
    tickets = _files(small_export / "tickets.csv")
    cases = [
        ({"data": {"tz": "Mars/Olympus"}, "files": tickets}, 400, "unknown time zone"),
        ({"data": {"rate": "nan"}, "files": tickets}, 400, "finite number"),
        ({"data": {"currency": "EU\x00R"}, "files": tickets}, 400, "control character"),
        ({"data": {"days": "ninety"}}, 400, "Option days to analyse"),
        ({"data": {"saved": ""}}, 400, "Choose an export file"),
        ({"content": b"tickets", "headers": {"Content-Type": "text/csv"}}, 400, "form upload"),
        (
            {
                "content": b'--b\r\nContent-Disposition: form-data; name="file"; '
                b'filename="t.csv"\r\n\r\nTicket Number,',
                "headers": {"Content-Type": "multipart/form-data; boundary=b"},
            },
            400,
            "arrived incomplete",
        ),
        ({"json": {"export": ""}}, 400, "export"),
        ({"json": {"export": "exports/none"}}, 404, "There is no saved export"),
    ]
    for request, status, message in cases:
        sent = {**request, "headers": {**headers, **request.get("headers", {})}}
        response = client.post("/api/v1/analyses", **sent)
        assert response.status_code == status, (request, response.text)
        body = response.json()
        assert message in body["error"], (request, body)
    assert _count(web_rt) == 0
    assert [p for p in _leftovers(web_rt) if not p.name.startswith(".")] == []


def test_a_file_name_too_long_for_the_disk_is_shortened_and_keeps_its_extension(
    dana: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = dana
    long_name = "€" * 200 + ".csv"
    upload = [("file", (long_name, b"foo,bar\n1,2\n", "text/csv"))]
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=upload, follow_redirects=False)
    )
    (name,) = _wait(client, analysis_id)["files"]
    assert name.endswith("€.csv") and len(name.encode()) <= 200
    kept = web_rt.settings.data_dir / "analyses" / str(analysis_id) / analysis_run.INPUT
    assert [p.name for p in kept.iterdir()] == [name]


def test_users_scoped_to_some_tenants_find_no_analysis_at_all(
    dana: tuple[TestClient, str], web_rt: Runtime, tmp_path: Path
) -> None:
    client, csrf = dana
    export = tmp_path / "tickets.csv"
    export.write_text("foo,bar\n1,2\n", encoding="utf-8")  # fails at once: only its id matters
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=_files(export), follow_redirects=False)
    )
    _wait(client, analysis_id)

    for email in ("lee@msp.example", "riley@msp.example", "vic@msp.example"):
        with TestClient(client.app, base_url="https://127.0.0.1") as other:
            other_csrf = sign_in(other, email)
            listing = other.get("/analysis")
            assert listing.status_code == 404, email
            assert "open only to users who see all tenants" in listing.text
            for path in (
                f"/analysis/{analysis_id}",
                f"/analysis/{analysis_id}/live",
                f"/analysis/{analysis_id}/report.html",
                f"/analysis/{analysis_id}/report.json",
                "/analysis/rows",
                "/api/v1/analyses",
                f"/api/v1/analyses/{analysis_id}",
                f"/api/v1/analyses/{analysis_id}/report",
            ):
                assert other.get(path).status_code == 404, (email, path)
            upload = other.post("/analysis", data={"csrf": other_csrf}, files=_files(export))
            assert upload.status_code == 404, email
            rerun = other.post(f"/analysis/{analysis_id}/rerun", data={"csrf": other_csrf})
            assert rerun.status_code == 404, email
    assert _count(web_rt) == 1


def test_a_viewer_of_all_tenants_reads_analyses_but_cannot_start_one(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, _ = dana
    with web_rt.db.session() as session:
        viewer = User(email="val@msp.example", name="Val", role="viewer", tenants=["*"])
        set_password(viewer, PASSWORD)
        session.add(viewer)
    with TestClient(client.app, base_url="https://127.0.0.1") as other:
        csrf = sign_in(other, "val@msp.example")
        page = other.get("/analysis")
        assert page.status_code == 200
        assert 'action="/analysis"' not in page.text
        assert "starting one needs the approver role" in page.text
        refused = other.post(
            "/analysis", data={"csrf": csrf}, files=_files(small_export / "tickets.csv")
        )
        assert refused.status_code == 403
    assert _count(web_rt) == 0


def test_an_upload_without_the_csrf_token_is_refused_and_nothing_is_kept(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, _ = dana
    for data in ({}, {"csrf": "not-the-token"}):
        response = client.post("/analysis", data=data, files=_files(small_export / "tickets.csv"))
        assert response.status_code == 403
        assert "did not come from deskhand" in response.text
    picked = client.post("/analysis", data={"saved": "example/syncro-synthetic"})
    assert picked.status_code == 403
    assert _count(web_rt) == 0
    assert _leftovers(web_rt) == []
    api = client.post("/api/v1/analyses", files=_files(small_export / "tickets.csv"))
    assert api.status_code == 403 and api.json()["error"]
    assert _count(web_rt) == 0


def test_an_upload_over_the_size_limit_is_refused_with_the_limit_named(
    dana: tuple[TestClient, str],
    web_rt: Runtime,
    small_export: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, csrf = dana
    monkeypatch.setattr(web_rt.settings, "analysis_max_upload_bytes", 4096)
    assert (small_export / "tickets.csv").stat().st_size > 4096
    # Refused while streaming (the body is within the declared-length allowance) …
    response = client.post(
        "/analysis", data={"csrf": csrf}, files=_files(small_export / "tickets.csv")
    )
    assert response.status_code == 413
    assert "larger than the limit of 4 KiB" in response.text
    assert 'name="csrf"' in response.text  # the form is there to try again
    # … and before reading a byte when the declared length is already too large.
    huge = [("file", ("tickets.csv", b"x" * (2 << 20), "text/csv"))]
    response = client.post("/analysis", data={"csrf": csrf}, files=huge)
    assert response.status_code == 413
    api = client.post("/api/v1/analyses", files=huge, headers={"X-CSRF-Token": csrf})
    assert api.status_code == 413 and "larger than the limit" in api.json()["error"]
    assert _count(web_rt) == 0
    assert _leftovers(web_rt) == []


def test_wrong_options_are_named_on_the_form_before_anything_runs(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, csrf = dana
    tickets = _files(small_export / "tickets.csv")
    wrong_zone = client.post("/analysis", data={"csrf": csrf, "tz": "Mars/Olympus"}, files=tickets)
    assert wrong_zone.status_code == 400
    assert "time zone: unknown time zone &#39;Mars/Olympus&#39;" in wrong_zone.text
    assert 'value="Mars/Olympus"' in wrong_zone.text  # the options are kept for the retry
    negative = client.post("/analysis", data={"csrf": csrf, "rate": "-5"}, files=tickets)
    assert negative.status_code == 400
    assert "Option technician cost per hour: Input should be greater than or equal to 0" in (
        negative.text
    )
    bad_map = client.post("/analysis", data={"csrf": csrf, "map": "minutes"}, files=tickets)
    assert (
        bad_map.status_code == 400 and "--map &#39;minutes&#39; is not field=column" in bad_map.text
    )
    nothing = client.post("/analysis", data={"csrf": csrf})
    assert nothing.status_code == 400 and "Choose an export file" in nothing.text
    assert _count(web_rt) == 0
    assert _leftovers(web_rt) == []


def test_a_saved_export_on_the_server_can_be_picked_instead_of_uploaded(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, csrf = dana
    exports = web_rt.settings.data_dir / "exports"
    exports.mkdir()
    small_export.rename(exports / "acme-90-days")
    page = client.get("/analysis")
    assert 'value="exports/acme-90-days"' in page.text
    if EXAMPLE.is_dir():
        assert 'value="example/syncro-synthetic"' in page.text

    analysis_id = _started(
        client.post(
            "/analysis",
            data={"csrf": csrf, "saved": "exports/acme-90-days"},
            follow_redirects=False,
        )
    )
    state = _wait(client, analysis_id)
    assert state["status"] == "done", state
    assert state["saved"] == "acme-90-days"
    assert sorted(state["files"]) == ["labour.csv", "tickets.csv"]
    unknown = client.post("/analysis", data={"csrf": csrf, "saved": "exports/../../etc"})
    assert unknown.status_code == 404 and "There is no saved export" in unknown.text

    headers = {"X-CSRF-Token": csrf}
    listed = client.get("/api/v1/exports").json()
    assert "exports/acme-90-days" in [e["key"] for e in listed]
    missing = client.post("/api/v1/analyses", json={"export": "exports/nope"}, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]
    started = client.post(
        "/api/v1/analyses",
        json={"export": "exports/acme-90-days", "options": {"minutes_from": "elapsed"}},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    state = _wait(client, started.json()["id"])
    assert state["status"] == "done" and state["summary"]["minutes_source"] == "elapsed"


def test_a_run_whose_process_died_shows_interrupted_and_runs_again(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, _ = dana
    with web_rt.db.session() as session:
        user = session.execute(select(User).where(User.email == "dana@msp.example")).scalar_one()
        dead = datetime.now(UTC) - timedelta(minutes=5)
        row = Analysis(
            created_by=user.id,
            filename="tickets.csv, labour.csv",
            folder="",
            options=StoredOptions(
                analyze=AnalysisOptions(),
                files=["labour.csv", "tickets.csv"],
                size=1,
            ).model_dump(mode="json"),
            status="running",
            stage="categorising and ranking the tickets",
            progress=0.5,
            summary={"lease": {"owner": "gone:1:dead", "expires_at": dead.isoformat()}},
            created_at=dead,
        )
        session.add(row)
        session.flush()
        folder = web_rt.settings.data_dir / "analyses" / str(row.id)
        folder.mkdir(parents=True)
        small_export.rename(folder / analysis_run.INPUT)
        row.folder = str(folder)
        analysis_id = row.id

    page = client.get(f"/analysis/{analysis_id}")
    assert "status-analysis-interrupted" in page.text
    assert "The server stopped while this analysis was categorising" in page.text
    assert f'action="/analysis/{analysis_id}/rerun"' in page.text
    assert "hx-trigger" not in page.text.split('id="analysis-live"')[1].split(">")[0]
    assert client.get(f"/api/v1/analyses/{analysis_id}").json()["status"] == "interrupted"

    refused = client.post(f"/analysis/{analysis_id}/rerun", data={})
    assert refused.status_code == 403
    rerun = client.post(
        f"/analysis/{analysis_id}/rerun", data={"csrf": dana[1]}, follow_redirects=False
    )
    assert rerun.status_code == 303
    state = _wait(client, analysis_id)
    assert state["status"] == "done", state
    assert state["error"] is None


def test_a_queued_run_shows_its_progress_and_polls_until_done(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    held = []
    while analysis_run.SLOTS.acquire(blocking=False):  # every slot busy: the run must wait
        held.append(True)
    try:
        analysis_id = _started(
            client.post(
                "/analysis",
                data={"csrf": csrf},
                files=_files(small_export / "tickets.csv"),
                follow_redirects=False,
            )
        )
        live = client.get(f"/analysis/{analysis_id}/live")
        assert "status-analysis-queued" in live.text
        assert f'hx-get="/analysis/{analysis_id}/live" hx-trigger="every 1s"' in live.text
        rows = client.get("/analysis")
        assert 'hx-get="/analysis/rows"' in rows.text
        again = client.post(f"/analysis/{analysis_id}/rerun", data={"csrf": csrf})
        assert again.status_code == 409 and "running already" in again.text
    finally:
        for _ in held:
            analysis_run.SLOTS.release()
    assert _wait(client, analysis_id)["status"] == "done"
    finished = client.get(f"/analysis/{analysis_id}/live")
    assert "hx-trigger" not in finished.text.split(">")[0]
    assert "Headline findings" in finished.text


def test_the_api_round_trip_with_a_token(
    dana: tuple[TestClient, str], web_rt: Runtime, small_export: Path
) -> None:
    client, _ = dana
    with web_rt.db.session() as session:
        tokens = {
            email: create_token(
                session, session.execute(select(User).where(User.email == email)).scalar_one(), "t"
            )
            for email in ("dana@msp.example", "lee@msp.example")
        }
    with TestClient(client.app, base_url="https://127.0.0.1") as api:
        auth = {"Authorization": f"Bearer {tokens['dana@msp.example']}"}
        created = api.post(
            "/api/v1/analyses",
            data={"rate": "80", "currency": "EUR", "dayfirst": "month"},
            files=_files(small_export / "tickets.csv", small_export / "labour.csv"),
            headers=auth,
        )
        assert created.status_code == 202, created.text
        body = created.json()
        assert created.headers["location"] == f"/api/v1/analyses/{body['id']}"
        assert body["options"]["rate"] == 80 and body["options"]["dayfirst"] is False
        assert body["created_by"] == "dana@msp.example"

        deadline = time.monotonic() + 180
        while (state := api.get(f"/api/v1/analyses/{body['id']}", headers=auth).json())[
            "status"
        ] not in FINISHED:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["status"] == "done", state
        report = api.get(f"/api/v1/analyses/{body['id']}/report", headers=auth).json()
        assert report["categories"][0]["category"] == state["summary"]["top"][0]["category"]
        assert report["totals"]["tickets"] == SMALL_TICKETS
        listed = api.get("/api/v1/analyses", headers=auth).json()
        assert [a["id"] for a in listed] == [body["id"]]

        lee = {"Authorization": f"Bearer {tokens['lee@msp.example']}"}
        for path in ("/api/v1/analyses", f"/api/v1/analyses/{body['id']}"):
            missing = api.get(path, headers=lee)
            assert missing.status_code == 404 and missing.json()["error"]
        refused = api.post(
            "/api/v1/analyses", files=_files(small_export / "tickets.csv"), headers=lee
        )
        assert refused.status_code == 404


def test_two_uploads_with_one_file_name_are_both_kept(
    dana: tuple[TestClient, str], web_rt: Runtime
) -> None:
    client, csrf = dana
    same = [
        ("file", ("tickets.csv", b"foo,bar\n1,2\n", "text/csv")),
        ("file", ("../tickets.csv", b"foo,bar\n3,4\n", "text/csv")),
    ]
    analysis_id = _started(
        client.post("/analysis", data={"csrf": csrf}, files=same, follow_redirects=False)
    )
    state = _wait(client, analysis_id)
    assert state["files"] == ["tickets.csv", "tickets-2.csv"]
    kept = web_rt.settings.data_dir / "analyses" / str(analysis_id) / analysis_run.INPUT
    assert sorted(p.name for p in kept.iterdir()) == ["tickets-2.csv", "tickets.csv"]
    assert (kept / "tickets-2.csv").read_bytes() == b"foo,bar\n3,4\n"


def test_an_analysis_runs_and_reruns_on_postgresql(pg_web_rt: Runtime, small_export: Path) -> None:
    with TestClient(create_app(pg_web_rt), base_url="https://127.0.0.1") as client:
        csrf = sign_in(client, "sam@msp.example")
        analysis_id = _started(
            client.post(
                "/analysis",
                data={"csrf": csrf, "rate": "70", "currency": "EUR"},
                files=_files(small_export / "tickets.csv", small_export / "labour.csv"),
                follow_redirects=False,
            )
        )
        first = _wait(client, analysis_id)
        assert first["status"] == "done", first
        assert first["created_by"] == "sam@msp.example"
        page = client.get(f"/analysis/{analysis_id}")
        assert first["summary"]["top"][0]["category"] in page.text
        assert "70 EUR an hour" in page.text

        rerun = client.post(
            f"/analysis/{analysis_id}/rerun", data={"csrf": csrf}, follow_redirects=False
        )
        assert rerun.status_code == 303
        again = _wait(client, analysis_id)
        assert again["status"] == "done"
        assert again["summary"] == first["summary"]


def _analysed(
    client: TestClient, csrf: str, folder: Path, **options: str
) -> tuple[dict[str, Any], str]:
    """Upload the export in ``folder`` with ``options``, wait for it: its JSON report and its
    page, unescaped."""
    analysis_id = _started(
        client.post(
            "/analysis",
            data={"csrf": csrf, **options},
            files=_files(*sorted(folder.glob("*.csv"))),
            follow_redirects=False,
        )
    )
    state = _wait(client, analysis_id)
    assert state["status"] == "done", state
    report: dict[str, Any] = client.get(f"/analysis/{analysis_id}/report.json").json()
    return report, html.unescape(client.get(f"/analysis/{analysis_id}").text)


def _ranking_row(page: str, category: str) -> str:
    """The row header of ``category`` in the page's ranking table."""
    match = re.search(rf'<th scope="row">{re.escape(category)}(<.*?)</th>', page)
    assert match, f"no ranking row for {category!r}"
    return match.group(1)


def test_by_default_the_page_shows_the_psas_own_categories_with_the_taxonomys_name_beneath(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    report, page = _analysed(client, csrf, small_export)

    assert not report["categorization"]["recategorized"]
    caption = page.split('<p id="ranking-note" class="small muted">')[1].split("</p>")[0]
    assert "The categories are the PSA's own, untouched" in caption
    assert "“Merge the PSA's categories into deskhand's taxonomy” ticked" in caption
    renamed = [
        row
        for row in report["categories"]
        if row["taxonomy_category"]
        and label_key(row["taxonomy_category"]) != label_key(row["category"])
    ]
    # "User Offboarding" is the taxonomy's "User offboarding": nothing to show beneath it.
    same = [
        row
        for row in report["categories"]
        if row["taxonomy_category"]
        and row["taxonomy_category"] != row["category"]
        and label_key(row["taxonomy_category"]) == label_key(row["category"])
    ]
    assert renamed and same, "the small export has categories of both kinds"
    for row in renamed:
        assert f"taxonomy: {row['taxonomy_category']}</small>" in _ranking_row(
            page, row["category"]
        )
    assert "taxonomy:" not in _ranking_row(page, same[0]["category"])
    assert "What was merged into what" not in page


def test_a_recategorised_run_says_so_and_shows_what_was_merged_into_what(
    dana: tuple[TestClient, str],
) -> None:
    client, csrf = dana
    report, page = _analysed(client, csrf, EXAMPLE, recategorize="true")

    merged = report["categorization"]["merged"]
    assert report["categorization"]["recategorized"] and len(merged) > 20
    caption = page.split('<p id="ranking-note" class="small muted">')[1].split("</p>")[0]
    assert "The categories are deskhand's taxonomy: the PSA's were merged into it" in caption
    assert "left unticked under Options" in caption
    section = page.split('<h2 id="merged">What was merged into what</h2>')[1].split("<h2")[0]
    shown = re.findall(
        r'<tr><td>([^<]*)</td><td>([^<]*)</td><td class="num">([\d,]+)</td></tr>', section
    )
    assert shown == [
        (m["psa_category"] or "(no category)", m["category"], f"{m['tickets']:,}")
        for m in merged[:20]
    ]
    assert f"{len(merged) - 20} more, smaller, in the" in section


def test_the_page_says_which_column_and_unit_the_minutes_were_read_in(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    logged = analyze(AnalyzeOptions(paths=sorted(small_export.glob("*.csv"))))
    labour = small_export / "labour.csv"
    with labour.open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    column = rows[0].index("Duration Minutes")
    rows[0][column] = "Handle Time"
    for row in rows[1:]:
        row[column] = str(int(row[column]) * 60)
    labour.write_bytes(_written(rows))
    mapping = "seconds=Handle Time\nticket_id=Ticket Number"
    report, page = _analysed(client, csrf, small_export, map=mapping)

    assert report["totals"]["minutes_source"] == "logged"
    assert report["totals"]["minutes"] == logged.totals.minutes
    minutes = page.split('<h2 id="findings">')[0]
    assert (
        "Minutes are technician time logged against each ticket (time entries). Time was read "
        "from labour.csv: column 'Handle Time' read as seconds, converted to minutes.</p>"
    ) in minutes


def test_tickets_closed_with_no_logged_time_are_counted_explained_and_named_per_category(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    report, page = _analysed(client, csrf, small_export)

    zero = report["zero_minute_tickets"]
    assert zero["count"] > 0, "the small export has tickets closed with no logged time"
    assert f"<strong>{zero['count']:,}</strong> closed with no logged time" in page
    caption = page.split('<p id="ranking-note" class="small muted">')[1].split("</p>")[0]
    assert (
        'The median and P90 leave out <a href="#zero-minute">tickets closed with no logged '
        "time</a>."
    ) in caption
    for row in report["categories"]:
        words = f"· {row['zero_minute_tickets']:,} closed with no logged time"
        assert (words in _ranking_row(page, row["category"])) == (row["zero_minute_tickets"] > 0)
    section = page.split('<h3 id="zero-minute">Tickets closed with no logged time</h3>')[1]
    assert f"{zero['count']:,} tickets were resolved or closed with no time logged" in section
    assert "billed through line items instead of timers" in section
    assert ", ".join(zero["ticket_ids"]) in section


def test_the_categories_csv_has_the_taxonomy_category_and_the_tickets_closed_with_no_time(
    dana: tuple[TestClient, str], small_export: Path
) -> None:
    client, csrf = dana
    analysis_id = _started(
        client.post(
            "/analysis",
            data={"csrf": csrf},
            files=_files(small_export / "tickets.csv", small_export / "labour.csv"),
            follow_redirects=False,
        )
    )
    assert _wait(client, analysis_id)["status"] == "done"
    report = client.get(f"/analysis/{analysis_id}/report.json").json()
    table = client.get(f"/analysis/{analysis_id}/categories.csv").text
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [
        (row["category"], row["taxonomy_category"], int(row["zero_minute_tickets"])) for row in rows
    ] == [
        (c["category"], c["taxonomy_category"] or "", c["zero_minute_tickets"])
        for c in report["categories"]
    ]
    assert any(int(row["zero_minute_tickets"]) for row in rows)
