"""The ``intake: imap:`` section of a tenant's connection file: read and checked like the other
systems, its password only ever a reference, and the tenant's doctor checking the mailbox on
the real Dovecot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.connectors import secrets
from deskhand.connectors.connection import load_connection
from deskhand.connectors.factory import Factory
from deskhand.connectors.mail.imap import ImapMailbox
from deskhand.connectors.mail.settings import ImapSettings
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.errors import InputError
from deskhand.store.models import Tenant
from deskhand.tenants.doctor import examine
from tests.connectors.imap.dovecot import PASSWORD
from tests.connectors.imap.fixtures import SupportMailbox

FILE = """\
name: Contoso Dental
domains: [contosodental.example]
intake:
  imap:
    host: {host}
    port: {port}
    username: support@client.example
    folder: {folder}
    processed_folder: Done
    ca_file: {ca_file}
{password}"""


def write(tmp_path: Path, mailbox: SupportMailbox | None = None, password: str = "") -> Path:
    server = mailbox.server if mailbox else None
    path = tmp_path / "contoso.yaml"
    path.write_text(
        FILE.format(
            host="127.0.0.1",
            port=server.imaps_port if server else 993,
            folder=mailbox.folder if mailbox else "Support",
            ca_file=server.ca_file if server else tmp_path / "ca.pem",
            password=f"    password: {password}\n" if password else "",
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SandboxStore]:
    sandbox = SandboxStore(f"sqlite:///{tmp_path}/sandbox.db")
    seed_demo(sandbox)
    yield sandbox
    sandbox.dispose()


def tenant(path: Path) -> Tenant:
    return Tenant(
        id="contoso-dental",
        name="Contoso Dental",
        psa_customer_id="4107",
        connector="sandbox",
        config_path=str(path),
    )


def test_the_imap_section_reads_into_the_clients_settings(tmp_path: Path) -> None:
    connection = load_connection(write(tmp_path, password="env:CONTOSO_IMAP"))
    settings = connection.settings["intake.imap"]
    assert isinstance(settings, ImapSettings)
    assert (settings.folder, settings.processed_folder, settings.effective_port) == (
        "Support",
        "Done",
        993,
    )


def test_the_password_is_shown_only_as_the_kind_of_reference(tmp_path: Path) -> None:
    token = secrets.encrypt(PASSWORD, secrets.new_key())
    connection = load_connection(write(tmp_path, password=token))
    shown = connection.shown()
    assert shown["intake"]["imap"]["password"] == "enc:…(encrypted)"
    assert shown["intake"]["imap"]["username"] == "support@client.example"
    assert token.removeprefix("enc:") not in repr(shown)


def test_a_missing_password_is_refused_with_where_to_add_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        load_connection(write(tmp_path))
    assert raised.value.message.startswith("contoso.yaml, line 4: `intake.imap.password`")
    assert raised.value.hint is not None and "under `intake.imap:`" in raised.value.hint


def test_a_plain_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        load_connection(write(tmp_path, password="Summer2026!"))
    assert "Summer2026!" not in raised.value.message
    assert "intake.imap.password" in raised.value.message


def test_a_wrong_setting_is_located_in_the_imap_section(tmp_path: Path) -> None:
    path = write(tmp_path, password="env:CONTOSO_IMAP")
    path.write_text(path.read_text().replace("port: 993", "port: 99999"), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 6: `intake\.imap\.port`"):
        load_connection(path)


def test_the_factory_builds_the_mailbox_with_its_resolved_password(
    tmp_path: Path, store: SandboxStore
) -> None:
    path = write(tmp_path, password="env:CONTOSO_IMAP")
    factory = Factory(store, environ={"CONTOSO_IMAP": "pw"}, secret_key="")
    mailbox = factory.for_tenant(tenant(path)).mailbox
    assert isinstance(mailbox, ImapMailbox) and mailbox.settings.folder == "Support"
    bare = tmp_path / "bare.yaml"
    bare.write_text("name: Bare\n", encoding="utf-8")
    assert factory.for_tenant(tenant(bare)).mailbox is None


def test_tenants_doctor_checks_the_support_mailbox(
    tmp_path: Path, store: SandboxStore, support_mailbox: SupportMailbox
) -> None:
    path = write(tmp_path, support_mailbox, password="env:CONTOSO_IMAP")
    good = Factory(store, environ={"CONTOSO_IMAP": PASSWORD}, secret_key="")
    findings = [(f.check, f.outcome) for f in examine(good, tenant(path)) if f.system == "imap"]
    assert findings == [
        ("reachable", "ok"),
        ("TLS", "ok"),
        ("login", "ok"),
        (f"folder {support_mailbox.folder}", "ok"),
        ("folder Done", "fail"),  # processed_folder names a folder that is not there
    ]
    wrong = Factory(store, environ={"CONTOSO_IMAP": "wrong"}, secret_key="")
    refused = [f for f in examine(wrong, tenant(path)) if f.system == "imap"]
    assert (refused[-1].check, refused[-1].outcome) == ("login", "fail")
    assert refused[-1].fix is not None and "Exchange Online" in refused[-1].fix
