"""Why a run reached a human: the escalation reasons, each with the sentence a technician reads.

The reason is stored as its code (``escalations.reason``, the ``run.escalated`` event) and
counted per week in the trust figures; the queue, the trust page and the CSV export show the
sentence."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """What stopped a run and put its ticket in the human queue."""

    NO_SPECIALIST = "no_specialist"
    LOW_CONFIDENCE = "low_confidence"
    IDENTITY_UNVERIFIED = "identity_unverified"
    POLICY_FORBID = "policy_forbid"
    NEEDS_HUMAN = "needs_human"
    PLAN_INVALID = "plan_invalid"
    APPROVAL_REJECTED = "approval_rejected"
    APPROVAL_EXPIRED = "approval_expired"
    APPROVAL_MISMATCH = "approval_mismatch"
    EXECUTION_FAILED = "execution_failed"
    VERIFICATION_FAILED = "verification_failed"
    UNCERTAIN_EXECUTION = "uncertain_execution"
    REPLY_NOT_FROM_REQUESTER = "reply_not_from_requester"
    LEFT_FOR_TECHNICIAN = "left_for_technician"

    @property
    def sentence(self) -> str:
        """What the reason means, as the queue and the trust page say it."""
        return _SENTENCES[self]


_SENTENCES = {
    Reason.NO_SPECIALIST: "no specialist handles what this ticket asks for",
    Reason.LOW_CONFIDENCE: "deskhand is not sure enough what the ticket asks for, or for whom",
    Reason.IDENTITY_UNVERIFIED: "the requester could not be verified for a security change",
    Reason.POLICY_FORBID: "the tenant's policy forbids a step of the plan",
    Reason.NEEDS_HUMAN: "the specialist says this needs a person",
    Reason.PLAN_INVALID: "the plan named an unknown action, bad parameters or another tenant's "
    "data",
    Reason.APPROVAL_REJECTED: "a technician rejected a draft",
    Reason.APPROVAL_EXPIRED: "a draft was not approved (or not run) before its approval expired",
    Reason.APPROVAL_MISMATCH: "the payload about to run differs from the one approved",
    Reason.EXECUTION_FAILED: "a step failed when it ran",
    Reason.VERIFICATION_FAILED: "a step ran but reading it back did not show the change",
    Reason.UNCERTAIN_EXECUTION: "a step a stopped worker had started was not seen done and is "
    "not safe to repeat",
    Reason.REPLY_NOT_FROM_REQUESTER: "someone other than the requester answered deskhand's "
    "question",
    Reason.LEFT_FOR_TECHNICIAN: "the plan ran, and it leaves what deskhand does not do (the "
    "ticket asks for more, or a step found what it cannot change): a technician finishes it",
}


def sentence(code: str) -> str:
    """The sentence for a stored reason code; an unknown code (a plugin's, or one an older
    version wrote) is shown as it is."""
    try:
        return Reason(code).sentence
    except ValueError:
        return code
