"""Commands that read the event log: a ticket's trace, the chain's integrity, exports."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deskhand.cli.common import err, group, out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import UsageError

if TYPE_CHECKING:
    from deskhand.audit.verification import LogReport

audit_app = group("The append-only, hash-chained event log.")


def trace_command(
    ctx: typer.Context,
    ticket: Annotated[int, typer.Argument(help="The ticket id.")],
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Everything that happened on a ticket, in order, with who or what did it."""
    from deskhand.audit.trace import render_trace, trace

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            timeline = trace(session, ticket)
        if json_:
            print_json(timeline.model_dump(mode="json"))
        else:
            render_trace(timeline, out)


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            "--checkpoints",
            help="Hold the log up to this copy of the checkpoints (a backup, or the lines "
            "syslog kept) instead of DESKHAND_AUDIT_CHECKPOINT_FILE; nothing is written to it.",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain and hold the log up to its signed checkpoints; report what was
    edited, removed or rewritten (exit code 1 if anything)."""
    from deskhand.audit.checkpoints import CheckpointFile
    from deskhand.audit.verification import verify_log

    with user_errors():
        rt = open_runtime(ctx)
        if checkpoints is not None and not checkpoints.is_file():
            raise UsageError(f"--checkpoints {checkpoints}: there is no such file.")
        file = (
            CheckpointFile.from_settings(rt.settings, lambda: rt.keys)
            if checkpoints is None
            else CheckpointFile(checkpoints, lambda: rt.keys)
        )
        report = verify_log(rt.db, file, write=checkpoints is None)
        if report.chain.ok:
            out.print(f"The event log is intact: {report.chain.events_checked:,} events checked.")
        else:
            out.print(f"[bold red]The event log is broken[/]: {report.chain.problem}")
        _print_checkpoints(report)
        if not report.ok:
            raise typer.Exit(1)


def _print_checkpoints(report: "LogReport") -> None:
    from deskhand.audit.checkpoints import moment

    held = report.checkpoints
    if not held.found:
        out.print(
            f"No checkpoints to compare with: {held.path} does not exist, so events removed "
            "from the end of the log, or a history rewritten with new hashes, would not show. "
            "A new installation has none until the first is written; if this one had some, "
            "restore the file from its backup and verify again."
        )
    elif held.ok and held.newest is None:
        out.print(f"No checkpoints in {held.path} yet: nothing to compare the log with.")
    elif held.ok and held.newest is not None:
        out.print(
            f"The log matches its checkpoints: {held.agreeing:,} in {held.path} agree, the "
            f"newest of event {held.newest.event_id:,} (written {moment(held.newest.at)})."
        )
    else:
        out.print(f"[bold red]The log does not match its checkpoints[/] in {held.path}:")
        for problem in held.problems:
            out.print(f"  - {problem}", highlight=False)
        out.print(
            "Keep a copy of the database and of the checkpoint file as they are now. If the "
            "database was restored from a backup or replaced on purpose, move the checkpoint "
            "file aside (keep it) and run `deskhand audit checkpoint`."
        )
    if report.written is not None:
        out.print(f"Checkpoint written: event {report.written.event_id:,}.")
    if report.not_written is not None:
        err.print(f"[bold red]No checkpoint was written:[/] {report.not_written}", highlight=False)


@audit_app.command("checkpoint")
def audit_checkpoint(ctx: typer.Context) -> None:
    """Sign the chain head now and append it to the checkpoint file (and syslog, if set)."""
    from deskhand.audit.checkpoints import CheckpointFile

    with user_errors():
        rt = open_runtime(ctx)
        file = CheckpointFile.from_settings(rt.settings, lambda: rt.keys)
        with rt.db.reading() as session:
            written = file.write(session)
        if written is None:
            out.print("The event log is empty: there is no event to checkpoint yet.")
            return
        out.print(
            f"Checkpoint written to {file.path}: event {written.event_id:,}, hash {written.hash}."
        )


@audit_app.command("export")
def audit_export(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="From this date (YYYY-MM-DD), UTC.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="DATE", help="Up to this date (YYYY-MM-DD), UTC.")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="Only jsonl for now.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export events as JSON Lines, one event per line, in order."""
    from deskhand.audit.export import export_jsonl
    from deskhand.history.dates import parse_bound

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
