"""Escalation reasons: every code has the sentence a technician reads; a code this version does
not know (a plugin's, or one an older version stored) is shown as it is."""

from __future__ import annotations

from deskhand.domain.escalations import Reason, sentence


def test_every_reason_has_its_own_sentence() -> None:
    sentences = [reason.sentence for reason in Reason]
    assert all(text and not text.endswith(".") for text in sentences)
    assert len(set(sentences)) == len(sentences)


def test_a_stored_code_reads_as_its_sentence_and_an_unknown_one_as_itself() -> None:
    assert sentence("approval_expired") == Reason.APPROVAL_EXPIRED.sentence
    assert "expired" in sentence("approval_expired")
    assert sentence("vendor_portal_down") == "vendor_portal_down"
