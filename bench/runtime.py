"""Benchmark: ticket → draft, through real worker processes, on SQLite and on PostgreSQL with
1, 2 and 4 workers. Prints figures; asserts nothing.

    python bench/runtime.py [--tickets 300] [--latency-tickets 40] [--rate 4]
                            [--workers 1 2 4] [--backends sqlite postgresql]

Throughput: the tickets are queued first, then the workers start; tickets per second is the
number of tickets over the time from the first claim to the last draft, read from the event
log. Latency: with the workers idle and polling, tickets arrive one at a time at ``--rate``
per second; each ticket's latency is its first draft's time minus its arrival time, both from
the event log. The sandbox answers without network delay (``--sandbox-latency-ms`` adds one).
The tickets are synthetic password-reset requests for the demo tenant.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import postgres_database  # noqa: E402

from deskhand.config import Settings  # noqa: E402
from deskhand.demo import seed  # noqa: E402
from deskhand.engine.runtime import Runtime  # noqa: E402
from deskhand.intake.arrival import add_ticket  # noqa: E402
from deskhand.store.models import EventRecord, Ticket  # noqa: E402

KAREN = "karen.whitfield@contosodental.example"
USERS = ("Tom Becker", "Lisa Chen", "Anna Kowalski", "Marcus Lee", "Sofia Martins", "Jake Morrison")


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'deskhand.db'}"
    else:
        with postgres_database("deskhand_bench") as url:
            yield url


@contextmanager
def workers(settings: Settings, count: int, latency_ms: int) -> Iterator[None]:
    env = {
        **os.environ,
        "DESKHAND_DATA_DIR": str(settings.data_dir),
        "DESKHAND_DATABASE_URL": settings.database(),
        "DESKHAND_SANDBOX_URL": settings.sandbox(),
        "DESKHAND_POLL_SECONDS": str(settings.poll_seconds),
        "DESKHAND_SANDBOX_LATENCY_MS": str(latency_ms),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "deskhand", "worker", "--name", f"bench-{n}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def submit(rt: Runtime, n: int) -> int:
    return add_ticket(
        rt, "contoso-dental", KAREN, f"Reset {n}", f"Please reset the password for {USERS[n % 6]}."
    ).ticket_id


def waiting(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.status != "new")
                .where(Ticket.status != "working")
            )
            or 0
        )


def event_times(rt: Runtime, kind: str) -> dict[int, float]:
    """The first time of each ticket's events of ``kind``, in seconds since the epoch."""
    with rt.db.reading() as session:
        rows = session.execute(
            select(EventRecord.ticket_id, func.min(EventRecord.at))
            .where(EventRecord.type == kind)
            .group_by(EventRecord.ticket_id)
        ).all()
    return {ticket: at.timestamp() for ticket, at in rows if ticket is not None}


def until(condition, timeout: float = 900.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def measure(backend: str, count: int, args: argparse.Namespace) -> tuple[float, list[float]]:
    with tempfile.TemporaryDirectory() as folder, database(backend, Path(folder)) as url:
        settings = Settings(
            data_dir=Path(folder),
            database_url=url,
            sandbox_url=f"sqlite:///{Path(folder) / 'sandbox.db'}",
            poll_seconds=args.poll,
        )
        rt = Runtime.from_settings(settings)
        seed(rt, tickets=False)
        with ExitStack() as stack:
            batch = [submit(rt, n) for n in range(args.tickets)]
            stack.enter_context(workers(settings, count, args.sandbox_latency_ms))
            until(lambda: waiting(rt) >= len(batch))
            claimed = event_times(rt, "run.claimed")
            drafted = event_times(rt, "draft.created")
            elapsed = max(drafted[t] for t in batch) - min(claimed[t] for t in batch)
            throughput = len(batch) / elapsed
            arrivals = []
            for n in range(args.latency_tickets):
                arrivals.append(submit(rt, args.tickets + n))
                time.sleep(1 / args.rate)
            until(lambda: waiting(rt) >= len(batch) + len(arrivals))
            received = event_times(rt, "ticket.received")
            drafted = event_times(rt, "draft.created")
            latencies = [(drafted[t] - received[t]) * 1000 for t in arrivals]
        rt.close()
        return throughput, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=300)
    parser.add_argument("--latency-tickets", type=int, default=40)
    parser.add_argument("--rate", type=float, default=4.0, help="arrivals per second")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--poll", type=float, default=Settings().poll_seconds)
    parser.add_argument("--sandbox-latency-ms", type=int, default=0)
    args = parser.parse_args()
    print(
        f"{args.tickets} queued tickets for throughput, {args.latency_tickets} arriving at "
        f"{args.rate}/s for latency; poll {args.poll}s; sandbox latency "
        f"{args.sandbox_latency_ms} ms; {os.cpu_count()} CPUs"
    )
    header = ("backend", "workers", "tickets/s", "p50 ms", "p95 ms", "max ms")
    print(f"{header[0]:<11} " + " ".join(f"{h:>9}" for h in header[1:]))
    for backend in args.backends:
        for count in args.workers:
            throughput, latencies = measure(backend, count, args)
            p50 = statistics.median(latencies)
            p95 = statistics.quantiles(latencies, n=20)[-1]
            figures = (f"{count}", f"{throughput:.1f}", f"{p50:.0f}", f"{p95:.0f}")
            line = " ".join(f"{f:>9}" for f in (*figures, f"{max(latencies):.0f}"))
            print(f"{backend:<11} {line}", flush=True)


if __name__ == "__main__":
    main()
