"""Where messages go: the MSP's targets (``DESKHAND_NOTIFY_URLS``) and each tenant's (the
``notify:`` list of its connection file), each an apprise URL or a secret reference to one.

A URL that holds a secret (a Teams or Slack webhook's token, a mail password) is better given
as ``env:NAME``, ``file:/path`` or ``enc:…`` (``deskhand.connectors.secrets``); either way it
is resolved only when a message is sent, and only ever shown as ``shown_target`` shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deskhand.config import Settings
from deskhand.connectors.connection import load_connection
from deskhand.connectors.secrets import SecretRef
from deskhand.domain.notifications import NoticeKind, parse_kinds, shown_target
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Tenant

log = logging.getLogger("deskhand.notifications")


@dataclass(frozen=True)
class Target:
    """One place messages go, for some kinds of message (none named: every kind)."""

    source: str  # an apprise URL, or env:/file:/enc: naming one
    kinds: frozenset[NoticeKind] = frozenset()
    tenant_id: str | None = None  # None: the MSP's own, told of every tenant

    def wants(self, kind: NoticeKind) -> bool:
        return not self.kinds or kind in self.kinds

    @property
    def shown(self) -> str:
        return shown_target(self.source)

    def url(self, environ: Mapping[str, str], key: str | None) -> str:
        """The apprise URL itself; a SecretError when its reference cannot be resolved."""
        if self.source.partition(":")[0] in ("env", "file", "enc"):
            return SecretRef.parse(self.source).resolve(
                f"notification target {self.shown}", environ=environ, key=key
            )
        return self.source


def msp_targets(settings: Settings) -> list[Target]:
    """The MSP's targets from ``notify_urls``; an InputError naming a bad entry's position."""
    targets = []
    for number, entry in enumerate(settings.notify_urls.split(), start=1):
        kinds: list[NoticeKind] = []
        head, equals, rest = entry.partition("=")
        if equals and "://" not in head and ":" not in head:  # `escalation,…=URL`
            try:
                kinds = parse_kinds(head)
            except ValueError as error:
                raise InputError(
                    f"DESKHAND_NOTIFY_URLS, entry {number}: {error}.",
                    hint="Write KIND,KIND=URL, or the URL alone for every kind.",
                ) from None
            entry = rest
        if entry.partition(":")[0] in ("env", "file", "enc"):
            try:
                SecretRef.parse(entry)
            except ValueError as error:
                raise InputError(f"DESKHAND_NOTIFY_URLS, entry {number} {error}") from None
        elif "://" not in entry:
            raise InputError(
                f"DESKHAND_NOTIFY_URLS, entry {number} is not an apprise URL (scheme://…) "
                "nor a secret reference (env:NAME, file:/path, enc:…).",
            )
        targets.append(Target(entry, frozenset(kinds)))
    return targets


def tenant_targets(tenant: Tenant) -> list[Target]:
    """The tenant's targets from its connection file; none for a sandbox tenant (no file)."""
    if not tenant.config_path:
        return []
    connection = load_connection(Path(tenant.config_path))
    return [
        Target(target.url, frozenset(target.kinds), tenant.id) for target in connection.file.notify
    ]


def every_target(settings: Settings, tenants: list[Tenant]) -> dict[str | None, list[Target]]:
    """The MSP's targets (under None) and each tenant's that has some. A tenant whose file
    cannot be read is logged and left out: the others are still told."""
    found: dict[str | None, list[Target]] = {}
    try:
        if msp := msp_targets(settings):
            found[None] = msp
    except InputError as error:
        log.error("no notifications to the MSP's targets: %s", error)
    for tenant in tenants:
        try:
            if own := tenant_targets(tenant):
                found[tenant.id] = own
        except DeskhandError as error:
            log.error("no notifications to tenant %s's targets: %s", tenant.id, error)
    return found
