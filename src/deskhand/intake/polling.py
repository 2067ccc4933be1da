"""Reading every tenant's PSA and support mailbox for new tickets and answers: what the worker
does on its schedule (``poll_intake_seconds``) and ``deskhand intake poll`` does now."""

from __future__ import annotations

from deskhand.engine.runtime import Runtime
from deskhand.intake.mailbox import poll_mailboxes
from deskhand.intake.psa_poller import PollReport, poll


def poll_all(rt: Runtime, tenant_id: str | None = None) -> list[PollReport]:
    """Read the tenants' PSAs, then their support mailboxes (or one tenant's); one report per
    tenant and source that has something to read."""
    return poll(rt, tenant_id) + poll_mailboxes(rt, tenant_id)
