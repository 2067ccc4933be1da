"""Secrets never leave a connector in what it says.

A connector knows the secret values it was built with (a client secret, an API key, a bind
password) and those it obtains or sends on the way (an access token, a new password it sets).
A system's error page, or a proxy in front of it, may echo the request that carried them; so
whatever leaves a connector — a ``ConnectorError``'s message and fix (``Caller.call``), a
doctor's findings, a log record of the loggers that carry connector text — has each known value
replaced by ``[redacted: what it is]``. A value is recognised as it appears in an echoed request
too: percent-encoded (a form body, a query string), base64 (a Basic ``Authorization`` header,
at any offset: ``user:password``), JSON-, HTML- or Python-escaped.

Values shorter than ``MIN_LENGTH`` characters are never redacted: they would match ordinary
words and numbers and mangle the message, and a secret that short is weak anyway;
`deskhand tenants doctor` warns about one. A text that ends inside a value (a system's answer
shortened to 300 characters) loses that end too, from the value's first ``MIN_LENGTH``
characters on.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import logging
import re
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus

from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConnectorError

MIN_LENGTH = 8  # characters; shorter values are left alone (see above)
_ANCHOR = 6  # characters of a value's letters and digits that a text is first looked up by
RECENT = 8  # values obtained on the way (tokens, new passwords) each redactor keeps
_UNRESERVED = re.compile(r"[A-Za-z0-9]")  # never percent-encoded by any encoder
_BASE64_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


def mark(what: str) -> str:
    """What stands in a message where a secret was."""
    return f"[redacted: {what}]"


class Redactor:
    """The secret values one connector knows, and the text that leaves it without them.

    ``Redactor({"Syncro API key": key})``; ``redactor(text)`` is ``text`` with every known
    value replaced. Thread-safe: one connector serves many threads.
    """

    def __init__(self, secrets: Mapping[str, str | None] | None = None) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, str] = {}  # value → what it is
        self._recent: deque[tuple[str, str]] = deque(maxlen=RECENT)
        self._pattern: _Pattern | None = None
        for what, value in (secrets or {}).items():
            if value:
                self.add(value, what)

    def add(self, value: str, what: str) -> None:
        """Redact ``value`` from now on, as ``[redacted: what]``."""
        with self._lock:
            self._known.setdefault(value, what)
            self._pattern = None
        _enlist(self)

    def remember(self, value: str, what: str) -> None:
        """Redact ``value`` too, as one of the last ``RECENT`` values this connector obtained
        or sent (an access token renewed hourly, the new password of a reset)."""
        with self._lock:
            if value in self._known or (value, what) in self._recent:
                return
            self._recent.append((value, what))
            self._pattern = None
        _enlist(self)

    @classmethod
    def of_all(cls, secrets: Iterable[tuple[str, str]]) -> Redactor:
        """A redactor of these (value, what) pairs that the log filter does not enlist: it
        is made from the enlisted ones."""
        redactor = cls()
        redactor._known = {value: what for value, what in reversed(list(secrets))}
        return redactor

    def secrets(self) -> list[tuple[str, str]]:
        """Every known value and what it is."""
        with self._lock:
            return [*self._known.items(), *self._recent]

    def __call__(self, text: str) -> str:
        with self._lock:
            if self._pattern is None:
                self._pattern = _Pattern([*self._known.items(), *self._recent])
            pattern = self._pattern
        return pattern.sub(text)

    def holds(self, error: BaseException) -> bool:
        """Whether ``error``, or an exception it was raised from, says a known value."""
        return any(self(str(link)) != str(link) for link in _chain(error))

    def error(self, error: ConnectorError) -> ConnectorError:
        """``error`` itself when it says no secret; otherwise the same error with the secrets
        redacted, detached from the exceptions it was raised from (which may hold them)."""
        message = self(error.message)
        fix = self(error.fix) if error.fix is not None else None
        if message == error.message and fix == error.fix and not self.holds(error):
            return error
        return error.reworded(message, fix)

    def findings(self, found: Iterable[Finding]) -> list[Finding]:
        """The doctor's findings, their details and fixes without the secrets."""
        return [
            replace(
                finding,
                detail=self(finding.detail),
                fix=self(finding.fix) if finding.fix is not None else None,
            )
            for finding in found
        ]


class _Pattern:
    """The search for a set of values. Every form of a value keeps its longest run of letters
    and digits as it is, and a base64 core is itself literal: the text's pieces of ``_ANCHOR``
    characters are looked up among those first, so that a text is searched only for the values
    it may hold (the log's redactor knows every tenant's secrets)."""

    def __init__(self, secrets: Iterable[tuple[str, str]]) -> None:
        wanted = sorted(
            {value: what for value, what in secrets if len(value) >= MIN_LENGTH}.items(),
            key=lambda item: -len(item[0]),  # a longer value first: it may hold a shorter one
        )
        self._values = wanted
        self._by_anchor: dict[str, list[int]] = {}  # an anchor → the values (indexes) it starts
        self._always: list[int] = []  # values without a long enough run of letters and digits
        self._cores: dict[str, str] = {}  # a value's base64 (without its edges) → what it is
        for index, (value, what) in enumerate(wanted):
            run = max(re.findall("[A-Za-z0-9]+", value), key=len, default="")
            if len(run) >= _ANCHOR:
                self._by_anchor.setdefault(run[:_ANCHOR], []).append(index)
            else:
                self._always.append(index)
            # OAuth clients form-encode a client secret before they base64 it into a Basic header.
            for form in dict.fromkeys((value, quote_plus(value, safe=""))):
                for core in _base64_cores(form):
                    self._cores.setdefault(core, what)
        self._core_anchors: dict[str, list[str]] = {}
        for core in sorted(self._cores, key=len, reverse=True):
            self._core_anchors.setdefault(core[:_ANCHOR], []).append(core)
        # A form's first MIN_LENGTH characters → (form, what): how a cut-off value is found.
        self._heads: dict[str, list[tuple[str, str]]] = {}
        for value, what in wanted:
            forms = (value, quote_plus(value, safe=""), quote(value, safe=""), json.dumps(value))
            for form in dict.fromkeys((*forms[:3], forms[3][1:-1])):
                self._heads.setdefault(form[:MIN_LENGTH], []).append((form, what))
        self._longest = max((len(f) for heads in self._heads.values() for f, _ in heads), default=0)

    def sub(self, text: str) -> str:
        pieces = {text[at : at + _ANCHOR] for at in range(len(text) - _ANCHOR + 1)}
        candidates = {i for piece in pieces for i in self._by_anchor.get(piece, ())}
        for index in sorted(candidates.union(self._always)):
            value, what = self._values[index]
            replaced = mark(what)
            text = _search(value).sub(lambda _: replaced, text)  # noqa: B023 - used at once
        cores = [core for piece in pieces for core in self._core_anchors.get(piece, ())]
        if cores:
            text = self._in_base64(text, sorted(cores, key=len, reverse=True))
        return self._cut_off(text)

    def _cut_off(self, text: str) -> str:
        """``text`` without a value it ends in the middle of: a message shortened to its first
        300 characters may cut one; it is recognised by its first ``MIN_LENGTH`` characters."""
        for start in range(max(0, len(text) - self._longest), len(text) - MIN_LENGTH + 1):
            for form, what in self._heads.get(text[start : start + MIN_LENGTH], ()):
                if len(text) - start < len(form) and form.startswith(text[start:]):
                    return text[:start] + mark(what)
        return text

    def _in_base64(self, text: str, cores: list[str]) -> str:
        """Each base64 word that holds a value's encoding, replaced as a whole (a Basic header's
        ``user:password`` goes with the user name)."""
        for core in cores:
            at = 0
            while (start := text.find(core, at)) != -1:
                end = start + len(core)
                while start > 0 and text[start - 1] in _BASE64_WORD:
                    start -= 1
                while end < len(text) and text[end] in _BASE64_WORD:
                    end += 1
                while end < len(text) and text[end] == "=":
                    end += 1
                replaced = mark(self._cores[core])
                text = text[:start] + replaced + text[end:]
                at = start + len(replaced)
        return text


@functools.lru_cache(maxsize=4096)
def _search(value: str) -> re.Pattern[str]:
    """``_forms(value)``, compiled once: the log's redactor is rebuilt with every new token."""
    return re.compile(_forms(value))


def _forms(value: str) -> str:
    """A regular expression for ``value`` as it is, percent-encoded by any encoder (each
    character raw or %XX, either case; a space also as +), or JSON-, HTML- or repr-escaped."""
    by_url = ""
    for char in value:
        if _UNRESERVED.match(char):
            by_url += char
            continue
        encoded = "".join(f"%(?i:{byte:02X})" for byte in char.encode())
        plus = "|\\+" if char == " " else ""
        by_url += f"(?:{re.escape(char)}|{encoded}{plus})"
    escaped = {
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1].replace("/", "\\/"),
        html.escape(value),
        html.escape(value, quote=False),
        repr(value)[1:-1],
    } - {value}
    return "|".join([*map(re.escape, sorted(escaped, key=len, reverse=True)), by_url])


@functools.lru_cache(maxsize=4096)
def _base64_cores(value: str) -> frozenset[str]:
    """The base64 characters that only ``value``'s bytes decide, at each of the three offsets
    it can start at inside a longer encoded text (standard and URL-safe alphabets)."""
    data = value.encode()
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + data).decode()
        first = -(-offset * 8 // 6)  # the first character with no bit of what comes before
        last = (offset + len(data)) * 8 // 6  # past the last one with no bit of what follows
        core = encoded[first:last]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return frozenset(cores)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


# --- the log -------------------------------------------------------------------------------

# Loggers that may carry a connector's text: deskhand's own (the worker's tracebacks, the
# escalation log), and those of the libraries connectors use (msal logs a sign-in answer that
# is not JSON as it came), with every logger under them.
GUARDED_LOGGERS = frozenset(
    {"deskhand", "msal", "httpx", "httpcore", "ldap3", "openai", "anthropic"}
)

_LIVE: weakref.WeakSet[Redactor] = weakref.WeakSet()  # every redactor that knows a value
_LIVE_LOCK = threading.Lock()
_version = 0  # changes whenever a redactor learns a value


def _enlist(redactor: Redactor) -> None:
    global _version
    with _LIVE_LOCK:
        _LIVE.add(redactor)
        _version += 1
    _guard_logs()


class LogRedaction:
    """Takes every value any live ``Redactor`` knows out of a log record of a guarded logger:
    its message (with its arguments put in), its traceback and its stack."""

    def __init__(self) -> None:
        self._seen = -1
        self._all = Redactor()

    def __call__(self, record: logging.LogRecord) -> None:
        # logging.makeLogRecord asks the factory for a record with no name, then fills it in.
        if not isinstance(record.name, str) or record.name.split(".")[0] not in GUARDED_LOGGERS:
            return
        redact = self._redactor()
        try:
            message = record.getMessage()
        except Exception:  # a bad format is the handler's to report, not ours
            return
        if (clean := redact(message)) != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            if (clean := redact(text)) != text:
                record.exc_text = clean  # formatters print exc_text when it is set
        if record.stack_info:
            record.stack_info = redact(record.stack_info)

    def _redactor(self) -> Redactor:
        with _LIVE_LOCK:
            if self._seen != _version:
                known = [pair for redactor in list(_LIVE) for pair in redactor.secrets()]
                self._all, self._seen = Redactor.of_all(known), _version
            return self._all


_REDACT_LOG = LogRedaction()
_guarded = False


def _guard_logs() -> None:
    """Pass every log record through ``LogRedaction`` as it is made, whichever logger makes
    it and whenever that logger was created (a logger's own filter would miss its children's
    records): once, when the first secret becomes known, around the record factory in use."""
    global _guarded
    with _LIVE_LOCK:
        if _guarded:
            return
        _guarded = True
        make = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        _REDACT_LOG(record)
        return record

    logging.setLogRecordFactory(redacted_record)
