"""Text from outside, made safe to store: every intake path (mailbox, PSA, export files, the
CLI, the API) cleans what it takes through here, the same way.

Legacy mailers send raw 8-bit headers, exports arrive as UTF-16 without a byte-order mark,
hostile senders put NUL bytes in a subject. PostgreSQL refuses NUL in text, SQLite's driver
refuses lone surrogates, and neither belongs in a ticket a technician reads. ``decode`` turns
bytes into text whatever they are; ``clean`` removes what no database or reader should get;
``line`` makes one line of it (a name, a subject); ``header`` reads a mail header's raw bytes,
RFC 2047 encoded words and all. None of them ever raises on content.
"""

from __future__ import annotations

import binascii
import codecs
import re
from email.errors import HeaderParseError
from email.header import decode_header

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
# Bytes that Python could not decode and kept as U+DC80..U+DCFF ("surrogateescape": command-line
# arguments in a UTF-8 locale, raw 8-bit mail headers).
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def clean(text: str) -> str:
    """``text`` without NUL, other control characters (tab and line breaks stay), lone
    surrogates and non-characters; line endings as ``\\n``. Bytes kept as surrogates by
    ``surrogateescape`` are decoded (UTF-8, else Windows-1252) rather than dropped."""
    text = _ESCAPED_BYTES.sub(lambda run: _legacy(_escaped(run.group())), text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


def line(text: str) -> str:
    """``text`` cleaned onto one line: control characters and line breaks become spaces, runs of
    white space one space, none at the ends. For names, subjects, addresses."""
    return " ".join(clean(_CONTROLS.sub(" ", text)).split())


def header(raw: bytes) -> str:
    """A mail header's value, from its raw bytes, as one clean line: folding undone, RFC 2047
    encoded words decoded by their charset, raw 8-bit text (and a word whose charset is
    unknown or lies) as UTF-8, else Windows-1252."""
    # One character per byte: decode_header gives unencoded runs back as these same bytes.
    value = _FOLD.sub("", raw.decode("latin-1"))
    try:
        chunks = decode_header(value)
    except (HeaderParseError, binascii.Error, ValueError):  # e.g. broken base64 in a word
        chunks = [(value, None)]
    parts = []
    for chunk, charset in chunks:
        data = chunk if isinstance(chunk, bytes) else chunk.encode("latin-1")
        # RFC 2231 lets a charset name a language: "utf-8*en".
        known = _known(charset.partition("*")[0]) if charset else None
        word = _strict(data, known) if known else None
        parts.append(_legacy(data) if word is None else word)
    return line("".join(parts))


def decode(raw: bytes, declared: str | None = None) -> str:
    """``raw`` as text, cleaned: a byte-order mark wins, then UTF-16 recognised by its zero
    bytes, then the ``declared`` charset if Python knows it and it fits, then UTF-8, then
    Windows-1252 (what legacy mailers and Excel mean by "ANSI")."""
    return clean(_decoded(raw, declared))


def _decoded(raw: bytes, declared: str | None) -> str:
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            return raw.decode(encoding, errors="replace").lstrip("\ufeff")
    for candidate in (_utf16_without_mark(raw), _known(declared)):
        decoded = _strict(raw, candidate) if candidate else None
        if decoded is not None:
            return decoded
    return _legacy(raw)


def _strict(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except (UnicodeError, LookupError):  # not that charset; or a codec not for text
        return None


def _escaped(run: str) -> bytes:
    return bytes(ord(char) - 0xDC00 for char in run)


def _legacy(raw: bytes) -> str:
    """Bytes of no declared charset: UTF-8 if they are, else Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # cp1252 leaves five bytes undefined


def _known(charset: str | None) -> str | None:
    """The codec a message's charset names, if it is one for text. Python's escape codecs
    ("unicode_escape") would run the sender's backslashes as escapes: never taken."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip('"'))
    except (LookupError, ValueError):  # unknown, or not a name at all ("\x00")
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.endswith("escape"):
        return None
    return info.name


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
