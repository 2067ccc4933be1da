"""No technician time is planned on a ticket no PSA holds (here, one imported from a ConnectWise
export and answered by SMTP): there is no PSA ticket to log it on, so the plan goes ahead
without it instead of escalating over it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine import approvals
from deskhand.engine.intake_files import import_export, read_export
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import Tenant
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer

CONTOSO = "contoso-dental"
LISA = "lisa.chen@contosodental.example"


@pytest.fixture
def rt(
    tmp_path: Path, database_url: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """The demo; Contoso's mail goes out by SMTP and its policy logs time for password resets."""
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(runtime, tickets=False)
    monkeypatch.setenv("CONTOSO_SMTP", PASSWORD)
    connection = tmp_path / "contoso-connection.yaml"
    connection.write_text(
        "name: Contoso Dental\ndomains: [contosodental.example]\n"
        f"mail:\n  kind: smtp\n  host: {smtp.host}\n  port: {smtp.port}\n"
        f"  username: {USERNAME}\n  password: env:CONTOSO_SMTP\n"
        f"  from_address: support@contosodental.example\n  ca_file: {smtp.ca_file}\n",
        encoding="utf-8",
    )
    policy = tmp_path / "contoso-policy.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\n"
        "time_entries:\n  minutes:\n    password_reset: 10\n",
        encoding="utf-8",
    )
    with runtime.db.session() as session:
        tenant = session.get(Tenant, CONTOSO)
        assert tenant is not None
        tenant.config_path, tenant.policy_path = str(connection), str(policy)
    yield runtime
    runtime.close()


def test_an_imported_ticket_is_planned_without_a_time_step(rt: Runtime, tmp_path: Path) -> None:
    export = tmp_path / "cw.csv"
    export.write_text(
        "id,summary,board,status,company,type,dateEntered,contactName,contactEmailAddress,"
        "initialDescription\n"
        f"24001,Forgot my password,Service Desk,New,Contoso Dental,Access,2026-11-23T09:00:00Z,"
        f"Lisa Chen,{LISA},Please reset my password.\n",
        encoding="utf-8",
    )
    [(_, ticket_id)] = import_export(rt, CONTOSO, read_export([export])).stored

    Worker(rt, "test-worker").run_once()

    actions = [d.action for d in approvals.list_drafts(rt, None, status=None, ticket_id=ticket_id)]
    assert actions == [
        "m365.reset_password",
        "m365.revoke_sessions",
        "psa.add_internal_note",
        "psa.send_reply",
    ]
