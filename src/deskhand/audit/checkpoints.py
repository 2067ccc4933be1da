"""Signed checkpoints of the event chain's head, kept outside the database: so that removing the
newest events, or rewriting history and computing every hash again, is found.

The hash chain (``deskhand.audit.chain``) finds an event edited or removed inside the log, but
the log only has to agree with itself: someone who can write the database can delete the newest
events and move the chain head back, or rewrite an event and re-chain everything after it, and
the walk still passes. A checkpoint is a witness from outside: the newest event's id and hash at
a moment, signed with the server key (``deskhand.keys``, purpose ``AUDIT_CHECKPOINT``), appended
as one JSON line to a file beside the data (``DESKHAND_AUDIT_CHECKPOINT_FILE``) and, when
``DESKHAND_AUDIT_SYSLOG`` is set, sent to syslog too. Every hash covers all the events before
it, so one checkpoint of event N vouches for the whole log up to N.

``CheckpointFile.compare`` holds the log up to every checkpoint: an event a checkpoint saw that
is gone was removed (from the end: a truncation); another hash at its id is a rewritten history;
a line whose signature does not check was edited or forged.

When they are written: a worker writes one when the head has moved, at most every
``DESKHAND_AUDIT_CHECKPOINT_SECONDS`` (default 60); ``deskhand audit checkpoint`` writes one now;
a verification that finds everything in order writes one. An append never does: it stays one row
lock and one insert. The window this leaves: the events appended since the newest checkpoint (up
to a minute of them, or all since the workers stopped) can be cut from the end unnoticed; whoever
can write this file can remove lines from it (syslog on another machine keeps a copy out of
their reach); whoever holds the server key file can forge lines.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskhand.audit.log import canonical_json
from deskhand.config import Settings
from deskhand.errors import DeskhandError
from deskhand.keys import AUDIT_CHECKPOINT, ServerKeys
from deskhand.store.db import Database
from deskhand.store.models import ChainHead, EventRecord, now

log = logging.getLogger("deskhand.audit")

SYSLOG_TAG = "deskhand-audit-checkpoint"  # the program name each line has in syslog
BATCH_SIZE = 1000  # checkpoints compared per query
LISTED = 5  # bad lines named one by one; the rest are counted
_TAIL = 4096  # bytes read from the end of the file to find its newest line


class CheckpointError(DeskhandError):
    """The checkpoint file cannot be read or written, or the syslog address is wrong."""

    exit_code = 2


class Checkpoint(BaseModel):
    """One line of the file: at ``at``, the newest event was ``event_id``, with ``hash``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: int = Field(ge=1)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    at: datetime
    signature: str  # KEYID:HMAC of the three fields above (deskhand.keys)

    @classmethod
    def sign(cls, keys: ServerKeys, event_id: int, hash_: str, at: datetime) -> Checkpoint:
        signature = keys.sign(AUDIT_CHECKPOINT, _message(event_id, hash_, at))
        return cls(event_id=event_id, hash=hash_, at=at, signature=signature)

    def line(self) -> str:
        """The checkpoint as the file (and syslog) holds it: one JSON object."""
        return canonical_json(
            {
                "event_id": self.event_id,
                "hash": self.hash,
                "at": _stamp(self.at),
                "signature": self.signature,
            }
        )

    def signature_problem(self, keys: ServerKeys) -> str | None:
        """Why the signature does not check, in words; None when it does."""
        key_id = self.signature.partition(":")[0]
        if key_id not in keys.keys:
            return (
                f"it is signed with the key {key_id!r}, which this server does not hold "
                "(a retired key, another deployment's file, or a forgery)"
            )
        if not keys.check(
            AUDIT_CHECKPOINT, _message(self.event_id, self.hash, self.at), self.signature
        ):
            return "its signature does not match what it says (the line was edited or forged)"
        return None

    def described(self, *, capital: bool = False) -> str:
        """ "the checkpoint of 2026-12-06 12:00:00 UTC", for messages."""
        the = "The" if capital else "the"
        return f"{the} checkpoint of {moment(self.at)}"


@dataclass(frozen=True)
class CheckpointReport:
    """The log held up to the checkpoints of one file."""

    path: Path
    found: bool  # the file exists (a new installation has none until the first is written)
    agreeing: int = 0  # checkpoints whose event is in the log with the hash they recorded
    newest: Checkpoint | None = None  # the checkpoint of the newest event, among good lines
    problems: tuple[str, ...] = ()  # each in words, for the person running the check

    @property
    def ok(self) -> bool:
        return not self.problems


class CheckpointFile:
    """The checkpoints at ``path``, signed with ``keys()`` (read when needed, so that a key
    rotation by another process is followed), each also sent to ``syslog`` when set."""

    def __init__(
        self, path: Path, keys: Callable[[], ServerKeys], syslog: str | None = None
    ) -> None:
        self.path = path
        self._keys = keys
        self._syslog_address = _syslog_address(syslog) if syslog else None
        self._syslog: SysLogHandler | None = None

    @classmethod
    def from_settings(cls, settings: Settings, keys: Callable[[], ServerKeys]) -> CheckpointFile:
        return cls(settings.audit_checkpoints(), keys, settings.audit_syslog)

    def write(self, session: Session, *, only_if_moved: bool = False) -> Checkpoint | None:
        """Sign the chain head as ``session`` reads it and append it to the file (and syslog).

        None when the log is empty, or with ``only_if_moved`` when the file's newest line
        already holds this head. A head that does not match its event is not signed.
        """
        head = session.execute(
            select(ChainHead.last_event_id, ChainHead.last_hash).where(ChainHead.id == 1)
        ).one_or_none()
        if head is None or head.last_event_id == 0:
            return None
        event_id, hash_ = head.last_event_id, head.last_hash
        stored = session.scalar(select(EventRecord.hash).where(EventRecord.id == event_id))
        if stored != hash_:
            raise CheckpointError(
                f"The chain head names event {event_id}, but "
                + ("that event is not in the log" if stored is None else "not with its hash")
                + "; no checkpoint was written.",
                hint="Run `deskhand audit verify` to see what was changed.",
            )
        newest = self.newest_line()
        if newest is not None and newest.event_id > event_id:
            log.error(
                "the event chain head is at event %s, but %s saw event %s: events were removed "
                "from the log; run `deskhand audit verify`",
                event_id,
                newest.described(),
                newest.event_id,
            )
        unmoved = newest is not None and (newest.event_id, newest.hash) == (event_id, hash_)
        if only_if_moved and unmoved:
            return None
        checkpoint = Checkpoint.sign(self._keys(), event_id, hash_, now())
        self._append(checkpoint.line())
        self._send_to_syslog(checkpoint.line())
        return checkpoint

    def newest_line(self) -> Checkpoint | None:
        """The file's last line, if it is a checkpoint (its signature is not checked here)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(max(0, handle.seek(0, os.SEEK_END) - _TAIL))
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._unreadable(error) from None
        try:
            return Checkpoint.model_validate_json(lines[-1]) if lines else None
        except ValidationError:
            return None

    def compare(self, db: Database) -> CheckpointReport:
        """Hold the log in ``db`` up to every checkpoint in the file."""
        try:
            # Lines written from now on are left out: their events may be newer than what the
            # session below reads.
            size = self.path.stat().st_size
            handle = self.path.open("rb")
        except FileNotFoundError:
            return CheckpointReport(path=self.path, found=False)
        except OSError as error:
            raise self._unreadable(error) from None
        tally = _Tally(self.path)
        keys = self._keys()
        with handle, db.reading() as session:
            batch: list[Checkpoint] = []
            for number, text in _lines(handle, size):
                checkpoint = tally.read(number, text, keys)
                if checkpoint is not None:
                    batch.append(checkpoint)
                if len(batch) >= BATCH_SIZE:
                    tally.hold(batch, _hashes(session, batch))
                    batch = []
            tally.hold(batch, _hashes(session, batch))
            log_end = session.scalar(select(func.max(EventRecord.id))) or 0
            head = session.scalar(select(ChainHead.last_event_id).where(ChainHead.id == 1))
        return tally.report(log_end, head)

    def _append(self, line: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(descriptor, f"{line}\n".encode())  # one write: lines never interleave
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as error:
            raise CheckpointError(
                f"Cannot write the audit checkpoint file {self.path}: {error.strerror}.",
                hint="The deskhand user must be able to write it, or set "
                "DESKHAND_AUDIT_CHECKPOINT_FILE to a place it can.",
            ) from None

    def _send_to_syslog(self, line: str) -> None:
        if self._syslog_address is None:
            return
        address, kind = self._syslog_address
        try:
            if self._syslog is None:
                self._syslog = _SysLog(address, socktype=kind)
                self._syslog.ident = f"{SYSLOG_TAG}: "
            self._syslog.emit(
                logging.makeLogRecord({"msg": line, "levelno": logging.INFO, "levelname": "INFO"})
            )
        except OSError as error:  # the file has the checkpoint; syslog is the second copy
            log.warning("could not send the audit checkpoint to syslog at %s: %s", address, error)

    def _unreadable(self, error: OSError) -> CheckpointError:
        return CheckpointError(
            f"Cannot read the audit checkpoint file {self.path}: {error.strerror}.",
            hint="The deskhand user must be able to read it (DESKHAND_AUDIT_CHECKPOINT_FILE).",
        )


@dataclass
class _Tally:
    """What comparing the file's lines with the log has found so far."""

    path: Path
    agreeing: int = 0
    newest: Checkpoint | None = None
    newest_gone: Checkpoint | None = None  # of the checkpoints whose event is gone
    oldest_gone: Checkpoint | None = None
    first_differing: Checkpoint | None = None  # in the file's order
    agreeing_before: Checkpoint | None = None  # the last that agreed before the first differing
    differing: int = 0
    last_agreeing: Checkpoint | None = None
    bad_lines: list[str] = field(default_factory=list)
    bad: int = 0

    def read(self, number: int, text: str, keys: ServerKeys) -> Checkpoint | None:
        """The checkpoint on line ``number``, or None (and a problem) if it is not a good one."""
        try:
            checkpoint = Checkpoint.model_validate_json(_checkpoint_text(text))
        except ValidationError:
            self._bad(number, "it is not a checkpoint (unreadable, or fields missing)")
            return None
        if problem := checkpoint.signature_problem(keys):
            self._bad(number, problem)
            return None
        if self.newest is None or checkpoint.event_id >= self.newest.event_id:
            self.newest = checkpoint
        return checkpoint

    def _bad(self, number: int, problem: str) -> None:
        self.bad += 1
        if len(self.bad_lines) < LISTED:
            self.bad_lines.append(f"Line {number} of {self.path}: {problem}.")

    def hold(self, batch: list[Checkpoint], hashes: dict[int, str]) -> None:
        """Compare each checkpoint with the hash the log now has at its event."""
        for checkpoint in batch:
            found = hashes.get(checkpoint.event_id)
            if found is None:
                if self.newest_gone is None or checkpoint.event_id > self.newest_gone.event_id:
                    self.newest_gone = checkpoint
                if self.oldest_gone is None or checkpoint.event_id < self.oldest_gone.event_id:
                    self.oldest_gone = checkpoint
            elif found != checkpoint.hash:
                self.differing += 1
                if self.first_differing is None:
                    self.first_differing = checkpoint
                    self.agreeing_before = self.last_agreeing
            else:
                self.agreeing += 1
                self.last_agreeing = checkpoint

    def report(self, log_end: int, head: int | None) -> CheckpointReport:
        problems = [*self._removed(log_end, head), *self._rewritten(), *self.bad_lines]
        if (unnamed := self.bad - len(self.bad_lines)) > 0:
            problems.append(
                f"{unnamed:,} more {'line is' if unnamed == 1 else 'lines are'} bad too."
            )
        if self.newest is not None and head is not None and head < self.newest.event_id <= log_end:
            problems.append(
                f"The chain head says the newest event is {head:,}, but "
                f"{self.newest.described()} saw event {self.newest.event_id:,}: "
                "the head was moved back."
            )
        return CheckpointReport(
            path=self.path,
            found=True,
            agreeing=self.agreeing,
            newest=self.newest,
            problems=tuple(problems),
        )

    def _removed(self, log_end: int, head: int | None) -> Iterator[str]:
        newest, oldest = self.newest_gone, self.oldest_gone
        if newest is None or oldest is None:
            return
        if newest.event_id > log_end:
            where = (
                "the log is now empty: every event was removed"
                if log_end == 0
                else f"the log now ends at event {log_end:,}: "
                + _removed_events(log_end + 1, newest.event_id)
                + " from its end"
            )
            moved = (
                f", and the chain head moved back to {head:,}"
                if head is not None and head < newest.event_id
                else ""
            )
            saw = f"{newest.described(capital=True)} saw event {newest.event_id:,}"
            yield f"{saw}, but {where}{moved}."
        if oldest.event_id < log_end:
            yield (
                f"Event {oldest.event_id:,}, which {oldest.described()} saw, is no longer in "
                "the log: it was removed."
            )

    def _rewritten(self) -> Iterator[str]:
        first = self.first_differing
        if first is None:
            return
        since = ""
        before = self.agreeing_before
        if before is not None and before.event_id < first.event_id:
            since = f", after event {before.event_id:,} (where {before.described()} still agrees)"
        others = self.differing - 1
        more = {0: "", 1: " 1 other checkpoint disagrees too."}.get(
            others, f" {others:,} other checkpoints disagree too."
        )
        yield (
            f"Event {first.event_id:,} no longer has the hash {first.described()} recorded: "
            f"the history up to it was rewritten and its hashes computed again{since}.{more}"
        )


class _SysLog(SysLogHandler):
    """A syslog handler that reports a failed send as a warning, not a printed traceback."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        log.warning("could not send the audit checkpoint to syslog at %s", self.address)


def moment(at: datetime) -> str:
    """A checkpoint's time as messages give it: 2026-12-06 12:00:00 UTC."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _message(event_id: int, hash_: str, at: datetime) -> bytes:
    return canonical_json({"event_id": event_id, "hash": hash_, "at": _stamp(at)}).encode()


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _checkpoint_text(text: str) -> str:
    """The JSON of a line: the whole line in the file; what follows the tag in syslog's copy."""
    _, tag, rest = text.partition(f"{SYSLOG_TAG}: ")
    return rest if tag else text


def _lines(handle: BinaryIO, size: int) -> Iterator[tuple[int, str]]:
    """The file's non-empty lines within its first ``size`` bytes, numbered from 1."""
    read = 0
    for number, raw in enumerate(handle, start=1):
        if read >= size:
            return
        read += len(raw)
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            yield number, text


def _hashes(session: Session, batch: list[Checkpoint]) -> dict[int, str]:
    if not batch:
        return {}
    ids = {checkpoint.event_id for checkpoint in batch}
    rows = session.execute(select(EventRecord.id, EventRecord.hash).where(EventRecord.id.in_(ids)))
    return {event_id: hash_ for event_id, hash_ in rows}


def _removed_events(first: int, last: int) -> str:
    if first == last:
        return f"event {first:,} was removed"
    return f"events {first:,}–{last:,} were removed"


def _syslog_address(value: str) -> tuple[str | tuple[str, int], socket.SocketKind | None]:
    """``/dev/log``, ``udp://HOST[:PORT]`` or ``tcp://HOST[:PORT]`` as SysLogHandler takes it."""
    if value.startswith("/"):
        return value, None
    kinds = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}
    try:
        parts = urlsplit(value)
        port = parts.port or 514
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme not in kinds or not parts.hostname:
        raise CheckpointError(
            f"DESKHAND_AUDIT_SYSLOG={value!r} is not a syslog address.",
            hint="Use the path of the local syslog socket (/dev/log), udp://HOST:514 or "
            "tcp://HOST:514.",
        )
    return (parts.hostname, port), kinds[parts.scheme]
