"""Benchmark: the web app's server time with 10,000 pending drafts and 1,000,000 events in
PostgreSQL — the approval queue (drafts and plans), the ticket page, the poller, the API and
approving. Prints figures; asserts nothing.

    python bench/web.py [--drafts 10000] [--events 1000000] [--templates 300] [--samples 200]
                        [--warmup 10] [--no-verify-chain] [--keep]

Server time is measured in-process: the real app (``create_app``) behind Starlette's
TestClient, timed by a wrapper around the ASGI app from the request entering the app to the
last byte of its response (routing, sign-in check, database, rendering; no network, no
client). A worker does not run: approving must only record the decision.

The data is SYNTHETIC, built from the demo tenants (see ``bench/web_data.py``): template
tickets through the real engine, then cloned in bulk with a valid hash chain.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.support import POSTGRES, postgres_database  # noqa: E402

import web_data  # noqa: E402
from deskhand.accounts import create_token, set_password  # noqa: E402
from deskhand.audit.chain import verify  # noqa: E402
from deskhand.config import Settings  # noqa: E402
from deskhand.demo import seed  # noqa: E402
from deskhand.engine.runtime import Runtime  # noqa: E402
from deskhand.store.db import normalise_url  # noqa: E402
from deskhand.store.models import Approval, EventRecord, Step, Ticket, User  # noqa: E402
from deskhand.web.app import create_app  # noqa: E402
from deskhand.web.server import settle_heap  # noqa: E402

PASSWORD = "bench web password"
APPROVER = "dana@msp.example"  # approver of every tenant
TECH = "lee@msp.example"  # tech, contoso-dental only
PAGE_TARGET_MS = 150.0
APPROVE_TARGET_MS = 100.0


@contextmanager
def database(keep: bool) -> Iterator[str]:
    """A throwaway PostgreSQL database; with ``keep``, left in place and named."""
    if not keep:
        with postgres_database("deskhand_bench_web") as url:
            yield url
        return
    name = f"deskhand_bench_web_{uuid.uuid4().hex[:10]}"
    server = create_engine(normalise_url(POSTGRES), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    yield normalise_url(str(make_url(POSTGRES).set(database=name).render_as_string(False)))


class ServerTimer:
    """ASGI wrapper: the time from a request entering the app to its response's last byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_ms = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.last_ms = (time.perf_counter() - started) * 1000

        await self.app(scope, receive, timed)


@dataclass
class Result:
    name: str
    who: str
    samples: list[float]
    target: float | None

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[p - 1]

    def line(self) -> str:
        median, p95, p99 = (self.percentile(p) for p in (50, 95, 99))
        if self.target is None:
            verdict = "—"
        else:
            verdict = f"<{self.target:.0f} {'met' if p95 < self.target else 'NOT met'}"
        return (
            f"{self.name:<36} {self.who:<9} {len(self.samples):>5} {median:>9.1f} {p95:>8.1f} "
            f"{p99:>8.1f} {max(self.samples):>8.1f}  {verdict}"
        )


HEADER = (
    f"{'request':<36} {'as':<9} {'n':>5} {'median ms':>9} {'p95 ms':>8} {'p99 ms':>8} "
    f"{'max ms':>8}  p95 target ms"
)


def measure(
    timer: ServerTimer,
    send: Callable[[int], Any],
    count: int,
    warmup: int,
    expect: int = 200,
) -> list[float]:
    """Server times of ``count`` requests made by ``send(n)``, after ``warmup`` unmeasured."""
    samples = []
    for n in range(warmup + count):
        response = send(n)
        if response.status_code != expect:
            raise SystemExit(
                f"{response.request.method} {response.request.url} answered "
                f"{response.status_code}, not {expect}: {response.text[:300]}"
            )
        if n >= warmup:
            samples.append(timer.last_ms)
    return samples


def signed_in(app: Any, email: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://127.0.0.1")
    client.__enter__()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/"})
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    if response.status_code != 200 or not match:
        raise SystemExit(f"Could not sign in as {email}: {response.status_code}")
    return client, match.group(1)


def prepare_users(rt: Runtime) -> dict[str, str]:
    """Known passwords for the approver and the tech, and an API token each."""
    tokens = {}
    with rt.db.session() as session:
        for email in (APPROVER, TECH):
            user = session.execute(select(User).where(User.email == email)).scalar_one()
            set_password(user, PASSWORD)
            tokens[email] = create_token(session, user, "bench")
    return tokens


def setup(rt: Runtime, args: argparse.Namespace, rng: random.Random) -> None:
    started = time.perf_counter()
    seed(rt, tickets=False)
    pending_ids, history_ids = web_data.make_templates(rt, args.templates, rng)
    engine_s = time.perf_counter() - started
    with rt.db.reading() as session:
        real_drafts = session.scalar(
            select(func.count()).select_from(Approval).where(Approval.status == "pending")
        )
        real_events = session.scalar(select(func.count()).select_from(EventRecord))
    print(
        f"real engine: {args.templates} template tickets (intake, dispatcher in a worker; "
        f"history approved or rejected and executed) -> {real_drafts:,} pending drafts on "
        f"{len(pending_ids)} tickets, {len(history_ids)} history tickets, {real_events:,} "
        f"events, {engine_s:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    pending = web_data.load_templates(rt, pending_ids)
    history = web_data.load_templates(rt, history_ids)
    filled = web_data.fill(rt, pending, history, args.drafts, args.events, rng)
    web_data.check_chain_sample(rt, filled.first_event_id)
    print(
        f"bulk clone (COPY, remapped ids, payload hashes recomputed, events re-chained): "
        f"{filled.pending_clones:,} clones of pending tickets + {filled.history_clones:,} of "
        f"history tickets, {filled.rows['steps']:,} steps, {filled.rows['approvals']:,} "
        f"approvals, {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    describe(rt)
    if args.verify_chain:
        started = time.perf_counter()
        with rt.db.reading() as session:
            report = verify(session)
        verdict = "valid" if report.ok else f"BROKEN: {report.problem}"
        print(
            f"hash chain: {verdict} ({report.events_checked:,} events checked in "
            f"{time.perf_counter() - started:.1f} s)",
            flush=True,
        )
    else:
        print(
            "hash chain: 2,000 cloned events re-hashed with the log's own function and "
            "matched (--verify-chain walks all of it)"
        )


def describe(rt: Runtime) -> None:
    """The data set's counts: drafts, tickets, events and how they spread over tickets."""
    with rt.db.reading() as session:
        drafts = session.scalar(
            select(func.count()).select_from(Approval).where(Approval.status == "pending")
        )
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        events = session.scalar(select(func.count()).select_from(EventRecord))
    counts = sorted(web_data.event_counts(rt))
    typical = sum(1 for n in counts if 5 <= n <= 15) / len(counts)
    print(
        f"database: {drafts:,} pending drafts, {tickets:,} tickets, {events:,} events; events "
        f"per ticket median {statistics.median(counts):.0f}, p90 "
        f"{counts[int(len(counts) * 0.9)]}, max {counts[-1]}; {typical:.0%} of tickets have "
        "5-15 events",
        flush=True,
    )


def visible_tickets(rt: Runtime, tenants: tuple[str, ...] | None) -> list[int]:
    query = select(Ticket.id)
    if tenants is not None:
        query = query.where(Ticket.tenant_id.in_(tenants))
    with rt.db.reading() as session:
        return list(session.scalars(query))


def pending_drafts(rt: Runtime) -> list[int]:
    with rt.db.reading() as session:
        return list(session.scalars(select(Approval.id).where(Approval.status == "pending")))


def run_requests(rt: Runtime, args: argparse.Namespace, rng: random.Random) -> list[Result]:
    tokens = prepare_users(rt)
    timer = ServerTimer(create_app(rt))
    settle_heap()  # as `deskhand serve` does before it serves
    results: list[Result] = []
    n, warm = args.samples, args.warmup
    newest = max(pending_drafts(rt))
    every_ticket = visible_tickets(rt, None)
    for email, label, tenant, tenants in (
        (APPROVER, "approver", "northwind-law", None),
        (TECH, "tech", "contoso-dental", ("contoso-dental",)),
    ):
        client, _ = signed_in(timer, email)
        tickets = every_ticket if tenants is None else visible_tickets(rt, tenants)
        sample = rng.sample(tickets, min(len(tickets), warm + n))

        def get(path: str, client: TestClient = client) -> Callable[[int], Any]:
            return lambda _: client.get(path)

        def ticket(suffix: str, client: TestClient = client, sample: list[int] = sample) -> Any:
            return lambda i: client.get(f"/tickets/{sample[i % len(sample)]}{suffix}")

        api = TestClient(timer, base_url="https://127.0.0.1")
        bearer = {"Authorization": f"Bearer {tokens[email]}"}
        requests: list[tuple[str, Callable[[int], Any], float | None]] = [
            ("GET /queue", get("/queue"), PAGE_TARGET_MS),
            (f"GET /queue?tenant={tenant}", get(f"/queue?tenant={tenant}"), PAGE_TARGET_MS),
            (
                "GET /queue?specialist=access_change",
                get("/queue?specialist=access_change"),
                PAGE_TARGET_MS,
            ),
            ("GET /queue/new (poller, no news)", get(f"/queue/new?after={newest}"), None),
            ("GET /plans (plan queue)", get("/plans"), PAGE_TARGET_MS),
            (f"GET /plans?tenant={tenant}", get(f"/plans?tenant={tenant}"), PAGE_TARGET_MS),
            ("GET /tickets?q=password (search)", get("/tickets?q=password"), PAGE_TARGET_MS),
            ("GET /tickets/{id} (random)", ticket(""), PAGE_TARGET_MS),
            ("GET /tickets/{id}/live", ticket("/live"), None),
            ("GET /api/v1/drafts", api_get(api, "/api/v1/drafts", bearer), None),
            ("GET /api/v1/plans", api_get(api, "/api/v1/plans", bearer), None),
        ]
        for name, send, target in requests:
            results.append(Result(name, label, measure(timer, send, n, warm), target))
            print(results[-1].line(), flush=True)
        if email == APPROVER:
            for result in approvals_of(rt, timer, client, bearer, n, warm, rng):
                results.append(result)
                print(result.line(), flush=True)
        client.__exit__(None, None, None)
    return results


def api_get(client: TestClient, path: str, headers: dict[str, str]) -> Callable[[int], Any]:
    return lambda _: client.get(path, headers=headers)


def approve_drafts(
    rt: Runtime,
    timer: ServerTimer,
    name: str,
    send: Callable[[int], Any],
    chosen: list[int],
    n: int,
    warm: int,
) -> Result:
    """Approve the distinct drafts ``chosen`` with ``send``, then check that nothing ran."""
    applied = rt.sandbox.applied_count()
    samples = measure(timer, send, n, warm)
    with rt.db.reading() as session:
        states = session.execute(
            select(Step.status, func.count())
            .join(Approval, Approval.step_id == Step.id)
            .where(Approval.id.in_(chosen))
            .group_by(Step.status)
        ).all()
        started = session.scalar(
            select(func.count())
            .select_from(EventRecord)
            .where(
                EventRecord.type == "step.started",
                EventRecord.step_id.in_(select(Approval.step_id).where(Approval.id.in_(chosen))),
            )
        )
    calls = rt.sandbox.applied_count() - applied
    print(
        f"  approving ran nothing: steps of the {len(chosen)} approved drafts are "
        f"{dict(states)}; step.started events for them: {started}; changes applied in the "
        f"sandbox meanwhile: {calls}",
        flush=True,
    )
    return Result(name, "approver", samples, APPROVE_TARGET_MS)


def approvals_of(
    rt: Runtime,
    timer: ServerTimer,
    client: TestClient,
    bearer: dict[str, str],
    n: int,
    warm: int,
    rng: random.Random,
) -> list[Result]:
    """Approving distinct drafts the way the queue's button does, and through the API."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/queue").text)
    if csrf is None:
        raise SystemExit("The queue page has no CSRF token to approve with.")
    chosen = rng.sample(pending_drafts(rt), 2 * (warm + n))
    by_page, by_api = chosen[: warm + n], chosen[warm + n :]
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf.group(1)}
    api = TestClient(timer, base_url="https://127.0.0.1")
    return [
        approve_drafts(
            rt,
            timer,
            "POST /drafts/{id}/approve (HTMX)",
            lambda i: client.post(f"/drafts/{by_page[i]}/approve", headers=headers),
            by_page,
            n,
            warm,
        ),
        approve_drafts(
            rt,
            timer,
            "POST /api/v1/drafts/{id}/approve",
            lambda i: api.post(f"/api/v1/drafts/{by_api[i]}/approve", headers=bearer),
            by_api,
            n,
            warm,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--drafts", type=int, default=10_000, help="pending drafts")
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    parser.add_argument("--templates", type=int, default=300, help="tickets through the engine")
    parser.add_argument("--samples", type=int, default=200, help="measured requests of each")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--verify-chain",
        action="store_true",
        help="walk the whole hash chain after the fill (about 100 s per million events)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data set afterwards")
    parser.add_argument(
        "--reuse",
        metavar="FOLDER",
        type=Path,
        help="measure again on a data set kept with --keep (its drafts approved so far stay so)",
    )
    args = parser.parse_args()
    logging.getLogger("deskhand").setLevel(logging.CRITICAL)  # the escalations' announcements
    rng = random.Random(args.seed)
    began = time.perf_counter()
    with data_set(args) as rt:
        print(f"SYNTHETIC data, PostgreSQL {server_version(rt)}; {machine()}", flush=True)
        if args.reuse is None:
            setup(rt, args, rng)
            print(f"setup took {time.perf_counter() - began:.0f} s", flush=True)
        else:
            rt.db.upgrade()
            describe(rt)
        print(
            "\nserver time, in-process (TestClient; timed inside the ASGI app, no network):",
            flush=True,
        )
        print(HEADER)
        results = run_requests(rt, args, rng)
    print(f"\nsummary ({args.samples} samples each, after {args.warmup} warm-up requests):")
    print(HEADER)
    for result in results:
        print(result.line())
    print(f"whole run took {time.perf_counter() - began:.0f} s")


@contextmanager
def data_set(args: argparse.Namespace) -> Iterator[Runtime]:
    """The runtime of a new data set — or of a kept one, with ``--reuse``."""
    if args.reuse is not None:
        settings = Settings.model_validate_json((args.reuse / "settings.json").read_text())
        rt = Runtime.from_settings(settings)
        yield rt
        rt.close()
        return
    folder = Path(tempfile.mkdtemp(prefix="deskhand-bench-web-"))
    try:
        with database(args.keep) as url:
            settings = Settings(
                data_dir=folder,
                database_url=url,
                sandbox_url=f"sqlite:///{folder / 'sandbox.db'}",
            )
            rt = Runtime.from_settings(settings)
            try:
                yield rt
            finally:
                rt.close()
    finally:
        if args.keep:
            (folder / "settings.json").write_text(settings.model_dump_json())
            print(f"\nkept: {folder} (measure again with --reuse {folder})")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def machine() -> str:
    """Cores, memory and Python: what the figures were measured on (database on the same box)."""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f", {kib / 2**20:.0f} GiB memory"
    return (
        f"machine: {os.cpu_count()} cores{memory}, {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def server_version(rt: Runtime) -> str:
    with rt.db.engine.connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar_one())


if __name__ == "__main__":
    main()
