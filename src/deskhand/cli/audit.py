"""Commands that read the event log: a ticket's trace, the chain's integrity, exports."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from deskhand.audit.chain import verify
from deskhand.audit.export import export_jsonl
from deskhand.audit.trace import render_trace, trace
from deskhand.cli.common import out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import UsageError
from deskhand.history.dates import parse_bound

audit_app = typer.Typer(help="The append-only, hash-chained event log.", no_args_is_help=True)


def trace_command(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="The ticket id.")],
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Everything that happened on a ticket, in order, with who or what did it."""
    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            timeline = trace(session, ticket)
        if json_:
            print_json(timeline.model_dump(mode="json"))
        else:
            render_trace(timeline, out)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the hash chain; report the first broken link (exit code 1 if any)."""
    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            report = verify(session)
        if report.ok:
            out.print(f"The event log is intact: {report.events_checked:,} events checked.")
            return
        out.print(f"[bold red]The event log is broken[/]: {report.problem}")
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD), UTC.")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this date (YYYY-MM-DD), UTC.")] = None,
    format_: Annotated[str, typer.Option("--format", help="Only jsonl for now.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export events as JSON Lines, one event per line, in order."""
    with user_errors():
        if format_ != "jsonl":
            raise UsageError(f"--format {format_}: only jsonl is supported.")
        start = parse_bound(since, "UTC") if since else None
        end = parse_bound(until, "UTC", end_of_day=True) if until else None
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            if output is None:
                count = export_jsonl(session, sys.stdout, since=start, until=end, tenant_ids=None)
            else:
                with output.open("w", encoding="utf-8") as handle:
                    count = export_jsonl(session, handle, since=start, until=end, tenant_ids=None)
        if output is not None:
            out.print(f"Exported {count:,} events to {output}.")
