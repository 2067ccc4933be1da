"""Hostile export files through ``deskhand analyze`` and ``deskhand intake import``: each ends in
exit 2 with a message naming the file and what to do, or in exit 0 with every row it could not
use counted with its place — never a traceback, never a hang. The files come from
tests/history/hostile_files.py: the named cases, and hypothesis's random, re-encoded and
mangled exports. The web app's analysis reads through the same code and says the same.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.history import sources
from deskhand.store.models import Ticket
from deskhand.web.app import create_app
from tests.history.hostile_files import (
    NAMED,
    ROWS,
    Hostile,
    export_text,
    json_pages,
    mangled_exports,
    random_files,
    reencoded_exports,
    with_cell,
)
from tests.web.conftest import add_users, sign_in

TENANT = "contoso-dental"
SECONDS = 60.0  # for one case through both commands; far more than any takes
FLEXIBLE = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Hung(Exception):  # noqa: N818 - what the test saw
    pass


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail, instead of hanging, when the block runs longer than ``seconds``: SIGALRM stops
    Python code; a block stuck in native code is ended by faulthandler, which prints every
    thread's stack and ends the test run."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 3, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def intake_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str]]:
    """A SQLite database with the demo tenants, and the environment that opens it."""
    folder = tmp_path_factory.mktemp("intake")
    url = f"sqlite:///{folder / 'deskhand.db'}"
    rt = Runtime.from_settings(Settings(data_dir=folder, database_url=url))
    seed(rt, tickets=False)
    rt.close()
    return url, {"DESKHAND_DATA_DIR": str(folder)}


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    # Wide enough that no message is wrapped in the middle of a long temporary path.
    result = CliRunner().invoke(app, args, env={"COLUMNS": "400", **(env or {})})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{' '.join(args)} raised {result.exception!r}"
    )
    assert "Traceback" not in result.output
    return result


def analyse(path: Path, *options: str) -> Result:
    return invoke(["analyze", "--json", str(path), *options])


def import_dry(path: Path, intake_db: tuple[str, dict[str, str]]) -> Result:
    url, env = intake_db
    args = ["--db", url, "intake", "import", "--tenant", TENANT, "--dry-run", "--json", str(path)]
    return invoke(args, env)


def said(text: str) -> str:
    """Text with the terminal's line wrapping undone."""
    return " ".join(text.split())


def assert_refused(result: Result, words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error:"), result.stderr
    assert words in said(result.stderr), result.stderr


def skipped_by_reason(report: dict[str, Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for row in report["skipped"]:
        grouped.setdefault(row["reason"], []).append(row["where"])
    return grouped


def assert_every_row_accounted_for(report: dict[str, Any]) -> None:
    """Each row of each file was imported, skipped or quarantined with its reason: none
    vanished."""
    rows = sum(file["rows"] for file in report["files"])
    kept_aside = len(report["skipped"]) + len(report["quarantined"])
    assert len(report["stored"]) + kept_aside == rows, report


def check(case: Hostile, path: Path, intake_db: tuple[str, dict[str, str]]) -> None:
    """Both commands answer ``case``'s file as the case says."""
    outcome = case.outcome
    with within(SECONDS):
        analysed, imported = analyse(path), import_dry(path, intake_db)
    if outcome.refused is not None:
        assert_refused(analysed, outcome.refused)
        assert_refused(imported, outcome.refused)
        return
    assert analysed.exit_code == 0, analysed.output
    document = json.loads(analysed.stdout)
    assert document["totals"]["tickets"] == outcome.analysed
    assert document["data_quality"].items() >= outcome.quality.items(), document["data_quality"]
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert len(report["stored"]) == outcome.imported, report
    grouped = skipped_by_reason(report)
    for reason, places in outcome.skipped.items():
        assert grouped.get(reason) == places, report["skipped"]
    assert_every_row_accounted_for(report)


@pytest.mark.parametrize("case", [c for c in NAMED if c.in_process], ids=str)
def test_a_hostile_file_is_refused_with_a_message_or_read_with_its_bad_rows_counted(
    case: Hostile,
    tmp_path: Path,
    intake_db: tuple[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in case.limits.items():
        monkeypatch.setattr(sources.LIMITS, name, value)
    check(case, case.make(tmp_path), intake_db)


# Runs the CLI on each path given, both commands, one JSON line per run: in a child process,
# so that a read that blocks forever (a pipe, a device) is ended by the parent's timeout.
DRIVER = """
import json, sys
from typer.testing import CliRunner
from deskhand.cli import app
db, tenant, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
for path in paths:
    for args in (
        ["analyze", "--json", path],
        ["--db", db, "intake", "import", "--tenant", tenant, "--dry-run", "--json", path],
    ):
        result = CliRunner().invoke(app, args)
        print(json.dumps({
            "path": path, "command": args[0 if args[0] == "analyze" else 2],
            "exit": result.exit_code, "stderr": result.stderr,
            "exception": None if isinstance(result.exception, (SystemExit, type(None)))
            else repr(result.exception),
        }), flush=True)
"""


def test_pipes_and_devices_are_refused_before_anything_waits_on_them(
    tmp_path: Path, intake_db: tuple[str, dict[str, str]]
) -> None:
    cases: dict[str, Hostile] = {}
    for case in (c for c in NAMED if not c.in_process):
        cases[str(case.make(_folder(tmp_path, case)))] = case
    url, env = intake_db
    try:
        finished = subprocess.run(
            [sys.executable, "-c", DRIVER, url, TENANT, *cases],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, **_python_path(), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        done = expired.stdout.decode() if isinstance(expired.stdout, bytes) else expired.stdout
        pytest.fail(f"hung: only these runs finished within 120 s:\n{done or ''}")
    runs = [json.loads(line) for line in finished.stdout.splitlines()]
    assert len(runs) == 2 * len(cases), finished.stderr
    for run in runs:
        case = cases[run["path"]]
        assert run["exception"] is None, run
        assert run["exit"] == 2, run
        assert case.outcome.refused is not None
        assert case.outcome.refused in said(run["stderr"]), run
        assert "Traceback" not in run["stderr"]


def _python_path() -> dict[str, str]:
    """The test run's PYTHONPATH, so that the child imports the deskhand this run tests."""
    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


def _folder(tmp_path: Path, case: Hostile) -> Path:
    """A folder of the case's own, so that cases made together do not meet."""
    folder = tmp_path / case.name
    folder.mkdir()
    return folder


def test_days_beyond_ten_years_is_refused_by_the_option_itself(tmp_path: Path) -> None:
    path = tmp_path / "tickets.csv"
    path.write_text(export_text())
    result = analyse(path, "--days", "99999999999")
    assert result.exit_code == 2
    assert "Invalid value for '--days'" in said(result.stderr)
    assert "less than or equal to 3660" in said(result.stderr)
    assert analyse(path, "--days", "3660").exit_code == 0


@settings(FLEXIBLE, max_examples=15)
@given(file=random_files())
def test_random_bytes_are_refused_or_read_never_a_traceback(
    tmp_path: Path, intake_db: tuple[str, dict[str, str]], file: tuple[str, bytes]
) -> None:
    path = _written(tmp_path, file)
    with within(SECONDS):
        for result in (analyse(path), import_dry(path, intake_db)):
            assert result.exit_code in (0, 2), result.output
            if result.exit_code == 2:
                assert result.stderr.startswith("error:"), result.stderr


@settings(FLEXIBLE, max_examples=15)
@given(file=reencoded_exports())
def test_a_good_export_in_any_encoding_delimiter_and_line_ending_is_read_whole(
    tmp_path: Path, intake_db: tuple[str, dict[str, str]], file: tuple[str, bytes]
) -> None:
    path = _written(tmp_path, file)
    with within(SECONDS):
        analysed, imported = analyse(path), import_dry(path, intake_db)
    assert analysed.exit_code == 0, analysed.output
    assert json.loads(analysed.stdout)["totals"]["tickets"] == len(ROWS)
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert len(report["stored"]) == len(ROWS), report


@settings(FLEXIBLE, max_examples=25)
@given(file=mangled_exports())
def test_a_mangled_export_is_refused_or_read_with_every_row_accounted_for(
    tmp_path: Path, intake_db: tuple[str, dict[str, str]], file: tuple[str, bytes]
) -> None:
    path = _written(tmp_path, file)
    with within(SECONDS):
        analysed, imported = analyse(path), import_dry(path, intake_db)
    for result in (analysed, imported):
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert result.stderr.startswith("error:"), result.stderr
    if imported.exit_code == 0:
        assert_every_row_accounted_for(json.loads(imported.stdout))


@settings(FLEXIBLE, max_examples=25)
@given(file=json_pages())
def test_any_json_page_is_refused_or_read_with_every_row_accounted_for(
    tmp_path: Path, intake_db: tuple[str, dict[str, str]], file: tuple[str, bytes]
) -> None:
    path = _written(tmp_path, file)
    with within(SECONDS):
        analysed, imported = analyse(path), import_dry(path, intake_db)
    for result in (analysed, imported):
        assert result.exit_code in (0, 2), result.output
        if result.exit_code == 2:
            assert result.stderr.startswith("error:"), result.stderr
    if imported.exit_code == 0:
        assert_every_row_accounted_for(json.loads(imported.stdout))


def _written(folder: Path, file: tuple[str, bytes]) -> Path:
    name, content = file
    path = folder / name
    path.write_bytes(content)
    return path


def test_a_nul_in_a_cell_is_removed_and_the_ticket_stored(
    database_url: str, tmp_path: Path
) -> None:
    rt = Runtime.from_settings(Settings(data_dir=tmp_path, database_url=database_url))
    try:
        seed(rt, tickets=False)
        path = tmp_path / "tickets.csv"
        path.write_text(export_text(with_cell(0, 1, "Forgot\x00my\x00 password")))
        result = invoke(
            ["--db", database_url, "intake", "import", "--tenant", TENANT, "--json", str(path)],
            {"DESKHAND_DATA_DIR": str(tmp_path)},
        )
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.stdout)["stored"]) == len(ROWS)
        with rt.db.reading() as session:
            subject = session.scalar(
                select(Ticket.subject).where(Ticket.psa_ticket_id == "connectwise:24001")
            )
        assert subject == "Forgotmy password"
    finally:
        rt.close()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """The web app on the demo tenants, with the demo approver signed in: (client, csrf)."""
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'deskhand.db'}",
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt, tickets=False)
    add_users(rt)
    try:
        with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
            yield client, sign_in(client, "dana@msp.example")
    finally:
        rt.close()


WEB_CASES = [
    "json_nested_deep_lists",
    "gzip_damaged_body",
    "columns_100000",
    "cr_only_line_endings",
]


def test_the_web_analysis_reads_hostile_uploads_through_the_same_code_and_says_the_same(
    web: tuple[TestClient, str], tmp_path: Path
) -> None:
    client, csrf = web
    for case in (c for c in NAMED if c.name in WEB_CASES):
        path = case.make(_folder(tmp_path, case))
        upload = [("file", (path.name, path.read_bytes(), "application/octet-stream"))]
        response = client.post(
            "/analysis", data={"csrf": csrf}, files=upload, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        analysis_id = int(response.headers["location"].rsplit("/", 1)[1])
        state = _finished(client, analysis_id)
        if case.outcome.refused is None:
            assert state["status"] == "done", state
            continue
        assert state["status"] == "failed", state
        assert case.outcome.refused in said(state["error"]), state
        assert "unexpected error" not in state["error"]
        page = client.get(f"/analysis/{analysis_id}")
        assert page.status_code == 200
        assert "Traceback" not in page.text


def _finished(client: TestClient, analysis_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        state: dict[str, Any] = client.get(f"/api/v1/analyses/{analysis_id}").json()
        if state["status"] in ("done", "failed", "interrupted"):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
