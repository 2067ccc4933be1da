"""What a misconfigured proxy or a careless error page answers: the request itself, echoed back
— its line, its body and its ``Authorization`` header, with every secret deskhand sent in
them. The Graph and Syncro stand-ins answer this way when a test asks (``echo_next``)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from http import HTTPStatus

from werkzeug.wrappers import Request, Response


@dataclass
class Echo:
    """Echo the next ``times`` requests whose "METHOD /path?query" matches ``path``."""

    path: str  # a regular expression
    status: int
    as_json: bool  # an OAuth-shaped JSON error instead of an HTML page
    times: int

    def takes(self, request: Request) -> bool:
        line = f"{request.method} {request.full_path}"
        if self.times <= 0 or not re.search(self.path, line):
            return False
        self.times -= 1
        return True


def echoed(request: Request, status: int, *, as_json: bool) -> Response:
    """The request, as a proxy's error page shows it: as HTML, or on one line in JSON."""
    said = [f"{request.method} {request.full_path.rstrip('?')}", request.get_data(as_text=True)]
    if "Authorization" in request.headers:
        said.append(f"Authorization: {request.headers['Authorization']}")
    reason = HTTPStatus(status).phrase
    if as_json:
        words = f"upstream refused the request: {' | '.join(part for part in said if part)}"
        body = {"error": words, "error_description": words}
        return Response(json.dumps(body), status, content_type="application/json")
    page = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1>"
        f"<pre>{html.escape(chr(10).join(said))}</pre></body></html>"
    )
    return Response(page, status, content_type="text/html")
