"""The plan-level verbs of ``deskhand approvals``: a plan is every draft of one run of a ticket,
shown as one card and decided at once (``deskhand.engine.approvals.approve_plan``)."""

import textwrap
from typing import TYPE_CHECKING, Annotated

import typer

from deskhand.cli.common import out, print_json, user_errors
from deskhand.cli.runtime import open_runtime

if TYPE_CHECKING:
    from deskhand.engine.approvals import PlanView

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AsUser = Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")]
PlanId = Annotated[int, typer.Argument(metavar="PLAN", help="The plan's number (its run).")]


def plans(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option("--as", metavar="USER", help="Only plans of tenants this user may see."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many plans.", min=1)] = 50,
    json_: JsonOption = False,
) -> None:
    """Plans waiting for a decision, riskiest and then oldest first: one per ticket run."""
    from deskhand.engine import approvals, schedule

    with user_errors():
        rt = open_runtime(ctx)
        views = approvals.list_plans(rt, as_, limit=limit)
        if json_:
            print_json([v.model_dump(mode="json") for v in views])
            return
        if not views:
            out.print("No plans waiting.")
            return
        for view in views:
            _print_plan(view, brief=True, zone=schedule.tenant_time_zone(rt, view.tenant_id))


def plan(ctx: typer.Context, run_id: PlanId, json_: JsonOption = False) -> None:
    """One plan: the request, the requester check, every step, and the reply to the client."""
    from deskhand.engine import approvals, schedule

    with user_errors():
        rt = open_runtime(ctx)
        view = approvals.show_plan(rt, run_id)
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        _print_plan(view, brief=False, zone=schedule.tenant_time_zone(rt, view.tenant_id))


def approve_plan(
    ctx: typer.Context,
    run_id: PlanId,
    as_: AsUser,
    verified: Annotated[
        str,
        typer.Option(
            "--verified",
            metavar="HOW",
            help="How you verified the requester (e.g. 'called back 555-0100 on file'), once for "
            "the plan; needed when the plan says to verify the requester first.",
        ),
    ] = "",
    as_written: Annotated[
        bool,
        typer.Option(
            "--as-written",
            help="Approve even though a draft still mentions a value edited in another draft.",
        ),
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Approve every waiting draft of the plan as shown, in one decision. To change a step,
    edit its draft first (deskhand approvals approve ID --edit FILE)."""
    from deskhand.engine import approvals

    with user_errors():
        rt = open_runtime(ctx)
        view = approvals.approve_plan(
            rt, run_id, as_, verification=verified, acknowledge_stale=as_written
        )
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        approved = [s for s in view.steps if s.approval_status == "approved"]
        out.print(
            f"Plan {view.run_id} approved ({len(approved)} drafts); ticket {view.ticket_id} "
            "runs when a worker next looks for work."
        )


def reject_plan(
    ctx: typer.Context,
    run_id: PlanId,
    as_: AsUser,
    reason: Annotated[str, typer.Option(help="Why: it goes in the escalation and the trace.")],
) -> None:
    """Reject the plan: none of it runs and the ticket goes to the human queue."""
    from deskhand.engine import approvals

    with user_errors():
        rt = open_runtime(ctx)
        view = approvals.reject_plan(rt, run_id, as_, reason)
        out.print(f"Plan {view.run_id} rejected; ticket {view.ticket_id} is in the human queue.")


def leave_out(
    ctx: typer.Context,
    draft_id: Annotated[
        int, typer.Argument(metavar="DRAFT", help="The draft of the step that gives the group.")
    ],
    as_: AsUser,
    reason: Annotated[str, typer.Option(help="Why: it goes in the trace.")],
    json_: JsonOption = False,
) -> None:
    """Leave the group or licence a step of a waiting plan gives out of it: the plan closes
    unused and its ticket is planned again without it, a new plan to approve. `deskhand
    approvals plan PLAN` shows which steps can be left out, and their drafts."""
    from deskhand.engine.leave_out import leave_out as leave_it_out

    with user_errors():
        rt = open_runtime(ctx)
        done = leave_it_out(rt, draft_id, as_, reason)
        if json_:
            print_json(done.model_dump(mode="json"))
            return
        out.print(
            f"{done.names} left out of plan {done.run_id}. Ticket {done.ticket_id} is planned "
            f"again without it, as plan {done.new_run_id}: approve that plan once a worker has "
            "made it (deskhand approvals plans).",
            markup=False,
            highlight=False,
        )


def undo_plan(ctx: typer.Context, run_id: PlanId, as_: AsUser, json_: JsonOption = False) -> None:
    """Propose undoing a finished plan: a new plan of its ticket that puts back what the plan
    changed, step by step from what each step kept before it acted, last done first undone.
    Nothing runs until it is approved like any plan; what deskhand cannot undo is listed for a
    technician."""
    from deskhand.engine import approvals, schedule
    from deskhand.engine.undo import propose_undo

    with user_errors():
        rt = open_runtime(ctx)
        undo = propose_undo(rt, run_id, as_)
        view = approvals.show_plan(rt, undo, as_)
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        out.print(
            f"Plan {undo} undoes plan {run_id}: approve it like any plan "
            f"(deskhand approvals approve-plan {undo} --as USER).",
            highlight=False,
        )
        _print_plan(view, brief=False, zone=schedule.tenant_time_zone(rt, view.tenant_id))


def _print_plan(view: "PlanView", *, brief: bool, zone: str) -> None:
    """A plan at the terminal's width: a head line, the request, then one line per step in
    words, each wrapped under its own indent; when it runs, in the tenant's time ``zone``."""
    from deskhand.domain.dates import readable
    from deskhand.engine import schedule

    waiting = len(view.pending)
    expires = f" · expires {readable(view.expires_at)}" if view.expires_at else ""
    out.print(
        f"[bold]Plan {view.run_id}[/]  ticket {view.ticket_id} · {view.tenant_id} · "
        f"{waiting} to decide{expires}",
        highlight=False,
    )
    request = " ".join(view.excerpt.split())
    _say(f"From {view.requester}: {request[:200] if brief else request}", "  ", "    ")
    if view.verify_first:
        detail = view.requester_check.get("detail") or "the ticket shows warning signs"
        _say(f"Verify the requester first: {detail}", "  ! ", "    ")
    runs_at = schedule.plan_runs_at(view)
    if view.pending and view.not_before is not None:
        _say(
            f"Scheduled: nothing runs before {schedule.local_words(view.not_before, zone)}; "
            "approving now approves it ahead.",
            "  ",
            "    ",
        )
    elif runs_at is not None:
        _say(f"{schedule.approved_words(runs_at, zone)}, not before.", "  ", "    ")
    for step in view.steps:
        state = "waiting" if step.approval_status == "pending" else step.status
        if step.decision == "auto":
            state = f"automatic, {step.status}"
        radius = step.blast_radius.replace("_", " ")
        after = view.waits_for.get(step.position)
        waits = f"; after {_steps(after)}" if after else ""
        trim = ""
        if step.gives and step.approval_status == "pending" and not brief:
            trim = f"; to leave it out: deskhand approvals leave-out {step.approval_id}"
        _say(
            f"{step.description} ({radius}; {state}{waits}{trim})",
            f"  {step.position}. ",
            "     ",
        )
    if view.left:
        _say("Left for a technician (deskhand does not do these):", "  ", "  ")
        for words in view.left:
            _say(words, "  - ", "    ")
    if view.reply and not brief:
        _say("The client will be told:", "  ", "  ")
        for line in view.reply.splitlines():
            _say(line, "    ", "    ")
    out.print("")


def _steps(positions: list[int]) -> str:
    """ "step 1", "steps 5, 6 and 7"."""
    if len(positions) == 1:
        return f"step {positions[0]}"
    return f"steps {', '.join(map(str, positions[:-1]))} and {positions[-1]}"


def _say(text: str, first: str, rest: str) -> None:
    """``text`` wrapped to the terminal, as text (never markup: it holds ticket words)."""
    width = max(40, out.width)
    lines = textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest) or [first]
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
