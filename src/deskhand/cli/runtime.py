"""Commands that run deskhand: the database schema, workers, the server, the demo."""

import logging
import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from deskhand.cli.common import err, group, out, print_json, settings, user_errors

if TYPE_CHECKING:
    from deskhand.engine.runtime import Runtime
    from deskhand.simulation.operating_year import Findings

db_app = group("The application database.")


def open_runtime(ctx: typer.Context, *, current: bool = True) -> "Runtime":
    """The runtime for this command; refuses an out-of-date schema unless ``current`` is False."""
    from deskhand.engine.runtime import Runtime

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
    from deskhand.engine.worker import Worker
    from deskhand.intake.polling import poll_all

    with user_errors():
        rt = open_runtime(ctx)
        _logging()
        runner = Worker(rt, name, intake=poll_all)
        if once:
            done = runner.run_once()
            if rt.settings.notify_seconds > 0:  # from cron: tell what is due, sent before exit
                runner.notifier.round()
                runner.notifier.delivery.join()
            out.print(f"Worker {runner.name} worked on {done} run(s).")
            return
        stop = _stop_on_signals()
        err.print(f"Worker {runner.name} is running on {_where(rt)}. Ctrl-C stops it.")
        runner.run_forever(stop)


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]
ForwardedAllowIps = Annotated[
    str | None,
    typer.Option(
        "--forwarded-allow-ips",
        help="Proxies whose X-Forwarded-For/-Proto to believe: addresses or networks, "
        "comma-separated, or * for any peer. Default: DESKHAND_FORWARDED_ALLOW_IPS, else none.",
    ),
]


def serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve the web app only (workers run elsewhere).")
    ] = False,
    forwarded_allow_ips: ForwardedAllowIps = None,
) -> None:
    """Run the web app, with a worker in the same process (the embedded default)."""
    from deskhand.web.security import trusted_proxies

    with user_errors():
        if forwarded_allow_ips is not None:
            trusted_proxies(forwarded_allow_ips)  # a typo is named before anything starts
        rt = open_runtime(ctx)
        _serve(rt, host, port, worker=not no_worker, forwarded_allow_ips=forwarded_allow_ips)


def demo(
    ctx: typer.Context,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Seed the demo, then exit instead of serving.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print what was seeded as JSON.")] = False,
    history: Annotated[
        bool,
        typer.Option(
            "--history",
            help="Also seed six weeks of simulated history (synthetic) for the Trust page: "
            "earned autonomy, a revocation, a shadow tenant. About a minute, the first time.",
        ),
    ] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Seed two sandbox client tenants, the MSP's users and sample tickets; then serve."""
    from deskhand.demo import DEMO_APPROVER, seed, seed_history

    with user_errors():
        rt = open_runtime(ctx, current=False)
        simulated = None
        if history:
            if not json_:
                out.print("Seeding six weeks of simulated history (synthetic)…")

            def week(day: int, days: int) -> None:
                if not json_ and day % 7 == 0:
                    out.print(f"  … week {day // 7} of {days // 7}")

            simulated = seed_history(rt, progress=week)
        seeded = seed(rt, lifecycle=True)
        document: dict[str, Any] = {
            "database": rt.db.engine.url.render_as_string(),
            "tenants": seeded.tenants,
            "users": [u.__dict__ for u in seeded.users],
            "tickets": [t.__dict__ for t in seeded.tickets],
            "approver": DEMO_APPROVER.email,
            "password": seeded.password,
            "url": f"http://{host}:{port}",
            "history": _history(simulated) if simulated is not None else None,
        }
        if json_:
            print_json(document)
        else:
            out.print(f"Demo data in {document['database']}")
            out.print(f"Tenants: {', '.join(seeded.tenants)} (sandbox, synthetic)")
            out.print(
                f"Demo approver: [bold]{DEMO_APPROVER.email}[/], password "
                f"[bold]{seeded.password}[/] (new at every `deskhand demo`); on the command "
                f"line: `deskhand approvals approve ID --as {DEMO_APPROVER.email}`"
            )
            if seeded.tickets:
                ids = ", ".join(str(t.ticket_id) for t in seeded.tickets)
                out.print(f"Sample tickets: {ids}")
            out.print(
                "What offboarding and onboarding mean at Contoso Dental: Tenants → Contoso "
                "Dental, or `deskhand tenants policy contoso-dental`",
                highlight=False,
            )
            if simulated is not None:
                out.print(
                    f"Simulated history (synthetic): {simulated.tickets} tickets over "
                    f"{simulated.scenario.days} days at four sim-* tenants; earned autonomy, a "
                    "revocation and a shadow tenant are on the Trust page, or `deskhand trust`",
                    highlight=False,
                )
            elif history:
                out.print("Simulated history: already seeded", highlight=False)
        if not no_serve:
            login = f"Sign in as {DEMO_APPROVER.email} with the password {seeded.password}."
            _serve(rt, host, port, worker=True, login=login)


def _history(found: "Findings") -> dict[str, Any]:
    return {
        "synthetic": True,
        "days": found.scenario.days,
        "tickets": found.tickets,
        "grants": len(found.grants),
        "revocations": len(found.revocations),
        "regressions": len(found.regressions),
    }


def _serve(
    rt: "Runtime",
    host: str,
    port: int,
    *,
    worker: bool,
    login: str = "",
    forwarded_allow_ips: str | None = None,
) -> None:
    from deskhand.web.app import create_app
    from deskhand.web.server import check_port, run_server

    check_port(host, port)  # one clear message, before "serving at", if the port is taken
    app = create_app(rt, worker=worker, forwarded_allow_ips=forwarded_allow_ips)
    _logging()
    where = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    with_worker = "with a worker" if worker else "without a worker (--no-worker)"
    err.print(f"deskhand is serving at [bold]{where}[/] {with_worker}; data in {_where(rt)}.")
    if login:
        err.print(login)
    err.print("Ctrl-C stops it.")
    run_server(app, host, port)


def _where(rt: "Runtime") -> str:
    return rt.db.engine.url.render_as_string()


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")


def _stop_on_signals() -> threading.Event:  # for `worker`; uvicorn handles its own
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop
