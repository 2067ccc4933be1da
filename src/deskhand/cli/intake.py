"""`deskhand intake`: reading tickets from the tenants' PSA now, instead of waiting for the
worker's next scheduled read."""

from __future__ import annotations

import dataclasses
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deskhand.cli.common import out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.engine.mailbox import poll_mailboxes
from deskhand.engine.polling import PollReport, poll
from deskhand.errors import InputError
from deskhand.store.models import Tenant

if TYPE_CHECKING:
    from deskhand.engine.intake_files import ImportReport

intake_app = typer.Typer(help="Tickets coming in from the PSA.", no_args_is_help=True)


@intake_app.command("poll")
def intake_poll(
    ctx: typer.Context,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: all).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Read the tickets changed in Syncro and the support mailboxes since the last read; store
    the new ones."""
    with user_errors():
        rt = open_runtime(ctx)
        try:
            if tenant is not None:
                with rt.db.reading() as session:
                    if session.get(Tenant, tenant) is None:
                        raise InputError(
                            f"No tenant {tenant!r}.", hint="`deskhand tenants list` shows them."
                        )
            reports = poll(rt, tenant) + poll_mailboxes(rt, tenant)
        finally:
            rt.close()
        if json_:
            print_json([vars(report) for report in reports])
        else:
            _print(reports, tenant)
        if any(report.error for report in reports):
            raise typer.Exit(1)


def _print(reports: list[PollReport], tenant: str | None) -> None:
    if not reports:
        which = f"Tenant {tenant} has" if tenant else "No tenant has"
        out.print(
            f"{which} no Syncro PSA to read from (its connection file says `psa: kind`) and "
            "no support mailbox (`intake: imap`)."
        )
        return
    for report in reports:
        reasons = Counter(why for _, why in report.skipped)
        out.print(
            f"[bold]{_source(report)}[/]: {len(report.new)} new, {len(report.updated)} updated, "
            f"{len(report.skipped)} skipped ({report.pages} page(s) read)",
            highlight=False,
        )
        if report.new:
            out.print(f"  new: {', '.join(report.new)}", highlight=False)
        if report.updated:
            out.print(f"  updated (requester answered): {', '.join(report.updated)}")
        for why, count in reasons.most_common():
            out.print(f"  skipped {count}: {why}", highlight=False)
        if report.error:
            out.print(f"  [red]stopped:[/] {report.error}", highlight=False)


def _source(report: PollReport) -> str:
    return report.tenant_id if report.source == "syncro" else f"{report.tenant_id} (mailbox)"


class ExportFormat(StrEnum):
    auto = "auto"
    connectwise = "connectwise"
    autotask = "autotask"
    halo = "halo"
    syncro = "syncro"


@intake_app.command("import")
def intake_import(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Ticket export files, or folders of them (CSV, XLSX, JSON)."),
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant the tickets are for.")],
    format_: Annotated[
        ExportFormat, typer.Option("--format", help="The PSA the export comes from.")
    ] = ExportFormat.auto,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="field=column, repeatable. Fields: ticket_id, subject, body, status, "
            "requester_email, requester_name (and analyze's).",
        ),
    ] = None,
    open_only: Annotated[
        bool,
        typer.Option(
            "--open-only/--all",
            help="Skip closed, resolved and completed tickets (default), or import every row.",
        ),
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be imported; store nothing.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Import open tickets from a ConnectWise Manage, Autotask, HaloPSA or Syncro export."""
    from deskhand.engine.intake_files import import_export, read_export
    from deskhand.history.formats import REQUESTER_FIELDS, parse_map
    from deskhand.history.schema import MAP_FIELDS

    with user_errors():
        reading = read_export(
            paths,
            mapping=parse_map(map_ or [], (*MAP_FIELDS, *REQUESTER_FIELDS)),
            forced_format=None if format_ is ExportFormat.auto else format_.value,
            open_only=open_only,
        )
        rt = open_runtime(ctx)
        try:
            report = import_export(rt, tenant, reading, dry_run=dry_run)
        finally:
            rt.close()
    if json_:
        print_json(dataclasses.asdict(report))
        return
    _print_import(report)


def _print_import(report: ImportReport) -> None:
    for file in report.files:
        out.print(
            f"{file.name}: {file.format}, {file.rows} row(s), {file.encoding}", highlight=False
        )
    for warning in report.warnings:
        out.print(f"  [yellow]note:[/] {warning}", highlight=False)
    verb = "would be imported" if report.dry_run else "imported"
    out.print(
        f"[bold]{report.tenant_id}[/]: {len(report.stored)} {verb}, {len(report.skipped)} skipped",
        highlight=False,
    )
    if report.stored:
        shown = (
            [psa_id for psa_id, _ in report.stored]
            if report.dry_run
            else [f"{psa_id} (ticket {ticket_id})" for psa_id, ticket_id in report.stored]
        )
        out.print(f"  {verb}: {_listing(shown)}", highlight=False)
    by_reason: dict[str, list[str]] = {}
    for skipped in report.skipped:
        detail = f" ({skipped.detail})" if skipped.detail else ""
        by_reason.setdefault(skipped.reason, []).append(f"{skipped.where}{detail}")
    for reason, places in by_reason.items():
        out.print(f"  skipped {len(places)}, {reason}: {_listing(places)}", highlight=False)
    if report.dry_run:
        out.print("Nothing was stored (--dry-run).")


def _listing(items: list[str], limit: int = 10) -> str:
    more = f", … and {len(items) - limit} more (--json lists all)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more
