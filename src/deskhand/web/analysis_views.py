"""How an analysis is recorded and shown: what its row's JSON columns hold, and the one view of
it that the pages and the API share."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from deskhand.store.models import Analysis, User
from deskhand.web.analysis_options import AnalysisOptions

if TYPE_CHECKING:
    from deskhand.history.report import Report

Status = Literal["queued", "running", "done", "failed", "interrupted"]
ACTIVE: tuple[Status, ...] = ("queued", "running")


class StoredOptions(BaseModel):
    """What ``Analysis.options`` holds: the options, and what the input was."""

    analyze: AnalysisOptions
    files: list[str] = Field(description="The files uploaded, or the saved export's files.")
    size: int = Field(description="Bytes of input.")
    saved: str | None = Field(None, description="The saved export picked, if not an upload.")
    saved_path: str | None = None


class TopCategory(BaseModel):
    category: str
    hours: float
    share_of_minutes: float
    tickets: int
    rank_by_count: int


class AnalysisSummary(BaseModel):
    """The gist of a finished analysis, kept in the table for the list and the API."""

    headlines: list[str]
    format: str
    tickets: int
    hours: float
    minutes_source: str
    window_start: datetime
    window_end: datetime
    window_days: int
    categories: int
    top: list[TopCategory]
    data_quality: dict[str, int]


class AnalysisView(BaseModel):
    """One analysis as the pages and the API show it."""

    id: int
    filename: str
    files: list[str]
    size: int = Field(description="Bytes of input.")
    saved: str | None = Field(description="The saved export analysed, if not an upload.")
    created_by: str = Field(description="E-mail address of who started it.")
    created_by_name: str
    created_at: datetime
    finished_at: datetime | None
    status: Status
    run_started_at: datetime | None = Field(description="When the run under way started.")
    stage: str
    progress: float = Field(description="0 to 1; an estimate while running.")
    error: str | None
    hint: str | None = Field(description="What to do about the error.")
    options: AnalysisOptions
    summary: AnalysisSummary | None = Field(description="Present once the status is done.")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def headline(self) -> str:
        if self.summary and self.summary.headlines:
            return self.summary.headlines[0]
        return self.error or self.stage


def view_of(row: Analysis, user: User) -> AnalysisView:
    """The view of one row of the ``analyses`` table; ``user`` is who started it."""
    stored = StoredOptions.model_validate(row.options)
    extra = row.summary or {}
    active = row.status in ACTIVE
    return AnalysisView(
        id=row.id,
        filename=row.filename,
        files=stored.files,
        size=stored.size,
        saved=stored.saved,
        created_by=user.email,
        created_by_name=user.name or user.email,
        created_at=row.created_at,
        finished_at=row.finished_at,
        status=row.status,
        run_started_at=_run_started(extra) if active else None,
        stage=row.stage,
        progress=row.progress,
        error=row.error,
        hint=extra.get("hint"),
        options=stored.analyze,
        summary=AnalysisSummary.model_validate(extra) if row.status == "done" else None,
    )


def summary_of(report: Report) -> AnalysisSummary:
    """The gist of ``report`` that the table keeps."""
    rows = sorted(report.categories, key=lambda r: r.rank_by_minutes)
    return AnalysisSummary(
        headlines=report.headlines(),
        format=report.format,
        tickets=report.totals.tickets,
        hours=round(report.totals.minutes / 60.0, 1),
        minutes_source=report.totals.minutes_source,
        window_start=report.window.start,
        window_end=report.window.end,
        window_days=report.window.days,
        categories=len(rows),
        top=[
            TopCategory(
                category=r.category,
                hours=round(r.hours, 1),
                share_of_minutes=r.share_of_minutes,
                tickets=r.tickets,
                rank_by_count=r.rank_by_count,
            )
            for r in rows[:5]
        ],
        data_quality={issue.reason: issue.count for issue in report.data_quality},
    )


def _run_started(extra: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(extra["lease"]["started_at"])
    except (KeyError, TypeError, ValueError):
        return None
