"""Receiving an uploaded PSA export: the multipart body goes straight to files in the analysis's
folder, chunk by chunk as it arrives, never whole in memory nor in a temporary file elsewhere,
and the size limit is enforced while the bytes arrive.

The CSRF token must come before the files (it does in deskhand's form; token-authenticated API
calls need none): ``gate`` sees the fields that came before the first file, and only then is a
single byte of a file written. Any file name is taken, as the CLI reads any file it is given;
an unreadable one fails the analysis with the importer's message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qsl

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.concurrency import run_in_threadpool

from deskhand.errors import InputError
from deskhand.history.sources import size_words

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FILES = 20
MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024
ENVELOPE_BYTES = 1024 * 1024  # room for the form's fields and the multipart boundaries
MAX_NAME_BYTES = 200  # file systems allow 255; room left for a "-2" when two names clash

Gate = Callable[[Mapping[str, str]], None]


class UploadTooLarge(InputError):  # noqa: N818 - named for what the user sees
    """The upload is larger than the configured limit."""

    http_status = 413


@dataclass
class Received:
    """What arrived: the form's text fields and the files written to the folder."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    size: int = 0  # bytes of file content


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"The upload is larger than the limit of {size_words(limit)}.",
        hint="Upload the export as .csv.gz (it is read compressed), split it into several "
        "files of a smaller period, or ask the administrator to raise "
        "DESKHAND_ANALYSIS_MAX_UPLOAD_BYTES.",
    )


async def receive(request: Request, folder: Path, *, max_bytes: int, gate: Gate) -> Received:
    """Stream the multipart body of ``request`` into ``folder``; fields are returned.

    Raises :class:`UploadTooLarge` as soon as the files pass ``max_bytes`` and
    :class:`InputError` for a body that is not a form upload. Files already written stay in
    ``folder``: the caller removes the folder on any error.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + ENVELOPE_BYTES:
        raise too_large(max_bytes)
    kind, params = parse_options_header(request.headers.get("content-type"))
    if kind == b"application/x-www-form-urlencoded":  # fields only: a saved export named
        return await _fields_only(request, gate)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InputError(
            "Send the export as a form upload (multipart/form-data).",
            hint="With curl: curl -F file=@tickets.csv -F file=@labour.csv …",
        )
    folder.mkdir(parents=True, exist_ok=True)
    sink = _Sink(folder, max_bytes, gate)
    parser = MultipartParser(boundary, sink.callbacks())
    body = 0
    try:
        async for chunk in request.stream():
            body += len(chunk)
            if body > max_bytes + ENVELOPE_BYTES:
                raise too_large(max_bytes)
            if chunk:
                await run_in_threadpool(parser.write, chunk)
        parser.finalize()
        if parser.state != MultipartState.END:  # the closing boundary never came
            raise FormParserError("incomplete")
    except FormParserError:
        raise InputError(
            "The upload arrived incomplete or malformed.", hint="Try the upload again."
        ) from None
    finally:
        sink.close()
    sink.open_gate()  # a form with fields only (a saved export picked) is checked here
    return sink.received


async def _fields_only(request: Request, gate: Gate) -> Received:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > ENVELOPE_BYTES:
            raise InputError(
                "The form is too large.", hint="Send the export files as a form upload."
            )
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if len(pairs) > MAX_FIELDS:
        raise InputError(f"The form has more than {MAX_FIELDS} fields.")
    received = Received(fields=dict(pairs))
    gate(received.fields)
    return received


class _Sink:
    """python-multipart's callbacks: fields into a dict, files onto disk."""

    def __init__(self, folder: Path, max_bytes: int, gate: Gate) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.gate = gate
        self.gated = False
        self.received = Received()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._value = bytearray()
        self._file: BinaryIO | None = None
        self._skipping = False
        self._fields = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self._disposition = b""
        self._name = ""
        self._value = bytearray()
        self._file = None
        self._skipping = False

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" not in options:
            self._fields += 1
            if self._fields > MAX_FIELDS:
                raise InputError(f"The form has more than {MAX_FIELDS} fields.")
            return
        filename = options[b"filename"].decode("utf-8", "replace")
        if not filename:  # a file input left empty: browsers still send the part
            self._skipping = True
            return
        self.open_gate()
        if len(self.received.files) >= MAX_FILES:
            raise InputError(
                f"At most {MAX_FILES} files can be uploaded together.",
                hint="Put the export files into one .xlsx, or combine the CSV files.",
            )
        path = self.folder / _unique(self.folder, safe_filename(filename))
        self._file = path.open("xb")
        self.received.files.append(path)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._skipping:
            return
        chunk = data[start:end]
        if self._file is not None:
            self.received.size += len(chunk)
            if self.received.size > self.max_bytes:
                raise too_large(self.max_bytes)
            self._file.write(chunk)
            return
        if len(self._value) + len(chunk) > MAX_FIELD_BYTES:
            raise InputError(f"The form field {self._name!r} is too long.")
        self._value.extend(chunk)

    def part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif not self._skipping:
            value = self._value.decode("utf-8", "replace")
            before = self.received.fields.get(self._name)
            # A repeated field (a --map line each) keeps every value, one a line.
            self.received.fields[self._name] = value if before is None else f"{before}\n{value}"

    def open_gate(self) -> None:
        if not self.gated:
            self.gated = True
            self.gate(self.received.fields)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def safe_filename(name: str) -> str:
    """A browser's file name as a plain name in the folder: no directories, no control
    characters, no leading dot, and short enough for any file system (its end is kept: the
    extension says how to read it)."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable()).strip()
    base = base.encode("utf-8")[-MAX_NAME_BYTES:].decode("utf-8", "ignore")
    return base.lstrip(". ") or "export.csv"


def _unique(folder: Path, name: str) -> str:
    """``name``, or ``name`` with a number before its extension when two uploads share it."""
    if not (folder / name).exists():
        return name
    stem, dot, rest = name.partition(".")
    number = 2
    while (folder / f"{stem}-{number}{dot}{rest}").exists():
        number += 1
    return f"{stem}-{number}{dot}{rest}"
