"""Regression alarms: a specialist's record at one tenant got significantly worse.

For each specialist × tenant, the last ``RECENT`` (7 days) is compared with the ``BASELINE``
(the 8 weeks before it), measure by measure, each a share of outcomes:

- ``edit_rate``, ``rejection_rate``, ``expiry_rate``: drafts approved with an edit, rejected,
  or left to expire, of the drafts that ended;
- ``failed_execution``: steps that failed or could not be verified, of the steps that ran;
- ``escalation:REASON``: runs escalated for that reason, of the runs the specialist planned;
- ``slow_approval``: approvals slower than the baseline's median time to approve (half the
  baseline's by definition), of the approvals.

The test is **Fisher's exact test, one-sided** (recent share higher than the baseline's), from
SciPy: exact at the small counts one tenant gives in a week, where a normal approximation
flags noise. A regression is flagged when p < ``P_FLAG`` (0.001: strict, because every
measure of every specialist × tenant is looked at again every 15 minutes), and only with enough
evidence: at least ``MIN_RECENT`` recent and ``MIN_BASELINE`` baseline outcomes and ``MIN_HITS``
recent bad ones — a tiny sample or one bad day is noise. The simulated operating year
(``bench/operating_year.py``) is what chose it: the pooled two-proportion z-test the first
version used flagged about one false regression per specialist and tenant a year on a steady
6 % edit rate. A flag is a ``trust.regression_flagged`` event with its figures (p, and the z
statistic for reading) and the recent tickets behind it, raised once per episode: it stays
open, and is not raised again, until p > ``P_CLEAR`` (0.05: the recent share no longer even
weakly above the baseline), which a ``trust.regression_cleared`` event records. The worker
checks every ``CHECK_EVERY``.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from deskhand.audit import log as event_log
from deskhand.domain import events as ev
from deskhand.store.models import ChainHead, EventRecord
from deskhand.trust import autonomy

RECENT = timedelta(days=7)
BASELINE = timedelta(weeks=8)
CHECK_EVERY = timedelta(minutes=15)
MIN_RECENT = 10
MIN_BASELINE = 20
MIN_HITS = 3
P_FLAG = 0.001
P_CLEAR = 0.05
MAX_TICKETS = 20  # tickets named as the evidence of one flag
TEST = "Fisher's exact test, one-sided, p < 0.001: the last 7 days against the 8 weeks before"

DECIDED = ("unchanged", "edited", "rejected", "expired")
RAN = ("verified", "failed", "unverified")
WORDS = {
    "edit_rate": "more drafts needed an edit before approval",
    "rejection_rate": "more drafts were rejected",
    "expiry_rate": "more drafts expired with nobody deciding",
    "failed_execution": "more steps failed or could not be verified",
    "slow_approval": "drafts take longer to be approved",
}


@dataclass(frozen=True)
class Outcome:
    """One counted event of a specialist at a tenant."""

    at: datetime
    tenant_id: str
    specialist: str
    kind: str  # planned, a DECIDED or RAN kind, escalated
    ticket_id: int | None
    reason: str | None = None  # an escalation's reason code
    seconds: float | None = None  # an approval's time from draft to decision


@dataclass(frozen=True)
class Comparison:
    """One measure of one specialist at one tenant, recent against baseline."""

    tenant_id: str
    specialist: str
    measure: str
    recent_hits: int
    recent_total: int
    baseline_hits: int
    baseline_total: int
    z: float
    tickets: tuple[int, ...]  # the recent tickets behind the hits
    p: float = 1.0  # Fisher's exact test, one-sided

    @property
    def words(self) -> str:
        if self.measure.startswith("escalation:"):
            reason = self.measure.partition(":")[2].replace("_", " ")
            return f"more tickets escalated ({reason})"
        return WORDS[self.measure]

    @property
    def significant(self) -> bool:
        return (
            self.p < P_FLAG
            and self.recent_total >= MIN_RECENT
            and self.baseline_total >= MIN_BASELINE
            and self.recent_hits >= MIN_HITS
        )


@dataclass(frozen=True)
class OpenRegression:
    """A flagged regression whose episode has not ended."""

    event_id: int
    at: datetime
    tenant_id: str
    flagged: ev.RegressionFlagged


@dataclass(frozen=True)
class Checked:
    """What a check flagged and ended, and every comparison it made (by tenant, specialist
    and measure)."""

    flagged: list[Comparison]
    cleared: list[OpenRegression]
    comparisons: dict[tuple[str, str, str], Comparison]

    @property
    def empty(self) -> bool:
        return not (self.flagged or self.cleared)


def p_value(recent_hits: int, recent_total: int, baseline_hits: int, baseline_total: int) -> float:
    """One-sided Fisher's exact p of the recent share being higher than the baseline's (1.0
    when either side has no outcomes)."""
    if not recent_total or not baseline_total:
        return 1.0
    from scipy.stats import fisher_exact  # only the worker's round and the Trust page need it

    # An escalation can count against a window its run was planned before: at most all.
    recent_hits, baseline_hits = min(recent_hits, recent_total), min(baseline_hits, baseline_total)
    table = [
        [recent_hits, recent_total - recent_hits],
        [baseline_hits, baseline_total - baseline_hits],
    ]
    return float(fisher_exact(table, alternative="greater").pvalue)


def z_score(recent_hits: int, recent_total: int, baseline_hits: int, baseline_total: int) -> float:
    """The pooled two-proportion z statistic of recent over baseline (0 when undefined)."""
    if not recent_total or not baseline_total:
        return 0.0
    pooled = (recent_hits + baseline_hits) / (recent_total + baseline_total)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / recent_total + 1 / baseline_total))
    if spread == 0:
        return 0.0
    return (recent_hits / recent_total - baseline_hits / baseline_total) / spread


def compare(outcomes: Iterable[Outcome], since: datetime) -> list[Comparison]:
    """Every measure of every specialist × tenant in ``outcomes``: those from ``since`` on are
    recent, the rest the baseline. Pure: no I/O."""
    pairs: defaultdict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        pairs[(outcome.tenant_id, outcome.specialist)].append(outcome)
    found = []
    for (tenant_id, specialist), group in sorted(pairs.items()):
        recent = [o for o in group if o.at >= since]
        baseline = [o for o in group if o.at < since]
        for measure, hit, counted in _measures(recent, baseline):
            r = [o for o in recent if counted(o)]
            b = [o for o in baseline if counted(o)]
            # Hits are read from every outcome: an escalation is not itself a planned run.
            r_hits = [o for o in recent if hit(o)]
            b_hits = sum(1 for o in baseline if hit(o))
            tickets = sorted({o.ticket_id for o in r_hits if o.ticket_id is not None})
            found.append(
                Comparison(
                    tenant_id,
                    specialist,
                    measure,
                    len(r_hits),
                    len(r),
                    b_hits,
                    len(b),
                    z_score(len(r_hits), len(r), b_hits, len(b)),
                    tuple(tickets[:MAX_TICKETS]),
                    p_value(len(r_hits), len(r), b_hits, len(b)) if r_hits else 1.0,
                )
            )
    return found


class _Pick:
    """A predicate over outcomes, named for the measure it belongs to."""

    def __init__(self, kinds: tuple[str, ...], reason: str | None = None, slower: float = 0):
        self.kinds, self.reason, self.slower = kinds, reason, slower

    def __call__(self, outcome: Outcome) -> bool:
        if outcome.kind not in self.kinds:
            return False
        if self.reason is not None and outcome.reason != self.reason:
            return False
        return not self.slower or (outcome.seconds or 0) > self.slower


_Test = tuple[str, _Pick, _Pick]


class _Timed(_Pick):
    """Approvals whose time to approve is known."""

    def __call__(self, outcome: Outcome) -> bool:
        return outcome.kind in self.kinds and outcome.seconds is not None


def _measures(recent: list[Outcome], baseline: list[Outcome]) -> list[_Test]:
    decided = _Pick(DECIDED)
    tests: list[_Test] = [
        ("edit_rate", _Pick(("edited",)), decided),
        ("rejection_rate", _Pick(("rejected",)), decided),
        ("expiry_rate", _Pick(("expired",)), decided),
        ("failed_execution", _Pick(("failed", "unverified")), _Pick(RAN)),
    ]
    planned = _Pick(("planned",))  # only runs a specialist planned are read (``outcomes``)
    for reason in sorted({o.reason for o in recent if o.kind == "escalated" and o.reason}):
        tests.append((f"escalation:{reason}", _Pick(("escalated",), reason), planned))
    timed = [o.seconds for o in baseline if o.seconds is not None]
    if timed:
        median = statistics.median(timed)
        approved = ("unchanged", "edited")
        tests.append(
            ("slow_approval", _Pick(approved, slower=max(median, 0.001)), _Timed(approved))
        )
    return tests


def outcomes(session: Session, start: datetime, end: datetime) -> list[Outcome]:
    """Every counted event from ``start`` until ``end`` of a run some specialist planned."""
    e = aliased(EventRecord, name="e")
    plan = aliased(EventRecord, name="plan")
    types = (ev.PlanProposed.TYPE, *_TRUST_TYPES)
    rows = session.execute(
        select(e.at, e.type, e.tenant_id, e.ticket_id, e.step_id, e.data, plan.data["specialist"])
        .select_from(e)
        .join(
            plan,
            and_(
                plan.ticket_id == e.ticket_id,
                plan.run_id == e.run_id,
                plan.type == ev.PlanProposed.TYPE,
            ),
        )
        .where(e.type.in_(types), e.at >= start, e.at < end, e.tenant_id.is_not(None))
        .order_by(e.id)
    ).all()
    created = _drafts_created(session, start - BASELINE, end)
    found = []
    approved_steps: set[tuple[int | None, int | None]] = set()
    for at, type_, tenant_id, ticket_id, step_id, data, specialist in rows:
        kind = _kind(type_, data)
        if kind is None or not isinstance(specialist, str):
            continue
        seconds = None
        if kind in ("unchanged", "edited"):
            approved_steps.add((ticket_id, step_id))
            drafted = created.get((ticket_id, step_id))
            seconds = (at - drafted).total_seconds() if drafted else None
        elif kind == "expired" and (ticket_id, step_id) in approved_steps:
            continue  # approved, then did not start in time: counted as approved
        reason = str(data.get("reason")) if kind == "escalated" else None
        found.append(Outcome(at, tenant_id, specialist, kind, ticket_id, reason, seconds))
    return found


_TRUST_TYPES = (
    ev.DraftApproved.TYPE,
    ev.DraftRejected.TYPE,
    ev.DraftExpired.TYPE,
    ev.RunEscalated.TYPE,
    ev.StepVerified.TYPE,
    ev.StepFailed.TYPE,
    ev.PayloadRefused.TYPE,
)


def _kind(type_: str, data: dict[str, object]) -> str | None:
    if type_ == ev.PlanProposed.TYPE:
        return "planned"
    if type_ == ev.DraftApproved.TYPE:
        return "edited" if data.get("edited") else "unchanged"
    if type_ == ev.StepFailed.TYPE:
        return "unverified" if data.get("phase") == "verify" else "failed"
    return {
        ev.DraftRejected.TYPE: "rejected",
        ev.DraftExpired.TYPE: "expired",
        ev.RunEscalated.TYPE: "escalated",
        ev.StepVerified.TYPE: "verified",
        ev.PayloadRefused.TYPE: "failed",
    }.get(type_)


def _drafts_created(
    session: Session, start: datetime, end: datetime
) -> dict[tuple[int | None, int | None], datetime]:
    rows = session.execute(
        select(EventRecord.ticket_id, EventRecord.step_id, EventRecord.at).where(
            EventRecord.type == ev.DraftCreated.TYPE,
            EventRecord.at >= start,
            EventRecord.at < end,
        )
    )
    return {(ticket_id, step_id): at for ticket_id, step_id, at in rows}


def open_regressions(
    session: Session, tenants: Iterable[str] | None = None
) -> list[OpenRegression]:
    """Flagged regressions whose episode has not ended, oldest first (of ``tenants`` only,
    when given)."""
    query = select(EventRecord).where(
        EventRecord.type.in_((ev.RegressionFlagged.TYPE, ev.RegressionCleared.TYPE))
    )
    if tenants is not None:
        query = query.where(EventRecord.tenant_id.in_(list(tenants)))
    current: dict[tuple[str, str, str], OpenRegression] = {}
    for record in session.scalars(query.order_by(EventRecord.id)):
        key = (record.tenant_id or "", record.data["specialist"], record.data["measure"])
        if record.type == ev.RegressionCleared.TYPE:
            current.pop(key, None)
        else:
            flagged = ev.RegressionFlagged(**record.data)
            current[key] = OpenRegression(record.id, record.at, key[0], flagged)
    return sorted(current.values(), key=lambda r: r.event_id)


def due(session: Session, moment: datetime) -> Checked:
    """What a check at ``moment`` would flag and end, read without writing anything."""
    since = moment - RECENT
    comparisons = compare(outcomes(session, since - BASELINE, moment), since)
    by_key = {(c.tenant_id, c.specialist, c.measure): c for c in comparisons}
    still_open = {
        (r.tenant_id, r.flagged.specialist, r.flagged.measure): r for r in open_regressions(session)
    }
    cleared = [
        regression
        for key, regression in still_open.items()
        if key not in by_key or by_key[key].p > P_CLEAR
    ]
    flagged = [c for key, c in by_key.items() if key not in still_open and c.significant]
    return Checked(flagged, cleared, by_key)


def check(session: Session, moment: datetime) -> Checked:
    """Flag new regressions and end the episodes that are over, as of ``moment``; the
    transaction holds the event chain's lock first, so two workers never flag one twice (the
    worker asks ``due`` first, without the lock, and comes here only when there is work)."""
    session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
    checked = due(session, moment)
    since = (moment - RECENT).isoformat()
    for regression in checked.cleared:
        now_ = checked.comparisons.get(
            (regression.tenant_id, regression.flagged.specialist, regression.flagged.measure)
        )
        hits, total, z = (now_.recent_hits, now_.recent_total, now_.z) if now_ else (0, 0, 0.0)
        event_log.append(
            session,
            ev.RegressionCleared(
                regression.flagged.specialist,
                regression.flagged.measure,
                regression.event_id,
                hits,
                total,
                round(z, 3),
            ),
            tenant_id=regression.tenant_id,
        )
    for comparison in checked.flagged:
        flagged = event_log.append(
            session,
            ev.RegressionFlagged(
                comparison.specialist,
                comparison.measure,
                comparison.words,
                comparison.recent_hits,
                comparison.recent_total,
                comparison.baseline_hits,
                comparison.baseline_total,
                round(comparison.z, 3),
                TEST,
                since,
                list(comparison.tickets),
                float(f"{comparison.p:.3g}"),
            ),
            tenant_id=comparison.tenant_id,
            ticket_id=comparison.tickets[0] if comparison.tickets else None,
        )
        autonomy.regressed(session, flagged)  # its grants at the tenant end with the alarm
    return checked
