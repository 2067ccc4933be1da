"""deskhand in a real browser: `deskhand demo` seeded into a folder, `deskhand serve` (with its
worker) running as a newcomer runs it, and Debian's Chromium driven by Playwright.

Chromium comes from the machine (`bash scripts/browser.sh` installs it); Playwright's own
browser download is never used. Every page a test opens is watched for JavaScript errors and
Content-Security-Policy violations, and a test fails on any. Screenshots go to
``artifacts/screenshots/<test>-<step>.png`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("DESKHAND_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
APPROVER = "dana@msp.example"
OTHER_TECH = "nora@msp.example"  # a tech of northwind-law; every demo ticket is contoso-dental's
OTHER_PASSWORD = "northwind only, please"


@dataclass
class Desk:
    """One deskhand installation: its data folder, its command line, its running server."""

    folder: Path
    url: str = ""
    approver_password: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "deskhand", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert result.returncode == 0 and "Traceback" not in result.stderr, (
            f"deskhand {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        )
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def pending_draft(self, ticket_id: int, action: str) -> int:
        """The id of the pending draft of ``action`` on ``ticket_id``."""
        for draft in self.json("approvals", "list"):
            if draft["ticket_id"] == ticket_id and draft["action"] == action:
                return int(draft["id"])
        raise AssertionError(f"no pending {action} draft on ticket {ticket_id}")

    def wait_for_drafts(self, ticket_id: int, timeout: float = 60.0) -> None:
        """Until the embedded worker has planned ``ticket_id`` and its drafts wait."""
        deadline = time.monotonic() + timeout
        while not any(d["ticket_id"] == ticket_id for d in self.json("approvals", "list")):
            assert time.monotonic() < deadline, f"no drafts for ticket {ticket_id} in {timeout} s"
            time.sleep(0.3)

    def ticket_id(self, subject: str) -> int:
        return next(int(t["id"]) for t in self.json("tickets", "list") if t["subject"] == subject)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_desk(folder: Path, **env: str) -> Desk:
    """`deskhand demo` seeded into ``folder`` (not served yet); ``env`` adds to or overrides the
    environment every command and the server run with."""
    desk = Desk(
        folder,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(Path.home()),
            "DESKHAND_DATA_DIR": str(folder),
            "DESKHAND_POLL_SECONDS": "0.2",
            "COLUMNS": "160",
            **env,
        },
    )
    desk.approver_password = desk.json("demo", "--no-serve")["password"]
    return desk


@contextmanager
def serving(desk: Desk, *, settle: float = 60.0, public_url: bool = False) -> Iterator[Desk]:
    """`deskhand serve` (with its worker) on a free port until the block ends, once its worker
    has taken every ticket waiting; ``public_url`` tells it its own address (for links in
    notifications). Fails on a traceback in what it printed."""
    port = _free_port()
    desk.url = f"http://127.0.0.1:{port}"
    if public_url:
        desk.env["DESKHAND_PUBLIC_URL"] = desk.url
    log = desk.folder / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "deskhand", "serve", "--port", str(port)],
            env=desk.env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    try:
        _wait_until_serving(desk.url, server, log)
        _wait_until(lambda: all(t["status"] != "new" for t in desk.json("tickets", "list")), settle)
        yield desk
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    printed = log.read_text()
    assert "Traceback" not in printed, printed
    assert f"deskhand is serving at {desk.url}" in printed, printed


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """`deskhand demo` seeded, a tech of the other tenant added, `deskhand serve` running."""
    desk = demo_desk(tmp_path_factory.mktemp("desk"))
    desk.run(
        "users", "add", OTHER_TECH, "--role", "tech", "--tenants", "northwind-law",
        "--name", "Nora Tech", "--password", OTHER_PASSWORD,
    )  # fmt: skip
    with serving(desk):
        yield desk


def _wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the embedded worker did not dispatch the demo tickets"
        time.sleep(0.2)


def _wait_until_serving(url: str, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"deskhand serve exited:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"deskhand serve did not answer at {url} within 60 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: run `bash scripts/browser.sh` "
            "(installs Debian's chromium), or set DESKHAND_CHROMIUM to a Chromium executable.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Console:
    """What the pages of one test said on the console: JavaScript errors, CSP violations."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()

    def expect_status(self, status: int) -> None:
        """A page this test opens answers ``status`` on purpose (the browser logs that)."""
        self.expected_statuses.add(status)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = re.match(
            r"(?:Failed to load resource: .* status of|Response Status Error Code) (\d+)",
            message.text,
        )
        if failed and int(failed.group(1)) in self.expected_statuses:
            return
        self.problems.append(f"{message.text} (at {message.location.get('url', '?')})")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"JavaScript error: {error}")


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, desk: Desk, console: Console) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the server; fails the test on console errors."""
    context = browser.new_context(base_url=desk.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    yield page
    context.close()
    assert not console.problems, "the browser console reported:\n" + "\n".join(console.problems)


Shoot = Callable[[str], Path]


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Shoot:
    """``shoot("queue")`` saves a full-page screenshot as ``<test>-queue.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = request.node.name.removeprefix("test_")

    def take(step: str) -> Path:
        path = SCREENSHOTS / f"{test}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the login form; lands on the approvals queue."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/queue")


@pytest.fixture
def approver(page: Page, desk: Desk) -> Page:
    """The page, signed in as the demo approver with the password `deskhand demo` printed."""
    sign_in(page, APPROVER, desk.approver_password)
    return page
