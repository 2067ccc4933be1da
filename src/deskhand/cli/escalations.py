"""``deskhand escalations``: the human queue, worked to the end from the command line — list
(oldest first, with filters), show, take, assign, note, resolve and resume
(``deskhand.engine.escalation_work``)."""

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from deskhand.cli.common import group, out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import UsageError

if TYPE_CHECKING:
    from deskhand.engine.escalation_work import EscalationView

escalations_app = group("The human queue: tickets deskhand stopped on, worked to the end.")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AsUser = Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")]
EscalationId = Annotated[int, typer.Argument(metavar="ID", help="The escalation's number.")]
AGE = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


@escalations_app.command("list")
def escalations_list(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option("--as", metavar="USER", help="Only escalations of tenants this user may see."),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's (its id).")] = None,
    reason: Annotated[
        str | None, typer.Option(help="Only this reason (e.g. identity_unverified).")
    ] = None,
    assignee: Annotated[
        str | None,
        typer.Option(help="Only those this user works (e-mail); 'nobody' for those not taken."),
    ] = None,
    older_than: Annotated[
        str | None, typer.Option("--older-than", metavar="AGE", help="e.g. 2d, 4h, 30m.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Closed ones too.")] = False,
    closed: Annotated[bool, typer.Option("--closed", help="Only closed ones.")] = False,
    json_: JsonOption = False,
) -> None:
    """Tickets in the human queue, oldest first, with why deskhand stopped."""
    from deskhand.domain.dates import readable
    from deskhand.engine import escalation_work as work

    with user_errors():
        rt = open_runtime(ctx)
        scope = work.scope(rt, as_) if as_ is not None else None
        where = work.EscalationFilter(
            tenants=scope,
            status="closed" if closed else None if all_ else "open",
            tenant=tenant,
            reason=reason,
            assignee=assignee,
            older_than=_age(older_than) if older_than else None,
        )
        views = work.list_escalations(rt, where)
        if json_:
            print_json([v.model_dump(mode="json") for v in views])
            return
        if not views:
            out.print("The human queue is empty." if not (all_ or closed) else "No escalations.")
            return
        # Two lines each rather than a table: the reason must never be squeezed out.
        for v in views:
            who = f"worked by {v.assignee}" if v.assignee else "not taken"
            state = v.status if v.closed_as is None else v.closed_as
            out.print(
                f"[bold]#{v.id}[/]  {escape(v.tenant_name)} · ticket {v.ticket_id} · "
                f"{state} · {who} · since {readable(v.created_at)}",
                highlight=False,
            )
            out.print(f"     {escape(v.subject)}: {escape(v.reason_text)}", highlight=False)


@escalations_app.command("show")
def escalations_show(
    ctx: typer.Context, escalation_id: EscalationId, as_: AsUser, json_: JsonOption = False
) -> None:
    """Everything about one escalation: the ticket, why it stopped, who works it, the notes."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        rt = open_runtime(ctx)
        view = work.show(rt, escalation_id, as_)
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        _print(view)


@escalations_app.command("take")
def escalations_take(
    ctx: typer.Context, escalation_id: EscalationId, as_: AsUser, json_: JsonOption = False
) -> None:
    """Take the escalation: you work it from now on."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        view = work.take(open_runtime(ctx), escalation_id, as_)
        _done(view, json_, f"Escalation {view.id} is yours now.")


@escalations_app.command("assign")
def escalations_assign(
    ctx: typer.Context,
    escalation_id: EscalationId,
    colleague: Annotated[
        str, typer.Argument(metavar="COLLEAGUE", help="Their deskhand user (e-mail).")
    ],
    as_: AsUser,
    json_: JsonOption = False,
) -> None:
    """Give the escalation to a colleague who may work its tenant."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        view = work.assign(open_runtime(ctx), escalation_id, as_, colleague)
        _done(view, json_, f"Escalation {view.id} is {view.assignee}'s now.")


@escalations_app.command("note")
def escalations_note(
    ctx: typer.Context,
    escalation_id: EscalationId,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The note, in a few words.")],
    as_: AsUser,
    json_: JsonOption = False,
) -> None:
    """Add a note: kept in deskhand and written on the PSA ticket as an internal note."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        view = work.note(open_runtime(ctx), escalation_id, as_, text)
        last = view.notes[-1]
        where = (
            "and written on the PSA ticket."
            if last.in_psa
            else f"here only: the PSA refused it ({last.psa_error})."
        )
        _done(view, json_, f"Note kept {where}")


@escalations_app.command("resolve")
def escalations_resolve(
    ctx: typer.Context,
    escalation_id: EscalationId,
    resolution: Annotated[str, typer.Argument(metavar="RESOLUTION", help="What you did.")],
    as_: AsUser,
    json_: JsonOption = False,
) -> None:
    """Close the escalation with what you did; the ticket is resolved."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        view = work.resolve(open_runtime(ctx), escalation_id, as_, resolution)
        _done(view, json_, f"Escalation {view.id} resolved; ticket {view.ticket_id} is closed.")


@escalations_app.command("resume")
def escalations_resume(
    ctx: typer.Context,
    escalation_id: EscalationId,
    as_: AsUser,
    verified: Annotated[
        str,
        typer.Option(
            "--verified",
            metavar="HOW",
            help="How you verified the requester (e.g. 'called back 555-0100 on file').",
        ),
    ] = "",
    json_: JsonOption = False,
) -> None:
    """You fixed the cause: deskhand triages and plans the ticket again, with fresh drafts."""
    from deskhand.engine import escalation_work as work

    with user_errors():
        view = work.resume(open_runtime(ctx), escalation_id, as_, verified)
        _done(
            view,
            json_,
            f"Ticket {view.ticket_id} is queued again; its new drafts appear in "
            "`deskhand approvals list` once a worker has planned it.",
        )


def _age(text: str) -> timedelta:
    found = AGE.match(text)
    if found is None:
        raise UsageError(
            f"--older-than {text!r} is not an age.", hint="Write a number and d, h or m: 2d."
        )
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def _done(view: "EscalationView", json_: bool, said: str) -> None:
    if json_:
        print_json(view.model_dump(mode="json"))
    else:
        out.print(said, highlight=False)


def _print(v: "EscalationView") -> None:
    from deskhand.domain.dates import readable

    out.print(f"[bold]Escalation {v.id}[/] · {escape(v.tenant_name)}", highlight=False)
    out.print(
        f"Ticket {v.ticket_id} (PSA {escape(v.psa_ticket_id)}): {escape(v.subject)}",
        highlight=False,
    )
    out.print(f"From: {escape(v.requester)}", highlight=False)
    out.print(f"Why: {escape(v.reason_text)}.", highlight=False)
    out.print(f"     {escape(v.detail)}", highlight=False)
    out.print(f"Since: {readable(v.created_at)}", highlight=False)
    out.print(f"Worked by: {escape(v.assignee or 'nobody yet')}", highlight=False)
    if v.closed_as is not None and v.closed_at is not None:
        out.print(
            f"{v.closed_as.capitalize()} by {escape(v.closed_by or '?')} on "
            f"{readable(v.closed_at)}",
            highlight=False,
        )
    if v.resolution:
        out.print(f"Resolution: {escape(v.resolution)}", highlight=False)
    if v.verification:
        out.print(f"Requester verified: {escape(v.verification)}", highlight=False)
    for n in v.notes:
        psa = "" if n.in_psa else f" (not on the PSA ticket: {escape(n.psa_error or '')})"
        out.print(f"Note by {escape(n.author)}, {n.created_at:%d %b %H:%M}{psa}:", highlight=False)
        out.print(f"     {escape(n.text)}", highlight=False)
