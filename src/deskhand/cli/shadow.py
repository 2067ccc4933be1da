"""`deskhand tenants live | shadow` and `deskhand tickets worked`: shadow mode on the command
line (deskhand.engine.shadow)."""

from typing import Annotated

import typer

from deskhand.cli.common import out, user_errors
from deskhand.cli.runtime import open_runtime

AsUser = Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")]
Reason = Annotated[str, typer.Option(help="Why: it goes in the log beside the change.")]
Specialist = Annotated[
    str | None,
    typer.Option(help="Only this specialist within the tenant (e.g. password_reset)."),
]
TenantId = Annotated[str, typer.Argument(help="The tenant id.")]


def live(
    ctx: typer.Context,
    tenant: TenantId,
    as_: AsUser,
    reason: Reason,
    specialist: Specialist = None,
) -> None:
    """Move a tenant (or one specialist in it) to live: its plans go to the approval queue.
    Admins only; recorded with the shadow record behind it."""
    _set(ctx, tenant, "live", as_, reason, specialist)


def shadow(
    ctx: typer.Context,
    tenant: TenantId,
    as_: AsUser,
    reason: Reason,
    specialist: Specialist = None,
) -> None:
    """Move a tenant (or one specialist in it) to shadow: plans are recorded and compared with
    what the technicians do, nothing is drafted or run. Admins only."""
    _set(ctx, tenant, "shadow", as_, reason, specialist)


def _set(
    ctx: typer.Context, tenant: str, mode: str, email: str, reason: str, specialist: str | None
) -> None:
    from deskhand.engine import shadow as shadow_mode

    with user_errors():
        rt = open_runtime(ctx)
        changed = shadow_mode.set_mode(rt, tenant, mode, email, reason, specialist)
        who = f"{specialist} for {tenant}" if specialist else tenant
        record = shadow_mode.ShadowRecord(changed.compared, changed.matched).words()
        out.print(f"{who} is now {mode} (was {changed.old}); {record}.", highlight=False)


def worked(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(metavar="TICKET")],
    as_: AsUser,
) -> None:
    """Say you worked a ticket deskhand left to the technicians (shadow mode) by hand: it is
    resolved and deskhand reads back whether its own plan would have matched."""
    from deskhand.engine import shadow as shadow_mode

    with user_errors():
        rt = open_runtime(ctx)
        compared = shadow_mode.worked(rt, ticket_id, as_)
        out.print(
            f"Ticket {ticket_id} resolved. deskhand's shadow plan: {compared.outcome}.",
            highlight=False,
        )
        for step in compared.steps:
            out.print(
                f"  {step['position']}. {step['description']} — {step['outcome']}",
                highlight=False,
                markup=False,
            )
