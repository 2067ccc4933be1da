"""The ``deskhand`` command: one Typer application, its commands in modules by topic.

Typer reads every command's signature to build the help, so the command modules import at
their top only what signatures and help need (typer, rich, the standard library, deskhand's
errors); the rest — the database, the engine, Polars, scikit-learn, the web app — is imported
inside the command that uses it, and names needed only by mypy are imported under
``TYPE_CHECKING`` and written in quotes. The modules leave out ``from __future__ import
annotations``: with it, Typer compiles and evaluates every annotation again at each start.

The console script (``main``) builds only the command a person named: ``deskhand analyze
--help`` imports and converts the analyze command, not the other forty. ``deskhand``, ``deskhand
--help`` and any word that is not a command build them all, so the list and Typer's "No such
command" stay whole. ``app`` (every command) is built on first use, for tests and ``python -m``.
``bench/cli_start.py`` measures the start; ``tests/test_cli_start.py`` keeps the heavy
libraries out.
"""

import os
import sys
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Annotated

import typer

from deskhand import __version__

if TYPE_CHECKING:
    from typing import Any

HELP = (
    "deskhand: a self-hosted AI helpdesk for MSPs. Start with `deskhand analyze` or "
    "`deskhand demo`."
)


def _analyze(app: typer.Typer) -> None:
    from deskhand.cli import analyze

    app.command()(analyze.analyze)


def _runtime_command(name: str) -> Callable[[typer.Typer], None]:
    def register(app: typer.Typer) -> None:
        from deskhand.cli import runtime

        app.command(name)(getattr(runtime, name))

    return register


def _trace(app: typer.Typer) -> None:
    from deskhand.cli import audit

    app.command("trace")(audit.trace_command)


def _replay(app: typer.Typer) -> None:
    from deskhand.cli import replay

    app.command()(replay.replay)


def _trust(app: typer.Typer) -> None:
    from deskhand.cli import trust

    app.command("trust")(trust.trust)


def _subgroup(module: str, attribute: str, name: str) -> Callable[[typer.Typer], None]:
    def register(app: typer.Typer) -> None:
        group: typer.Typer = getattr(import_module(f"deskhand.cli.{module}"), attribute)
        app.add_typer(group, name=name)

    return register


def _tenants(app: typer.Typer) -> None:
    from deskhand.cli import desk, shadow, tenants

    if not getattr(desk.tenants_app, "_deskhand_complete", False):
        desk.tenants_app.command("add")(tenants.add)
        desk.tenants_app.command("show")(tenants.show)
        desk.tenants_app.command("doctor")(tenants.doctor)
        desk.tenants_app.command("live")(shadow.live)
        desk.tenants_app.command("shadow")(shadow.shadow)
        desk.tenants_app.add_typer(tenants.secret_app, name="secret")
        desk.tenants_app._deskhand_complete = True  # type: ignore[attr-defined]
    app.add_typer(desk.tenants_app, name="tenants")


def _tickets(app: typer.Typer) -> None:
    from deskhand.cli import desk, shadow

    if not getattr(desk.tickets_app, "_deskhand_complete", False):
        desk.tickets_app.command("worked")(shadow.worked)
        desk.tickets_app._deskhand_complete = True  # type: ignore[attr-defined]
    app.add_typer(desk.tickets_app, name="tickets")


def _approvals(app: typer.Typer) -> None:
    from deskhand.cli import desk, plans

    if not getattr(desk.approvals_app, "_deskhand_complete", False):
        desk.approvals_app.command("plans")(plans.plans)
        desk.approvals_app.command("plan")(plans.plan)
        desk.approvals_app.command("approve-plan")(plans.approve_plan)
        desk.approvals_app.command("reject-plan")(plans.reject_plan)
        desk.approvals_app.command("leave-out")(plans.leave_out)
        desk.approvals_app.command("undo-plan")(plans.undo_plan)
        desk.approvals_app._deskhand_complete = True  # type: ignore[attr-defined]
    app.add_typer(desk.approvals_app, name="approvals")


# Every top-level command, in the order ``deskhand --help`` lists them, and how to add it.
COMMANDS: dict[str, Callable[[typer.Typer], None]] = {
    "analyze": _analyze,
    "replay": _replay,
    "demo": _runtime_command("demo"),
    "serve": _runtime_command("serve"),
    "worker": _runtime_command("worker"),
    "trace": _trace,
    "db": _subgroup("runtime", "db_app", "db"),
    "tenants": _tenants,
    "users": _subgroup("desk", "users_app", "users"),
    "tickets": _tickets,
    "approvals": _approvals,
    "escalations": _subgroup("escalations", "escalations_app", "escalations"),
    "tokens": _subgroup("desk", "tokens_app", "tokens"),
    "audit": _subgroup("audit", "audit_app", "audit"),
    "trust": _trust,
    "keys": _subgroup("keys", "keys_app", "keys"),
    "triage": _subgroup("triage", "triage_app", "triage"),
    "intake": _subgroup("intake", "intake_app", "intake"),
    "notify": _subgroup("notify", "notify_app", "notify"),
}


def _version(value: bool) -> None:
    if value:
        print(f"deskhand {__version__}")
        raise typer.Exit()


def _options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL (default: DESKHAND_DATABASE_URL, else a SQLite file in the "
            "user data folder).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """deskhand: a self-hosted AI helpdesk for MSPs."""
    ctx.obj = {"db": db}


def build(only: str | None = None) -> typer.Typer:
    """The application with every command, or with the one top-level command ``only``."""
    from deskhand.cli.common import PlainHelpGroup

    built = typer.Typer(
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,  # plain help, as deskhand.cli.common.group says why
        cls=PlainHelpGroup,
    )
    built.callback()(_options)
    for name, register in COMMANDS.items():
        if only is None or name == only:
            register(built)
    return built


def _named_command(arguments: list[str]) -> str | None:
    """The top-level command the arguments name, skipping the ``--db`` option before it; None
    when there is none (``deskhand``, ``deskhand --help``, a mistyped word)."""
    words = iter(arguments)
    for word in words:
        if word == "--db":
            next(words, None)
        elif word.startswith("--db="):
            continue
        elif word.startswith("-"):
            return None
        else:
            return word if word in COMMANDS else None
    return None


def main() -> None:
    """The console script: build what the command line names, then run it; end at once when
    the command asked to (``deskhand.cli.common.end_at_once``)."""
    try:
        build(_named_command(sys.argv[1:]))(prog_name="deskhand")
    except SystemExit as done:
        from deskhand.cli.common import ending_at_once

        if ending_at_once():
            _end_now(done.code)
        raise


def _end_now(code: object) -> None:
    """End the process with ``code`` once its output is flushed; return (for the usual exit)
    when the output cannot be flushed, so that the reason is told as usual."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


_app: typer.Typer | None = None


def __getattr__(name: str) -> "Any":
    global _app
    if name == "app":
        if _app is None:
            _app = build()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
