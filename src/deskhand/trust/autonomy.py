"""Earned autonomy: a low-risk step the policy sends for approval runs on its own once the
record of (tenant, specialist, action) earns it, and waits again the moment the record degrades.

Everything here is read from the event log; grants and revocations are events in it
(``autonomy.granted``, ``autonomy.revoked``), each with its evidence.

The rule (the numbers are the tenant policy's ``autonomy:`` section,
``deskhand.policy.tenant_policy.Autonomy``):

- Only a step whose blast radius is ``internal`` or ``read`` can earn it, and never a manual
  step. The approval floor (security, billing, external communication, destructive) never
  does: ``EARNABLE`` and the floor are disjoint, checked when this module is imported, and
  ``consult`` refuses a floor radius again for every step.
- **Granted** when at least ``min_approvals`` drafts of that action by that specialist for
  that tenant were approved unchanged in a row, the first of them at least ``min_days`` days ago,
  with no edit, rejection, failed or unverified execution of the action since (and since its
  last revocation, and since the tenant's policy was last set with ``deskhand tenants
  policy``). Only drafts of runs planned under the fingerprint a grant would hold for now
  count (each ``plan.proposed`` records it): approvals given to another version of the
  specialist, under another policy or directory shape, earn nothing for this one. Granted
  when the next plan has such a step: that plan's run records it.
- **Revoked** the moment the record degrades: an edit or a rejection of a draft of the action,
  a failed or unverified execution of it (a step read back without the change, a step left
  uncertain after a takeover, a payload refused); or a significant drop in the specialist's
  unchanged rate on the tenant: the upper Wilson score bound (95 %) of the unchanged share of
  its last ``window`` decided drafts (any action) falls below the lower Wilson bound the record
  had when the grant was made. Also revoked, at the next plan, when what the grant was earned
  under changed: the specialist's version (its ``version`` and, for a plugin, its
  distribution's version), the tenant's policy (a fingerprint of what it says, comments and
  layout aside), or the tenant's directory shape (cloud only or hybrid with Active Directory,
  and its domain names: cheap to know at every plan, and what decides where a change lands).
  And at once when a regression alarm (``deskhand.trust.regressions``) is flagged for the
  specialist at the tenant: every grant it holds there.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import metadata
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from deskhand.audit.log import append
from deskhand.domain import events as ev
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.policy.tenant_policy import Autonomy, TenantPolicy
from deskhand.specialists.contract import Specialist
from deskhand.store.models import EventRecord, Run, Step

EARNABLE = frozenset({BlastRadius.INTERNAL, BlastRadius.READ})
if EARNABLE & APPROVAL_FLOOR:  # pragma: no cover - a guard against an edit of either set
    raise RuntimeError("a blast radius in the approval floor can never earn autonomy")

Z = 1.96  # the Wilson score bounds are two-sided 95 %

# What a record is made of, by event type; the kind of each is ``kind_of``'s.
RECORD_EVENTS = (
    ev.DraftApproved.TYPE,
    ev.DraftRejected.TYPE,
    ev.StepFailed.TYPE,
    ev.StepUncertain.TYPE,
    ev.PayloadRefused.TYPE,
)
DECIDED = ("unchanged", "edited", "rejected")
DEGRADING = ("edited", "rejected", "failed", "unverified")
FINGERPRINT_TRIGGERS = {
    "specialist_version": "the specialist's version changed",
    "policy": "the tenant's policy changed",
    "directory": "the tenant's directory changed shape",
}
_TRIGGER_WORDS = {
    "edited": "a draft of it was edited before approval",
    "rejected": "a draft of it was rejected",
    "failed": "it failed when it ran",
    "unverified": "it ran but reading back did not show the change",
    "off": "the tenant's policy turned earned autonomy off",
    **FINGERPRINT_TRIGGERS,
}


# --- the pure part -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One line of a record: an event of a step of ``action``, and what it says (``kind``)."""

    id: int
    at: datetime
    action: str
    kind: str  # unchanged, edited, rejected, failed, unverified
    under: str = ""  # the fingerprint its run was planned under (``Fingerprint.key``); "": unknown


def kind_of(event_type: str, data: dict[str, Any]) -> str | None:
    """What an event says of its step's record; None for an event that is not part of one."""
    if event_type == ev.DraftApproved.TYPE:
        return "edited" if data.get("edited") else "unchanged"
    if event_type == ev.DraftRejected.TYPE:
        return "rejected"
    if event_type == ev.StepFailed.TYPE:
        return "unverified" if data.get("phase") == "verify" else "failed"
    if event_type == ev.StepUncertain.TYPE:
        return "unverified"
    if event_type == ev.PayloadRefused.TYPE:
        return "failed"
    return None


def wilson(successes: int, trials: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion: (lower, upper); (0, 1) with no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


def streak(marks: Sequence[Mark], action: str, after: int = 0, under: str = "") -> list[Mark]:
    """The unchanged approvals of ``action`` in a row, oldest first: those after the last
    edit, rejection, failed or unverified execution of it, and after event id ``after``; with
    ``under``, only those of runs planned under that fingerprint (a plan under another
    specialist version, policy or directory shape earns nothing for this one; one from before
    plans carried their fingerprint counts)."""
    found: list[Mark] = []
    for mark in marks:
        if mark.action != action or mark.id <= after:
            continue
        if under and mark.under and mark.under != under:
            continue
        if mark.kind in DEGRADING:
            found = []
        elif mark.kind == "unchanged":
            found.append(mark)
    return found


def window(marks: Sequence[Mark], size: int) -> tuple[int, int]:
    """(unchanged, decided) over the last ``size`` decided drafts of every action."""
    decided = [m for m in marks if m.kind in DECIDED][-size:]
    return sum(1 for m in decided if m.kind == "unchanged"), len(decided)


def earned(
    marks: Sequence[Mark],
    action: str,
    terms: Autonomy,
    now: datetime,
    after: int = 0,
    under: str = "",
) -> bool:
    """Whether the record of ``action`` earns autonomy under ``terms`` at ``now`` (of runs
    planned under the fingerprint ``under``, when given)."""
    run = streak(marks, action, after, under)
    return (
        terms.enabled
        and len(run) >= terms.min_approvals
        and now - run[0].at >= timedelta(days=terms.min_days)
    )


def dropped(marks: Sequence[Mark], size: int, lower_at_grant: float) -> tuple[bool, dict[str, Any]]:
    """Whether the unchanged rate of the last ``size`` decisions fell significantly below the
    record that earned the grant (its lower Wilson bound then), and the figures."""
    unchanged, decided = window(marks, size)
    low, high = wilson(unchanged, decided)
    figures = {
        "window_unchanged": unchanged,
        "window_decided": decided,
        "wilson_lower": round(low, 4),
        "wilson_upper": round(high, 4),
        "wilson_lower_at_grant": lower_at_grant,
    }
    return high < lower_at_grant, figures


@dataclass(frozen=True)
class Fingerprint:
    """What a grant holds for: a change to any of these revokes it."""

    specialist_version: str
    policy: str
    directory: str

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FINGERPRINT_TRIGGERS}

    @property
    def key(self) -> str:
        return fingerprint_key(self.as_dict())

    def changed(self, evidence: dict[str, Any]) -> str | None:
        """The first of these that differs from the grant's ``evidence``, or None."""
        for name in FINGERPRINT_TRIGGERS:
            if evidence.get(name) != getattr(self, name):
                return name
        return None


def fingerprint_key(found: dict[str, Any] | None) -> str:
    """One string for a fingerprint as a plan records it; "" for none recorded."""
    if not found:
        return ""
    return json.dumps({k: str(found.get(k, "")) for k in FINGERPRINT_TRIGGERS}, sort_keys=True)


def policy_fingerprint(policy: TenantPolicy) -> str:
    """What the policy says (not where it came from, nor on which lines), hashed."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "line"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    said = strip(policy.model_dump(mode="json", exclude={"source"}))
    if isinstance(said.get("approvers"), list):
        said["approvers"] = sorted(said["approvers"])
    text = json.dumps(said, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def directory_shape(hybrid: bool, domains: Iterable[str]) -> str:
    """The tenant's directory shape: cloud only or hybrid, and its domain names."""
    kind = "hybrid" if hybrid else "cloud"
    return f"{kind}: {', '.join(sorted(d.lower() for d in domains))}"


def specialist_version(specialist: Specialist | type[Specialist]) -> str:
    """The specialist's ``version``, and for a plugin its distribution's version too."""
    own = str(getattr(specialist, "version", "1"))
    kind = specialist if isinstance(specialist, type) else type(specialist)
    package = kind.__module__.split(".")[0]
    if package == "deskhand":
        return own
    found = _distribution(package)
    return f"{own} ({found})" if found else own


@cache
def _distribution(package: str) -> str:
    names = metadata.packages_distributions().get(package, [])
    for name in names:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return ""


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


# --- the log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """A current grant, as its ``autonomy.granted`` event has it."""

    tenant_id: str
    specialist: str
    action: str
    event_id: int
    at: datetime
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Revocation:
    tenant_id: str
    specialist: str
    action: str
    event_id: int
    at: datetime
    trigger: str
    reason: str
    trigger_event: int
    evidence: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session, tenant_id: str, specialist: str, *, action: str, size: int
) -> list[Mark]:
    """What the rules read of the specialist's record on the tenant, oldest first: every event
    of ``action``'s steps from its last degrading one on (the streak), and the last ``size``
    decided drafts of any action (the window). Bounded, however long the history."""
    base = (
        select(
            EventRecord.id,
            EventRecord.at,
            EventRecord.type,
            EventRecord.data,
            Step.action,
            Step.run_id,
        )
        .join(Step, Step.id == EventRecord.step_id)
        .join(Run, Run.id == Step.run_id)
        .where(EventRecord.tenant_id == tenant_id, Run.specialist == specialist)
    )
    degrading = or_(
        and_(
            EventRecord.type == ev.DraftApproved.TYPE,
            EventRecord.data["edited"].as_boolean().is_(True),
        ),
        EventRecord.type.in_(
            (
                ev.DraftRejected.TYPE,
                ev.StepFailed.TYPE,
                ev.StepUncertain.TYPE,
                ev.PayloadRefused.TYPE,
            )
        ),
    )
    last = session.execute(
        base.with_only_columns(func.max(EventRecord.id)).where(Step.action == action, degrading)
    ).scalar_one_or_none()
    streak_rows = session.execute(
        base.where(
            Step.action == action,
            EventRecord.type.in_(RECORD_EVENTS),
            EventRecord.id >= (last or 0),
        )
    ).all()
    window_rows = session.execute(
        base.where(EventRecord.type.in_((ev.DraftApproved.TYPE, ev.DraftRejected.TYPE)))
        .order_by(EventRecord.id.desc())
        .limit(size)
    ).all()
    planned_under = _planned_under(session, {row[5] for row in streak_rows})
    marks: dict[int, Mark] = {}
    for id_, at, type_, data, of, run_id in (*streak_rows, *window_rows):
        kind = kind_of(type_, data)
        if kind is not None:
            under = planned_under.get(run_id, "")
            marks[id_] = Mark(id=id_, at=at, action=of, kind=kind, under=under)
    return [marks[i] for i in sorted(marks)]


def _planned_under(session: Session, run_ids: set[int]) -> dict[int, str]:
    """The fingerprint each run's plan was made under (``plan.proposed``), by run id."""
    if not run_ids:
        return {}
    rows = session.execute(
        select(EventRecord.run_id, EventRecord.data).where(
            EventRecord.type == ev.PlanProposed.TYPE, EventRecord.run_id.in_(sorted(run_ids))
        )
    )
    return {run_id: fingerprint_key(data.get("fingerprint")) for run_id, data in rows}


def history(
    session: Session, tenant_ids: Sequence[str] | None = None
) -> tuple[list[Grant], list[Revocation]]:
    """The current grants and every revocation, of ``tenant_ids`` (None: all), oldest first."""
    query = select(EventRecord).where(
        EventRecord.type.in_((ev.AutonomyGranted.TYPE, ev.AutonomyRevoked.TYPE))
    )
    if tenant_ids is not None:
        query = query.where(EventRecord.tenant_id.in_(tenant_ids))
    current: dict[tuple[str, str, str], Grant] = {}
    revoked: list[Revocation] = []
    for row in session.scalars(query.order_by(EventRecord.id)):
        data = row.data
        key = (row.tenant_id or "", data["specialist"], data["action"])
        if row.type == ev.AutonomyGranted.TYPE:
            current[key] = Grant(*key, row.id, row.at, data["reason"], data.get("evidence", {}))
        else:
            current.pop(key, None)
            revoked.append(
                Revocation(
                    *key,
                    row.id,
                    row.at,
                    data["trigger"],
                    data["reason"],
                    data.get("trigger_event", 0),
                    data.get("evidence", {}),
                )
            )
    return list(current.values()), revoked


def holds(session: Session, tenant_id: str, specialist: str, action: str) -> bool:
    """Whether the tenant's specialist holds a grant for ``action`` now (not revoked)."""
    last = session.execute(
        select(EventRecord.type)
        .where(
            EventRecord.tenant_id == tenant_id,
            EventRecord.type.in_((ev.AutonomyGranted.TYPE, ev.AutonomyRevoked.TYPE)),
            EventRecord.data["specialist"].as_string() == specialist,
            EventRecord.data["action"].as_string() == action,
        )
        .order_by(EventRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return last == ev.AutonomyGranted.TYPE


def _policy_set(session: Session, tenant_id: str) -> int:
    """The id of the event that last set the tenant's policy (``tenant.policy_set``), or 0."""
    found = session.execute(
        select(func.max(EventRecord.id)).where(
            EventRecord.tenant_id == tenant_id, EventRecord.type == ev.TenantPolicySet.TYPE
        )
    ).scalar_one_or_none()
    return found or 0


def _last_revocation(revoked: Sequence[Revocation], specialist: str, action: str) -> int:
    ids = [r.event_id for r in revoked if r.specialist == specialist and r.action == action]
    return max(ids, default=0)


@dataclass(frozen=True)
class Consulted:
    """Whether a step runs on earned autonomy, why, and the events that say so."""

    auto: bool
    reason: str = ""
    events: tuple[ev.Event, ...] = ()


def consult(
    session: Session,
    *,
    tenant_id: str,
    specialist: str,
    action: str,
    radius: BlastRadius,
    manual: bool,
    terms: Autonomy,
    fingerprint: Fingerprint,
    now: datetime,
) -> Consulted:
    """For a step the policy sends for approval: whether it runs on its own, because its
    record earned it. A grant is made here when the record has just earned it; one whose
    fingerprint changed, or whose tenant turned autonomy off, is revoked here."""
    if radius in APPROVAL_FLOOR or radius not in EARNABLE or manual:
        return Consulted(auto=False)
    grants, revoked = history(session, [tenant_id])
    grant = next((g for g in grants if g.specialist == specialist and g.action == action), None)
    if grant is not None:
        trigger = "off" if not terms.enabled else fingerprint.changed(grant.evidence)
        if trigger is None:
            return Consulted(auto=True, reason=grant.reason)
        revocation = ev.AutonomyRevoked(
            specialist=specialist,
            action=action,
            trigger=trigger,
            reason=f"Waits for approval again: {_TRIGGER_WORDS[trigger]}.",
            evidence={
                "granted": grant.event_id,
                "before": grant.evidence.get(trigger, ""),
                "now": getattr(fingerprint, trigger, ""),
            }
            if trigger != "off"
            else {"granted": grant.event_id},
        )
        return Consulted(auto=False, events=(revocation,))
    marks = record(session, tenant_id, specialist, action=action, size=terms.window)
    # A new record starts after the grant's last revocation, and after the tenant's policy was
    # last set: approvals given under another policy do not earn autonomy under this one.
    after = max(_last_revocation(revoked, specialist, action), _policy_set(session, tenant_id))
    if not earned(marks, action, terms, now, after, fingerprint.key):
        return Consulted(auto=False)
    run = streak(marks, action, after, fingerprint.key)
    unchanged, decided = window(marks, terms.window)
    low, high = wilson(unchanged, decided)
    reason = (
        f"earned: {len(run)} approvals unchanged since {_day(run[0].at)}, none rejected, "
        "edited or failed"
    )
    grant_event = ev.AutonomyGranted(
        specialist=specialist,
        action=action,
        reason=reason,
        evidence={
            "approvals": len(run),
            "first": run[0].at.isoformat(),
            "last": run[-1].at.isoformat(),
            "first_event": run[0].id,
            "last_event": run[-1].id,
            "window_unchanged": unchanged,
            "window_decided": decided,
            "wilson_lower": round(low, 4),
            "wilson_upper": round(high, 4),
            "min_approvals": terms.min_approvals,
            "min_days": terms.min_days,
            "window": terms.window,
            "blast_radius": radius.value,
            "specialist_version": fingerprint.specialist_version,
            "policy": fingerprint.policy,
            "directory": fingerprint.directory,
        },
    )
    return Consulted(auto=True, reason=reason, events=(grant_event,))


def degraded(
    session: Session,
    trigger: EventRecord,
    *,
    specialist: str | None,
    action: str,
) -> list[ev.AutonomyRevoked]:
    """Right after ``trigger`` (an event of a step of ``action``) is written: revoke, in the same
    transaction, the grants its record no longer earns. A degrading event of the action revokes
    its grant; an edit or a rejection of any of the specialist's drafts revokes every grant of
    the specialist on the tenant whose Wilson bound it drops below. Returns what it wrote."""
    kind = kind_of(trigger.type, trigger.data)
    if specialist is None or trigger.tenant_id is None or kind not in DEGRADING:
        return []
    grants, _ = history(session, [trigger.tenant_id])
    mine = [g for g in grants if g.specialist == specialist]
    if not mine:
        return []
    written = []
    for grant in mine:
        if grant.action == action:
            event = ev.AutonomyRevoked(
                specialist=specialist,
                action=grant.action,
                trigger=kind,
                reason=f"Waits for approval again: {_TRIGGER_WORDS[kind]}.",
                trigger_event=trigger.id,
                evidence={"granted": grant.event_id, "kind": kind},
            )
        elif kind in DECIDED:
            size = int(grant.evidence.get("window", Autonomy().window))
            marks = record(session, trigger.tenant_id, specialist, action=grant.action, size=size)
            lower = float(grant.evidence.get("wilson_lower", 0.0))
            fell, figures = dropped(marks, size, lower)
            if not fell:
                continue
            event = ev.AutonomyRevoked(
                specialist=specialist,
                action=grant.action,
                trigger="drop",
                reason=(
                    "Waits for approval again: drafts approved unchanged fell to "
                    f"{figures['window_unchanged']} of the last {figures['window_decided']} "
                    f"(at most {figures['wilson_upper']:.0%} by the Wilson bound, below the "
                    f"{figures['wilson_lower_at_grant']:.0%} that earned it)."
                ),
                trigger_event=trigger.id,
                evidence={"granted": grant.event_id, **figures},
            )
        else:
            continue
        append(
            session,
            event,
            tenant_id=trigger.tenant_id,
            ticket_id=trigger.ticket_id,
            run_id=trigger.run_id,
        )
        written.append(event)
    return written


def regressed(session: Session, flagged: EventRecord) -> list[ev.AutonomyRevoked]:
    """Right after a regression alarm (``trust.regression_flagged``) is written for a specialist
    at a tenant: revoke, in the same transaction, every grant the specialist holds there. The
    alarm says its record got significantly worse; what it earned before no longer holds."""
    data = flagged.data
    specialist = str(data.get("specialist", ""))
    if flagged.tenant_id is None or not specialist:
        return []
    grants, _ = history(session, [flagged.tenant_id])
    written = []
    for grant in (g for g in grants if g.specialist == specialist):
        event = ev.AutonomyRevoked(
            specialist=specialist,
            action=grant.action,
            trigger="regression",
            reason=(
                f"Waits for approval again: a regression was flagged for {specialist} at this "
                f"tenant ({data.get('words', data.get('measure', ''))})."
            ),
            trigger_event=flagged.id,
            evidence={
                "granted": grant.event_id,
                "measure": data.get("measure"),
                "recent_hits": data.get("recent_hits"),
                "recent_total": data.get("recent_total"),
                "baseline_hits": data.get("baseline_hits"),
                "baseline_total": data.get("baseline_total"),
                "z": data.get("z"),
            },
        )
        append(session, event, tenant_id=flagged.tenant_id, ticket_id=flagged.ticket_id)
        written.append(event)
    return written
