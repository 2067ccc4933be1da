"""The trust figures as CSV, for owners who want them in a spreadsheet: one row per week,
tenant and specialist, with every count, so that any total can be made with a pivot table."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from deskhand.domain.escalations import Reason
from deskhand.trust.metrics import TrustReport, week_label

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def trust_csv(report: TrustReport, tenant_names: Mapping[str, str]) -> str:
    """The report's finest figures as CSV text; ``tenant_names`` gives each tenant's name."""
    reasons = [*Reason, *(r for r in report.escalation_reasons if r not in set(Reason))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "week_start",
            "iso_week",
            "tenant_id",
            "tenant",
            "specialist",
            "drafts_decided",
            "approved_unchanged",
            "approved_edited",
            "rejected",
            "expired",
            "approved_unchanged_percent",
            "median_minutes_to_approve",
            "approvals_timed",
            "escalations",
            *(f"escalations_{reason}" for reason in reasons),
            "executions_verified",
            "executions_failed",
            "executions_unverified",
        ]
    )
    for row in report.cells:
        assert row.week is not None and row.tenant_id is not None and row.specialist is not None
        f = row.figures
        d, x = f.decisions, f.executions
        rate = d.unchanged_rate
        median = f.median_seconds_to_approve
        writer.writerow(
            [
                row.week.isoformat(),
                week_label(row.week),
                _cell(row.tenant_id),
                _cell(tenant_names.get(row.tenant_id, row.tenant_id)),
                _cell(row.specialist),
                d.total,
                d.unchanged,
                d.edited,
                d.rejected,
                d.expired,
                "" if rate is None else f"{rate * 100:.1f}",
                "" if median is None else f"{median / 60:.1f}",
                f.approvals_timed,
                f.escalated,
                *(f.escalations.get(reason, 0) for reason in reasons),
                x.verified,
                x.failed,
                x.unverified,
            ]
        )
    return out.getvalue()
