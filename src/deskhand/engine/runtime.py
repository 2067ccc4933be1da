"""Everything a worker, the CLI or a test needs to run deskhand, built once from settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from deskhand.config import Settings
from deskhand.connectors.factory import Connectors, Factory
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.keys import ServerKeys
from deskhand.plugins import installed
from deskhand.policy.tenant_policy import TenantPolicy, load_policy
from deskhand.specialists.registry import Registry, discover
from deskhand.store.db import Database
from deskhand.store.models import Tenant, TriageModelVersion, now
from deskhand.triage.llm import LlmTriager
from deskhand.triage.llm import from_settings as llm_from_settings
from deskhand.triage.models_store import ActiveModel, load


@dataclass
class Runtime:
    settings: Settings
    db: Database
    sandbox: SandboxStore
    registry: Registry
    _policies: dict[tuple[str | None, float], TenantPolicy] = field(default_factory=dict)
    llm: LlmTriager | None = None  # the optional second opinion in triage (DESKHAND_LLM)
    _triage_model: ActiveModel | None = None
    _keys: ServerKeys | None = None
    _keys_stamp: int | None = None
    # What time it is for scheduling: when a scheduled run is due, how long a step has waited
    # for a change to show. A test sets its own, to see Friday 17:00 come without sleeping.
    clock: Callable[[], datetime] = now

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database(settings.database()),
            sandbox=SandboxStore(settings.sandbox()),
            registry=discover(),
            llm=llm_from_settings(
                settings.llm,
                settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
                settings.llm_timeout_seconds,
                os.environ,
            ),
        )

    @property
    def keys(self) -> ServerKeys:
        """The server's keys (deskhand.keys), read once; the file is made on first use."""
        path = self.settings.server_keys()
        stamp = path.stat().st_mtime_ns if path.exists() else None
        if self._keys is None or stamp != self._keys_stamp:
            self._keys = ServerKeys.load(path)  # again after a rotation by another process
            self._keys_stamp = path.stat().st_mtime_ns
        return self._keys

    def connectors(self, tenant: Tenant) -> Connectors:
        key = self.settings.secret_key
        # "" rather than None: the runtime's settings decide, not the environment read again.
        factory = Factory(self.sandbox, secret_key=key.get_secret_value() if key else "")
        return factory.for_tenant(tenant)

    def ticket_connectors(self, tenant: Tenant) -> Connectors:
        """The tenant's connectors as a ticket's steps use them: a ticket no PSA holds (mailed
        in, imported from an export) keeps its notes in deskhand (``engine.kept_notes``)."""
        from deskhand.engine.kept_notes import with_kept_notes

        return with_kept_notes(self.connectors(tenant), self.db)

    def policy(self, tenant: Tenant) -> TenantPolicy:
        """The tenant's policy, read again when its file changes."""
        path = Path(tenant.policy_path) if tenant.policy_path else None
        stamp = path.stat().st_mtime if path is not None and path.exists() else 0.0
        key = (tenant.policy_path, stamp)
        if key not in self._policies:
            self._policies[key] = load_policy(path, installed())
        return self._policies[key]

    def triage_model(self) -> ActiveModel | None:
        """The active trained triage model, or None; unpickled again only when another version
        becomes active, so each dispatch costs one small query."""
        with self.db.reading() as session:
            version = session.scalars(
                select(TriageModelVersion.id)
                .where(TriageModelVersion.active.is_(True))
                .order_by(TriageModelVersion.id.desc())
                .limit(1)
            ).first()
            if version is None:
                self._triage_model = None
            elif self._triage_model is None or self._triage_model.version != version:
                row = session.get(TriageModelVersion, version)
                assert row is not None
                self._triage_model = load(row)
        return self._triage_model

    def close(self) -> None:
        self.db.dispose()
        self.sandbox.dispose()
