"""`deskhand intake`: reading tickets from the tenants' PSA now, instead of waiting for the
worker's next scheduled read."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from deskhand.cli.common import out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.engine.polling import PollReport, poll
from deskhand.errors import InputError
from deskhand.store.models import Tenant

intake_app = typer.Typer(help="Tickets coming in from the PSA.", no_args_is_help=True)


@intake_app.command("poll")
def intake_poll(
    ctx: typer.Context,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant (default: all).")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Read the tickets changed in Syncro since the last read; store the new ones."""
    with user_errors():
        rt = open_runtime(ctx)
        try:
            if tenant is not None:
                with rt.db.reading() as session:
                    if session.get(Tenant, tenant) is None:
                        raise InputError(
                            f"No tenant {tenant!r}.", hint="`deskhand tenants list` shows them."
                        )
            reports = poll(rt, tenant)
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
        out.print(f"{which} no Syncro PSA to read from (its connection file says `psa: kind`).")
        return
    for report in reports:
        reasons = Counter(why for _, why in report.skipped)
        out.print(
            f"[bold]{report.tenant_id}[/]: {len(report.new)} new, {len(report.updated)} updated, "
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
