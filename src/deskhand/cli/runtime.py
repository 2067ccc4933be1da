"""Commands that run deskhand: the database schema, workers, the server, the demo."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import typer

from deskhand.cli.common import err, out, print_json, settings, user_errors
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker

db_app = typer.Typer(help="The application database.", no_args_is_help=True)


def open_runtime(ctx: typer.Context, *, current: bool = True) -> Runtime:
    """The runtime for this command; refuses an out-of-date schema unless ``current`` is False."""
    rt = Runtime.from_settings(settings(ctx))
    if current:
        rt.db.require_current()
    return rt


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database schema, or bring it to this version of deskhand."""
    with user_errors():
        rt = open_runtime(ctx, current=False)
        before, after = rt.db.upgrade()
        where = rt.db.engine.url.render_as_string()
        if before == after:
            out.print(f"The database {where} is already at version {after}.")
        else:
            out.print(f"The database {where} is now at version {after} (was {before or 'empty'}).")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the database's schema version and whether it is current."""
    with user_errors():
        rt = open_runtime(ctx, current=False)
        current, head = rt.db.current_revision(), rt.db.head_revision()
        where = rt.db.engine.url.render_as_string()
        state = "current" if current == head else "needs `deskhand db upgrade`"
        out.print(f"{where}: version {current or 'none'} ({state}; this deskhand: {head})")


def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(help="Process what is ready now, then exit.")] = False,
    name: Annotated[str | None, typer.Option(help="Name this worker in the event log.")] = None,
) -> None:
    """Claim and work on runs: dispatch new tickets, execute approved plans."""
    with user_errors():
        rt = open_runtime(ctx)
        _logging()
        runner = Worker(rt, name)
        if once:
            done = runner.run_once()
            out.print(f"Worker {runner.name} worked on {done} run(s).")
            return
        stop = _stop_on_signals()
        err.print(f"Worker {runner.name} is running on {_where(rt)}. Ctrl-C stops it.")
        runner.run_forever(stop)


def serve(
    ctx: typer.Context,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not run a worker in this process.")
    ] = False,
) -> None:
    """Run deskhand: the embedded worker (and, in a later version, the web app)."""
    with user_errors():
        rt = open_runtime(ctx)
        _serve(rt, worker=not no_worker)


def demo(
    ctx: typer.Context,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Seed the demo, then exit instead of serving.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print what was seeded as JSON.")] = False,
) -> None:
    """Seed two sandbox client tenants, the MSP's users and sample tickets; then serve."""
    from deskhand.demo import DEMO_APPROVER, seed

    with user_errors():
        rt = open_runtime(ctx, current=False)
        seeded = seed(rt)
        document: dict[str, Any] = {
            "database": rt.db.engine.url.render_as_string(),
            "tenants": seeded.tenants,
            "users": [u.__dict__ for u in seeded.users],
            "tickets": [t.__dict__ for t in seeded.tickets],
            "approver": DEMO_APPROVER.email,
        }
        if json_:
            print_json(document)
        else:
            out.print(f"Demo data in {document['database']}")
            out.print(f"Tenants: {', '.join(seeded.tenants)} (sandbox, synthetic)")
            out.print(
                f"Demo approver: [bold]{DEMO_APPROVER.email}[/] — approve as that user with "
                f"`deskhand approvals approve ID --as {DEMO_APPROVER.email}`"
            )
            if seeded.tickets:
                ids = ", ".join(str(t.ticket_id) for t in seeded.tickets)
                out.print(f"Sample tickets: {ids}")
        if not no_serve:
            _serve(rt, worker=True)


def _serve(rt: Runtime, *, worker: bool) -> None:
    _logging()
    stop = _stop_on_signals()
    if not worker:
        err.print("Nothing to serve without a worker yet: the web app is not in this version.")
        return
    runner = Worker(rt)
    err.print(
        f"deskhand is running on {_where(rt)} with worker {runner.name}. In another terminal: "
        "`deskhand approvals list`, `deskhand tickets add …`, `deskhand trace TICKET`. "
        "Ctrl-C stops it."
    )
    runner.run_forever(stop)


def _where(rt: Runtime) -> str:
    return rt.db.engine.url.render_as_string()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop
