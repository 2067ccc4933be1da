"""Text in a request that no database can store is refused with 400 before any route sees it.

PostgreSQL refuses a NUL character in text and JSON, and no UTF-8 encoder takes a lone
surrogate (which JSON can spell as ``\\ud800``): either one, reaching a query, used to end in a
plain 500. This middleware looks at the address, its query string, and form or JSON bodies of
every request, for every route at once; a page answers with the error page, the API with its
JSON problem ``{"error": …, "hint": …}``. Multipart bodies (uploads) are left to their own
reader (``web.analysis_upload``), which decodes every field it keeps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from email.message import Message
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from deskhand.web.render import render_error

MAX_BODY = 1024 * 1024  # forms and JSON documents; uploads are multipart and not read here
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NAMES = {"\x00": "a NUL character"}
HINT = "Remove it and send the request again."


class Refusal(NamedTuple):
    status: int
    message: str
    hint: str


TOO_LARGE = Refusal(
    413,
    f"The request body is larger than the {MAX_BODY >> 20} MiB a form or JSON document may have.",
    "Send less; files are uploaded as multipart/form-data.",
)
TOO_DEEP = Refusal(400, "The JSON document is nested too deeply.", "Send a flatter document.")


def unstorable(text: str) -> str | None:
    """What in ``text`` no database can store, in words (``a NUL character``), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return _NAMES.get(found.group(), f"an unpaired surrogate (U+{ord(found.group()):04X})")


class RefuseUnstorableText:
    """The ASGI middleware; ``api_prefix`` marks the paths answered in JSON."""

    def __init__(self, app: ASGIApp, api_prefix: str = "/api/") -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _in_address(scope)
        kind = _body_kind(scope)
        if refusal is None and kind is not None:
            body, too_large = await _read(receive, MAX_BODY)
            refusal = (
                TOO_LARGE if too_large else _in_form(body) if kind == "form" else _in_json(body)
            )
            receive = _replay(body, receive)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        response: Response
        if scope["path"].startswith(self.api_prefix):
            response = JSONResponse(
                {"error": refusal.message, "hint": refusal.hint}, status_code=refusal.status
            )
        else:
            request = Request(scope, receive)
            response = render_error(request, refusal.status, refusal.message, refusal.hint)
        await response(scope, receive, send)


def _unstorable_in(what: str, found: str) -> Refusal:
    return Refusal(400, f"{what} contains {found}.", HINT)


def _in_address(scope: Scope) -> Refusal | None:
    path: str = scope["path"]
    found = unstorable(path)
    if found is not None:
        return _unstorable_in("The address", found)
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        found = unstorable(name) or unstorable(value)
        if found is not None:
            return _unstorable_in(f"The query parameter {_name(name)}", found)
    return None


def _body_kind(scope: Scope) -> str | None:
    """``form``, ``json`` or None, as the routes would read the body (FastAPI reads a body
    without a content type as JSON)."""
    header = next((v for k, v in scope["headers"] if k == b"content-type"), None)
    if header is None:
        return "json"
    message = Message()
    message["content-type"] = header.decode("latin-1")
    kind = message.get_content_type()
    if kind == "application/x-www-form-urlencoded":
        return "form"
    if kind == "application/json" or (
        message.get_content_maintype() == "application" and kind.endswith("+json")
    ):
        return "json"
    return None


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body), False
        body.extend(message.get("body", b""))
        if len(body) > limit:
            return b"", True
        if not message.get("more_body", False):
            return bytes(body), False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the routes the body read here, then the client's messages."""
    sent = False

    async def replay() -> AsgiMessage:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _in_form(body: bytes) -> Refusal | None:
    for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
        found = unstorable(name) or unstorable(value)
        if found is not None:
            return _unstorable_in(f"The form field {_name(name)}", found)
    return None


def _in_json(body: bytes) -> Refusal | None:
    if not body:
        return None
    try:
        document = json.loads(body)
        for where, text in _strings(document, ""):
            found = unstorable(text)
            if found is not None:
                return _unstorable_in(f"The JSON field {_name(where or 'body')}", found)
    except RecursionError:
        return TOO_DEEP
    except ValueError:  # not JSON: the route answers that itself
        return None
    return None


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON document (keys too), with where it is (``edit.user_id``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            yield inner, key
            yield from _strings(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def _name(name: str) -> str:
    """A parameter's name for the message, unless the name is itself the problem."""
    return "with an unusable name" if unstorable(name) else repr(name)
