"""Sending, off the worker's thread: a bounded queue and one background thread that hands
each message to apprise, target by target, and tries again with a growing wait.

The worker only puts messages on the queue (never waiting: a full queue gives the message up,
counted and logged; so does stopping with messages still queued). Each attempt is bounded by
apprise's own connect and read timeouts (``cto``/``rto`` in a URL change them). A target that
still fails after ``attempts`` tries is given up with its reason; both outcomes are events in
the one log and counted in ``counts``.
A URL, its token and its password never reach a log line or an event: apprise's own log is
kept at warnings, and every message of it passes the connectors' redaction with the URL's
secret parts known.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

from deskhand.audit import log as event_log
from deskhand.connectors.redaction import MIN_LENGTH, Redactor
from deskhand.connectors.secrets import SecretError
from deskhand.domain import events as ev
from deskhand.domain.notifications import shown_target
from deskhand.notifications.messages import Notice
from deskhand.notifications.targets import Target
from deskhand.store.db import Database

log = logging.getLogger("deskhand.notifications")
logging.getLogger("apprise").setLevel(logging.WARNING)  # its debug lines print whole URLs

CAPACITY = 200  # messages waiting to be sent at most; more are given up, counted


@dataclass(frozen=True)
class Sent:
    """How one target took one message: ``reason`` is None when it was accepted."""

    target: str  # shown form
    attempts: int
    reason: str | None


def send(notice: Notice, target: Target, environ: Mapping[str, str], key: str | None) -> str | None:
    """Send ``notice`` to ``target`` once; None when accepted, else why not (without secrets)."""
    try:
        url = target.url(environ, key)
    except SecretError as error:
        return error.message
    redact = _redactor(url)
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"apprise does not understand the URL of {target.shown} (check its scheme)"
    with apprise.LogCapture(level=logging.WARNING) as said:  # type: ignore[no-untyped-call]
        accepted = sender.notify(
            title=notice.title, body=notice.body, body_format=apprise.NotifyFormat.TEXT
        )
    if accepted:
        return None
    lines = [line for line in said.getvalue().splitlines() if line.strip()]
    return redact(lines[-1])[:300] if lines else "the receiver did not take the message"


def problem(target: Target, environ: Mapping[str, str], key: str | None) -> str | None:
    """What keeps ``target`` from being used, without sending anything; None when apprise
    takes its URL."""
    try:
        url = target.url(environ, key)
    except SecretError as error:
        return error.message
    if not apprise.Apprise().add(url):
        return f"apprise does not understand the URL of {target.shown} (check its scheme)"
    return None


def _redactor(url: str) -> Redactor:
    """Knows the parts of an apprise URL that may be secrets: the whole, its password, and
    its host, path segments and query values, which are a webhook's tokens and signature."""
    redact = Redactor()
    redact.add(url, "notification URL")
    parts = urlsplit(url)
    if parts.password:
        redact.add(unquote(parts.password), "notification password")
    host = parts.hostname or ""
    hidden_host = host if host not in shown_target(url) else ""
    query = [value for _, value in parse_qsl(parts.query)]
    for segment in [hidden_host, *parts.path.split("/"), *query]:
        if len(segment) >= MIN_LENGTH:
            redact.add(unquote(segment), "notification token")
    return redact


@dataclass(frozen=True)
class _Job:
    notice_id: str
    notice: Notice
    target: Target


class Delivery:
    """The queue and the thread that empties it. ``hand`` never waits."""

    def __init__(
        self,
        db: Database,
        *,
        environ: Mapping[str, str],
        key: str | None,
        attempts: int = 4,
        backoff: float = 2.0,
        capacity: int = CAPACITY,
    ) -> None:
        self.db = db
        self.environ = environ
        self.key = key
        self.attempts = attempts
        self.backoff = backoff  # seconds before the second attempt; doubled for each next one
        self.counts: Counter[str] = Counter()  # delivered, retried, given_up
        self._jobs: queue.Queue[_Job] = queue.Queue(capacity)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def hand(self, notice_id: str, notice: Notice, targets: list[Target]) -> None:
        """Queue ``notice`` for each target and return at once."""
        self._start()
        for target in targets:
            try:
                self._jobs.put_nowait(_Job(notice_id, notice, target))
            except queue.Full:
                self._given_up(_Job(notice_id, notice, target), 0, "the sending queue is full")

    def idle(self) -> bool:
        """Nothing queued and nothing being sent."""
        return self._jobs.unfinished_tasks == 0

    def join(self) -> None:
        """Wait until every queued message was delivered or given up (tests, ``--once``)."""
        self._jobs.join()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread: what is still queued after ``timeout`` seconds is not sent, and is
        recorded as given up with that reason (never dropped without a word)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            self._given_up(job, 0, "deskhand stopped before it was sent")
            self._jobs.task_done()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="deskhand-notifications", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._deliver(job)
            except Exception:  # one bad message must not stop the others
                log.exception("notification %s: unexpected error", job.notice_id)
            finally:
                self._jobs.task_done()

    def _deliver(self, job: _Job) -> None:
        reason: str | None = None
        for attempt in range(1, self.attempts + 1):
            reason = send(job.notice, job.target, self.environ, self.key)
            if reason is None:
                self._delivered(job, attempt)
                return
            if attempt < self.attempts:
                self.counts["retried"] += 1
                log.info(
                    "notification %s to %s failed (attempt %d): %s; trying again",
                    job.notice_id,
                    job.target.shown,
                    attempt,
                    reason,
                )
                if self._stop.wait(self.backoff * 2 ** (attempt - 1)):
                    reason = f"deskhand stopped before attempt {attempt + 1} ({reason})"
                    self._given_up(job, attempt, reason)
                    return
        self._given_up(job, self.attempts, reason or "")

    def _delivered(self, job: _Job, attempts: int) -> None:
        self.counts["delivered"] += 1
        self._record(
            job, ev.NoticeDelivered(job.notice_id, job.notice.kind, job.target.shown, attempts)
        )

    def _given_up(self, job: _Job, attempts: int, reason: str) -> None:
        self.counts["given_up"] += 1
        log.warning(
            "notification %s (%s) to %s given up after %d attempt(s): %s",
            job.notice_id,
            job.notice.kind,
            job.target.shown,
            attempts,
            reason,
        )
        self._record(
            job,
            ev.NoticeGivenUp(job.notice_id, job.notice.kind, job.target.shown, attempts, reason),
        )

    def _record(self, job: _Job, event: ev.Event) -> None:
        try:
            with self.db.session() as session:
                event_log.append(session, event, tenant_id=job.notice.tenant_id)
        except Exception:  # the message's fate is logged; the log must not stop sending
            log.exception("notification %s: its outcome was not recorded", job.notice_id)
