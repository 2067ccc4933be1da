"""`deskhand intake`: reading tickets from the tenants' PSA and mailboxes now, instead of waiting
for the worker's next scheduled read; importing export files; and the quarantine, where what
could not be taken waits for a person."""

import dataclasses
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from deskhand.cli.common import group, out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import InputError

if TYPE_CHECKING:
    from deskhand.engine.runtime import Runtime
    from deskhand.intake.exports import ImportReport
    from deskhand.intake.psa_poller import PollReport
    from deskhand.store.models import Quarantined

intake_app = group("Tickets coming in from the PSA.")
quarantine_app = group("Messages and rows that could not be taken, kept with their reason.")
intake_app.add_typer(quarantine_app, name="quarantine")


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
    from deskhand.intake.polling import poll_all
    from deskhand.store.models import Tenant

    with user_errors():
        rt = open_runtime(ctx)
        try:
            if tenant is not None:
                with rt.db.reading() as session:
                    if session.get(Tenant, tenant) is None:
                        raise InputError(
                            f"No tenant {tenant!r}.", hint="`deskhand tenants list` shows them."
                        )
            reports = poll_all(rt, tenant)
        finally:
            rt.close()
        if json_:
            print_json([vars(report) for report in reports])
        else:
            _print(reports, tenant)
        if any(report.error for report in reports):
            raise typer.Exit(1)


def _print(reports: "list[PollReport]", tenant: str | None) -> None:
    if not reports:
        which = f"Tenant {tenant} has" if tenant else "No tenant has"
        out.print(
            f"{which} no Syncro PSA to read from (its connection file says `psa: kind`) and "
            "no support mailbox (`intake: imap`)."
        )
        return
    for report in reports:
        reasons = Counter(why for _, why in report.skipped)
        held = f", {len(report.quarantined)} quarantined" if report.quarantined else ""
        out.print(
            f"[bold]{_source(report)}[/]: {len(report.new)} new, {len(report.updated)} updated, "
            f"{len(report.skipped)} skipped{held} ({report.pages} page(s) read)",
            highlight=False,
        )
        if report.new:
            out.print(f"  new: {', '.join(report.new)}", highlight=False)
        if report.updated:
            out.print(f"  updated (requester answered): {', '.join(report.updated)}")
        for why, count in reasons.most_common():
            out.print(f"  skipped {count}: {why}", highlight=False)
        for reference, why in report.quarantined:
            out.print(
                f"  [yellow]quarantined[/] {escape(reference)}: {escape(why)}", highlight=False
            )
        if report.error:
            out.print(f"  [red]stopped:[/] {report.error}", highlight=False)
    if any(report.quarantined for report in reports):
        out.print(QUARANTINE_HINT)


QUARANTINE_HINT = (
    "Quarantined items were kept with their content; the read went on past them. "
    "See them with `deskhand intake quarantine list`."
)


def _source(report: "PollReport") -> str:
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
            metavar="FIELD=COLUMN",
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
    from deskhand.history.formats import REQUESTER_FIELDS, parse_map
    from deskhand.history.schema import MAP_FIELDS
    from deskhand.intake.exports import import_export, read_export

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


def _print_import(report: "ImportReport") -> None:
    for file in report.files:
        out.print(
            f"{file.name}: {file.format}, {file.rows} row(s), {file.encoding}", highlight=False
        )
    for warning in report.warnings:
        out.print(f"  [yellow]note:[/] {warning}", highlight=False)
    verb = "would be imported" if report.dry_run else "imported"
    held = "would be quarantined" if report.dry_run else "quarantined"
    quarantined = f", {len(report.quarantined)} {held}" if report.quarantined else ""
    out.print(
        f"[bold]{report.tenant_id}[/]: {len(report.stored)} {verb}, {len(report.skipped)} skipped"
        f"{quarantined}",
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
    for row in report.quarantined:
        detail = f" ({row.detail})" if row.detail else ""
        out.print(f"  {held} {row.where}{detail}: {escape(row.reason)}", highlight=False)
    if report.quarantined and not report.dry_run:
        out.print(QUARANTINE_HINT)
    if report.dry_run:
        out.print("Nothing was stored (--dry-run).")


def _listing(items: list[str], limit: int = 10) -> str:
    more = f", … and {len(items) - limit} more (--json lists all)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


@quarantine_app.command("list")
def quarantine_list(
    ctx: typer.Context,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: all).")
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Also the items taken again or dismissed.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """List what could not be taken (held items first counted), newest first."""
    from deskhand.intake import quarantine

    with user_errors():
        rt = open_runtime(ctx)
        scope = [tenant] if tenant else [quarantine.ALL]
        with rt.db.reading() as session:
            held = quarantine.held_count(session, scope)
            items = quarantine.listing(session, scope, everything=everything)
        if json_:
            print_json({"held": held, "items": [dataclasses.asdict(item) for item in items]})
            return
        out.print(f"{held} item(s) held in the quarantine.", highlight=False)
        if not items:
            return
        table = Table("#", "Tenant", "Source", "Reference", "Reason", "Status", "When")
        for item in items:
            table.add_row(
                str(item.id),
                item.tenant_id,
                item.source,
                escape(item.reference),
                escape(item.reason),
                item.status,
                f"{item.created_at:%Y-%m-%d %H:%M}",
            )
        out.print(table)
        out.print(
            "`deskhand intake quarantine show ID` shows one with its content; `retry ID --as "
            "EMAIL` takes it again after a fix; `dismiss ID --as EMAIL` once handled by hand."
        )


@quarantine_app.command("show")
def quarantine_show(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's number.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Write the kept bytes, exactly as they came, to stdout.")
    ] = False,
) -> None:
    """Show one item: where it came from, why it was not taken, and its content."""
    from deskhand.domain.dates import readable
    from deskhand.intake import quarantine

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            item = _item(quarantine.get(session, item_id, [quarantine.ALL]), item_id)
            view, content = quarantine.view(item), quarantine.readable(item)
            kept = item.content
        if raw:
            sys.stdout.buffer.write(kept)
            return
        out.print(f"[bold]Quarantined item {view.id}[/] ({view.status})", highlight=False)
        for label, value in (
            ("Tenant", view.tenant_id),
            ("Source", view.source),
            ("Reference", view.reference),
            ("Reason", view.reason),
            ("When", readable(view.created_at)),
            (
                "Size",
                f"{view.size:,} bytes"
                + ("" if view.kept == view.size else f", {view.kept:,} kept"),
            ),
        ):
            out.print(f"{label}: {escape(value)}", highlight=False, soft_wrap=True)
        if view.resolved_by:
            ticket = f", ticket {view.ticket_id}" if view.ticket_id else ""
            out.print(
                f"Resolved: {view.status} by {escape(view.resolved_by)}{ticket}", highlight=False
            )
        out.print("--- content (as text; --raw gives the bytes) ---")
        out.print(escape(content), highlight=False, soft_wrap=True)


@quarantine_app.command("retry")
def quarantine_retry(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's number.")],
    as_: Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")],
) -> None:
    """Take a held item again (after a fix): it becomes a ticket, or stays held with the reason."""
    from deskhand.intake.retake import retake

    with user_errors():
        rt = open_runtime(ctx)
        by, scope = _acting(rt, as_)
        done = retake(rt, item_id, scope, by)
        if done.outcome == "held":
            out.print(f"Item {item_id} is still held: {escape(done.reason or '')}", highlight=False)
            raise typer.Exit(1)
        said = {
            "taken": f"is ticket {done.ticket_id} now",
            "known": f"was in deskhand already as ticket {done.ticket_id}",
            "answered": f"was given to ticket {done.ticket_id} as the requester's answer",
        }[done.outcome]
        out.print(f"Item {item_id} {said}.", highlight=False)


@quarantine_app.command("dismiss")
def quarantine_dismiss(
    ctx: typer.Context,
    item_id: Annotated[int, typer.Argument(metavar="ID", help="The item's number.")],
    as_: Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")],
) -> None:
    """Mark a held item handled by hand: it is kept, but no longer counted as waiting."""
    from deskhand.intake import quarantine

    with user_errors():
        rt = open_runtime(ctx)
        by, scope = _acting(rt, as_)
        with rt.db.session() as session:
            quarantine.dismiss(_item(quarantine.get(session, item_id, scope), item_id), by)
        out.print(f"Item {item_id} dismissed.")


def _acting(rt: "Runtime", email: str) -> tuple[str, list[str]]:
    """The user's address and tenants; a viewer may look but not take or dismiss, a disabled user
    not at all."""
    from sqlalchemy import select

    from deskhand.domain.roles import ROLES
    from deskhand.store.models import User

    with rt.db.reading() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or user.disabled_at is not None:
            raise InputError(
                f"No user {email}" + (" (disabled)." if user else "."),
                hint="`deskhand users list` shows the users.",
            )
        if ROLES.index(user.role) < ROLES.index("tech"):
            raise InputError(f"{user.email} is a {user.role}; this needs the tech role or above.")
        return user.email, list(user.tenants)


def _item(item: "Quarantined | None", item_id: int) -> "Quarantined":
    if item is None:
        raise InputError(
            f"There is no quarantined item {item_id}.",
            hint="`deskhand intake quarantine list` shows them.",
        )
    return item
