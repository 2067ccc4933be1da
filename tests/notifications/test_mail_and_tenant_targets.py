"""A tenant's own targets, from its connection file, and e-mail through the real SMTP server
the mail tests use (STARTTLS and AUTH): the password stays a secret reference."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from sqlalchemy import select

from deskhand.connectors.connection import load_connection
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.store.models import Tenant, Ticket
from tests.connectors.mail.server import PASSWORD, USERNAME, SmtpServer, smtp_server
from tests.notifications.conftest import PUBLIC_URL, Receiver, notifier


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    with smtp_server(tmp_path) as server:
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))  # trust its certificate
        yield server


def _give_targets(rt: Runtime, tmp_path: Path, targets: list[dict[str, object]]) -> Path:
    path = tmp_path / "contoso.yaml"
    path.write_text(yaml.safe_dump({"name": "Contoso Dental", "notify": targets}))
    with rt.db.session() as session:
        tenant = session.get(Tenant, "contoso-dental")
        assert tenant is not None
        tenant.config_path = str(path)
    return path


def test_an_escalation_is_mailed_to_the_tenants_technicians(
    rt: Runtime, smtp: SmtpServer, tmp_path: Path
) -> None:
    url = (
        f"mailto://{quote(USERNAME, safe='')}:{quote(PASSWORD, safe='')}@{smtp.host}:{smtp.port}"
        "?mode=starttls&from=deskhand@msp.example&to=techs@msp.example"
    )
    _give_targets(rt, tmp_path, [{"url": "env:CONTOSO_MAIL", "kinds": ["escalation"]}])
    notify = notifier(rt, "", environ={"CONTOSO_MAIL": url})

    assert notify.round() == 1
    notify.delivery.join()

    (mail,) = smtp.received
    assert mail.tls and mail.login == USERNAME and mail.rcpt_tos == ["techs@msp.example"]
    assert mail.message["Subject"] == "[Contoso Dental] Escalated: Password reset for Dr. Raman"
    text = mail.message.get_payload(decode=True).decode()
    with rt.db.reading() as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.subject.like("Password reset%")))
    assert f"Open it at {PUBLIC_URL}/tickets/{ticket_id}" in text
    assert PASSWORD not in text and "Priya Raman is locked out" not in text


def test_the_msp_hears_of_every_tenant_and_the_tenant_only_the_kinds_it_asked_for(
    rt: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    _give_targets(rt, tmp_path, [{"url": receiver.url("/tenant"), "kinds": ["plans_waiting"]}])
    notify = notifier(rt, receiver.url("/msp"))
    notify.round()
    notify.delivery.join()

    by_path = sorted((path, message["title"]) for path, message in receiver.posts)
    assert by_path == [
        ("/msp", "[Contoso Dental] 4 new plan(s) wait for approval"),
        ("/msp", "[Contoso Dental] Escalated: Password reset for Dr. Raman"),
        ("/tenant", "[Contoso Dental] 4 new plan(s) wait for approval"),
    ]


def test_a_connection_file_shows_a_notification_url_without_its_secrets(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "T",
                "notify": [
                    {"url": "msteams://Sh0wNever-TokenA/TokenB-Secret9/TokenC-Secret9/"},
                    {"url": "mailtos://desk:Pa55-Never-Shown@mail.msp.example?to=t@msp.example"},
                    {"url": "env:T_SLACK", "kinds": ["escalation"]},
                ],
            }
        )
    )
    shown = load_connection(path).shown()["notify"]
    assert shown == [
        {"url": "msteams://…", "kinds": []},
        {"url": "mailtos://mail.msp.example/…", "kinds": []},
        {"url": "env:T_SLACK", "kinds": ["escalation"]},
    ]


def test_a_connection_file_refuses_an_unknown_kind_and_a_url_that_is_not_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"name": "T", "notify": [{"url": "x", "kinds": ["pager"]}]}))
    with pytest.raises(InputError, match="not an apprise URL"):
        load_connection(path)
    path.write_text(
        yaml.safe_dump({"name": "T", "notify": [{"url": "json://h/p", "kinds": ["pager"]}]})
    )
    with pytest.raises(InputError, match="kinds"):
        load_connection(path)
