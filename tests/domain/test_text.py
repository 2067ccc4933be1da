"""One way to make text from outside safe to store: NUL, control characters and lone surrogates
never survive, bytes in any charset become text, RFC 2047 headers are read, nothing raises."""

from __future__ import annotations

import codecs
import re
from email.header import Header

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskhand.domain.text import clean, decode, header, line

UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff\r]")
# Any code point at all, lone surrogates included (what JSON's "\ud800" and surrogateescape give).
ANY_TEXT = st.text(alphabet=st.characters(codec=None, categories=None))
NAMED_CHARSETS = [
    "utf-8",
    "UTF-16",
    "utf-16-le",
    "utf-32",
    "iso-8859-1",
    "windows-1252",
    "koi8-r",
    "shift_jis",
    "x-unknown",
    "unicode_escape",
    "rot13",
    "punycode",
    "idna",
    '"utf-8"',
    "utf-8*en",
]
CHARSETS = st.one_of(st.none(), st.sampled_from(NAMED_CHARSETS), st.text(max_size=20))
ASCII = "abcdefghijklmnopqrstuvwxyz ,.-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def safe_to_store(text: str) -> bool:
    """Both databases take it: no NUL, no surrogate, encodable as UTF-8."""
    text.encode("utf-8")
    return UNSAFE.search(text) is None


@given(ANY_TEXT)
def test_clean_never_leaves_nul_controls_or_surrogates(text: str) -> None:
    cleaned = clean(text)
    assert safe_to_store(cleaned)
    assert clean(cleaned) == cleaned


@given(st.text())
def test_clean_keeps_ordinary_text_as_it_is(text: str) -> None:
    ordinary = UNSAFE.sub("", text)
    assert clean(ordinary) == ordinary


@given(st.binary(), CHARSETS)
def test_decode_never_raises_and_never_leaves_unsafe_characters(raw: bytes, charset: str) -> None:
    assert safe_to_store(decode(raw, charset))


@given(st.text().filter(lambda t: "\x00" not in t and not t.startswith("\ufeff")))
def test_utf8_bytes_decode_to_their_text(text: str) -> None:
    assert decode(text.encode("utf-8")) == clean(text)


# A UTF-16 LE mark followed by NUL reads as UTF-32's mark: text starting with NUL is left out.
@given(
    st.text().filter(lambda t: not t.startswith("\x00")),
    st.sampled_from(["utf-8-sig", "utf-16", "utf-32"]),
)
def test_a_byte_order_mark_names_the_encoding(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding), "iso-8859-1") == clean(text.lstrip("\ufeff"))


@given(st.text(alphabet=ASCII, min_size=2), st.sampled_from(["utf-16-le", "utf-16-be"]))
def test_utf16_without_a_mark_is_recognised(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding)) == text


@given(st.text(alphabet=st.characters(codec="latin-1"), min_size=1))
def test_legacy_bytes_without_a_charset_are_windows_1252(text: str) -> None:
    raw = text.encode("cp1252", errors="ignore")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert decode(raw) == clean(raw.decode("cp1252"))


def test_a_declared_charset_is_used_when_the_bytes_fit_it() -> None:
    assert decode("Привет".encode("koi8-r"), "koi8-r") == "Привет"
    assert decode(b"caf\xe9", "nonsense-charset") == "café"  # unknown: UTF-8, then cp1252


def test_bytes_python_kept_as_surrogates_are_decoded_not_dropped() -> None:
    assert clean("Li\udcffsa") == "Liÿsa"  # a raw 8-bit Windows-1252 name
    assert clean("M\udcc3\udcbcller") == "Müller"  # raw UTF-8
    assert clean("a\ud800b") == "ab"  # a lone high surrogate is no byte: removed


@given(ANY_TEXT)
def test_line_is_one_clean_line(text: str) -> None:
    one = line(text)
    assert safe_to_store(one)
    assert "\n" not in one and "\t" not in one and one == one.strip() and "  " not in one


@given(st.binary(max_size=300))
def test_header_never_raises_on_raw_bytes(raw: bytes) -> None:
    value = header(raw)
    assert safe_to_store(value) and "\n" not in value


@given(st.binary(max_size=60), CHARSETS, st.sampled_from(["q", "b", "Q", "B"]))
def test_header_never_raises_on_any_encoded_word(payload: bytes, charset: str, kind: str) -> None:
    encoded = codecs.encode(payload, "base64").decode().replace("\n", "")
    text = encoded if kind in "bB" else "".join(f"={byte:02X}" for byte in payload)
    assert safe_to_store(header(f"Re: =?{charset}?{kind}?{text}?= [#12]".encode()))


@given(st.text(min_size=1, max_size=200))
def test_an_rfc2047_header_reads_back_as_its_text(text: str) -> None:
    encoded = Header(text, "utf-8").encode()
    assert header(encoded.encode("ascii")) == line(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # A NUL inside an encoded word separated words: it reads as a space.
        (b"=?utf-8?q?reset=00my=00password?=", "reset my password"),
        (b"Li\xffsa", "Liÿsa"),  # raw 8-bit from a legacy mailer: Windows-1252
        (b"M\xc3\xbcller", "Müller"),  # raw UTF-8 (RFC 6532)
        (b"=?x-unknown?q?caf=E9?=", "café"),  # a charset nobody knows
        (b"=?utf-8?q?caf=E9?=", "café"),  # a charset that lies
        (b"=?iso-8859-1?q?caf=E9?=", "café"),
        (b"=?utf-8*en?q?caf=C3=A9?=", "café"),  # RFC 2231 language
        (b"Re: =?utf-8?q?caf=C3=A9?=\r\n ok", "Re: café ok"),  # folded after a word
        (b"=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab"),  # folding between words is not text
        (b"=?utf-8?b?!!?=", ""),  # broken base64
    ],
)
def test_header_examples(raw: bytes, expected: str) -> None:
    assert header(raw) == expected


def test_a_charset_that_would_run_escapes_is_not_taken_at_its_word() -> None:
    raw = b"reset \\x41dmin \\u00e9"
    assert decode(raw, "unicode_escape") == "reset \\x41dmin \\u00e9"
    assert decode(raw, "raw-unicode-escape") == "reset \\x41dmin \\u00e9"
    assert header(b"=?unicode_escape?q?a\\x41?=") == "a\\x41"
