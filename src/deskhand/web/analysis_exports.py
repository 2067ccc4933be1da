"""Exports saved on the server, picked in the web app instead of uploaded: the files and folders
in the exports folder, and deskhand's synthetic demo export when it is there (a source
checkout)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from deskhand.config import Settings
from deskhand.history.sources import SUFFIXES
from deskhand.web.security import NotFound

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "syncro-synthetic"


def exports_folder(settings: Settings) -> Path:
    """Where saved exports are picked from: the administrator copies PSA exports here."""
    configured = getattr(settings, "exports_dir", None)
    return Path(configured) if configured else settings.data_dir / "exports"


@dataclass(frozen=True)
class SavedExport:
    """An export already on the server that can be analysed without uploading it."""

    key: str
    label: str
    path: Path
    files: int
    size: int
    modified: datetime


def saved_exports(settings: Settings) -> list[SavedExport]:
    """The exports in the exports folder (each file or folder one pick), then the demo data."""
    found: list[SavedExport] = []
    root = exports_folder(settings)
    if root.is_dir():
        for child in sorted(root.iterdir(), key=lambda p: p.name.lower()):
            if not child.name.startswith("."):
                entry = _saved(f"exports/{child.name}", child.name, child)
                if entry is not None:
                    found.append(entry)
    if EXAMPLE.is_dir():
        demo = _saved("example/syncro-synthetic", "syncro-synthetic (synthetic demo data)", EXAMPLE)
        if demo is not None:
            found.append(demo)
    return found


def saved_export(settings: Settings, key: str) -> SavedExport:
    for entry in saved_exports(settings):
        if entry.key == key:
            return entry
    raise NotFound(
        f"There is no saved export {key!r}.",
        hint=f"Saved exports are the files and folders in {exports_folder(settings)}.",
    )


def _saved(key: str, label: str, path: Path) -> SavedExport | None:
    files = export_files(path)
    if not files:
        return None
    stats = [f.stat() for f in files]
    return SavedExport(
        key=key,
        label=label,
        path=path,
        files=len(files),
        size=sum(s.st_size for s in stats),
        modified=datetime.fromtimestamp(max(s.st_mtime for s in stats), UTC),
    )


def export_files(path: Path) -> list[Path]:
    """The export files at ``path``: itself, or those inside the folder."""
    if path.is_file():
        return [path] if path.name.lower().endswith(SUFFIXES) else []
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES)
        )
    return []
