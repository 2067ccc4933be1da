"""A local webhook receiver over real HTTP, the demo desk with its sample tickets worked on,
and a notifier that sends to the receiver with short waits between attempts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.notifications.delivery import Delivery
from deskhand.notifications.notifier import Notifier

PUBLIC_URL = "https://desk.msp.example"


@dataclass
class Receiver:
    """A webhook that records every POST (path and JSON document). ``status`` is what it
    answers; while ``hold`` is clear it keeps each request waiting (a slow receiver)."""

    port: int
    status: int = 200
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook/T0ken-Only-In-Tests-7f3a9c") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def messages(self) -> list[dict[str, Any]]:
        return [document for _, document in self.posts]


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 until the block ends."""
    state = Receiver(0)
    state.hold.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            document = json.loads(self.rfile.read(length))
            state.posts.append((self.path, document))
            state.arrived.set()
            state.hold.wait(30)
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.hold.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def make_runtime(tmp_path: Path, database_url: str) -> Runtime:
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
            public_url=PUBLIC_URL,
        )
    )
    seed(rt)
    Worker(rt, "test-worker").run_once()  # the sample tickets: drafts and an escalation
    return rt


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    """The demo desk on SQLite, its five sample tickets worked on."""
    runtime = make_runtime(tmp_path, f"sqlite:///{tmp_path / 'deskhand.db'}")
    yield runtime
    runtime.close()


def notifier(
    rt: Runtime,
    urls: str,
    *,
    attempts: int = 3,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> Notifier:
    """A notifier of ``rt`` sending to ``urls`` (DESKHAND_NOTIFY_URLS), waiting only
    hundredths of a second between attempts."""
    configured = rt.settings.model_copy(update={"notify_urls": urls, **settings})
    delivery = Delivery(rt.db, environ=environ or {}, key=None, attempts=attempts, backoff=0.01)
    return Notifier(rt.db, configured, delivery=delivery)
