"""Where technicians are told of waiting work (``deskhand.notifications``): check the targets,
send a trial message."""

from typing import TYPE_CHECKING, Annotated

import typer

from deskhand.cli.common import group, out, print_json, settings, user_errors
from deskhand.errors import InputError

if TYPE_CHECKING:
    from deskhand.config import Settings
    from deskhand.store.models import Tenant

notify_app = group(
    "Messages to technicians where they already are (Teams, Slack, e-mail, webhooks): "
    "check where they go, send a trial message."
)
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
TenantArgument = Annotated[
    str, typer.Argument(metavar="TENANT", help="A tenant id, as `deskhand tenants list` shows.")
]


@notify_app.command("check")
def check(ctx: typer.Context, tenant_id: TenantArgument, json_: JsonOption = False) -> None:
    """Each target that would hear of TENANT (the MSP's and the tenant's own), the kinds it
    hears of, and whether it can be used — nothing is sent. URLs are shown without their
    secrets."""
    import os

    from deskhand.notifications.delivery import problem
    from deskhand.notifications.targets import msp_targets, tenant_targets

    with user_errors():
        config = settings(ctx)
        tenant = _tenant(config, tenant_id)
        key = config.secret_key.get_secret_value() if config.secret_key else None
        rows = [
            {
                "target": target.shown,
                "of": owner,
                "kinds": ", ".join(sorted(target.kinds)) or "every kind",
                "problem": problem(target, os.environ, key),
            }
            for owner, targets in (("msp", msp_targets(config)), ("tenant", tenant_targets(tenant)))
            for target in targets
        ]
        if json_:
            print_json({"public_url": config.public_url, "targets": rows})
            return
        if not rows:
            out.print(
                f"No target hears of {tenant.id}: set DESKHAND_NOTIFY_URLS, or add `notify:` "
                "to the tenant's connection file."
            )
        for row in rows:
            state = f"cannot be used: {row['problem']}" if row["problem"] else "ok"
            out.print(f"{row['of']:6}  {row['target']}  ({row['kinds']})  {state}", markup=False)
        if not config.public_url:
            out.print(
                "DESKHAND_PUBLIC_URL is not set: messages carry the page's path alone "
                "(/tickets/12), not a link that opens."
            )
        if any(row["problem"] for row in rows):
            raise typer.Exit(1)


@notify_app.command("test")
def test(ctx: typer.Context, tenant_id: TenantArgument) -> None:
    """Send a trial message now to each target that would hear of TENANT, and say which took
    it. Exit code 1 when one did not."""
    from deskhand.notifications.notifier import send_trial

    with user_errors():
        config = settings(ctx)
        sent = send_trial(config, _tenant(config, tenant_id))
        if not sent:
            raise InputError(
                f"No target hears of {tenant_id}.",
                hint="Set DESKHAND_NOTIFY_URLS, or add `notify:` to the tenant's connection "
                "file; `deskhand notify check TENANT` shows what is configured.",
            )
        for target, reason in sent:
            out.print(
                f"{target.shown}: {'sent' if reason is None else 'not sent: ' + reason}",
                markup=False,
            )
        if any(reason is not None for _, reason in sent):
            raise typer.Exit(1)


def _tenant(config: "Settings", tenant_id: str) -> "Tenant":
    from sqlalchemy import select

    from deskhand.store.db import Database
    from deskhand.store.models import Tenant

    database = Database(config.database())
    try:
        with database.reading() as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                known = ", ".join(session.scalars(select(Tenant.id).order_by(Tenant.id)))
                raise InputError(f"No tenant {tenant_id!r}.", hint=f"Tenants: {known or 'none'}.")
            session.expunge(tenant)
            return tenant
    finally:
        database.dispose()
