"""The Trust page: do technicians still approve drafts unchanged, week after week, per
specialist and per tenant? The figures come from the event log only (``deskhand.trust``); the
charts are drawn from a JSON block by ``static/trust.js`` and every number is also in a table
below its chart, and in a CSV.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from deskhand.domain import escalations
from deskhand.store.models import Tenant
from deskhand.trust.autonomy import Grant, Revocation, history
from deskhand.trust.export import trust_csv
from deskhand.trust.metrics import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    NO_SPECIALIST,
    TrustReport,
    TrustScope,
    trust_report,
    week_label,
)
from deskhand.trust.regressions import OpenRegression, open_regressions
from deskhand.web.render import page
from deskhand.web.security import CurrentViewer, Viewer, runtime

router = APIRouter()
WEEK_CHOICES = (4, 8, 12, 26, 52, 104)

Weeks = Annotated[int, Query(ge=1, le=MAX_WEEKS, description="How many weeks, up to 104.")]
Name = Annotated[str | None, Query(max_length=200)]


class TrustFilters(BaseModel):
    """What the user chose to look at, as the page's form and links carry it."""

    weeks: int = DEFAULT_WEEKS
    tenant: str | None = None
    specialist: str | None = None

    def query(self) -> str:
        """The filters as a query string, leaving out the defaults."""
        values = {
            "weeks": self.weeks if self.weeks != DEFAULT_WEEKS else None,
            "tenant": self.tenant,
            "specialist": self.specialist,
        }
        return urlencode({k: v for k, v in values.items() if v})


def _scope(who: Viewer, filters: TrustFilters) -> TrustScope:
    """The figures the user may see: their tenants, narrowed by the filters. A tenant outside
    their scope gives no figures, exactly like a tenant that does not exist."""
    tenants = None if who.all_tenants else who.tenants
    if filters.tenant:
        tenants = (filters.tenant,) if who.sees(filters.tenant) else ()
    return TrustScope(weeks=filters.weeks, tenants=tenants, specialist=filters.specialist or None)


def _figures(
    request: Request, who: Viewer, filters: TrustFilters
) -> tuple[TrustReport, dict[str, str], list[str]]:
    """The report, the names of the tenants the user sees, and the specialists to filter by."""
    rt = runtime(request)
    with rt.db.reading() as session:
        report = trust_report(session, _scope(who, filters))
        tenants = {
            t.id: t.name
            for t in session.scalars(select(Tenant).order_by(Tenant.name))
            if who.sees(t.id)
        }
    named = set(rt.registry.by_name) | set(report.specialists) | {filters.specialist or ""}
    specialists = [*sorted(named - {"", NO_SPECIALIST}), NO_SPECIALIST]
    return report, tenants, specialists


def percent(rate: float | None) -> str:
    """A share as a whole percentage; a dash when there was nothing to share out."""
    return "—" if rate is None else f"{rate * 100:.0f}%"


def duration(seconds: float | None) -> str:
    """A time to approve as a person reads it: 40 s, 12 min, 3.5 h, 2.1 days."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def reason_text(reason: str) -> str:
    """What an escalation's reason code means, in a sentence."""
    return escalations.sentence(reason)


def specialist_label(name: str) -> str:
    """A specialist's name as the page shows it."""
    if name == NO_SPECIALIST:
        return "none (escalated before a plan)"
    return name.replace("_", " ")


def _chart_data(report: TrustReport) -> dict[str, Any]:
    """What the charts draw: per chart, one series per bar segment, one value per week.
    Lists, not objects: JSON objects lose their order (Jinja's tojson sorts keys)."""
    weeks = [row.figures for row in report.by_week]

    def series(label: str, values: list[int]) -> dict[str, Any]:
        return {"label": label, "values": values}

    return {
        "weeks": [week_label(w) for w in report.weeks],
        "decisions": [
            series("Approved unchanged", [f.decisions.unchanged for f in weeks]),
            series("Edited", [f.decisions.edited for f in weeks]),
            series("Rejected", [f.decisions.rejected for f in weeks]),
            series("Expired", [f.decisions.expired for f in weeks]),
        ],
        "escalations": [
            series(reason, [f.escalations.get(reason, 0) for f in weeks])
            for reason in report.escalation_reasons
        ],
        "executions": [
            series("Verified", [f.executions.verified for f in weeks]),
            series("Failed", [f.executions.failed for f in weeks]),
            series("Unverified", [f.executions.unverified for f in weeks]),
        ],
    }


def _autonomy(
    request: Request, who: Viewer, filters: TrustFilters, report: TrustReport
) -> tuple[list[Grant], list[Revocation]]:
    """The autonomy earned now, and what was lost in the report's weeks, in the tenants the
    user sees (and chose), of the chosen specialist."""
    scope = _scope(who, filters)
    with runtime(request).db.reading() as session:
        grants, revoked = history(session, scope.tenants)
    since = datetime.combine(report.weeks[0], datetime.min.time(), UTC)
    chosen = filters.specialist
    return (
        [g for g in grants if chosen in (None, g.specialist)],
        [r for r in reversed(revoked) if chosen in (None, r.specialist) and r.at >= since],
    )


def _filters(
    weeks: Weeks = DEFAULT_WEEKS, tenant: Name = None, specialist: Name = None
) -> TrustFilters:
    return TrustFilters(weeks=weeks, tenant=tenant or None, specialist=specialist or None)


Filters = Annotated[TrustFilters, Depends(_filters)]


def _open_regressions(request: Request, who: Viewer, filters: TrustFilters) -> list[OpenRegression]:
    """Regressions still open in the tenants the user sees (and chose), newest first."""
    scope = _scope(who, filters)
    with runtime(request).db.reading() as session:
        found = open_regressions(session, scope.tenants)
    return [
        r
        for r in reversed(found)
        if not filters.specialist or r.flagged.specialist == filters.specialist
    ]


@router.get("/trust")
def trust(request: Request, who: CurrentViewer, filters: Filters) -> Response:
    report, tenants, specialists = _figures(request, who, filters)
    grants, revoked = _autonomy(request, who, filters, report)
    return page(
        request,
        "trust.html.j2",
        who,
        regressions=_open_regressions(request, who, filters),
        report=report,
        filters=filters,
        tenants=tenants,
        specialists=specialists,
        week_choices=sorted({*WEEK_CHOICES, filters.weeks}),
        chart_data=_chart_data(report),
        week_label=week_label,
        percent=percent,
        duration=duration,
        reason_text=reason_text,
        specialist_label=specialist_label,
        autonomy_grants=grants,
        autonomy_revoked=revoked,
    )


@router.get("/trust.csv")
def trust_export(request: Request, who: CurrentViewer, filters: Filters) -> Response:
    """The numbers behind the page, one row per week, tenant and specialist."""
    report, tenants, _ = _figures(request, who, filters)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(
        trust_csv(report, tenants),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="deskhand-trust-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
