"""`deskhand tenants add | show | doctor | secret` as an operator runs them: a tenant's
connection file written from flags or answers, shown without its secrets, and checked against
real servers (a local SMTP server, closed ports) with what to fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.connectors import secrets
from deskhand.connectors.connection import load_connection
from deskhand.connectors.graph import GraphSettings
from deskhand.connectors.ldap import LdapSettings
from deskhand.connectors.mail.settings import SmtpSettings
from deskhand.connectors.sandbox.seed import BUSINESS_PREMIUM
from deskhand.connectors.secrets import SecretRef
from tests.connectors.mail.server import (
    PASSWORD,
    USERNAME,
    SmtpServer,
    free_port,
    smtp_server,
    write_certificate,
)
from tests.support import postgres_database

SYNCRO_KEY = "T0ps3cret-syncro-api-key"


class Desk:
    """A deskhand installation in a folder of its own, driven through the CLI."""

    def __init__(self, folder: Path, database: str | None = None) -> None:
        self.folder = folder
        self.database = ["--db", database] if database else []
        self.key = secrets.new_key()
        self.env = {
            "DESKHAND_DATA_DIR": str(folder),
            "DESKHAND_SECRET_KEY": self.key,
            "COLUMNS": "250",
        }
        self.outputs: list[str] = []

    def run(self, *args: str, code: int = 0, input: str | None = None, **env: str) -> Result:
        command = [*self.database, *args]
        result = CliRunner().invoke(app, command, input=input, env=self.env | env)
        self.outputs += [result.stdout, result.stderr]
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert result.exit_code == code, result.output
        return result

    def json(self, *args: str, code: int = 0, **env: str) -> Any:
        return json.loads(self.run(*args, "--json", code=code, **env).stdout)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = Desk(tmp_path / "desk")
    desk.run("db", "upgrade")
    return desk


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path) as server:
        yield server


def smtp_flags(smtp: SmtpServer, password: str) -> list[str]:
    return [
        "--smtp-host",
        smtp.host,
        "--smtp-port",
        str(smtp.port),
        "--smtp-user",
        USERNAME,
        "--smtp-password",
        password,
        "--from-address",
        "helpdesk@client.example",
        "--smtp-ca-file",  # the server's certificate is its own CA
        str(smtp.ca_file),
    ]


def test_add_with_flags_writes_the_file_and_creates_the_tenant(desk: Desk) -> None:
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        "--display-name", "Contoso Dental",
        "--psa-customer-id", "4107",
        "--domain", "contosodental.example", "--domain", "contoso.example",
        "--syncro-url", "https://contoso-msp.syncromsp.com",
        "--syncro-key", "env:CONTOSO_SYNCRO",
        "--no-ad",
        "--license", "Business Premium=cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        "--authorised-contact", "monica.reyes@contosodental.example",
    )  # fmt: skip

    path = desk.folder / "tenants" / "contoso-dental.yaml"
    written = yaml.safe_load(path.read_text())
    assert written["psa"] == {
        "kind": "syncro",
        "customer_id": "4107",
        "base_url": "https://contoso-msp.syncromsp.com",
        "api_key": "env:CONTOSO_SYNCRO",
    }
    assert written["ad"] == {"kind": "none"}
    assert written["licenses"] == {"Business Premium": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"}
    [tenant] = desk.json("tenants", "list")
    assert tenant["name"] == "Contoso Dental"
    assert tenant["psa_customer_id"] == "4107"
    assert tenant["domains"] == ["contosodental.example", "contoso.example"]
    assert tenant["connector"] == "syncro/sandbox/none/psa"


def test_add_show_and_doctor_keep_the_tenant_on_postgresql(tmp_path: Path) -> None:
    with postgres_database("deskhand_tenants") as url:
        desk = Desk(tmp_path / "desk", url)
        desk.run("db", "upgrade")
        desk.run(
            "tenants", "add", "contoso-dental", "--no-input", "--domain", "contoso.example",
            "--smtp-host", "127.0.0.1", "--smtp-port", str(free_port()),
            "--from-address", "helpdesk@contoso.example",
        )  # fmt: skip

        [tenant] = desk.json("tenants", "list")
        shown = desk.json("tenants", "show", "contoso-dental")
        report = desk.json("tenants", "doctor", "contoso-dental", code=1)  # no server there

    assert tenant["connector"] == "sandbox/sandbox/sandbox/smtp"
    assert shown["config_path"] == str(desk.folder / "tenants" / "contoso-dental.yaml")
    assert shown["config"]["mail"]["host"] == "127.0.0.1"
    assert [f["check"] for f in report["contoso-dental"] if f["outcome"] == "fail"] == ["reachable"]


def test_add_asks_for_what_was_not_given(desk: Desk, tmp_path: Path) -> None:
    answers = [
        "Northwind Law",  # display name
        "sandbox",  # PSA
        "graph",  # Microsoft 365
        "11111111-2222-3333-4444-555555555555",  # Entra tenant id
        "66666666-7777-8888-9999-000000000000",  # client id
        "Sup3rSecretPasted",  # a pasted secret: refused, asked again
        "env:NORTHWIND_GRAPH",  # client secret reference
        "ldap",  # Active Directory
        "ldaps://dc1.northwind.example:636",
        "DC=northwind,DC=example",
        "svc-deskhand@northwind.example",
        "file:/etc/deskhand/northwind-ad",
        "psa",  # mail
        "northwindlaw.example",  # domains
    ]
    config = tmp_path / "northwind.yaml"

    result = desk.run(
        "tenants", "add", "northwind-law", "--interactive", "--config", str(config),
        input="\n".join(answers) + "\n",
    )  # fmt: skip

    assert "is not a secret reference" in result.stderr
    written = yaml.safe_load(config.read_text())
    assert written["name"] == "Northwind Law"
    assert written["psa"] == {"kind": "sandbox", "customer_id": "northwind-law"}
    assert written["m365"] == {
        "kind": "graph",
        "ms_tenant_id": "11111111-2222-3333-4444-555555555555",
        "client_id": "66666666-7777-8888-9999-000000000000",
        "client_secret": "env:NORTHWIND_GRAPH",
    }
    assert written["ad"]["bind_password"] == "file:/etc/deskhand/northwind-ad"
    assert written["mail"] == {"kind": "psa"}
    assert written["domains"] == ["northwindlaw.example"]
    assert "Sup3rSecretPasted" not in config.read_text()
    assert desk.json("tenants", "list")[0]["connector"] == "sandbox/graph/ldap/psa"


def test_add_asks_nothing_with_no_input_and_defaults_to_the_sandbox(desk: Desk) -> None:
    added = desk.run("tenants", "add", "sandbox-client", "--no-input")

    assert "It starts in shadow" in added.stdout  # a new tenant drafts and runs nothing
    assert desk.json("tenants", "list")[0]["mode"] == "shadow"

    shown = desk.json("tenants", "show", "sandbox-client")

    config = shown["config"]
    assert [config[s]["kind"] for s in ("psa", "m365", "ad", "mail")] == [
        "sandbox",
        "sandbox",
        "sandbox",
        "psa",
    ]


def test_add_refuses_a_plain_secret_and_writes_nothing(desk: Desk) -> None:
    result = desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        "--syncro-url", "https://contoso-msp.syncromsp.com",
        "--syncro-key", SYNCRO_KEY,
        code=2,
    )  # fmt: skip

    assert "`psa.api_key` is not a secret reference" in result.stderr
    assert "env:NAME" in result.stderr
    assert SYNCRO_KEY not in result.output
    assert not (desk.folder / "tenants" / "contoso-dental.yaml").exists()
    assert desk.json("tenants", "list") == []


def test_add_names_a_missing_setting_and_writes_nothing(desk: Desk) -> None:
    result = desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        "--syncro-url", "https://contoso-msp.syncromsp.com", "--syncro-key", "env:SYNCRO",
        code=2,
    )  # fmt: skip

    assert "`psa.customer_id` is missing" in result.stderr
    assert "Nothing was written" in result.stderr
    assert not (desk.folder / "tenants" / "contoso-dental.yaml").exists()


def test_add_writes_the_advanced_flags_as_absolute_paths_and_show_prints_them(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = write_certificate(tmp_path)  # a CA's PEM; an app certificate's private key
    monkeypatch.chdir(tmp_path)  # the paths are given relative; the file holds them absolute
    desk.run(
        "tenants", "add", "gov-client", "--no-input",
        "--ms-tenant", "gov.onmicrosoft.us", "--client-id", "66666666-7777-8888-9999-000000000000",
        "--certificate-path", key.name, "--certificate-thumbprint", "A1B2C3D4",
        "--app-name", "deskhand-gov",
        "--graph-authority", "https://login.microsoftonline.us",
        "--graph-url", "https://graph.microsoft.us/v1.0",
        "--graph-ca-file", cert.name,
        "--ad-server", "ldaps://10.0.0.5:636", "--base-dn", "DC=gov,DC=local",
        "--bind-user", "svc@gov.local", "--bind-password", "env:GOV_AD",
        "--ca-file", cert.name, "--tls-server-name", "dc1.gov.local",
        "--smtp-host", "mail.gov.example", "--from-address", "help@gov.example",
        "--smtp-ca-file", cert.name,
    )  # fmt: skip

    path = desk.folder / "tenants" / "gov-client.yaml"
    written = yaml.safe_load(path.read_text())
    ca = str(tmp_path / cert.name)
    assert written["m365"] == {
        "kind": "graph",
        "ms_tenant_id": "gov.onmicrosoft.us",
        "client_id": "66666666-7777-8888-9999-000000000000",
        "certificate_path": str(tmp_path / key.name),
        "certificate_thumbprint": "A1B2C3D4",
        "app_name": "deskhand-gov",
        "authority_base": "https://login.microsoftonline.us",
        "graph_base_url": "https://graph.microsoft.us/v1.0",
        "ca_file": ca,
    }
    assert (written["ad"]["ca_file"], written["ad"]["tls_server_name"]) == (ca, "dc1.gov.local")
    assert written["mail"]["ca_file"] == ca
    m365, ad, mail = (load_connection(path).settings[s] for s in ("m365", "ad", "mail"))
    assert isinstance(m365, GraphSettings) and isinstance(ad, LdapSettings)
    assert m365.authority == "https://login.microsoftonline.us/gov.onmicrosoft.us"
    assert ad.tls_server_name == "dc1.gov.local"
    assert isinstance(mail, SmtpSettings) and str(mail.ca_file) == ca
    shown = desk.json("tenants", "show", "gov-client")["config"]
    assert shown["m365"]["graph_base_url"] == "https://graph.microsoft.us/v1.0"
    assert shown["ad"]["tls_server_name"] == "dc1.gov.local"
    assert shown["mail"]["ca_file"] == ca
    printed = desk.run("tenants", "show", "gov-client").stdout
    assert "authority_base: https://login.microsoftonline.us" in printed
    assert f"certificate_path: {key}" in printed


def test_add_with_a_certificate_asks_for_no_client_secret(desk: Desk, tmp_path: Path) -> None:
    _, key = write_certificate(tmp_path)
    answers = [
        "Gov Client",  # display name
        "sandbox",  # PSA
        "gov.onmicrosoft.us",  # Entra tenant id
        "66666666-7777-8888-9999-000000000000",  # client id; no secret, no advanced question
        "none",  # Active Directory
        "psa",  # mail
        "gov.example",  # domains
    ]

    desk.run(
        "tenants", "add", "gov-client", "--interactive",
        "--certificate-path", str(key), "--certificate-thumbprint", "A1B2C3D4",
        input="\n".join(answers) + "\n",
    )  # fmt: skip

    written = yaml.safe_load((desk.folder / "tenants" / "gov-client.yaml").read_text())
    assert "client_secret" not in written["m365"]
    assert written["m365"]["certificate_path"] == str(key)
    assert written["ad"] == {"kind": "none"}
    assert written["domains"] == ["gov.example"]


def test_add_refuses_an_authority_that_is_not_https_and_writes_nothing(desk: Desk) -> None:
    result = desk.run(
        "tenants", "add", "gov-client", "--no-input",
        "--ms-tenant", "gov.onmicrosoft.us", "--client-id", "c", "--client-secret", "env:GOV",
        "--graph-authority", "http://login.microsoftonline.us",
        code=2,
    )  # fmt: skip

    assert "`m365.authority_base`" in result.stderr
    assert "is not an https URL" in result.stderr
    assert "Nothing was written" in result.stderr
    assert not (desk.folder / "tenants" / "gov-client.yaml").exists()
    assert desk.json("tenants", "list") == []


@pytest.mark.parametrize("flag", ["--graph-ca-file", "--ca-file", "--smtp-ca-file"])
def test_add_refuses_a_ca_file_that_is_missing_or_not_pem_and_writes_nothing(
    desk: Desk, tmp_path: Path, flag: str
) -> None:
    missing = tmp_path / "nowhere.pem"
    not_pem = tmp_path / "proxy-ca.cer"
    not_pem.write_bytes(b"\x30\x82\x01\x0a not a PEM file")

    gone = desk.run("tenants", "add", "x", "--no-input", flag, str(missing), code=2)
    binary = desk.run("tenants", "add", "x", "--no-input", flag, str(not_pem), code=2)

    assert f"{flag} is {missing}, which does not exist." in gone.stderr
    assert f"{flag} is {not_pem}, which holds no PEM certificate" in binary.stderr
    assert "Nothing was written" in binary.stderr
    assert not (desk.folder / "tenants" / "x.yaml").exists()
    assert desk.json("tenants", "list") == []


def test_add_refuses_no_ad_with_ad_settings(desk: Desk) -> None:
    result = desk.run(
        "tenants", "add", "x", "--no-input", "--no-ad", "--tls-server-name", "dc1", code=2
    )

    assert "--no-ad says the client has no Active Directory" in result.stderr
    assert not (desk.folder / "tenants" / "x.yaml").exists()


def test_add_refuses_an_existing_tenant_without_force(desk: Desk) -> None:
    desk.run("tenants", "add", "contoso-dental", "--no-input")

    result = desk.run("tenants", "add", "contoso-dental", "--no-input", code=2)

    assert "already exists" in result.stderr
    desk.run("tenants", "add", "contoso-dental", "--no-input", "--domain", "c.example", "--force")
    assert desk.json("tenants", "list")[0]["domains"] == ["c.example"]


def test_add_checks_the_policy_file_naming_its_line(desk: Desk, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\nblast_radius:\n  security: auto\n"
    )

    result = desk.run("tenants", "add", "x", "--no-input", "--policy", str(policy), code=2)

    assert "policy.yaml, line 4" in result.stderr


def test_show_doctor_and_add_never_print_a_secret(desk: Desk, smtp: SmtpServer) -> None:
    encrypted = desk.run("tenants", "secret", "encrypt", input=PASSWORD + "\n").stdout.strip()
    assert SecretRef.parse(encrypted).resolve("f", environ={}, key=desk.key) == PASSWORD
    desk.outputs.clear()  # the encrypt command prints the token; nothing after it may
    desk.env["CONTOSO_SYNCRO"] = SYNCRO_KEY
    closed = f"http://127.0.0.1:{free_port()}"
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input", "--psa-customer-id", "4107",
        "--syncro-url", closed, "--syncro-key", "env:CONTOSO_SYNCRO",
        *smtp_flags(smtp, encrypted),
    )  # fmt: skip

    shown = desk.json("tenants", "show", "contoso-dental")
    desk.run("tenants", "show", "contoso-dental")
    desk.run("tenants", "doctor", "contoso-dental", code=1)
    desk.json("tenants", "doctor", code=1)

    assert shown["config"]["mail"]["password"] == "enc:…(encrypted)"
    assert shown["config"]["psa"]["api_key"] == "env:CONTOSO_SYNCRO"
    everything = "\n".join(desk.outputs)
    for secret in (PASSWORD, SYNCRO_KEY, encrypted[-24:]):
        assert secret not in everything


def test_doctor_passes_a_sandbox_tenant(desk: Desk) -> None:
    desk.run("tenants", "add", "sandbox-client", "--no-input")

    result = desk.run("tenants", "doctor", "sandbox-client")
    report = desk.json("tenants", "doctor", "sandbox-client")

    assert "sandbox: nothing to check" in result.stdout
    outcomes = {(f["system"], f["outcome"]) for f in report["sandbox-client"]}
    assert ("psa", "ok") in outcomes and ("ad", "ok") in outcomes
    assert all(f["outcome"] == "ok" for f in report["sandbox-client"])


def test_doctor_checks_a_real_smtp_server(desk: Desk, smtp: SmtpServer) -> None:
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        *smtp_flags(smtp, "env:CONTOSO_SMTP"),
    )  # fmt: skip

    good = desk.json("tenants", "doctor", "contoso-dental", CONTOSO_SMTP=PASSWORD)
    bad = desk.json("tenants", "doctor", "contoso-dental", code=1, CONTOSO_SMTP="wrong")

    assert [
        (f["check"], f["outcome"]) for f in good["contoso-dental"] if f["system"] == "smtp"
    ] == [
        ("reachable", "ok"),
        ("STARTTLS", "ok"),
        ("authenticates", "ok"),
        ("sender", "ok"),
    ]
    [refused] = [f for f in bad["contoso-dental"] if f["outcome"] == "fail"]
    assert refused["check"] == "authenticates"
    assert "Authenticated SMTP" in refused["fix"]


def test_doctor_fails_with_the_fix_when_real_systems_are_not_there(desk: Desk) -> None:
    port = free_port()
    desk.run(  # its own tenant id: the circuit breakers are per tenant, per process
        "tenants", "add", "closed-ports", "--no-input", "--psa-customer-id", "4107",
        "--syncro-url", f"http://127.0.0.1:{port}", "--syncro-key", "env:CONTOSO_SYNCRO",
        "--ad-server", f"ldaps://127.0.0.1:{port}", "--base-dn", "DC=contoso,DC=example",
        "--bind-user", "svc@contoso.example", "--bind-password", "env:CONTOSO_AD",
    )  # fmt: skip

    report = desk.json(
        "tenants", "doctor", "closed-ports", code=1, CONTOSO_SYNCRO="k", CONTOSO_AD="p"
    )

    failed = {f["system"]: f for f in report["closed-ports"] if f["outcome"] == "fail"}
    assert set(failed) == {"syncro", "ldap"}
    assert all(f["fix"] for f in failed.values())
    assert "Connection refused" in failed["syncro"]["detail"]


def test_doctor_reports_a_missing_secret_as_a_failure_with_what_to_set(desk: Desk) -> None:
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        "--syncro-url", "https://contoso-msp.syncromsp.com", "--syncro-key", "env:NOT_SET_HERE",
        "--psa-customer-id", "4107",
    )  # fmt: skip

    result = desk.run("tenants", "doctor", code=1)

    assert "NOT_SET_HERE is not set" in result.stdout
    assert "Set NOT_SET_HERE" in result.stdout


def test_secret_encrypt_without_a_key_says_how_to_make_one(desk: Desk) -> None:
    result = desk.run("tenants", "secret", "encrypt", input="x\n", code=1, DESKHAND_SECRET_KEY="")

    assert "DESKHAND_SECRET_KEY" in result.stderr
    assert "tenants secret new-key" in result.stderr


def test_doctor_warns_about_a_secret_file_others_can_read(
    desk: Desk, smtp: SmtpServer, tmp_path: Path
) -> None:
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text(PASSWORD + "\n")
    secret_file.chmod(0o644)
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input",
        *smtp_flags(smtp, f"file:{secret_file}"),
    )  # fmt: skip

    report = desk.json("tenants", "doctor", "contoso-dental")

    [warning] = [f for f in report["contoso-dental"] if f["outcome"] == "warn"]
    assert f"chmod 600 {secret_file}" in warning["detail"]
    assert all(f["outcome"] == "ok" for f in report["contoso-dental"] if f is not warning)
    secret_file.chmod(0o600)
    again = desk.json("tenants", "doctor", "contoso-dental")
    assert [f for f in again["contoso-dental"] if f["outcome"] != "ok"] == []


def test_doctor_checks_licence_names_and_approvers_against_the_tenant(desk: Desk) -> None:
    desk.run("demo", "--no-serve")  # contoso-dental with its sandbox SKUs, and the MSP's users
    desk.run(
        "tenants", "add", "contoso-dental", "--no-input", "--force",
        "--license", f"Business Premium={BUSINESS_PREMIUM}",
        "--license", "Visio Plan 2=c5928f49-12ba-48f7-ada3-0d743a3601d5",
        "--approver", "dana@msp.example",  # approver, all tenants
        "--approver", "lee@msp.example",  # a tech: the built-in policy does not let techs approve
        "--approver", "riley@msp.example",  # approver of another tenant only
        "--approver", "nobody@msp.example",
    )  # fmt: skip

    report = desk.json("tenants", "doctor", "contoso-dental", code=1)

    checks = {f["check"]: f for f in report["contoso-dental"]}
    assert checks["license Business Premium"]["outcome"] == "ok"
    assert checks["license Business Premium"]["detail"].startswith("SPB, ")
    assert checks["license Visio Plan 2"]["outcome"] == "fail"
    assert "Billing → Your products" in checks["license Visio Plan 2"]["fix"]
    assert checks["approver dana@msp.example"]["outcome"] == "ok"
    assert "is a tech" in checks["approver lee@msp.example"]["detail"]
    assert "cannot see this tenant" in checks["approver riley@msp.example"]["detail"]
    assert "is not a deskhand user" in checks["approver nobody@msp.example"]["detail"]
    assert {checks[f"approver {who}@msp.example"]["outcome"] for who in ("lee", "riley")} == {
        "warn"
    }


def test_policy_shows_the_demo_tenant_s_lifecycle_in_plain_words_at_80_columns(
    desk: Desk,
) -> None:
    desk.run("demo", "--no-serve")

    shown = desk.run("tenants", "policy", "contoso-dental", COLUMNS="80").stdout
    lifecycle = shown[shown.index("Time zone:") :]

    assert all(len(line) <= 80 for line in lifecycle.splitlines()), lifecycle
    assert lifecycle.startswith("Time zone: Europe/London\n")
    flat = " ".join(lifecycle.split())
    assert "approved ahead and run at 17:00 (Europe/London) on that day" in flat
    order = [
        "1. Block sign-in",
        "2. Sign out every session",
        "Set the automatic reply: “{name} has left Contoso Dental.",
        "Keep the mailbox as a shared mailbox",
        "Remove every licence, only once the shared mailbox is verified",
        "For a leaver synced from AD: move the account to OU=Disabled "
        "Users,DC=contosodental,DC=example.",
        "Dentrix, by hand (ticked off): Dentrix → Office Manager",
        "Distributor portal (Microsoft 365 seats), by hand (ticked off):",
        "The reply to the requester",
        "A starter's first day begins at 09:00 (Europe/London).",
        "Role Front Desk: licences Microsoft 365 Business Basic; groups Front Desk, Practice "
        "Management App Users.",
        "Vendor checklist (manual steps a technician ticks off): Dentrix Leaver: Dentrix →",
        "Starter: Before the first day: distributor portal",
    ]
    at = [flat.index(part) for part in order]
    assert at == sorted(at)
    assert "Not done here" not in flat  # the demo's templates ask for every step
    # a wrapped step lines up under its text, not under its number
    assert "\n      365 follows at the next sync" in lifecycle


def test_policy_shows_the_built_in_lifecycle_and_what_it_leaves_out(desk: Desk) -> None:
    desk.run("demo", "--no-serve")

    flat = " ".join(desk.run("tenants", "policy", "northwind-law").stdout.split())

    assert "Time zone: UTC" in flat and "run at 17:00 (UTC)" in flat
    assert "Not done here: No automatic reply is set (no auto_reply)." in flat
    assert "No starter roles: a technician says what each starter gets." in flat
    assert "Usage location: none (no usage_location): a starter gets none" in flat
    assert "Vendor checklist: none." in flat
