"""Analyses as the web app keeps them: who may see and start them, starting one on an uploaded
or saved PSA export, rerunning it, listing them and reading their outputs. The run itself, in a
background thread, is analysis_run's.

Who may do what: an analysis reads the history of every tenant in the export, so analyses exist
only for users whose scope is all tenants — to anyone else every page and API call answers 404,
as for an object outside their scope. Among those, any role (viewer included) may list and read
analyses and their reports; starting or rerunning one needs the approver role.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from deskhand.config import Settings
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Analysis, User
from deskhand.web import analysis_run as run
from deskhand.web.analysis_exports import SavedExport, export_files
from deskhand.web.analysis_options import AnalysisOptions
from deskhand.web.analysis_views import ACTIVE, AnalysisView, StoredOptions, view_of
from deskhand.web.security import NotFound, Viewer

if TYPE_CHECKING:
    from deskhand.history.report import Report


class NotReady(DeskhandError):  # noqa: N818 - a state, answered with 409
    """The analysis has no report (yet): it is running, failed or was interrupted."""

    http_status = 409


def require_access(who: Viewer) -> None:
    """Analyses read every tenant's history: only users who see all tenants may see them, and
    to everyone else they do not exist."""
    if not who.all_tenants:
        raise NotFound(
            "There is no analysis here.",
            hint="Analysis reads the ticket history of every tenant, so it is open only to "
            "users who see all tenants.",
        )


def may_run(who: Viewer) -> bool:
    return who.all_tenants and who.at_least("approver")


def require_run(who: Viewer) -> None:
    require_access(who)
    who.require("approver")


def upload_limit(settings: Settings) -> int:
    """The largest upload accepted, in bytes (``DESKHAND_ANALYSIS_MAX_UPLOAD_BYTES``)."""
    return settings.analysis_max_upload_bytes


def incoming_folder(settings: Settings) -> Path:
    """A fresh folder for an upload still arriving; stale ones from a crash are removed."""
    root = run.analyses_folder(settings)
    root.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - 86400
    for stale in root.glob(".incoming-*"):
        if stale.stat().st_mtime < cutoff:
            shutil.rmtree(stale, ignore_errors=True)
    folder = root / f".incoming-{uuid.uuid4().hex}"
    folder.mkdir()
    return folder


def create_from_upload(
    rt: Runtime, who: Viewer, options: AnalysisOptions, files: Sequence[Path], incoming: Path
) -> int:
    """Record an analysis of the files uploaded into ``incoming`` (moved into its folder) and
    start it."""
    if not files:
        raise InputError(
            "Choose an export file to upload, or pick a saved export.",
            hint="Upload the ticket export and, if you have it, the time/labour export.",
        )
    names = [f.name for f in files]
    stored = StoredOptions(analyze=options, files=names, size=sum(f.stat().st_size for f in files))
    return _create(rt, who, ", ".join(names), stored, incoming)


def create_from_saved(
    rt: Runtime, who: Viewer, options: AnalysisOptions, export: SavedExport
) -> int:
    """Record an analysis of a saved export (read where it is, not copied) and start it."""
    files = [str(f.relative_to(export.path)) for f in export_files(export.path) if f != export.path]
    stored = StoredOptions(
        analyze=options,
        files=files or [export.path.name],
        size=export.size,
        saved=export.label,
        saved_path=str(export.path),
    )
    return _create(rt, who, export.label, stored, None)


def _create(
    rt: Runtime, who: Viewer, filename: str, stored: StoredOptions, incoming: Path | None
) -> int:
    owner = run.new_owner()
    with rt.db.session() as session:
        row = Analysis(
            created_by=who.id,
            filename=filename[:400],
            folder="",
            options=stored.model_dump(mode="json"),
            status="queued",
            stage="waiting to start",
            progress=0.0,
            summary={"lease": run.new_lease(rt, owner)},
        )
        session.add(row)
        session.flush()
        folder = run.folder_of(rt, row.id)
        if folder.exists():  # left by a database that was reset; this id is new
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if incoming is not None:
            incoming.rename(folder / run.INPUT)
        row.folder = str(folder)
        analysis_id = row.id
    run.start(rt, analysis_id, owner)
    return analysis_id


def rerun(rt: Runtime, analysis_id: int) -> None:
    """Run an analysis again on the same input with the same options."""
    _interrupt_stale(rt)
    owner = run.new_owner()
    with rt.db.session() as session:
        row = session.get(Analysis, analysis_id)
        if row is None:
            raise NotFound(f"There is no analysis {analysis_id}.")
        if row.status in ACTIVE:
            raise NotReady(f"Analysis {analysis_id} is running already.", hint="Wait for it.")
        run.set_status(
            row, "queued", stage="waiting to start", progress=0.0, lease=run.new_lease(rt, owner)
        )
    run.start(rt, analysis_id, owner)


def listing(rt: Runtime, limit: int = 200) -> list[AnalysisView]:
    """The newest analyses first."""
    _interrupt_stale(rt)
    query = (
        select(Analysis, User)
        .join(User, User.id == Analysis.created_by)
        .order_by(Analysis.id.desc())
        .limit(limit)
    )
    with rt.db.reading() as session:
        return [view_of(row, user) for row, user in session.execute(query)]


def show(rt: Runtime, analysis_id: int) -> AnalysisView:
    _interrupt_stale(rt)
    with rt.db.reading() as session:
        found = session.execute(
            select(Analysis, User)
            .join(User, User.id == Analysis.created_by)
            .where(Analysis.id == analysis_id)
        ).first()
        if found is None:
            raise NotFound(f"There is no analysis {analysis_id}.")
        return view_of(found[0], found[1])


def output(rt: Runtime, view: AnalysisView, name: str) -> Path:
    """One of a finished analysis's output files."""
    if view.status != "done":
        raise NotReady(
            f"Analysis {view.id} has no report: it is {view.status}.",
            hint="Wait until it is done." if view.active else "Run it again.",
        )
    path = run.folder_of(rt, view.id) / name
    if not path.is_file():
        raise NotFound(
            f"The report of analysis {view.id} is no longer on the server.",
            hint="Run it again to make it anew.",
        )
    return path


def load_report(rt: Runtime, view: AnalysisView) -> Report:
    from deskhand.history.report import Report

    return Report.model_validate_json(output(rt, view, run.REPORT_MODEL).read_bytes())


def _interrupt_stale(rt: Runtime) -> None:
    """Mark queued or running analyses whose process stopped renewing the lease."""
    moment = datetime.now(UTC)
    with rt.db.reading() as session:
        rows = session.scalars(select(Analysis).where(Analysis.status.in_(ACTIVE))).all()
        stale = [row.id for row in rows if run.lease_expired(row, moment)]
    if not stale:
        return
    with rt.db.session() as session:
        for row in session.scalars(select(Analysis).where(Analysis.id.in_(stale))):
            if row.status in ACTIVE and run.lease_expired(row, moment):
                where = row.stage if row.status == "running" else "waiting to start"
                run.set_status(
                    row,
                    "interrupted",
                    error=f"The server stopped while this analysis was {where}.",
                    hint="Run it again: the input and the options are kept.",
                    lease=run.lease_of(row),
                )
