"""Warning signs in a ticket's text and in a requester's address: the marks of social
engineering that raise what a security change needs before a technician approves it.

They never lower anything and never decide alone: a ticket with a warning sign still gets the
same plan and the same policy; its requester check says "needs verification", and why.
"""

from __future__ import annotations

import re
import unicodedata

# Each kind of sign, what it is called in the trace, and the phrases that show it.
_SIGNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "urgency and secrecy language",
        re.compile(
            r"\b(?:do not|don'?t|dont)\s+(?:bother\s+)?(?:call|phone|ring|tell|mention|contact|"
            r"verify|verifying|check|checking|confirm|calling)\w*"
            r"|\bcan'?t\s+(?:talk|take\s+calls|be\s+reached)"
            r"|\bkeep\s+(?:this|it)\s+(?:between\s+us|quiet|confidential|to\s+yourself)"
            r"|\bquietly\b"
            r"|\bwithout\s+(?:telling|asking|checking|verifying|calling)\b"
            r"|\bno\s+need\s+to\s+(?:ask|check|confirm|verify|call)\b"
            r"|\bskip\s+(?:the\s+)?(?:verification|queue|approval|checks?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "a claimed approval deskhand has no record of",
        re.compile(
            r"\bpre-?approved\b|\balready\s+approved\b|\bapproved\s+by\b|\bhas\s+approved\b"
            r"|\bapproval[_ ]token\b|\bsigned[- ]by\b|\bsays\s+ok\b|\bapproved\s+under\b",
            re.IGNORECASE,
        ),
    ),
    (
        "instructions addressed to deskhand",
        re.compile(
            r"\bignore\s+(?:all\s+)?(?:the\s+|your\s+)?(?:previous|prior|earlier|above)\b"
            r"|\bignorez\b|\bsystem\s*(?:override|prompt)\b|#+\s*system\b|\byou\s+are\s+now\b"
            r"|\bnote\s+to\s+the\s+(?:ai|assistant|bot)\b|<\s*/?\s*tool_call\b|\bassistant\s*:"
            r"|\bauto-?(?:execute|approve|run)\b|\bmark\s+(?:it\s+|this\s+)?(?:as\s+)?approved\b"
            r'|"?decision"?\s*:\s*"?auto\b|\bapprovers?\s*=',
            re.IGNORECASE,
        ),
    ),
    (
        "a claim of authority",
        re.compile(
            r"\b(?:ceo|owner|managing partner|the boss)\s+here\b"
            r"|\bthis\s+is\s+the\s+(?:ceo|owner|boss)\b"
            r"|\bi'?m\s+(?:the\s+)?(?:manager|ceo|owner)\b",
            re.IGNORECASE,
        ),
    ),
)

# Letters from other scripts that are drawn like Latin ones; NFKC folds the rest (full-width
# letters, the Kelvin sign). A small table: enough to name what an address imitates.
_CONFUSABLES = str.maketrans(
    "\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440\u0441\u0442"  # Cyrillic, Armenian, script g
    "\u0443\u0445\u0456\u0458\u0455\u0501\u0261\u0578\u057d"
    "\u03b1\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",  # Greek
    "abekmhopctyxijsdgnuaeikvoptux",
)
_INVISIBLE = {"Cf", "Cc", "Mn", "Me", "Zs", "Zl", "Zp"}  # format, control, combining, spaces


def warning_signs(text: str) -> tuple[str, ...]:
    """The warning signs in a ticket's text, each named and quoted: ``name ("phrase")``."""
    found = []
    for name, pattern in _SIGNS:
        match = pattern.search(text)
        if match:
            found.append(f'{name} ("{" ".join(match.group(0).split())}")')
    return tuple(found)


def canonical_address(address: str) -> str:
    """The address trimmed, with its ASCII letters in lower case and every other character as
    it is — ``str.lower`` would turn a Kelvin sign into the "k" of the address it imitates."""
    return "".join(c.lower() if c.isascii() else c for c in address.strip())


def address_trick(address: str) -> str | None:
    """Why ``address`` is not what it looks like — invisible or look-alike characters — or
    None for a plain ASCII address."""
    odd = [c for c in dict.fromkeys(address) if not c.isascii()]
    if not odd:
        return None
    names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in odd)
    hidden = [c for c in odd if unicodedata.category(c) in _INVISIBLE]
    shown = "".join(c for c in address if c not in hidden)
    skeleton = unicodedata.normalize("NFKC", shown).translate(_CONFUSABLES).lower()
    if hidden:
        return f"contains invisible characters ({names}); without them it reads {skeleton}"
    if skeleton.isascii():
        return f"is a look-alike of {skeleton}: it contains {names}"
    return f"contains characters outside plain ASCII, as look-alike addresses do ({names})"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]
