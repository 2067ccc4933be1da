"""The analysis pages: upload a PSA export (or pick a saved one), watch ``deskhand analyze`` run
on it, and read the report inside the app.

Analysis reads every tenant's history, so everything here answers 404 to users who do not see
all tenants; viewing needs any role, starting a run the approver role.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from deskhand.errors import DeskhandError, InputError
from deskhand.history.report import Report
from deskhand.history.sources import size_words
from deskhand.web import analysis_exports as exports
from deskhand.web import analysis_jobs as jobs
from deskhand.web import analysis_run as run
from deskhand.web.analysis_options import AnalysisOptions
from deskhand.web.analysis_report import page_report
from deskhand.web.analysis_upload import receive
from deskhand.web.params import ObjectId
from deskhand.web.render import page, templates
from deskhand.web.security import (
    CsrfRejected,
    CurrentViewer,
    Viewer,
    check_csrf,
    runtime,
    status_of,
)

router = APIRouter()

# The self-contained report carries its own inline styles and SVG and nothing else: it may show
# those, and nothing from anywhere, nor run anything, even when opened on its own.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)
DOWNLOADS = {
    run.REPORT_JSON: "application/json",
    run.CATEGORIES_CSV: "text/csv; charset=utf-8",
}


@router.get("/analysis")
def analysis_list(request: Request, who: CurrentViewer) -> Response:
    jobs.require_access(who)
    return page(request, "analysis.html.j2", who, **_list_context(request, who))


@router.get("/analysis/rows")
def analysis_rows(request: Request, who: CurrentViewer) -> Response:
    """The list of analyses, polled while one of them runs."""
    jobs.require_access(who)
    context = {
        "who": who,
        "analyses": jobs.listing(runtime(request)),
        "may_run": jobs.may_run(who),
        "size_words": size_words,
    }
    return templates.TemplateResponse(request, "_analysis_rows.html.j2", context)


@router.post("/analysis")
async def analysis_start(request: Request, who: CurrentViewer) -> Response:
    """Start an analysis of the uploaded files, or of the saved export picked."""
    jobs.require_run(who)
    rt = runtime(request)
    incoming = await run_in_threadpool(jobs.incoming_folder, rt.settings)
    fields: dict[str, str] = {}

    def gate(received: Any) -> None:
        check_csrf(request, who, FormData(list(received.items())))

    try:
        received = await receive(
            request, incoming, max_bytes=jobs.upload_limit(rt.settings), gate=gate
        )
        fields = received.fields
        options = AnalysisOptions.from_fields(fields)
        picked = fields.get("saved", "")
        if picked and received.files:
            raise InputError(
                "Upload files or pick a saved export, not both.",
                hint="Clear the file choice, or set the saved export back to none.",
            )
        if picked:
            export = exports.saved_export(rt.settings, picked)
            analysis_id = await run_in_threadpool(jobs.create_from_saved, rt, who, options, export)
        else:
            analysis_id = await run_in_threadpool(
                jobs.create_from_upload, rt, who, options, received.files, incoming
            )
    except CsrfRejected:
        await run_in_threadpool(shutil.rmtree, incoming, True)
        raise
    except DeskhandError as error:
        await run_in_threadpool(shutil.rmtree, incoming, True)
        return _form_problem(request, who, error, fields)
    await run_in_threadpool(shutil.rmtree, incoming, True)  # a saved pick left it empty
    target = f"/analysis/{analysis_id}"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/analysis/{analysis_id}")
def analysis_page(request: Request, who: CurrentViewer, analysis_id: ObjectId) -> Response:
    jobs.require_access(who)
    context = _analysis_context(request, who, analysis_id)
    return page(request, "analysis_view.html.j2", who, active="analysis", **context)


@router.get("/analysis/{analysis_id}/live")
def analysis_live(request: Request, who: CurrentViewer, analysis_id: ObjectId) -> Response:
    """The progress while the analysis runs; the report once it is done."""
    jobs.require_access(who)
    context = _analysis_context(request, who, analysis_id)
    return templates.TemplateResponse(
        request, "_analysis_live.html.j2", {"who": who, "request": request, **context}
    )


@router.post("/analysis/{analysis_id}/rerun")
async def analysis_rerun(request: Request, who: CurrentViewer, analysis_id: ObjectId) -> Response:
    jobs.require_run(who)
    form = await request.form(max_files=0, max_fields=10)
    check_csrf(request, who, form)
    await run_in_threadpool(jobs.rerun, runtime(request), analysis_id)
    target = f"/analysis/{analysis_id}"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/analysis/{analysis_id}/report.html")
def analysis_report_html(
    request: Request, who: CurrentViewer, analysis_id: ObjectId, download: bool = False
) -> Response:
    """The CLI's self-contained HTML report, for the frame on the page or to download."""
    jobs.require_access(who)
    rt = runtime(request)
    path = jobs.output(rt, jobs.show(rt, analysis_id), run.REPORT_HTML)
    response = FileResponse(
        path,
        media_type="text/html; charset=utf-8",
        filename=f"deskhand-analysis-{analysis_id}.html" if download else None,
        content_disposition_type="attachment" if download else "inline",
    )
    response.headers["Content-Security-Policy"] = REPORT_POLICY
    return response


@router.get("/analysis/{analysis_id}/report.json")
def analysis_report_json(request: Request, who: CurrentViewer, analysis_id: ObjectId) -> Response:
    return _download(request, who, analysis_id, run.REPORT_JSON)


@router.get("/analysis/{analysis_id}/categories.csv")
def analysis_categories_csv(
    request: Request, who: CurrentViewer, analysis_id: ObjectId
) -> Response:
    return _download(request, who, analysis_id, run.CATEGORIES_CSV)


def _download(request: Request, who: Viewer, analysis_id: int, name: str) -> Response:
    jobs.require_access(who)
    rt = runtime(request)
    path = jobs.output(rt, jobs.show(rt, analysis_id), name)
    stem, _, suffix = name.partition(".")
    return FileResponse(
        path,
        media_type=DOWNLOADS[name],
        filename=f"deskhand-analysis-{analysis_id}-{stem}.{suffix}",
    )


def _list_context(request: Request, who: Viewer) -> dict[str, Any]:
    rt = runtime(request)
    limit = jobs.upload_limit(rt.settings)
    return {
        "analyses": jobs.listing(rt),
        "saved": exports.saved_exports(rt.settings) if jobs.may_run(who) else [],
        "exports_folder": exports.exports_folder(rt.settings),
        "may_run": jobs.may_run(who),
        "max_bytes": limit,
        "max_words": size_words(limit),
        "size_words": size_words,
        "fields": {},
        "problem": None,
    }


def _form_problem(
    request: Request, who: Viewer, error: DeskhandError, fields: dict[str, str]
) -> Response:
    """The list page again, with the message above the form and the options kept."""
    context = _list_context(request, who)
    context.update(fields=fields, problem=error)
    return page(request, "analysis.html.j2", who, status_of(error), **context)


def _analysis_context(request: Request, who: Viewer, analysis_id: int) -> dict[str, Any]:
    rt = runtime(request)
    view = jobs.show(rt, analysis_id)
    report: Report | None = None
    missing: str | None = None
    if view.status == "done":
        try:
            report = jobs.load_report(rt, view)
        except DeskhandError as error:
            missing = error.message
    return {
        "a": view,
        "elapsed": _duration(
            (datetime.now(UTC) - (view.run_started_at or view.created_at)).total_seconds()
        ),
        "report": page_report(report) if report is not None else None,
        "missing": missing,
        "may_run": jobs.may_run(who),
        "size_words": size_words,
    }


def _duration(seconds: float) -> str:
    """A run's length so far: "8 s", "3 min 5 s", "1 h 2 min"."""
    whole = max(int(seconds), 0)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
