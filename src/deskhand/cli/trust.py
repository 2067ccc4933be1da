"""`deskhand trust`: the trust figures per tenant, specialist and week, the autonomy deskhand
earned (and why), and the autonomy it lost (and why) — what the web app's Trust page shows."""

import textwrap
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from deskhand.cli.common import out, print_json, user_errors
from deskhand.cli.runtime import open_runtime

if TYPE_CHECKING:
    from deskhand.trust.autonomy import Grant, Revocation
    from deskhand.trust.metrics import Figures, TrustReport
    from deskhand.trust.regressions import OpenRegression

WIDTH = 80
_HEAD = f"  {'week':<10}{'decided':>8}{'unchanged':>10}{'edited':>7}{'rejected':>9}"
_HEAD += f"{'expired':>8}{'failed':>7}{'escalated':>10}"


def trust(
    ctx: typer.Context,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (its id).")] = None,
    specialist: Annotated[str | None, typer.Option(help="Only this specialist (its name).")] = None,
    weeks: Annotated[int, typer.Option(help="How many weeks, up to this one (1 to 104).")] = 12,
    json_: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """How technicians treat deskhand's drafts, per tenant, specialist and week; which steps
    run without approval because deskhand earned it, and which lost it and why."""
    from deskhand.errors import InputError
    from deskhand.store.models import Tenant
    from deskhand.trust import autonomy
    from deskhand.trust.metrics import TrustScope, trust_report
    from deskhand.trust.regressions import open_regressions

    with user_errors():
        rt = open_runtime(ctx)
        scope = TrustScope(
            weeks=weeks,
            tenants=(tenant,) if tenant is not None else None,
            specialist=specialist,
            today=rt.clock().date(),
        )
        with rt.db.reading() as session:
            names = {t.id: t.name for t in session.query(Tenant)}
            if tenant is not None and tenant not in names:
                raise InputError(
                    f"There is no tenant {tenant!r}.",
                    hint="`deskhand tenants list` shows the tenants' ids.",
                )
            report = trust_report(session, scope)
            row = session.get(Tenant, tenant) if tenant is not None else None
            terms = rt.policy(row).autonomy.describe() if row is not None else None
            grants, revoked = autonomy.history(session, [tenant] if tenant else None)
            alarms = open_regressions(session, [tenant] if tenant else None)
        since = datetime.combine(scope.week_starts()[0], datetime.min.time(), UTC)
        grants = [g for g in grants if specialist in (None, g.specialist)]
        revoked = [r for r in revoked if specialist in (None, r.specialist) and r.at >= since]
        alarms = [a for a in alarms if specialist in (None, a.flagged.specialist)]
        if json_:
            print_json({**_document(report, grants, revoked), "regressions": _alarms(alarms)})
            return
        _regressions(alarms, names)
        _print(report, names, grants, revoked, weeks, terms)


def _alarms(alarms: "list[OpenRegression]") -> list[dict[str, Any]]:
    return [
        {
            "tenant": a.tenant_id,
            "flagged_at": a.at.isoformat(),
            "event": a.event_id,
            **a.flagged.data(),
        }
        for a in alarms
    ]


def _regressions(alarms: "list[OpenRegression]", names: dict[str, str]) -> None:
    """Open regression alarms first: what a service manager looks at before the tables."""
    if not alarms:
        return
    _line("Regressions open (flagged, not yet back in line):")
    for a in alarms:
        f = a.flagged
        tenant = names.get(a.tenant_id, a.tenant_id)
        _line(f"{tenant} · {f.specialist}: {f.words}, since {_day(a.at)}", 2)
        tickets = ", ".join(str(t) for t in f.tickets[:8])
        _line(
            f"{f.recent_hits} of {f.recent_total} in the 7 days before the flag, against "
            f"{f.baseline_hits} of {f.baseline_total} before ({_p(f.p, f.z)}); "
            f"tickets {tickets}",
            4,
        )
    out.print()


def _counts(f: "Figures") -> dict[str, Any]:
    d, x = f.decisions, f.executions
    return {
        "decided": d.total,
        "unchanged": d.unchanged,
        "edited": d.edited,
        "rejected": d.rejected,
        "expired": d.expired,
        "unchanged_rate": round(d.unchanged_rate, 4) if d.unchanged_rate is not None else None,
        "verified": x.verified,
        "failed": x.failed,
        "unverified": x.unverified,
        "escalations": dict(f.escalations),
        "median_seconds_to_approve": f.median_seconds_to_approve,
    }


def _document(
    report: "TrustReport", grants: "list[Grant]", revoked: "list[Revocation]"
) -> dict[str, Any]:
    from deskhand.trust.metrics import week_label

    return {
        "weeks": [week_label(w) for w in report.weeks],
        "rows": [
            {
                "tenant": row.tenant_id,
                "specialist": row.specialist,
                "week": week_label(row.week) if row.week is not None else None,
                **_counts(row.figures),
            }
            for row in report.cells
        ],
        "totals": [
            {"tenant": row.tenant_id, "specialist": row.specialist, **_counts(row.figures)}
            for row in report.by_specialist_tenant
        ],
        "autonomy": {
            "grants": [
                {
                    "tenant": g.tenant_id,
                    "specialist": g.specialist,
                    "action": g.action,
                    "since": g.at.isoformat(),
                    "reason": g.reason,
                    "event": g.event_id,
                    "evidence": g.evidence,
                }
                for g in grants
            ],
            "revocations": [
                {
                    "tenant": r.tenant_id,
                    "specialist": r.specialist,
                    "action": r.action,
                    "at": r.at.isoformat(),
                    "trigger": r.trigger,
                    "reason": r.reason,
                    "event": r.event_id,
                    "trigger_event": r.trigger_event,
                    "evidence": r.evidence,
                }
                for r in revoked
            ],
        },
    }


def _line(text: str, indent: int = 0) -> None:
    for part in textwrap.wrap(
        text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2)
    ):
        out.print(escape(part), highlight=False, soft_wrap=True)


def _row(label: str, f: "Figures") -> str:
    d = f.decisions
    failed = f.executions.failed_or_unverified
    return (
        f"  {label:<10}{d.total:>8}{d.unchanged:>10}{d.edited:>7}{d.rejected:>9}"
        f"{d.expired:>8}{failed:>7}{f.escalated:>10}"
    )


def _day(at: datetime) -> str:
    return f"{at.day} {at:%b %Y}"


def _print(
    report: "TrustReport",
    names: dict[str, str],
    grants: "list[Grant]",
    revoked: "list[Revocation]",
    weeks: int,
    terms: str | None,
) -> None:
    from deskhand.trust.metrics import week_label

    first, last = week_label(report.weeks[0]), week_label(report.weeks[-1])
    _line(f"Trust figures, {first} to {last} ({weeks} weeks); failed includes unverified.")
    if report.empty:
        _line("No draft was decided, run or escalated in these weeks.", 2)
    for total in report.by_specialist_tenant:
        tenant = names.get(total.tenant_id or "", total.tenant_id or "?")
        out.print()
        _line(f"{tenant} · {total.specialist}")
        out.print(_HEAD, highlight=False)
        for cell in report.cells:
            if cell.tenant_id == total.tenant_id and cell.specialist == total.specialist:
                assert cell.week is not None
                out.print(_row(week_label(cell.week), cell.figures), highlight=False)
        out.print(_row("all", total.figures), highlight=False)
        rate = total.figures.decisions.unchanged_rate
        median = total.figures.median_seconds_to_approve
        said = []
        if rate is not None:
            said.append(f"{rate:.0%} approved unchanged")
        if median is not None:
            said.append(f"median time to approve {_span(median)}")
        if said:
            _line("; ".join(said) + ".", 2)
    out.print()
    _line("Earned autonomy now (steps that run without approval on their record):")
    if terms is not None:
        _line(terms, 2)
    if not grants:
        _line("None: every step the policy sends for approval waits for a person.", 2)
    for g in grants:
        tenant = names.get(g.tenant_id, g.tenant_id)
        _line(f"{tenant} · {g.specialist} · {g.action}, since {_day(g.at)}", 2)
        _line(_sentence(g.reason), 4)
    out.print()
    _line(f"Autonomy lost in these {weeks} weeks:")
    if not revoked:
        _line("None.", 2)
    for r in revoked:
        tenant = names.get(r.tenant_id, r.tenant_id)
        _line(f"{tenant} · {r.specialist} · {r.action}, on {_day(r.at)}", 2)
        _line(r.reason, 4)


def _p(p: float | None, z: float) -> str:
    """The test's p-value (an alarm from before it was kept: its z statistic)."""
    return f"z = {z:.1f}" if p is None else f"p = {p:.2g}"


def _sentence(reason: str) -> str:
    text = reason[:1].upper() + reason[1:]
    return text if text.endswith(".") else text + "."


def _span(seconds: float) -> str:
    span = timedelta(seconds=round(seconds))
    hours, rest = divmod(int(span.total_seconds()), 3600)
    minutes = rest // 60
    if hours >= 48:
        return f"{hours // 24} days"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{max(minutes, 1)} min"
