"""A tenant's connection file: read completely or refused with the file, line and field;
secrets only ever as references (env:, file:, enc:), resolved when the factory builds the
tenant's connectors from the file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskhand.connectors import secrets
from deskhand.connectors.connection import load_connection, parse_connection
from deskhand.connectors.errors import NotFoundError
from deskhand.connectors.factory import Factory, NoDirectory
from deskhand.connectors.graph import GraphM365
from deskhand.connectors.ldap import LdapDirectory
from deskhand.connectors.mail.smtp import SmtpMailer
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxAD, SandboxM365, SandboxPsa
from deskhand.connectors.secrets import SecretError, SecretRef
from deskhand.connectors.syncro import SyncroPsa
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Tenant

SYNCRO_KEY = "T0ps3cret-syncro-api-key"
SMTP_PASSWORD = "T0ps3cret-smtp-password"

REAL = """\
name: Contoso Dental
psa:
  kind: syncro
  customer_id: 4107
  base_url: https://contoso-msp.syncromsp.com
  api_key: env:CONTOSO_SYNCRO
m365:
  kind: graph
  ms_tenant_id: 0f4a9e3c-5d1b-4c8e-9a7f-2b6d8e1c3a5f
  client_id: 7c2e5a1d-8b3f-4e6a-9d0c-1f4b7e2a5c8d
  client_secret: env:CONTOSO_GRAPH
ad:
  kind: ldap
  servers: [ldaps://dc1.contoso.example:636]
  base_dn: DC=contoso,DC=example
  bind_user: svc-deskhand@contoso.example
  bind_password: {bind_password}
mail:
  kind: smtp
  host: 127.0.0.1
  username: helpdesk@contoso.example
  password: env:CONTOSO_SMTP
  from_address: helpdesk@contoso.example
domains: [contosodental.example]
authorised_contacts: [Monica.Reyes@contosodental.example]
vips: [Owner@contosodental.example]
licenses:
  Business Premium: cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46
"""


def write(tmp_path: Path, text: str, name: str = "contoso.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SandboxStore]:
    sandbox = SandboxStore(f"sqlite:///{tmp_path}/sandbox.db")
    seed_demo(sandbox)
    yield sandbox
    sandbox.dispose()


def tenant(path: Path | None) -> Tenant:
    return Tenant(
        id="contoso-dental",
        name="Contoso Dental",
        psa_customer_id="4107",
        connector="sandbox",
        config_path=str(path) if path else None,
    )


ENVIRON = {
    "CONTOSO_SYNCRO": SYNCRO_KEY,
    "CONTOSO_GRAPH": "graph-secret",
    "CONTOSO_SMTP": SMTP_PASSWORD,
    "AD_PW": "ad-pw",
}


# --- reading the file ---


def test_a_real_file_reads_with_each_clients_settings(tmp_path: Path) -> None:
    connection = load_connection(write(tmp_path, REAL.format(bind_password="env:AD_PW")))

    syncro = connection.settings["psa"]
    assert syncro.model_dump()["base_url"] == "https://contoso-msp.syncromsp.com/api/v1"
    assert syncro.model_dump()["customer_id"] == 4107
    # Said once at the top of the file, handed to the client that checks it.
    assert syncro.model_dump()["authorised_contacts"] == ("monica.reyes@contosodental.example",)
    assert connection.file.licenses == {"Business Premium": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"}
    assert set(connection.settings) == {"psa", "m365", "ad", "mail"}


def test_broken_yaml_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: Contoso\npsa:\n  kind: syncro\n   api_key: env:X\n")

    with pytest.raises(InputError, match=r"^contoso\.yaml, line 4, column \d+: not valid YAML"):
        load_connection(path)


def test_a_plain_secret_is_refused_with_how_to_reference_it_and_never_echoed(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, REAL.format(bind_password="Summer2026!"))

    with pytest.raises(InputError) as raised:
        load_connection(path)

    message = str(raised.value)
    assert message.startswith("contoso.yaml, line 17: `ad.bind_password` is not a secret reference")
    assert "env:NAME" in message and "deskhand tenants secret encrypt" in message
    assert "Summer2026!" not in message


def test_a_misspelt_setting_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "name: Contoso\ndomain: [contoso.example]\n")

    with pytest.raises(InputError, match=r"line 2: `domain` is not a setting .* `domains`\?"):
        load_connection(path)


def test_a_wrong_client_setting_is_located_in_its_section(tmp_path: Path) -> None:
    text = REAL.format(bind_password="env:AD_PW").replace(
        "ldaps://dc1.contoso.example:636", "dc1.contoso.example"
    )

    with pytest.raises(InputError, match=r"^contoso\.yaml, line 14: `ad\.servers") as raised:
        load_connection(write(tmp_path, text))

    assert "ldaps://" in str(raised.value)


def test_a_real_system_without_its_secret_is_refused(tmp_path: Path) -> None:
    text = REAL.format(bind_password="env:AD_PW").replace("  api_key: env:CONTOSO_SYNCRO\n", "")

    with pytest.raises(InputError, match=r"line 2: `psa\.api_key` is missing"):
        load_connection(write(tmp_path, text))


def test_a_key_written_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: A\nname: B\n")

    with pytest.raises(InputError, match=r"line 2: `name` is set twice \(also on line 1\)"):
        load_connection(path)


def test_shown_secrets_are_only_the_kind_of_reference(tmp_path: Path) -> None:
    token = secrets.encrypt("ad-pw", secrets.new_key())
    connection = load_connection(write(tmp_path, REAL.format(bind_password=token)))

    shown = connection.shown()

    assert shown["ad"]["bind_password"] == "enc:…(encrypted)"
    assert shown["psa"]["api_key"] == "env:CONTOSO_SYNCRO"
    assert token.removeprefix("enc:") not in repr(shown)


# --- secrets ---


def test_env_file_and_enc_references_resolve(tmp_path: Path) -> None:
    key = secrets.new_key()
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    secret_file.chmod(0o600)

    resolved = [
        SecretRef.parse(text).resolve("f", environ={"X": "from-env"}, key=key)
        for text in ("env:X", f"file:{secret_file}", secrets.encrypt("from-enc", key))
    ]

    assert resolved == ["from-env", "from-a-file", "from-enc"]
    assert SecretRef.parse(f"file:{secret_file}").permission_warning() is None


def test_a_secret_file_others_can_read_is_warned_about(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("x")
    secret_file.chmod(0o644)

    warning = SecretRef.parse(f"file:{secret_file}").permission_warning()

    assert warning is not None and f"chmod 600 {secret_file}" in warning


def test_the_wrong_key_cannot_decrypt_and_says_what_to_do() -> None:
    token = secrets.encrypt("ad-pw", secrets.new_key())

    with pytest.raises(SecretError, match="cannot be decrypted with DESKHAND_SECRET_KEY") as raised:
        SecretRef.parse(token).resolve("ad.bind_password", environ={}, key=secrets.new_key())

    assert raised.value.hint is not None and "tenants secret encrypt" in raised.value.hint


def test_an_encrypted_secret_without_a_key_asks_for_the_key() -> None:
    token = secrets.encrypt("ad-pw", secrets.new_key())

    with pytest.raises(SecretError, match="need DESKHAND_SECRET_KEY, which is not set"):
        SecretRef.parse(token).resolve("ad.bind_password", environ={}, key=None)


def test_a_relative_file_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute path"):
        SecretRef.parse("file:secrets/syncro")


# --- the factory ---


def test_without_a_file_the_tenant_is_the_sandbox(store: SandboxStore) -> None:
    built = Factory(store, environ={}).for_tenant(tenant(None))

    assert isinstance(built.psa, SandboxPsa)
    assert isinstance(built.m365, SandboxM365)
    assert isinstance(built.ad, SandboxAD)
    assert built.mail is None


def test_the_factory_builds_real_clients_from_the_file(tmp_path: Path, store: SandboxStore) -> None:
    path = write(tmp_path, REAL.format(bind_password="env:AD_PW"))

    built = Factory(store, environ=ENVIRON).for_tenant(tenant(path))

    assert isinstance(built.psa, SyncroPsa)
    assert isinstance(built.m365, GraphM365)
    assert isinstance(built.ad, LdapDirectory)
    assert isinstance(built.mail, SmtpMailer)
    assert built.mail.settings.host == "127.0.0.1"
    # Facts Graph does not hold reach the Graph client: VIPs and the client's licence names.
    assert built.m365.vips == frozenset({"owner@contosodental.example"})
    assert built.m365.sku_names == {"cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46": "Business Premium"}


def test_built_connectors_are_kept_until_the_file_or_a_secret_changes(
    tmp_path: Path, store: SandboxStore
) -> None:
    path = write(tmp_path, REAL.format(bind_password="env:AD_PW"))
    environ = dict(ENVIRON)
    factory = Factory(store, environ=environ)

    first = factory.for_tenant(tenant(path))
    again = Factory(store, environ=environ).for_tenant(tenant(path))
    environ["CONTOSO_SMTP"] = "rotated"
    after_rotation = factory.for_tenant(tenant(path))
    stat = path.stat()  # an edit: the same file with a later modification time
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after_edit = factory.for_tenant(tenant(path))

    assert again is first
    assert after_rotation is not first
    assert after_edit is not after_rotation


def test_a_missing_environment_variable_names_the_tenant_field_and_fix(
    tmp_path: Path, store: SandboxStore
) -> None:
    path = write(tmp_path, REAL.format(bind_password="env:AD_PW"))
    environ = {k: v for k, v in ENVIRON.items() if k != "AD_PW"}

    with pytest.raises(DeskhandError) as raised:
        Factory(store, environ=environ).for_tenant(tenant(path))

    assert raised.value.message == (
        "Tenant contoso-dental (contoso.yaml) ad.bind_password: the environment variable "
        "AD_PW is not set."
    )
    assert raised.value.hint is not None and "Set AD_PW" in raised.value.hint


def test_an_undecryptable_secret_names_the_tenant_and_field(
    tmp_path: Path, store: SandboxStore
) -> None:
    token = secrets.encrypt("ad-pw", secrets.new_key())
    path = write(tmp_path, REAL.format(bind_password=token))

    with pytest.raises(SecretError, match=r"^Tenant contoso-dental \(contoso\.yaml\) ad\.bind"):
        Factory(store, environ=ENVIRON, secret_key=secrets.new_key()).for_tenant(tenant(path))


def test_a_tenant_without_ad_says_so_on_every_call(tmp_path: Path, store: SandboxStore) -> None:
    path = write(tmp_path, "name: Cloud Only\nad:\n  kind: none\n")

    built = Factory(store, environ={}).for_tenant(tenant(path))

    assert isinstance(built.ad, NoDirectory)
    with pytest.raises(NotFoundError, match="no on-premises Active Directory"):
        built.ad.unlock("anyone")


def test_a_broken_file_names_the_tenant(tmp_path: Path, store: SandboxStore) -> None:
    path = write(tmp_path, "name: [\n")

    with pytest.raises(InputError, match=r"^Tenant contoso-dental: contoso\.yaml, line"):
        Factory(store, environ={}).for_tenant(tenant(path))


def test_parse_accepts_a_file_with_only_a_name() -> None:
    connection = parse_connection("name: Sandbox Client\n", Path("/tmp/x.yaml"))

    assert [section.kind for section in connection.file.sections()] == [
        "sandbox",
        "sandbox",
        "sandbox",
        "psa",
    ]
