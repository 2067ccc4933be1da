"""The one call a worker makes each turn: ``Notifier.when_due()``.

At most every ``notify_seconds`` it reads who wants to be told (the MSP's and the tenants'
targets), decides what is due (``due``), records it and hands it to ``Delivery``'s thread —
in a few queries, never waiting on a receiver.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from deskhand.config import Settings
from deskhand.domain.notifications import NoticeKind
from deskhand.notifications import due
from deskhand.notifications.delivery import Delivery, send
from deskhand.notifications.messages import Links, Notice
from deskhand.notifications.targets import Target, every_target
from deskhand.store.db import Database
from deskhand.store.models import Tenant, now

log = logging.getLogger("deskhand.notifications")


class Notifier:
    """Decides what technicians are told, and has it sent in the background."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        delivery: Delivery | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.db = db
        self.settings = settings
        key = settings.secret_key.get_secret_value() if settings.secret_key else None
        self.delivery = delivery or Delivery(db, environ=environ, key=key)
        self.links = Links(settings.public_url)
        self._next = 0.0  # time.monotonic() of the next round

    def when_due(self) -> int:
        """Every ``notify_seconds`` (0: never), queue what is due; how many messages."""
        every = self.settings.notify_seconds
        if every <= 0 or time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + every
        return self.round()

    def round(self) -> int:
        """Decide and queue what is due now; how many messages were queued."""
        with self.db.reading() as session:
            tenants = list(session.scalars(select(Tenant)))
            session.expunge_all()
        targets = every_target(self.settings, tenants)
        told = [t for t in tenants if t.id in targets or None in targets]
        if not told:
            return 0
        names = {tenant.id: tenant.name for tenant in told}
        window = timedelta(minutes=self.settings.notify_expiry_minutes)
        with self.db.reading() as session:  # no write lock while nothing is due
            if not due.due(
                session, tenants=names, moment=now(), expiry_window=window, links=self.links
            ):
                return 0
        queued = []
        with self.db.session() as session:
            due.hold_chain(session)
            for notice in due.due(
                session, tenants=names, moment=now(), expiry_window=window, links=self.links
            ):
                wanted = _wanted(notice, targets)
                if wanted:
                    queued.append((due.record(session, notice, len(wanted)), notice, wanted))
        for notice_id, notice, wanted in queued:  # after the commit: recorded, then sent
            self.delivery.hand(notice_id, notice, wanted)
        if queued:
            log.info("notifications: %d message(s) queued", len(queued))
        return len(queued)

    def close(self, timeout: float = 5.0) -> None:
        self.delivery.close(timeout)


def _wanted(notice: Notice, targets: Mapping[str | None, list[Target]]) -> list[Target]:
    return [
        target
        for target in [*targets.get(None, []), *targets.get(notice.tenant_id, [])]
        if target.wants(notice.kind)
    ]


def trial_notice(tenant_id: str, tenant: str, links: Links) -> Notice:
    """A message that says only that the target works, with a link to the queue."""
    return Notice(
        NoticeKind.PLANS_WAITING,
        tenant_id,
        f"[{tenant}] deskhand test message",
        f"This target receives deskhand's messages about {tenant}.\n"
        f"Plans waiting for approval: {links.plans(tenant_id)}",
        links.plans(tenant_id),
        (),
    )


def send_trial(
    settings: Settings, tenant: Tenant, environ: Mapping[str, str] = os.environ
) -> list[tuple[Target, str | None]]:
    """Send a test message to each target that would hear of ``tenant`` (the MSP's and its
    own), now, once each: every target with None when it was accepted, or why not."""
    targets = every_target(settings, [tenant])
    notice = trial_notice(tenant.id, tenant.name, Links(settings.public_url))
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    return [
        (target, send(notice, target, environ, key))
        for target in [*targets.get(None, []), *targets.get(tenant.id, [])]
    ]
