"""Trained triage models kept in the application database, one row per version.

Every process (web, any worker on any machine) reads the same active model from the database, so
nothing depends on a file on one machine. The blob is a pickle of a model deskhand trained
itself; its SHA-256 is checked before it is unpickled, and a model pickled by another
scikit-learn version is refused rather than trusted to behave the same.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from deskhand.errors import DeskhandError, InputError
from deskhand.store.models import TriageModelVersion
from deskhand.triage.classifier import TriageModel
from deskhand.triage.selective import NEVER
from deskhand.triage.training import Trained


@dataclass(frozen=True)
class ActiveModel:
    """The model the dispatcher should use, with its per-intent thresholds."""

    version: int
    model: TriageModel
    thresholds: dict[str, float]  # intent -> lowest probability routed (inf: never)
    target_precision: float

    def classify(self, text: str) -> tuple[str, float, bool]:
        """(intent, probability, routed): not routed means escalate as ``low_confidence``."""
        names, scores = self.model.best([text])
        intent, probability = names[0], float(scores[0])
        return intent, probability, probability >= self.thresholds.get(intent, NEVER)


def save_model(
    session: Session, trained: Trained, training: dict[str, Any], *, activate: bool = True
) -> TriageModelVersion:
    """Store ``trained`` as a new version; when ``activate``, it replaces the active one."""
    buffer = io.BytesIO()
    pickle.dump(trained.model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    blob = buffer.getvalue()
    if activate:
        session.execute(update(TriageModelVersion).values(active=False))
    row = TriageModelVersion(
        active=activate,
        tickets=trained.tickets,
        target_precision=trained.target_precision,
        thresholds={k: None if v == NEVER else v for k, v in trained.thresholds.items()},
        figures=asdict(trained.figures),
        training={**training, "folds": trained.folds, "set_aside": trained.set_aside},
        library=_library(),
        sha256=hashlib.sha256(blob).hexdigest(),
        blob=blob,
    )
    session.add(row)
    session.flush()
    return row


def list_models(session: Session) -> list[TriageModelVersion]:
    """Every stored version, newest first."""
    return list(session.scalars(select(TriageModelVersion).order_by(TriageModelVersion.id.desc())))


def activate(session: Session, version: int) -> None:
    """Make ``version`` the active model."""
    if session.get(TriageModelVersion, version) is None:
        raise InputError(f"There is no triage model version {version}.")
    session.execute(update(TriageModelVersion).values(active=False))
    session.execute(
        update(TriageModelVersion).where(TriageModelVersion.id == version).values(active=True)
    )


def active_model(session: Session) -> ActiveModel | None:
    """The active model, ready to classify, or None when none has been trained."""
    row = session.scalars(
        select(TriageModelVersion)
        .where(TriageModelVersion.active.is_(True))
        .order_by(TriageModelVersion.id.desc())
        .limit(1)
    ).first()
    return None if row is None else load(row)


def load(row: TriageModelVersion) -> ActiveModel:
    """Unpickle a stored version after checking it is intact and from this scikit-learn."""
    if hashlib.sha256(row.blob).hexdigest() != row.sha256:
        raise DeskhandError(
            f"Triage model version {row.id} is damaged: its bytes do not match their checksum.",
            hint="Train a new one with `deskhand triage train`.",
        )
    if row.library != _library():
        raise DeskhandError(
            f"Triage model version {row.id} was trained with {row.library}; this deskhand has "
            f"{_library()}.",
            hint="Train it again with `deskhand triage train`.",
        )
    model = pickle.loads(row.blob)  # our own model, checked by its hash above
    if not isinstance(model, TriageModel) or not hasattr(model, "views"):
        raise DeskhandError(
            f"Triage model version {row.id} was stored by an older deskhand in another format.",
            hint="Train it again with `deskhand triage train`.",
        )
    thresholds = {k: NEVER if v is None else float(v) for k, v in row.thresholds.items()}
    return ActiveModel(row.id, model, thresholds, row.target_precision)


def _library() -> str:
    import sklearn

    return f"scikit-learn {sklearn.__version__}"
