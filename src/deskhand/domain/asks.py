"""What a ticket asks to be done, one thing at a time, so that nothing it asks for is dropped
without a word: each ask a plan does not carry out is "left for a technician" — on the plan's
card, in the PSA note, in the client's reply and in the escalation that follows the run.

A leaver's ticket asks to block sign-in, remove the licence, convert the mailbox and forward
mail; a plan that only converts the mailbox must say the other three are still to be done by a
person. The asks are found by patterns within one sentence, in English; each names the actions
that do it (any one of them is enough).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Within one sentence: an ask never spans a full stop or a line break.
_S = r"[^\n.!?]"

SHARED_MAILBOX = (
    rf"\b(?:convert|turn)\b{_S}{{0,80}}?\bmailbox\b{_S}{{0,40}}?\b(?:to|into)\s+(?:an?\s+)?shared\b"
    rf"|\b(?:convert|turn)\b{_S}{{0,80}}?\b(?:to|into)\s+(?:an?\s+)?shared\s+mail\s?box\b"
)


@dataclass(frozen=True)
class Ask:
    """One kind of thing a ticket asks for: how a person reads it (``words``: "forward mail"),
    how a ticket words it, and the actions that do it."""

    kind: str
    words: str
    pattern: str
    done_by: frozenset[str] = frozenset()  # none: no action does it yet, a person does

    def asked_in(self, text: str) -> bool:
        return re.search(self.pattern, text, re.IGNORECASE) is not None


ASKS: tuple[Ask, ...] = (
    Ask(
        "block_sign_in",
        "block sign-in",
        rf"\b(?:block|disable|suspend)\b{_S}{{0,40}}?\b(?:sign[\s-]?ins?|log[\s-]?ins?|account)\b"
        rf"|\b(?:terminate|cut\s+off|revoke)\b{_S}{{0,40}}?\b(?:access|account)\b",
        frozenset({"m365.block_sign_in", "ad.disable_account"}),
    ),
    Ask(
        "remove_licence",
        "remove the licence",
        rf"\b(?:remove|revoke|unassign|take\s+away|reclaim|release)\b{_S}{{0,40}}?\blicen[cs]es?\b",
        frozenset({"m365.remove_license", "m365.remove_all_licences"}),
    ),
    Ask(
        "shared_mailbox",
        "convert the mailbox to a shared mailbox",
        SHARED_MAILBOX,
        frozenset({"exchange.convert_to_shared_mailbox"}),
    ),
    Ask(
        "forward_mail",
        "forward the mail",
        rf"(?<!look )(?<!looking )\bforward(?:s|ed|ing)?\b{_S}{{0,50}}?\b(?:e-?mails?|mail|inbox)\b"
        rf"|\b(?:e-?mails?|mail|inbox)\b{_S}{{0,30}}?\bforward(?:ed|ing)?\b",
        frozenset({"m365.forward_mail"}),
    ),
    Ask(
        "auto_reply",
        "set an automatic reply",
        r"\bauto(?:matic)?[\s-]?(?:reply|replies|responder)\b"
        r"|\bout[\s-]of[\s-](?:the[\s-])?office\s+(?:reply|message|notice)\b",
        frozenset({"m365.set_auto_reply"}),
    ),
    Ask(
        "files_access",
        "give access to the OneDrive files",
        rf"\bone\s?drive\b|\b(?:give|grant|transfer|hand\s+over)\b{_S}{{0,40}}?"
        r"\b(?:his|her|their)\s+files\b",
        frozenset({"m365.grant_onedrive_access"}),
    ),
    Ask(
        "reset_mfa",
        "reset MFA",
        rf"\b(?:reset|remove|clear|re-?register|set\s+up\s+again)\b{_S}{{0,40}}?"
        r"\b(?:mfa|multi[\s-]?factor|2fa|two[\s-]factor|authenticator)\b",
        frozenset({"m365.remove_mfa_methods"}),
    ),
    Ask(
        "hide_from_address_list",
        "hide from the address list",
        rf"\bhid(?:e|den|ing)\b{_S}{{0,40}}?\b(?:address\s+(?:list|book)|gal)\b",
        frozenset({"exchange.hide_from_address_list"}),
    ),
    Ask(
        "wipe_device",
        "wipe the device",
        rf"\b(?:wipe|retire)\b{_S}{{0,40}}?\b(?:phone|laptop|device|mobile|tablet)s?\b",
    ),
)


def asked(text: str) -> list[Ask]:
    """The asks ``text`` makes, in the order of ``ASKS``."""
    return [ask for ask in ASKS if ask.asked_in(text)]


def left_over(text: str, actions: Iterable[str]) -> list[Ask]:
    """The asks of ``text`` that none of ``actions`` (a plan's steps) carries out."""
    planned = set(actions)
    return [ask for ask in asked(text) if not ask.done_by & planned]


def listing(words: Iterable[str]) -> str:
    """ "block sign-in, remove the licence and forward the mail"."""
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"
