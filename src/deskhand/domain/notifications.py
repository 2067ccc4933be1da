"""The kinds of message deskhand sends technicians outside the app, and how a target (an
apprise URL, which may hold a webhook token or a password) is shown: never in full."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit


class NoticeKind(StrEnum):
    """What a message is about; a target may ask for some kinds only."""

    PLANS_WAITING = "plans_waiting"  # new plans wait for approval (one message per tenant)
    DRAFTS_EXPIRING = "drafts_expiring"  # drafts whose approval expires soon (once each)
    ESCALATION = "escalation"  # a ticket reached the human queue
    EXECUTION_FAILED = "execution_failed"  # a step failed, did not verify, or is uncertain
    MANUAL_STEPS_DUE = "manual_steps_due"  # a scheduled plan ran: its manual steps are due now
    REGRESSION = "regression"  # a specialist's record at a tenant got significantly worse


def parse_kinds(names: str) -> list[NoticeKind]:
    """``plans_waiting,escalation`` as kinds; a ValueError naming the unknown one and the
    known ones otherwise."""
    kinds = []
    for name in names.split(","):
        try:
            kinds.append(NoticeKind(name.strip()))
        except ValueError:
            known = ", ".join(kind.value for kind in NoticeKind)
            raise ValueError(f"{name.strip()!r} is not a kind of message; use {known}") from None
    return kinds


def shown_target(target: str) -> str:
    """A target as logs, events and the command line may show it: a secret reference as
    itself (``env:TEAMS_URL``; an encrypted one as ``enc:…``), a URL as its scheme and host
    only — a webhook's path and a mail password are its secrets."""
    kind, colon, _ = target.partition(":")
    if colon and kind in ("env", "file"):
        return target
    if colon and kind == "enc":
        return "enc:…(encrypted)"
    parts = urlsplit(target)
    if not parts.scheme:
        return "(not a URL)"
    if parts.scheme.lower() not in _HOSTED:
        return f"{parts.scheme}://…"  # msteams://, slack://: the "host" is a token
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}/…"


# Schemes whose host is a machine's name, safe to show; every other scheme's may be a token.
_HOSTED = frozenset(
    {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "http", "https"}
)
