"""Commands a technician uses at the desk: tenants, users, tickets, drafts."""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from deskhand.cli.common import group, out, print_json, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import InputError

if TYPE_CHECKING:
    from deskhand import accounts
    from deskhand.domain.events import Actor
    from deskhand.engine import approvals as drafts
    from deskhand.policy.lifecycle_words import LifecycleWords
    from deskhand.tenants import ownership

tenants_app = group("The MSP's client tenants.")
users_app = group("The MSP's people who use deskhand.")
tickets_app = group("Tickets.")
approvals_app = group("Drafts waiting for a human, and decisions.")
tokens_app = group("API tokens for automation.")

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AsUser = Annotated[str, typer.Option("--as", metavar="USER", help="Your deskhand user (e-mail).")]


@tenants_app.command("list")
def tenants_list(ctx: typer.Context, json_: JsonOption = False) -> None:
    """List the tenants."""
    from sqlalchemy import select

    from deskhand.store.models import Tenant

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "name": t.name,
                    "psa_customer_id": t.psa_customer_id,
                    "domains": t.domains,
                    "connector": t.connector,
                    "policy": t.policy_path or "built-in",
                    "mode": t.mode,
                    "specialist_modes": t.specialist_modes or {},
                }
                for t in session.scalars(select(Tenant).order_by(Tenant.id))
            ]
        if json_:
            print_json(rows)
            return
        table = Table("Tenant", "Name", "PSA customer", "Domains", "Connector", "Policy", "Mode")
        for row in rows:
            table.add_row(
                row["id"],
                row["name"],
                row["psa_customer_id"],
                ", ".join(row["domains"]),
                row["connector"],
                row["policy"],
                _mode_words(row["mode"], row["specialist_modes"]),
            )
        out.print(table if rows else "No tenants yet: run `deskhand demo --no-serve`.")


def _mode_words(mode: str, specialists: dict[str, str]) -> str:
    """live, or shadow, with the specialists that differ: "live (onboarding: shadow)"."""
    others = ", ".join(f"{name}: {m}" for name, m in sorted(specialists.items()) if m != mode)
    return f"{mode} ({others})" if others else mode


@tenants_app.command("policy")
def tenants_policy(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant id.")],
    path: Annotated[
        Path | None, typer.Argument(help="A policy YAML file; leave out to show the current one.")
    ] = None,
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Go back to the built-in policy.")
    ] = False,
    as_: Annotated[
        str | None,
        typer.Option(
            "--as", metavar="USER", help="Your deskhand user (e-mail): you own the policy."
        ),
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Why the policy changes, for whoever reads it later.")
    ] = "",
) -> None:
    """Show a tenant's policy, or give it a policy file (checked before it is used). A change
    is recorded with who made it (--as), the file's hash and why (--reason)."""
    from deskhand import accounts
    from deskhand.actions import catalogue
    from deskhand.domain.events import Actor, ActorKind
    from deskhand.plugins import installed
    from deskhand.policy import replies
    from deskhand.policy.effective import action_decisions
    from deskhand.policy.lifecycle_words import lifecycle_words
    from deskhand.policy.tenant_policy import load_policy
    from deskhand.store.models import Tenant
    from deskhand.tenants import ownership

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            row = session.get(Tenant, tenant)
            if row is None:
                raise InputError(
                    f"No tenant {tenant!r}.", hint="`deskhand tenants list` shows them."
                )
            changing = path is not None or builtin
            if changing:
                chosen = None if builtin else str(path.resolve()) if path else None
                load_policy(Path(chosen) if chosen else None, installed())  # refuses a bad file
                actor = operator()
                if as_ is not None:
                    actor = Actor(ActorKind.USER, accounts.find_user(session, as_).email)
                row.policy_path = chosen
                ownership.record_policy(session, tenant, actor, chosen, reason)
            policy = rt.policy(row)
            change = ownership.last_changes(session, [tenant]).get(tenant)
        out.print(f"{row.name}: {row.policy_path or 'built-in policy'}")
        _print_owner(change)
        if changing and as_ is None:
            out.print(
                "Nobody owns this policy now: pass --as YOU and --reason next time, or run "
                f"`deskhand tenants owner {tenant} --as YOU`.",
                highlight=False,
            )
        for radius, rule in policy.blast_radius.items():
            out.print(f"  blast radius {radius.value}: {rule.decision.value}")
        for name, rule in policy.actions.items():
            out.print(f"  action {name}: {rule.decision.value}")
        out.print(
            f"  approvers: {', '.join(sorted(policy.approvers))}; drafts expire after "
            f"{policy.approval_expiry_hours:g} h"
        )
        if policy.time_entries is None:
            out.print("  No technician time is logged on the PSA ticket (no time_entries).")
        else:
            out.print(f"  {policy.time_entries.describe()}", highlight=False, soft_wrap=True)
        out.print("Effective decision per action:")
        for decided in action_decisions(policy, catalogue()):
            when = f" ({decided.condition})" if decided.condition else ""
            out.print(
                f"  {decided.action}{when}: [bold]{decided.decision.value}[/] — "
                f"{decided.explanation}",
                highlight=False,
                soft_wrap=True,
            )
        if policy.reply_template == replies.DEFAULT:
            out.print("Replies to the client: the built-in frame (no reply_template).")
        else:
            out.print("Replies to the client are framed by this reply_template:")
            out.print(Text(policy.reply_template), soft_wrap=True)
        _print_lifecycle(lifecycle_words(policy))


def _print_owner(change: "ownership.Change | None") -> None:
    """Who last changed the policy, when and why, and a warning when they are gone."""
    if change is None:
        out.print("No change of this policy is recorded (no owner).", highlight=False)
        return
    out.print(change.sentence(), highlight=False, soft_wrap=True)
    warning = change.warning()
    if warning:
        out.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)


@tenants_app.command("owner")
def tenants_owner(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Argument(help="The tenant id.")],
    as_: AsUser,
    reason: Annotated[str, typer.Option(help="Why you take it over.")] = "",
) -> None:
    """Become the owner of a tenant's policy: the person who can explain it (recorded)."""
    from deskhand import accounts
    from deskhand.store.models import Tenant
    from deskhand.tenants import ownership

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            if session.get(Tenant, tenant) is None:
                raise InputError(
                    f"No tenant {tenant!r}.", hint="`deskhand tenants list` shows them."
                )
            user = accounts.find_user(session, as_)
            if user.disabled_at is not None:
                raise InputError(
                    f"The account {user.email} is disabled and cannot own a policy.",
                    hint="Pass your own, active deskhand user with --as.",
                )
            before = ownership.take_over(session, tenant, user, reason)
            email = user.email
        previous = f" (before: {before.owner})" if before else ""
        out.print(f"{email} now owns the policy of {tenant}{previous}.", highlight=False)


def _print_lifecycle(words: "LifecycleWords") -> None:
    """The time zone and lifecycle templates, wrapped to the terminal under their indents."""
    out.print(f"Time zone: {words.time_zone}", highlight=False)
    leaver = words.offboarding
    _wrapped("A leaver's offboarding here runs " + leaver.when)
    _wrapped(leaver.takes_over, indent="  ")
    for number, step in enumerate(leaver.steps, start=1):
        text = step.words
        if step.synced_only:
            text = f"For a leaver synced from AD: {text[0].lower()}{text[1:]}"
        if step.condition:
            text += f" ({step.condition})"
        _wrapped(text, indent=f"{number:4}. ")
    if leaver.not_done:
        out.print("Not done here:")
        for line in leaver.not_done:
            _wrapped(line, indent="  ")
    _wrapped(f"A starter's first day begins at {words.start_at} ({words.time_zone}).")
    _wrapped(f"Usage location: {words.usage_location}.", indent="  ")
    if not words.roles:
        _wrapped("No starter roles: a technician says what each starter gets.", indent="  ")
    for role in words.roles:
        parts = [f"licences {role.licences}", f"groups {role.groups}"]
        parts += [f"AD groups {role.ad_groups}"] if role.ad_groups else []
        parts += [f"created in {role.ou}"] if role.ou else []
        _wrapped(f"Role {role.name}: " + "; ".join(parts) + ".", indent="  ")
    if not words.vendors:
        out.print("Vendor checklist: none.")
        return
    out.print("Vendor checklist (manual steps a technician ticks off):")
    for vendor in words.vendors:
        _wrapped(f"{vendor.system}", indent="  ")
        _wrapped(f"Leaver: {vendor.leaver or 'nothing to do'}", indent="    ")
        _wrapped(f"Starter: {vendor.starter or 'nothing to do'}", indent="    ")


def _wrapped(text: str, *, indent: str = "") -> None:
    """``text`` after ``indent``, wrapped to the terminal; wrapped lines line up under it."""
    import textwrap

    lines = textwrap.wrap(
        text,
        width=max(out.width, 40),
        initial_indent=indent,
        subsequent_indent=" " * len(indent),
        break_on_hyphens=False,
    )
    out.print(Text("\n".join(lines)), soft_wrap=True)


@users_app.command("list")
def users_list(ctx: typer.Context, json_: JsonOption = False) -> None:
    """List the users, their roles, the tenants they may see, and who is disabled."""
    from sqlalchemy import select

    from deskhand.store.models import User

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            rows: list[dict[str, Any]] = [
                {
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "tenants": u.tenants,
                    "disabled": u.disabled_at is not None,
                }
                for u in session.scalars(select(User).order_by(User.email))
            ]
        if json_:
            print_json(rows)
            return
        table = Table("User", "Name", "Role", "Tenants", "State")
        for row in rows:
            tenants = "all" if "*" in row["tenants"] else ", ".join(row["tenants"])
            state = "disabled" if row["disabled"] else "active"
            table.add_row(row["email"], row["name"], row["role"], tenants, state)
        out.print(table)


Email = Annotated[str, typer.Argument(help="The user's e-mail address.")]
Role = Annotated[str, typer.Option(help="viewer, tech, approver or admin.")]
Tenants = Annotated[str, typer.Option(help="Comma-separated tenant ids, or * for all.")]


def operator() -> "Actor":
    """Who changes accounts on the command line, as the event log names them: the login name
    on this machine (the CLI has no deskhand sign-in)."""
    import getpass

    from deskhand.domain.events import Actor, ActorKind

    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container without /etc/passwd)
        login = "unknown"
    return Actor(ActorKind.SYSTEM, f"cli:{login}")


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    email: Email,
    role: Role,
    tenants: Tenants,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None,
        typer.Option(help="Their password (12+ characters); leave out to generate one."),
    ] = None,
) -> None:
    """Add a user with a role, a tenant scope and a password (printed once if generated)."""
    from deskhand import accounts
    from deskhand.domain.roles import ROLES

    with user_errors():
        if role not in ROLES:
            raise InputError(f"Unknown role {role!r}.", hint=f"Roles: {', '.join(ROLES)}.")
        rt = open_runtime(ctx)
        chosen = password or accounts.generate_password()
        with rt.db.session() as session:
            scope = accounts.tenant_scope(session, tenants)
            user = accounts.add_user(
                session,
                email,
                name=name,
                role=role,
                tenants=scope,
                password=chosen,
                actor=operator(),
            )
            address = user.email
        out.print(f"Added {address} ({role}, tenants: {', '.join(scope)}).")
        if password is None:
            out.print(f"Password (shown once): [bold]{chosen}[/]")


@users_app.command("password")
def users_password(
    ctx: typer.Context,
    email: Email,
    password: Annotated[
        str | None, typer.Option(help="The new password; leave out to generate one.")
    ] = None,
) -> None:
    """Set a user's password: they are signed out everywhere and their API tokens revoked."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        chosen = password or accounts.generate_password()
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            ended = accounts.change_password(session, user, chosen, operator())
            address = user.email
        out.print(f"Password of {address} changed; {_ended(ended)}.")
        if password is None:
            out.print(f"New password (shown once): [bold]{chosen}[/]")


@users_app.command("disable")
def users_disable(ctx: typer.Context, email: Email) -> None:
    """Disable a user: no sign-in, their sessions end and their API tokens are revoked."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            ended = accounts.disable_user(session, user, operator())
            address = user.email
        out.print(f"{address} is disabled; {_ended(ended)}.")
        out.print(f"`deskhand users enable {address}` lets them sign in again.")


@users_app.command("enable")
def users_enable(ctx: typer.Context, email: Email) -> None:
    """Let a disabled user sign in again (their old API tokens stay revoked)."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            accounts.enable_user(session, user, operator())
            address = user.email
        out.print(f"{address} may sign in again; tokens revoked before stay revoked.")


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    email: Email,
    role: Annotated[str, typer.Argument(help="viewer, tech, approver or admin.")],
) -> None:
    """Change a user's role; it applies from their next request."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            before = user.role
            accounts.set_role(session, user, role, operator())
            address = user.email
        out.print(f"{address}: role {before} → {role}.")


@users_app.command("set-tenants")
def users_set_tenants(
    ctx: typer.Context,
    email: Email,
    tenants: Annotated[str, typer.Argument(help="Comma-separated tenant ids, or * for all.")],
) -> None:
    """Change the tenants a user may see; it applies from their next request."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            scope = accounts.tenant_scope(session, tenants)
            accounts.set_tenants(session, user, scope, operator())
            address = user.email
        out.print(f"{address} now sees: {'all tenants' if scope == ['*'] else ', '.join(scope)}.")


@users_app.command("remove")
def users_remove(ctx: typer.Context, email: Email) -> None:
    """Remove a user who has no history; one who decided drafts (or appears in the event log)
    can only be disabled, so that the audit history keeps pointing at them."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            user = accounts.find_user(session, email)
            address = user.email
            accounts.remove_user(session, user, operator())
        out.print(f"{address} removed.")


def _ended(ended: "accounts.Ended") -> str:
    sessions = f"{ended.sessions} browser session{'s' * (ended.sessions != 1)} ended"
    return f"{sessions}, {ended.tokens} API token{'s' * (ended.tokens != 1)} revoked"


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    as_: AsUser,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. the script's name.")],
) -> None:
    """Create an API token acting as a user (same role and tenants); printed once."""
    from deskhand import accounts

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            token = accounts.create_token(session, accounts.find_user(session, as_), name)
        print(token)


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, json_: JsonOption = False) -> None:
    """List API tokens (their first characters only)."""
    from sqlalchemy import select

    from deskhand.store.models import ApiToken

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "user": t.user.email,
                    "name": t.name,
                    "prefix": t.prefix,
                    "created_at": t.created_at.isoformat(),
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                    "revoked": t.revoked_at is not None,
                }
                for t in session.scalars(select(ApiToken).order_by(ApiToken.id))
            ]
        if json_:
            print_json(rows)
            return
        for row in rows:
            state = "revoked" if row["revoked"] else f"last used {row['last_used_at'] or 'never'}"
            out.print(f"#{row['id']} {row['prefix']}… {row['name']} — {row['user']}, {state}")


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context, token_id: Annotated[int, typer.Argument(metavar="ID")]
) -> None:
    """Revoke an API token: calls with it are refused from now on."""
    from deskhand.store.models import ApiToken, now

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            token = session.get(ApiToken, token_id)
            if token is None:
                raise InputError(f"No token {token_id}.")
            token.revoked_at = now()
        out.print(f"Token #{token_id} revoked.")


@tickets_app.command("add")
def tickets_add(
    ctx: typer.Context,
    tenant: Annotated[str, typer.Option(help="The tenant the ticket is for.")],
    from_: Annotated[str, typer.Option("--from", help="The requester's e-mail address.")],
    subject: Annotated[str, typer.Option(help="The ticket's subject.")],
    body: Annotated[str, typer.Option(help="The ticket's text.")] = "",
    name: Annotated[str, typer.Option(help="The requester's name.")] = "",
) -> None:
    """Open a ticket in the tenant's PSA and queue it; prints the ticket id."""
    from deskhand.intake.arrival import add_ticket

    with user_errors():
        rt = open_runtime(ctx)
        received = add_ticket(rt, tenant, from_, subject, body, name)
        print(received.ticket_id)


@tickets_app.command("reply")
def tickets_reply(
    ctx: typer.Context,
    ticket_id: Annotated[int, typer.Argument(metavar="TICKET", help="deskhand's ticket id.")],
    from_: Annotated[str, typer.Option("--from", help="Who answered (e-mail address).")],
    body: Annotated[str, typer.Option(help="The answer's text.")],
    json_: JsonOption = False,
) -> None:
    """Give the answer to a ticket waiting on its requester: the requester's answer queues it
    again; anyone else's escalates it for a person to read."""
    from dataclasses import asdict

    from deskhand.intake.answers import receive_reply

    with user_errors():
        rt = open_runtime(ctx)
        outcome = receive_reply(rt, ticket_id, from_, body)
        if json_:
            print_json(asdict(outcome))
            return
        if outcome.requeued:
            out.print(f"Ticket {ticket_id} is queued again with the answer (run {outcome.run_id}).")
        else:
            out.print(
                f"The answer is not from the requester: ticket {ticket_id} is in the human "
                f"queue (escalation {outcome.escalation_id})."
            )


@tickets_app.command("list")
def tickets_list(ctx: typer.Context, json_: JsonOption = False) -> None:
    """List tickets with their status."""
    from sqlalchemy import select

    from deskhand.engine import schedule
    from deskhand.store.models import Tenant, Ticket

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            zones = {t.id: schedule.time_zone(rt, t) for t in session.scalars(select(Tenant))}
            rows: list[dict[str, Any]] = []
            for t in session.scalars(select(Ticket).order_by(Ticket.id)):
                due = schedule.ticket_runs_at(t)
                rows.append(
                    {
                        "id": t.id,
                        "tenant_id": t.tenant_id,
                        "psa_ticket_id": t.psa_ticket_id,
                        "requester": t.requester.email,
                        "subject": t.subject,
                        "status": t.status,
                        # approved ahead: nothing runs before this moment (ISO 8601)
                        "runs_at": due.isoformat() if due is not None else None,
                        "status_words": schedule.ticket_words(t, zones[t.tenant_id]),
                    }
                )
        if json_:
            print_json(rows)
            return
        table = Table("#", "Tenant", "Requester", "Subject", "Status")
        for row in rows:
            table.add_row(
                str(row["id"]),
                row["tenant_id"],
                escape(row["requester"]),
                escape(row["subject"]),
                row["status_words"],
            )
        out.print(table)


@approvals_app.command("list")
def approvals_list(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option("--as", metavar="USER", help="Only drafts of tenants this user may see."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Decided drafts too.")] = False,
    json_: JsonOption = False,
) -> None:
    """Drafts waiting for approval, riskiest and then oldest first (one line each; `approvals
    plans` shows them grouped by plan)."""
    from deskhand.domain.dates import readable
    from deskhand.engine import approvals as drafts

    with user_errors():
        rt = open_runtime(ctx)
        views = drafts.list_drafts(rt, as_, status=None if all_ else "pending")
        if json_:
            print_json([v.model_dump(mode="json") for v in views])
            return
        if not views:
            out.print("No drafts waiting." if not all_ else "No drafts.")
            return
        # Two lines per draft rather than a table: what would run must never be squeezed out.
        for v in views:
            out.print(
                f"[bold]#{v.id}[/]  ticket {v.ticket_id} · {v.tenant_id} · "
                f"[bold]{v.blast_radius.replace('_', ' ')}[/] · {v.status} · expires "
                f"{readable(v.expires_at)}"
            )
            out.print(f"     {escape(v.description)}", highlight=False)


@approvals_app.command("show")
def approvals_show(
    ctx: typer.Context,
    draft_id: Annotated[int, typer.Argument(metavar="ID")],
    json_: JsonOption = False,
) -> None:
    """Everything about one draft: what would run, to whom, why, and the ticket."""
    from deskhand.engine import approvals as drafts

    with user_errors():
        rt = open_runtime(ctx)
        view = drafts.show(rt, draft_id)
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        _print_draft(view)


@approvals_app.command("approve")
def approvals_approve(
    ctx: typer.Context,
    draft_id: Annotated[int, typer.Argument(metavar="ID")],
    as_: AsUser,
    edit: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="A YAML or JSON file of parameters to change before approving."
        ),
    ] = None,
    as_written: Annotated[
        bool,
        typer.Option(
            "--as-written",
            help="Approve even though the draft still mentions a value that was edited in "
            "another draft of the same plan.",
        ),
    ] = False,
    verified: Annotated[
        str,
        typer.Option(
            "--verified",
            metavar="HOW",
            help="How you verified the requester (e.g. 'called back 555-0100 on file'); needed "
            "for a security draft whose requester check says needs_verification.",
        ),
    ] = "",
    approve_as: Annotated[
        str | None,
        typer.Option(
            "--approve-as",
            metavar="RADIUS",
            help="The blast radius you accept when your edit raises it or changes the requester "
            "check (the refusal names it, e.g. security).",
        ),
    ] = None,
    json_: JsonOption = False,
) -> None:
    """Approve a draft exactly as shown (or as edited); its plan runs once all its drafts are
    decided (`approvals approve-plan` decides them at once). An edit is planned again: names
    come from the directory, the rest of the plan follows it."""
    from deskhand.actions import action
    from deskhand.engine import approvals as drafts

    with user_errors():
        rt = open_runtime(ctx)
        changes = _read_edit(edit) if edit is not None else None
        view = drafts.approve(
            rt,
            draft_id,
            as_,
            changes,
            acknowledge_stale=as_written,
            verification=verified,
            approve_as=approve_as,
        )
        if json_:
            print_json(view.model_dump(mode="json"))
            return
        changed = action(view.action).edited(view.changes)
        edited = f", with an edit of {changed}" if changed else ""
        out.print(
            f"Draft {view.id} approved by {view.decided_by}{edited}; bound to sha256 "
            f"{(view.payload_hash or '')[:16]}…"
        )


@approvals_app.command("reject")
def approvals_reject(
    ctx: typer.Context,
    draft_id: Annotated[int, typer.Argument(metavar="ID")],
    as_: AsUser,
    reason: Annotated[str, typer.Option(help="Why: it goes in the escalation and the trace.")],
) -> None:
    """Reject a draft: nothing in its plan runs and the ticket goes to the human queue."""
    from deskhand.engine import approvals as drafts

    with user_errors():
        rt = open_runtime(ctx)
        view = drafts.reject(rt, draft_id, as_, reason)
        out.print(f"Draft {view.id} rejected; ticket {view.ticket_id} is in the human queue.")


@approvals_app.command("secret")
def approvals_secret(
    ctx: typer.Context, draft_id: Annotated[int, typer.Argument(metavar="ID")], as_: AsUser
) -> None:
    """Show the temporary password a verified reset set — once; it is erased as it is shown."""
    from deskhand.engine import approvals as drafts

    with user_errors():
        rt = open_runtime(ctx)
        value = drafts.reveal_secret(rt, draft_id, as_)
        out.print(f"Temporary password (shown once, give it by phone): [bold]{value}[/]")


def _read_edit(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"Cannot read {path}: {error.strerror}.") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{path} is not valid YAML or JSON: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} must hold a mapping of parameter names to new values.")
    return data


def _print_draft(view: "drafts.DraftView") -> None:
    from deskhand.domain.dates import readable

    # Descriptions, reasons and parameters carry ticket text: printed as text, not markup.
    lines = [
        f"[bold]{escape(view.description)}[/]",
        f"Tenant {view.tenant_id} · ticket {view.ticket_id} (PSA {view.psa_ticket_id}) · "
        f"step {view.step_position} of run {view.run_id}",
        f"Blast radius: [bold]{view.blast_radius}[/] — {escape(view.decision_rule)}",
        f"Why: {escape(view.reason)}",
        f"Undo: {escape(view.undo)}",
        f"Requester: {escape(view.requester)} — check: {view.requester_check.get('verdict')} "
        f"({escape(str(view.requester_check.get('detail')))})",
        f"Status: {view.status} (step {view.step_status}); expires {readable(view.expires_at)}",
        "Parameters:",
        *(f"  {k}: {escape(json.dumps(v))}" for k, v in view.proposed_params.items()),
    ]
    if view.changes:
        lines.append("Edited by the approver:")
        lines += [
            f"  {k}: {escape(json.dumps(a))} → {escape(json.dumps(b))}"
            for k, (a, b) in view.changes.items()
        ]
    if view.replanned_by is not None:
        lines.append(
            f"[bold]Planned again[/] after draft {view.replanned_by} was approved with an edit: "
            "the parameters above are what runs now."
        )
    if view.stale:
        lines.append("[bold yellow]Does not follow an edit of the same plan:[/]")
        lines += [f"  {escape(m.describe())}" for m in view.stale]
        lines.append("  Edit it (--edit), or approve it --as-written if the mention is meant.")
    if view.decided_by:
        lines.append(f"Decided by {view.decided_by} at {readable(view.decided_at)}")
    out.print(Panel("\n".join(lines), title=f"Draft {view.id}", title_align="left"))
    out.print(Panel(Text(view.excerpt), title="Ticket", title_align="left"))
