"""Text from outside, made safe to store: every intake path (mailbox, PSA, export files, the
CLI, the API) cleans what it takes through here, the same way.

Legacy mailers send raw 8-bit headers, exports arrive as UTF-16 without a byte-order mark,
hostile senders put NUL bytes in a subject. PostgreSQL refuses NUL in text, SQLite's driver
refuses lone surrogates, and neither belongs in a ticket a technician reads. ``decode`` turns
bytes into text whatever they are; ``clean`` removes what no database or reader should get.
Neither ever raises on content.
"""

from __future__ import annotations

import codecs
import re

# Control characters other than tab and line breaks; lone surrogates (what Python makes of
# undecodable bytes with surrogateescape); the two non-characters U+FFFE and U+FFFF.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose mark is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def clean(text: str) -> str:
    """``text`` without NUL, other control characters (tab and line breaks stay), lone
    surrogates and non-characters; line endings as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


def decode(raw: bytes, declared: str | None = None) -> str:
    """``raw`` as text, cleaned: a byte-order mark wins, then UTF-16 recognised by its zero
    bytes, then the ``declared`` charset if Python knows it and it fits, then UTF-8, then
    Windows-1252 (what legacy mailers and Excel mean by "ANSI")."""
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            return clean(raw.decode(encoding, errors="replace").lstrip("\ufeff"))
    utf16 = _utf16_without_mark(raw)
    candidates = [c for c in (utf16, _known(declared), "utf-8") if c]
    for encoding in candidates:
        try:
            return clean(raw.decode(encoding))
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return clean(raw.decode("cp1252"))
    except UnicodeDecodeError:
        return clean(raw.decode("latin-1"))  # cp1252 leaves five bytes undefined


def _known(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"')).name
    except LookupError:
        return None


def _utf16_without_mark(raw: bytes) -> str | None:
    """UTF-16 LE or BE when most of the even (or odd) bytes are zero: ASCII text in UTF-16."""
    sample = raw[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_zero = sample[0::2].count(0) / (len(sample) // 2)
    odd_zero = sample[1::2].count(0) / (len(sample) // 2)
    if odd_zero > 0.6 and even_zero < 0.1:
        return "utf-16-le"
    if even_zero > 0.6 and odd_zero < 0.1:
        return "utf-16-be"
    return None
