"""The JSON API for analyses, /api/v1/analyses: start ``deskhand analyze`` on an upload or on an
export saved on the server, follow its progress, read its report.

Analysis reads every tenant's history: users who do not see all tenants get 404 for all of
it; starting or rerunning one needs the approver role. The options a schema cannot check
(``map``, ``business_hours``, ``since``, ``until``) are checked when the run starts: a wrong one
fails the analysis, with the command line's message in ``error``.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool

from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.web import analysis_exports as exports
from deskhand.web import analysis_jobs as jobs
from deskhand.web import analysis_run as run
from deskhand.web.analysis_options import AnalysisOptions
from deskhand.web.analysis_upload import ENVELOPE_BYTES, MAX_FILES, receive
from deskhand.web.analysis_views import AnalysisView
from deskhand.web.api_common import Problem, Who
from deskhand.web.params import ObjectId
from deskhand.web.security import Viewer, check_csrf, runtime

router = APIRouter()


class FromExport(BaseModel):
    """Analyse an export saved on the server (see GET /exports) instead of uploading one."""

    export: str = Field(min_length=1, max_length=400, examples=["example/syncro-synthetic"])
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)


class SavedExportView(BaseModel):
    key: str = Field(description="What to name in POST /analyses to analyse it.")
    label: str
    files: int
    size: int = Field(description="Bytes.")
    modified: datetime


def _upload_schema() -> dict[str, Any]:
    """The multipart form: the options as text fields, then the files."""
    options = AnalysisOptions.model_json_schema()
    properties: dict[str, Any] = {}
    for name, schema in options["properties"].items():
        field = {k: v for k, v in schema.items() if k != "title"}
        if "anyOf" in field:  # Optional[X]: in a form, left out means the default
            field.update(next(s for s in field.pop("anyOf") if s.get("type") != "null"))
            field.pop("default", None)
        properties[name] = field
    properties["file"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "minItems": 1,
        "maxItems": MAX_FILES,
        "description": "The export files: tickets and, if you have it, time entries (CSV, "
        "CSV.gz, XLSX or JSON).",
    }
    # Fields the form does not have are ignored; the document says to leave them out.
    return {
        "type": "object",
        "properties": properties,
        "required": ["file"],
        "additionalProperties": False,
    }


START_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Upload the export (multipart/form-data), or name a saved one (JSON).",
        "content": {
            "multipart/form-data": {"schema": _upload_schema()},
            "application/json": {"schema": FromExport.model_json_schema()},
        },
    }
}


@router.get("/analyses", response_model=list[AnalysisView])
def analyses(request: Request, who: Who) -> list[AnalysisView]:
    """Every analysis, newest first (up to 200)."""
    jobs.require_access(who)
    return jobs.listing(runtime(request))


@router.get("/exports", response_model=list[SavedExportView])
def saved_exports(request: Request, who: Who) -> list[SavedExportView]:
    """The exports saved on the server that POST /analyses can name instead of an upload."""
    jobs.require_access(who)
    return [
        SavedExportView(key=e.key, label=e.label, files=e.files, size=e.size, modified=e.modified)
        for e in exports.saved_exports(runtime(request).settings)
    ]


@router.get("/analyses/{analysis_id}", response_model=AnalysisView)
def analysis(request: Request, who: Who, analysis_id: ObjectId) -> AnalysisView:
    """Status, stage, progress, error and, once done, the summary."""
    jobs.require_access(who)
    return jobs.show(runtime(request), analysis_id)


@router.post(
    "/analyses",
    response_model=AnalysisView,
    status_code=202,
    responses={413: {"model": Problem}},
    openapi_extra=START_BODY,
)
async def start(request: Request, who: Who) -> JSONResponse:
    """Start an analysis; it runs in the background: poll GET /analyses/{id} (Location)."""
    jobs.require_run(who)
    check_csrf(request, who)
    rt = runtime(request)
    kind, _ = parse_options_header(request.headers.get("content-type"))
    if kind == b"application/json":
        analysis_id = await _from_export(request, rt, who)
    else:
        analysis_id = await _from_upload(request, rt, who)
    view = await run_in_threadpool(jobs.show, rt, analysis_id)
    return JSONResponse(
        view.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"/api/v1/analyses/{analysis_id}"},
    )


async def _from_upload(request: Request, rt: Runtime, who: Viewer) -> int:
    incoming = await run_in_threadpool(jobs.incoming_folder, rt.settings)
    try:
        received = await receive(
            request, incoming, max_bytes=jobs.upload_limit(rt.settings), gate=lambda _: None
        )
        options = AnalysisOptions.from_fields(received.fields, check=False)
        return await run_in_threadpool(
            jobs.create_from_upload, rt, who, options, received.files, incoming
        )
    finally:
        await run_in_threadpool(shutil.rmtree, incoming, True)


async def _from_export(request: Request, rt: Runtime, who: Viewer) -> int:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > ENVELOPE_BYTES:
            raise InputError("The request body is too large for naming a saved export.")
    try:
        wanted = FromExport.model_validate_json(body)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "body"
        raise InputError(
            f"The request is not valid: {where}: {problem['msg']}.",
            hint="See /api/v1/openapi.json.",
        ) from None
    export = exports.saved_export(rt.settings, wanted.export)
    return await run_in_threadpool(jobs.create_from_saved, rt, who, wanted.options, export)


@router.post("/analyses/{analysis_id}/rerun", response_model=AnalysisView, status_code=202)
def rerun(request: Request, who: Who, analysis_id: ObjectId) -> AnalysisView:
    """Run an analysis again on the same input with the same options."""
    jobs.require_run(who)
    check_csrf(request, who)
    rt = runtime(request)
    jobs.rerun(rt, analysis_id)
    return jobs.show(rt, analysis_id)


@router.get("/analyses/{analysis_id}/report", response_model=dict[str, Any])
def report(request: Request, who: Who, analysis_id: ObjectId) -> Response:
    """The report as ``deskhand analyze --json`` prints it; 409 until the analysis is done."""
    jobs.require_access(who)
    rt = runtime(request)
    path = jobs.output(rt, jobs.show(rt, analysis_id), run.REPORT_JSON)
    return Response(path.read_bytes(), media_type="application/json")
