"""`deskhand tenants add | show | doctor | secret`: a tenant's connection file and its checks."""

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from deskhand.cli.common import err, group, out, print_json, settings, user_errors
from deskhand.cli.runtime import open_runtime
from deskhand.errors import DeskhandError, InputError, UsageError

if TYPE_CHECKING:
    from deskhand.connectors.connection import Connection
    from deskhand.connectors.doctor import Finding
    from deskhand.engine.runtime import Runtime
    from deskhand.policy.tenant_policy import TenantPolicy
    from deskhand.store.models import Tenant

secret_app = group("Secrets for tenant connection files: encrypted values and the key.")

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_OUTCOME_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}

Text = Annotated[str | None, typer.Option(show_default=False)]
# Settings most tenants never need: flags only, never asked for by the interactive questions.
ADVANCED = "Advanced (flags only, never asked)"


def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant id: lower case, digits and dashes.")],
    display_name: Text = None,
    psa_customer_id: Annotated[
        str | None, typer.Option(help="The client's customer id in the PSA.")
    ] = None,
    domain: Annotated[
        list[str] | None, typer.Option(help="A client e-mail domain (repeat for more).")
    ] = None,
    syncro_url: Annotated[
        str | None, typer.Option(help="https://YOURS.syncromsp.com/api/v1 (else: sandbox PSA).")
    ] = None,
    syncro_key: Annotated[
        str | None, typer.Option(help="The Syncro API token: env:NAME, file:/path or enc:…")
    ] = None,
    ms_tenant: Annotated[
        str | None, typer.Option(help="The client's Entra tenant id (else: sandbox M365).")
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="The app registration's client id.")] = None,
    client_secret: Annotated[
        str | None, typer.Option(help="The app's client secret: env:NAME, file:/path or enc:…")
    ] = None,
    certificate_path: Annotated[
        Path | None,
        typer.Option(
            help="Instead of --client-secret: the PEM file with the app certificate's private "
            "key (with --certificate-thumbprint).",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    certificate_thumbprint: Annotated[
        str | None,
        typer.Option(
            help="The thumbprint of that certificate, as Entra shows it under Certificates & "
            "secrets.",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    app_name: Annotated[
        str | None,
        typer.Option(
            help="The app registration's name, if not deskhand (the doctor's fixes name it).",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    graph_authority: Annotated[
        str | None,
        typer.Option(
            help="The Microsoft sign-in host, only for US Government / China clouds: "
            "https://login.microsoftonline.us (else: the public cloud's).",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    graph_url: Annotated[
        str | None,
        typer.Option(
            help="The Graph address, only for US Government / China clouds: "
            "https://graph.microsoft.us/v1.0 (else: the public cloud's).",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    graph_ca_file: Annotated[
        Path | None,
        typer.Option(
            help="PEM of the CA of a TLS-inspecting proxy between deskhand and Microsoft, "
            "only when there is one.",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    ad_server: Annotated[
        list[str] | None,
        typer.Option(help="ldaps://dc1.client.local:636 (repeat for more; else: sandbox AD)."),
    ] = None,
    no_ad: Annotated[
        bool, typer.Option("--no-ad", help="The client has no on-premises AD.")
    ] = False,
    base_dn: Annotated[str | None, typer.Option(help="Where users are: DC=client,DC=local")] = None,
    bind_user: Annotated[
        str | None, typer.Option(help="The AD service account: svc-deskhand@client.local")
    ] = None,
    bind_password: Annotated[
        str | None, typer.Option(help="Its password: env:NAME, file:/path or enc:…")
    ] = None,
    start_tls: Annotated[
        bool, typer.Option("--start-tls", help="ldap:// servers upgraded with StartTLS.")
    ] = False,
    ca_file: Annotated[
        Path | None, typer.Option(help="PEM of the CA that signed the DCs' certificates.")
    ] = None,
    tls_server_name: Annotated[
        str | None,
        typer.Option(
            help="The name on the DCs' certificate, only when --ad-server gives IP addresses: "
            "dc1.client.local",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    smtp_host: Annotated[
        str | None, typer.Option(help="Send replies by SMTP (else: through the PSA).")
    ] = None,
    smtp_port: Annotated[int, typer.Option(help="The SMTP submission port.")] = 587,
    smtp_user: Text = None,
    smtp_password: Annotated[
        str | None, typer.Option(help="The SMTP password: env:NAME, file:/path or enc:…")
    ] = None,
    from_address: Annotated[
        str | None, typer.Option(help="Replies come from this address.")
    ] = None,
    smtp_ca_file: Annotated[
        Path | None,
        typer.Option(
            help="PEM of the CA that signed the SMTP server's certificate, only when it is not "
            "a public CA.",
            rich_help_panel=ADVANCED,
        ),
    ] = None,
    authorised_contact: Annotated[
        list[str] | None, typer.Option(help="May ask for changes for others (repeat).")
    ] = None,
    vip: Annotated[list[str] | None, typer.Option(help="A user who needs extra care.")] = None,
    license_: Annotated[
        list[str] | None,
        typer.Option("--license", help='A licence name and its SKU id: "Business Premium=ID".'),
    ] = None,
    approver: Annotated[
        list[str] | None, typer.Option(help="A deskhand user (e-mail) who approves drafts.")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="The tenant's policy file.")] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Where to write the file (default: DATA_DIR/tenants)."),
    ] = None,
    interactive: Annotated[
        bool | None,
        typer.Option(
            "--interactive/--no-input",
            help="Ask for what is not given (default: when stdin is a terminal).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing file and tenant settings.")
    ] = False,
) -> None:
    """Add a tenant: write its connection file and create it in deskhand.

    The advanced settings (certificates, national clouds, proxies and private CAs) are flags
    only: the questions never ask for them."""
    from deskhand.connectors.connection import parse_connection
    from deskhand.plugins import installed
    from deskhand.policy.tenant_policy import load_policy
    from deskhand.store.models import Tenant

    with user_errors():
        if not _SLUG.match(name):
            raise UsageError(
                f"{name!r} cannot be a tenant id.",
                hint="Use lower case letters, digits and dashes, like contoso-dental.",
            )
        # Checked before any question is asked; the file gets them as absolute paths.
        m365_advanced = {
            "certificate_path": _existing("--certificate-path", certificate_path),
            "certificate_thumbprint": certificate_thumbprint,
            "app_name": app_name,
            "authority_base": graph_authority,
            "graph_base_url": graph_url,
            "ca_file": _pem("--graph-ca-file", graph_ca_file),
        }
        ad_advanced = {
            "start_tls": True if start_tls else None,
            "ca_file": _pem("--ca-file", ca_file),
            "tls_server_name": tls_server_name,
        }
        mail_advanced = {"ca_file": _pem("--smtp-ca-file", smtp_ca_file)}
        ask = sys.stdin.isatty() if interactive is None else interactive
        answers = _Answers(ask)
        document: dict[str, Any] = {"name": display_name or answers.text("Display name", name)}
        document["psa"] = _psa(answers, name, psa_customer_id, syncro_url, syncro_key)
        document["m365"] = _m365(answers, ms_tenant, client_id, client_secret, m365_advanced)
        document["ad"] = _ad(
            answers, ad_server, no_ad, base_dn, bind_user, bind_password, ad_advanced
        )
        document["mail"] = _mail(
            answers, smtp_host, smtp_port, smtp_user, smtp_password, from_address, mail_advanced
        )
        document["domains"] = domain or answers.listed("Client e-mail domains (comma-separated)")
        if authorised_contact:
            document["authorised_contacts"] = authorised_contact
        if vip:
            document["vips"] = vip
        if license_:
            document["licenses"] = _licenses(license_)
        if approver:
            document["approvers"] = approver
        if policy is not None:
            load_policy(policy, installed())  # refuses a bad policy now, naming its line
            document["policy"] = str(policy.resolve())

        path = (config or settings(ctx).data_dir / "tenants" / f"{name}.yaml").resolve()
        if path.exists() and not force:
            raise InputError(
                f"{path} already exists.",
                hint="Edit it, or pass --force to write it again from these answers.",
            )
        text = _file_text(name, document)
        try:
            connection = parse_connection(text, path)  # what is written must read back
        except InputError as error:
            hint = f"{error.hint}\n" if error.hint else ""
            raise InputError(
                error.message,
                hint=hint + "Nothing was written; `deskhand tenants add --help` lists the flags.",
            ) from None
        rt = open_runtime(ctx)
        with rt.db.session() as session:
            tenant = session.get(Tenant, name)
            if tenant is not None and not force:
                raise InputError(
                    f"The tenant {name} already exists.",
                    hint="Pass --force to connect it to this file.",
                )
            if tenant is None:
                tenant = Tenant(id=name, mode="shadow")  # live only when an admin says so
                session.add(tenant)
            _apply(tenant, connection)
            if policy is not None:  # who gave it, and the file's hash, from the start
                from deskhand.cli.desk import operator
                from deskhand.tenants.ownership import record_policy

                record_policy(session, name, operator(), tenant.policy_path, "set by tenants add")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        out.print(f"Added tenant {name} ({tenant.connector}); its connection file is {path}")
        if tenant.mode == "shadow":
            out.print(
                "It starts in shadow: deskhand plans its tickets and compares its plans with what "
                "the technicians do, but drafts and runs nothing. An admin moves it to live with "
                f"`deskhand tenants live {name} --as ADMIN --reason TEXT`.",
                highlight=False,
            )
        for warning in connection.permission_warnings():
            err.print(f"[yellow]warning:[/] {warning}", highlight=False)
        out.print(f"Check it with `deskhand tenants doctor {name}`.")


def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The tenant id.")],
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Show a tenant's connection file; secrets only as the kind of reference, never a value."""
    import yaml

    from deskhand.connectors.connection import load_connection
    from deskhand.store.models import Tenant

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            tenant = _tenant(session.get(Tenant, name), name)
            config_path = tenant.config_path
        if config_path is None:
            document: dict[str, Any] = {"tenant": name, "config_path": None, "config": None}
            shown = "No connection file: every system is the sandbox."
        else:
            connection = load_connection(Path(config_path))
            document = {"tenant": name, "config_path": config_path, "config": connection.shown()}
            shown = yaml.safe_dump(document["config"], sort_keys=False, allow_unicode=True)
        if json_:
            print_json(document)
            return
        out.print(f"[bold]{name}[/] — {config_path or 'sandbox'}", highlight=False)
        out.print(shown, highlight=False, markup=False)


def doctor(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="The tenant id; all tenants if left out.")
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Check every connection of a tenant (or all): reachability, sign-in, permissions, clocks.
    Exits with 1 when any check fails."""
    from sqlalchemy import select

    from deskhand.connectors.factory import Factory
    from deskhand.store.models import Tenant, User
    from deskhand.tenants.doctor import Approver, examine, owner
    from deskhand.tenants.ownership import last_changes

    with user_errors():
        rt = open_runtime(ctx)
        with rt.db.reading() as session:
            if name is None:
                tenants = list(session.scalars(select(Tenant).order_by(Tenant.id)))
            else:
                tenants = [_tenant(session.get(Tenant, name), name)]
            users = {
                user.email: Approver(user.role, tuple(user.tenants))
                for user in session.scalars(select(User))
            }
            owners = last_changes(session, [tenant.id for tenant in tenants])
            session.expunge_all()  # the tenants outlive the session, as read
        factory = Factory(rt.sandbox)
        report = {
            tenant.id: examine(factory, tenant, users, _policy(rt, tenant))
            + owner(owners.get(tenant.id))
            for tenant in tenants
        }
        if json_:
            print_json({tenant: [f.__dict__ for f in found] for tenant, found in report.items()})
        else:
            for tenant, found in report.items():
                out.print(_table(tenant, found))
        if any(f.outcome == "fail" for found in report.values() for f in found):
            raise typer.Exit(1)


@secret_app.command("encrypt")
def secret_encrypt(ctx: typer.Context) -> None:
    """Encrypt a secret with DESKHAND_SECRET_KEY and print the enc: value for a tenant file.
    The secret is read from stdin, or asked for (hidden) at a terminal."""
    from deskhand.connectors import secrets

    with user_errors():
        key = settings(ctx).secret_key
        if sys.stdin.isatty():
            value = typer.prompt("Secret", hide_input=True, confirmation_prompt=True)
        else:
            value = sys.stdin.read().strip()
        if not value:
            raise InputError("No secret was given.", hint="Pipe it in, or type it at the prompt.")
        print(secrets.encrypt(value, key.get_secret_value() if key else None))


@secret_app.command("new-key")
def secret_new_key() -> None:
    """Print a new key for DESKHAND_SECRET_KEY (keep it outside the data folder's backups)."""
    from deskhand.connectors import secrets

    print(secrets.new_key())


class _Answers:
    """What `tenants add` asks for when a flag was not given (only when interactive)."""

    def __init__(self, ask: bool) -> None:
        self.ask = ask

    def text(self, question: str, default: str | None = None) -> str | None:
        if not self.ask:
            return default
        answer: str = typer.prompt(question, default=default or "", show_default=bool(default))
        return answer.strip() or default

    def choice(self, question: str, choices: tuple[str, ...]) -> str:
        if not self.ask:
            return choices[0]
        while True:
            answer = str(typer.prompt(f"{question} ({'/'.join(choices)})", default=choices[0]))
            if answer.strip() in choices:
                return answer.strip()
            err.print(f"Answer one of {', '.join(choices)}.")

    def reference(self, question: str) -> str | None:
        """A secret reference; a pasted secret is refused before it is ever written."""
        from deskhand.connectors.secrets import SecretRef

        while self.ask:
            answer = self.text(f"{question} (env:NAME, file:/path or enc:…)")
            try:
                return str(SecretRef.parse(answer or ""))
            except ValueError as error:
                err.print(f"That {error}", highlight=False)
        return None

    def listed(self, question: str) -> list[str]:
        answer = self.text(question) or ""
        return [part.strip() for part in answer.split(",") if part.strip()]


def _psa(
    answers: _Answers, name: str, customer_id: str | None, url: str | None, key: str | None
) -> dict[str, Any]:
    if url is None and key is None and answers.choice("PSA", ("sandbox", "syncro")) == "sandbox":
        return {"kind": "sandbox", "customer_id": customer_id or name}
    return {
        "kind": "syncro",
        "customer_id": customer_id or answers.text("Syncro customer id (…/customers/NUMBER)"),
        "base_url": url or answers.text("Syncro API address (https://YOURS.syncromsp.com/api/v1)"),
        "api_key": key or answers.reference("Syncro API token"),
    }


def _m365(
    answers: _Answers,
    tenant: str | None,
    client: str | None,
    secret: str | None,
    advanced: dict[str, Any],
) -> dict[str, Any]:
    given = tenant or client or secret or _any(advanced)
    if not given and answers.choice("Microsoft 365", ("sandbox", "graph")) == "sandbox":
        return {"kind": "sandbox"}
    certificate = advanced["certificate_path"] is not None
    return {
        "kind": "graph",
        "ms_tenant_id": tenant or answers.text("Entra tenant id"),
        "client_id": client or answers.text("App registration client id"),
        "client_secret": secret or (None if certificate else answers.reference("Client secret")),
        **advanced,
    }


def _ad(
    answers: _Answers,
    servers: list[str] | None,
    none: bool,
    base_dn: str | None,
    bind_user: str | None,
    password: str | None,
    advanced: dict[str, Any],
) -> dict[str, Any]:
    given = servers or base_dn or bind_user or password or _any(advanced)
    if none and given:
        raise UsageError(
            "--no-ad says the client has no Active Directory, but AD settings were given too.",
            hint="Leave out --no-ad, or the AD flags (--ad-server, --base-dn, --bind-user, "
            "--bind-password, --start-tls, --ca-file, --tls-server-name).",
        )
    if none:
        return {"kind": "none"}
    kind = "ldap" if given else answers.choice("Active Directory", ("sandbox", "ldap", "none"))
    if kind != "ldap":
        return {"kind": kind}
    return {
        "kind": "ldap",
        "servers": servers or answers.listed("Domain controllers (ldaps://dc1.client.local:636)"),
        "base_dn": base_dn or answers.text("Base DN (DC=client,DC=local)"),
        "bind_user": bind_user or answers.text("Bind account (svc-deskhand@client.local)"),
        "bind_password": password or answers.reference("Bind account password"),
        **advanced,
    }


def _mail(
    answers: _Answers,
    host: str | None,
    port: int,
    user: str | None,
    password: str | None,
    from_address: str | None,
    advanced: dict[str, Any],
) -> dict[str, Any]:
    given = host or user or password or from_address or _any(advanced)
    if not given and answers.choice("Client replies go out via", ("psa", "smtp")) == "psa":
        return {"kind": "psa"}
    section: dict[str, Any] = {
        "kind": "smtp",
        "host": host or answers.text("SMTP server"),
        "port": port,
        "from_address": from_address or answers.text("Replies come from (support@client.com)"),
        **advanced,
    }
    user = user or answers.text("SMTP username (empty: no sign-in)")
    if user:
        section["username"] = user
        section["password"] = password or answers.reference("SMTP password")
    return section


def _any(settings: dict[str, Any]) -> bool:
    return any(value is not None for value in settings.values())


def _pem(flag: str, path: Path | None) -> str | None:
    """``path`` as written into the file (absolute), once TLS can load a CA certificate from it."""
    from deskhand.connectors.graph.settings import trusting

    if path is None:
        return None
    try:
        trusting(path)
    except ValueError as error:
        raise InputError(f"{flag} {error}.", hint="Nothing was written.") from None
    return str(path.resolve())


def _existing(flag: str, path: Path | None) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{flag} is {path}, which is not a file.", hint="Nothing was written.")
    return str(path.resolve())


def _licenses(pairs: list[str]) -> dict[str, str]:
    licenses: dict[str, str] = {}
    for pair in pairs:
        label, equals, sku = pair.partition("=")
        if not equals or not label.strip() or not sku.strip():
            raise UsageError(
                f"--license {pair!r} is not NAME=SKU_ID.",
                hint='Like --license "Business Premium=cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46".',
            )
        licenses[label.strip()] = sku.strip()
    return licenses


def _file_text(name: str, document: dict[str, Any]) -> str:
    import yaml

    header = (
        f"# deskhand connection file of the tenant {name}.\n"
        "# Secrets are references (env:NAME, file:/path, enc:…), never the values themselves.\n"
    )
    clean = {k: v for k, v in document.items() if v not in (None, [], {})}
    for section in ("psa", "m365", "ad", "mail"):
        clean[section] = {k: v for k, v in clean[section].items() if v is not None}
    return header + yaml.safe_dump(clean, sort_keys=False, allow_unicode=True)


def _apply(tenant: "Tenant", connection: "Connection") -> None:
    """The tenant's row, as its connection file describes it."""
    file = connection.file
    tenant.name = file.name
    tenant.psa_customer_id = file.psa.customer_id or tenant.id
    tenant.domains = list(file.domains)
    tenant.config_path = str(connection.path)
    policy = connection.policy_path()
    tenant.policy_path = str(policy) if policy else None
    # A summary for `tenants list`; the factory reads the file, not this.
    tenant.connector = "/".join(section.kind for section in file.sections())


def _policy(rt: "Runtime", tenant: "Tenant") -> "TenantPolicy | None":
    try:
        return rt.policy(tenant)
    except DeskhandError:
        return None  # `deskhand tenants policy` names what is wrong with it


def _tenant(tenant: "Tenant | None", name: str) -> "Tenant":
    if tenant is None:
        raise InputError(f"No tenant {name!r}.", hint="`deskhand tenants list` shows them.")
    return tenant


def _table(tenant: str, findings: "list[Finding]") -> Table:
    table = Table("System", "Check", "Result", "Detail", "Fix", title=tenant, title_justify="left")
    for finding in findings:
        style = _OUTCOME_STYLE[finding.outcome]
        table.add_row(
            finding.system,
            finding.check,
            f"[{style}]{finding.outcome}[/]",
            # A system's words are text, not markup: "[redacted: …]" must show as it is.
            escape(finding.detail),
            escape(finding.fix or ""),
        )
    return table
