"""The ``deskhand`` command: one Typer application, its commands in modules by topic.

Typer reads every command's signature to build the help, so the command modules import at
their top only what signatures and help need (typer, rich, the standard library, deskhand's
errors); the rest — the database, the engine, Polars, scikit-learn, the web app — is imported
inside the command that uses it, and names needed only by mypy are imported under
``TYPE_CHECKING`` and written in quotes. The modules leave out ``from __future__ import
annotations``: with it, Typer compiles and evaluates every annotation again at each start.
``bench/cli_start.py`` measures the start; ``tests/test_cli_start.py`` keeps the heavy
libraries out.
"""

from typing import Annotated

import typer

from deskhand import __version__
from deskhand.cli import analyze, audit, desk, intake, keys, runtime, tenants, triage

app = typer.Typer(
    help="deskhand: a self-hosted AI helpdesk for MSPs. Start with `deskhand analyze` or "
    "`deskhand demo`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"deskhand {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
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


app.command()(analyze.analyze)
app.command("demo")(runtime.demo)
app.command("serve")(runtime.serve)
app.command("worker")(runtime.worker)
app.command("trace")(audit.trace_command)
app.add_typer(runtime.db_app, name="db")
desk.tenants_app.command("add")(tenants.add)
desk.tenants_app.command("show")(tenants.show)
desk.tenants_app.command("doctor")(tenants.doctor)
desk.tenants_app.add_typer(tenants.secret_app, name="secret")
app.add_typer(desk.tenants_app, name="tenants")
app.add_typer(desk.users_app, name="users")
app.add_typer(desk.tickets_app, name="tickets")
app.add_typer(desk.approvals_app, name="approvals")
app.add_typer(desk.escalations_app, name="escalations")
app.add_typer(desk.tokens_app, name="tokens")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(triage.triage_app, name="triage")
app.add_typer(intake.intake_app, name="intake")
