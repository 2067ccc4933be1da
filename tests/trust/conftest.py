"""A real runtime for the trust figures, once on a SQLite file and once on the machine's real
PostgreSQL (a throwaway database per test), with the demo tenants seeded; and a way to write
events into its log at chosen times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from deskhand.audit import log
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.domain import events as ev
from deskhand.domain.events import SYSTEM, Actor, ActorKind
from deskhand.engine.runtime import Runtime

APPROVER = Actor(ActorKind.USER, "dana@msp.example")


@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The demo tenants and users, no tickets."""
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(runtime, tickets=False)
    yield runtime
    runtime.close()


class History:
    """Writes events into the real log (hash chain and all) as if they happened at ``at``.

    One run per ticket, and a step id per draft, as the engine does; ``run`` doubles as the
    ticket id."""

    def __init__(self, rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rt = rt
        self.monkeypatch = monkeypatch

    def write(
        self,
        at: datetime,
        event: ev.Event,
        *,
        tenant: str,
        run: int,
        step: int | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        self.monkeypatch.setattr(log, "now", lambda: at)
        with self.rt.db.session() as session:
            log.append(
                session,
                event,
                actor=actor,
                tenant_id=tenant,
                ticket_id=run,
                run_id=run,
                step_id=step,
            )

    def plan(self, at: datetime, run: int, tenant: str, specialist: str) -> None:
        event = ev.PlanProposed(specialist=specialist, summary="a plan", actions=["psa.send_reply"])
        self.write(at, event, tenant=tenant, run=run, actor=Actor(ActorKind.SPECIALIST, specialist))

    def draft(self, at: datetime, run: int, step: int, tenant: str) -> None:
        event = ev.DraftCreated(approval_id=str(step), payload_hash="0" * 64, expires_at="")
        self.write(at, event, tenant=tenant, run=run, step=step)

    def approve(
        self, at: datetime, run: int, step: int, tenant: str, *, edited: bool = False
    ) -> None:
        changes = {"body": ["proposed", "edited"]} if edited else {}
        event = ev.DraftApproved(
            approval_id=str(step), payload_hash="1" * 64, edited=edited, changes=changes
        )
        self.write(at, event, tenant=tenant, run=run, step=step, actor=APPROVER)

    def reject(self, at: datetime, run: int, step: int, tenant: str) -> None:
        event = ev.DraftRejected(approval_id=str(step), reason="wrong user")
        self.write(at, event, tenant=tenant, run=run, step=step, actor=APPROVER)

    def expire(self, at: datetime, run: int, step: int, tenant: str) -> None:
        self.write(at, ev.DraftExpired(approval_id=str(step)), tenant=tenant, run=run, step=step)

    def escalate(self, at: datetime, run: int, tenant: str, reason: str) -> None:
        event = ev.RunEscalated(escalation_id=str(run), reason=reason, detail="")
        self.write(at, event, tenant=tenant, run=run)

    def verified(self, at: datetime, run: int, step: int, tenant: str) -> None:
        event = ev.StepVerified(position=1, action="psa.send_reply", observed={})
        self.write(at, event, tenant=tenant, run=run, step=step)

    def failed(self, at: datetime, run: int, step: int, tenant: str, phase: str) -> None:
        event = ev.StepFailed(position=1, action="psa.send_reply", phase=phase, error="boom")
        self.write(at, event, tenant=tenant, run=run, step=step)

    def refused(self, at: datetime, run: int, step: int, tenant: str) -> None:
        event = ev.PayloadRefused(position=1, approved_hash="1" * 64, current_hash="2" * 64)
        self.write(at, event, tenant=tenant, run=run, step=step)


@pytest.fixture
def history(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> History:
    return History(rt, monkeypatch)
