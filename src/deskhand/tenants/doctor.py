"""`deskhand tenants doctor`: every configured connection of a tenant, checked, with what to fix.

This module only goes across a tenant's systems: it reads the connection file, builds the
connectors and asks each for its own findings (``doctor()``, which each connector folder's
``doctor.py`` makes, leaving the connector's secrets out); a sandbox has nothing to check. What
it checks itself is what no one connector knows: secrets too short to redact, the file's licence
names against the tenant's subscriptions, and its approvers against deskhand's users and the
tenant's policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deskhand.connectors.connection import Connection
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError
from deskhand.connectors.factory import Connectors, Factory
from deskhand.connectors.redaction import MIN_LENGTH
from deskhand.errors import DeskhandError
from deskhand.tenants.ownership import Change

if TYPE_CHECKING:
    from deskhand.policy.tenant_policy import TenantPolicy
    from deskhand.store.models import Tenant


@dataclass(frozen=True)
class Approver:
    """A deskhand user as the approver check needs them."""

    role: str
    tenants: tuple[str, ...]  # tenant ids, or "*"


SANDBOX = "sandbox: nothing to check"


def examine(
    factory: Factory,
    tenant: Tenant,
    users: Mapping[str, Approver] | None = None,
    policy: TenantPolicy | None = None,
) -> list[Finding]:
    """One finding per check on each of the tenant's systems, and on the file's licence names
    and approvers (against ``users`` by e-mail and the tenant's ``policy``); nothing is changed
    anywhere."""
    if tenant.config_path is None:
        return [Finding(system, "sandbox", "ok", SANDBOX) for system in ("psa", "m365", "ad")]
    try:
        connection = factory.connection(tenant)
    except DeskhandError as error:
        return [Finding("config", "connection file", "fail", error.message, fix=error.hint)]
    findings = [
        Finding("config", "connection file", "ok", f"{connection.path} reads correctly"),
        *(
            Finding("config", "secret file", "warn", warning, fix="chmod 600 the file")
            for warning in connection.permission_warnings()
        ),
    ]
    try:
        connectors = factory.for_tenant(tenant)
        findings += _too_short(connection, factory.secrets(tenant.id, connection))
    except DeskhandError as error:
        return [*findings, Finding("config", "secrets", "fail", error.message, fix=error.hint)]
    systems: list[tuple[str, object]] = [
        ("psa", connectors.psa),
        ("m365", connectors.m365),
        ("ad", connectors.ad),
    ]
    for system, connector in systems:
        findings += _checked(system, connector)
    if connectors.mail is None:
        findings.append(Finding("mail", "channel", "ok", "replies go out as PSA public comments"))
    else:
        findings += _checked("mail", connectors.mail)
    if connectors.mailbox is not None:
        findings += _checked("imap", connectors.mailbox)
    findings += _licences(connection, connectors)
    if users is not None and policy is not None:
        findings += _approvers(connection, tenant.id, users, policy)
    return findings


def _too_short(connection: Connection, secrets: Mapping[str, str | None]) -> list[Finding]:
    """A secret too short to be told from ordinary words is not redacted from error messages."""
    found = []
    for section in connection.file.sections():
        value = secrets.get(section.system)
        if value and len(value) < MIN_LENGTH:
            name = f"{section.system}.{section.secret_field}"
            detail = f"{name} is {len(value)} characters long; deskhand redacts secrets from "
            detail += f"error messages and logs only from {MIN_LENGTH} characters on"
            fix = "use a longer secret: a password of 14 characters or more"
            found.append(Finding("config", f"secret {name}", "warn", detail, fix))
    return found


def _licences(connection: Connection, connectors: Connectors) -> list[Finding]:
    """Each licence name of the file must be a SKU the tenant subscribes to."""
    names = connection.file.licenses
    if not names:
        return []
    try:
        skus = {sku.id: sku for sku in connectors.m365.subscribed_skus()}
    except ConnectorError as error:
        return [Finding("config", "licenses", "fail", f"cannot read the SKUs: {error}", error.fix)]
    found = []
    for name, sku_id in names.items():
        sku = skus.get(sku_id)
        if sku is None:
            found.append(
                Finding(
                    "config",
                    f"license {name}",
                    "fail",
                    f"{sku_id} is not a SKU this tenant subscribes to",
                    fix="Microsoft 365 admin center → Billing → Your products lists the "
                    "subscriptions; put the SKU id of the one you mean under `licenses`",
                )
            )
        else:
            seats = f"{sku.consumed} of {sku.total} seats used"
            found.append(Finding("config", f"license {name}", "ok", f"{sku.part_number}, {seats}"))
    return found


def _approvers(
    connection: Connection, tenant_id: str, users: Mapping[str, Approver], policy: TenantPolicy
) -> list[Finding]:
    """Each approver the file names must be a deskhand user who sees the tenant and whose role
    the tenant's policy lets approve."""
    found = []
    for email in connection.file.approvers:
        user = users.get(email.strip().lower())
        if user is None:
            problem, fix = "is not a deskhand user", f"deskhand users add {email} --role approver"
        elif not ("*" in user.tenants or tenant_id in user.tenants):
            problem = "cannot see this tenant"
            fix = f"give {email} the tenant {tenant_id} (deskhand users add … --tenants)"
        elif not policy.may_approve(user.role):
            problem = f"is a {user.role}, and the tenant's policy lets only "
            problem += ", ".join(sorted(policy.approvers)) + " approve"
            fix = f"give {email} one of those roles, or change approvers in {policy.source}"
        else:
            found.append(Finding("config", f"approver {email}", "ok", f"may approve ({user.role})"))
            continue
        found.append(Finding("config", f"approver {email}", "warn", f"{email} {problem}", fix))
    return found


def _checked(system: str, connector: object) -> list[Finding]:
    doctor = getattr(connector, "doctor", None)
    if doctor is None:
        return [Finding(system, "sandbox", "ok", SANDBOX)]
    try:
        found: list[Finding] = doctor()
    except ConnectorError as error:
        # A doctor reports what it finds; one that gives up still tells the admin why.
        return [Finding(error.system, "reachable", "fail", error.message, fix=error.fix)]
    return found


def owner(change: Change | None) -> list[Finding]:
    """Who owns the tenant's policy: a warning, asking for a new owner, when the user who last
    changed it is disabled or removed (the policy keeps working); nothing when none is
    recorded."""
    if change is None:
        return []
    warning = change.warning()
    if warning is None:
        return [Finding("config", "policy owner", "ok", change.sentence())]
    fix = f"deskhand tenants owner {change.tenant_id} --as YOU --reason '…'"
    return [Finding("config", "policy owner", "warn", f"{warning}. {change.sentence()}", fix)]
