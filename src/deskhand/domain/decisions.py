"""What policy decides for a step."""

from __future__ import annotations

from enum import StrEnum


class Decision(StrEnum):
    AUTO = "auto"  # runs without a human
    APPROVE = "approve"  # becomes a draft that a human approves, edits or rejects
    FORBID = "forbid"  # never runs; the run escalates
