"""The requester's answers, as they stand in a ticket's text.

When deskhand asks the requester a question, their answer is appended to the ticket's body
under ``ANSWER_HEADING`` and the ticket is planned again. A specialist that asked something
reads the answers apart from what the ticket first said (``original`` and ``answers``), so that
"Friday" in the answer settles "Friday or Monday?" in the ticket.
"""

from __future__ import annotations

# How an answer is set apart in the ticket's text, so the technician sees who added what. No
# address in it: triage would read the requester's own address as a user the ticket names.
ANSWER_HEADING = "--- The requester's reply ---"


def original(text: str) -> str:
    """What the ticket said before any answer."""
    return text.split(ANSWER_HEADING, 1)[0]


def answers(text: str) -> list[str]:
    """The requester's answers, oldest first (none when nothing was asked)."""
    return [part.strip() for part in text.split(ANSWER_HEADING)[1:]]


def latest_answer(text: str) -> str | None:
    """The requester's last answer, or None when nothing was asked."""
    found = answers(text)
    return found[-1] if found else None
