"""One run of an analysis: ``deskhand analyze`` in a background thread, the files it reads and
writes, its lease, and the one place an analysis's status changes.

An analysis's status changes only in :func:`set_status`, along :data:`TRANSITIONS`. (Tickets,
runs, steps and approvals change only in engine/state.py; an analysis is none of those.) A run
holds a lease that a heartbeat renews; when its process dies the lease runs out, and the next
look at the analysis marks it ``interrupted`` (see analysis_jobs), to be run again. Until the
table has lease columns, the lease (and a failed run's hint) live in the row's ``summary`` JSON,
which holds the report's summary once the run is done.

Each analysis has a folder, ``<data_dir>/analyses/<id>/``: ``input/`` holds the uploaded files,
and a finished run writes the CLI's outputs beside it — ``report.html`` (the self-contained
report), ``report.json`` (the ``--json`` document), ``categories.csv`` (``--csv``) — and
``report-model.json``, the whole report, which the page renders.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from deskhand.config import Settings
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import Analysis
from deskhand.web.analysis_views import Status, StoredOptions, summary_of

if TYPE_CHECKING:
    from deskhand.history.report import Report

log = logging.getLogger("deskhand.web.analysis")

INPUT = "input"
REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
CATEGORIES_CSV = "categories.csv"
REPORT_MODEL = "report-model.json"
# Analyses are heavy (the whole history in memory, a text model trained): a few at a time.
SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) // 2))

TRANSITIONS: dict[str, tuple[Status, ...]] = {
    "queued": ("running", "interrupted"),
    "running": ("done", "failed", "interrupted"),
    # A run marked interrupted by a reader while it was merely slow to beat goes on running.
    "interrupted": ("queued", "running"),
    "done": ("queued",),
    "failed": ("queued",),
}


def analyses_folder(settings: Settings) -> Path:
    return settings.data_dir / "analyses"


def folder_of(rt: Runtime, analysis_id: int) -> Path:
    return analyses_folder(rt.settings) / str(analysis_id)


def set_status(
    row: Analysis,
    status: Status,
    *,
    stage: str | None = None,
    progress: float | None = None,
    error: str | None = None,
    hint: str | None = None,
    lease: dict[str, str] | None = None,
    summary: dict[str, Any] | None = None,
) -> None:
    """Move ``row`` to ``status``: the one place an analysis's status changes. The error, the
    hint and the lease (or the summary) are replaced by what is given."""
    if status not in TRANSITIONS[row.status]:
        raise RuntimeError(f"analysis {row.id} cannot go from {row.status} to {status}")
    row.status = status
    if stage is not None:
        row.stage = stage
    if progress is not None:
        row.progress = progress
    row.error = error
    row.summary = summary if summary is not None else _extra(hint=hint, lease=lease)
    row.finished_at = datetime.now(UTC) if status in ("done", "failed") else None


def _extra(**values: Any) -> dict[str, Any] | None:
    kept = {name: value for name, value in values.items() if value is not None}
    return kept or None


def new_owner() -> str:
    """A name for one run, unique across processes and machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def new_lease(rt: Runtime, owner: str, started_at: str | None = None) -> dict[str, str]:
    """A lease for ``owner`` from now on, for the configured lease length."""
    moment = datetime.now(UTC)
    expires = moment + timedelta(seconds=rt.settings.lease_seconds)
    return {
        "owner": owner,
        "expires_at": expires.isoformat(),
        "started_at": started_at or moment.isoformat(),
    }


def lease_of(row: Analysis) -> dict[str, str]:
    lease = (row.summary or {}).get("lease")
    return lease if isinstance(lease, dict) else {}


def lease_expired(row: Analysis, moment: datetime) -> bool:
    try:
        return datetime.fromisoformat(lease_of(row)["expires_at"]) < moment
    except (KeyError, TypeError, ValueError):
        return True


def start(rt: Runtime, analysis_id: int, owner: str) -> None:
    """Run the analysis in a thread of its own; ``owner`` must hold its lease."""
    threading.Thread(
        target=_run, args=(rt, analysis_id, owner), name=f"analysis-{analysis_id}", daemon=True
    ).start()


def _run(rt: Runtime, analysis_id: int, owner: str) -> None:
    job = _Job(rt, analysis_id, owner)
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=job.beat, args=(stop,), name=f"analysis-{analysis_id}-heartbeat", daemon=True
    )
    heartbeat.start()
    try:
        with SLOTS:
            job.run()
    except _Lost:
        log.info("analysis %s: run again elsewhere; this run's result is dropped", analysis_id)
    except Exception:  # the database went away; the lease runs out and it shows interrupted
        log.exception("analysis %s: could not record the outcome", analysis_id)
    finally:
        stop.set()


class _Lost(Exception):  # noqa: N818 - the run was taken over by a rerun
    pass


class _Job:
    """One run of one analysis, in its own thread."""

    def __init__(self, rt: Runtime, analysis_id: int, owner: str) -> None:
        self.rt = rt
        self.id = analysis_id
        self.owner = owner
        self.total = 0
        self.read = 0
        self.files = 0
        self.files_read = 0

    def run(self) -> None:
        from deskhand.history.analysis import analyze

        with self.rt.db.session() as session:
            row = self._mine(session)
            set_status(
                row, "running", stage="looking at the files", progress=0.02, lease=lease_of(row)
            )
            stored = StoredOptions.model_validate(row.options)
        folder = folder_of(self.rt, self.id)
        try:
            paths = self._inputs(stored, folder)
            report = analyze(
                stored.analyze.for_paths(paths),
                progress=self._advance,
                specialists=self.rt.registry.by_name.values(),
            )
            self._progress("writing the report", 0.95)
            _write_outputs(folder, report)
        except _Lost:
            raise
        except DeskhandError as error:
            self._finish("failed", error=error.message, hint=error.hint)
        except MemoryError:
            self._finish(
                "failed",
                error="The server ran out of memory analysing this export.",
                hint="Analyse a shorter period (fewer days), or run `deskhand analyze` on a "
                "machine with more memory.",
            )
        except OSError as error:
            log.warning("analysis %s: %s", self.id, error)
            self._finish(
                "failed",
                error=f"Cannot read or write the analysis files: {error.strerror or error}.",
                hint=f"Check the free disk space and the permissions of {folder.parent}.",
            )
        except Exception as error:  # a bug or an input the importer did not foresee
            log.exception("analysis %s failed", self.id)
            self._finish(
                "failed",
                error=f"The analysis stopped on an unexpected error ({type(error).__name__}).",
                hint="The server log has the details. Try `deskhand analyze` on the same files "
                "to see more, and please report it.",
            )
        else:
            self._finish("done", summary=summary_of(report).model_dump(mode="json"))

    def _inputs(self, stored: StoredOptions, folder: Path) -> list[Path]:
        from deskhand.history.sources import discover

        if stored.saved_path is not None:
            source = Path(stored.saved_path)
            if not source.exists():
                raise InputError(
                    f"The saved export {stored.saved} is no longer on the server.",
                    hint="Upload the export instead.",
                )
            paths = [source]
        else:
            paths = sorted((folder / INPUT).iterdir()) if (folder / INPUT).is_dir() else []
            if not paths:
                raise InputError(
                    "The uploaded files are no longer on the server.",
                    hint="Upload the export again.",
                )
        found = discover(paths)
        self.files = len(found)
        self.total = sum(p.stat().st_size for p in found)
        self._progress(f"reading {self.files} file{'s' if self.files != 1 else ''}")
        return paths

    def _advance(self, name: str, size: int) -> None:
        """The importer's progress: one more file read."""
        self.read += size
        self.files_read += 1
        if self.files_read >= self.files:
            self._progress("categorising and ranking the tickets", 0.5)
        else:
            share = self.read / self.total if self.total else 0.0
            self._progress(
                f"reading the files: {self.files_read} of {self.files} read", 0.05 + 0.45 * share
            )

    def beat(self, stop: threading.Event) -> None:
        """Renew the lease every third of its length until the run ends."""
        while not stop.wait(self.rt.settings.lease_seconds / 3):
            try:
                with self.rt.db.session() as session:
                    row = self._mine(session)
                    started = lease_of(row).get("started_at")
                    row.summary = {
                        **(row.summary or {}),
                        "lease": new_lease(self.rt, self.owner, started),
                    }
            except _Lost:
                return
            except Exception:  # a busy or gone database; the next beat tries again
                log.warning("analysis %s: heartbeat failed", self.id, exc_info=True)

    def _mine(self, session: Session) -> Analysis:
        """This run's row, if it still holds the lease."""
        row = session.get(Analysis, self.id)
        if row is None or lease_of(row).get("owner") != self.owner:
            raise _Lost
        if row.status == "interrupted":  # marked by a reader while this run was slow to beat
            set_status(row, "running", lease=lease_of(row))
        return row

    def _progress(self, stage: str, progress: float | None = None) -> None:
        with self.rt.db.session() as session:
            row = self._mine(session)
            row.stage = stage
            if progress is not None:
                row.progress = progress

    def _finish(self, status: Status, **outcome: Any) -> None:
        with self.rt.db.session() as session:
            row = self._mine(session)
            if status == "done":
                outcome.update(stage="done", progress=1.0)
            set_status(row, status, **outcome)


def _write_outputs(folder: Path, report: Report) -> None:
    from deskhand.history.html import render_html
    from deskhand.history.terminal import category_csv

    outputs = {
        REPORT_HTML: render_html(report),
        REPORT_JSON: json.dumps(report.json_document(), indent=2) + "\n",
        CATEGORIES_CSV: category_csv(report),
        REPORT_MODEL: report.model_dump_json(),
    }
    for name, text in outputs.items():
        part = folder / f".{name}.part"
        part.write_text(text, encoding="utf-8")
        part.replace(folder / name)
