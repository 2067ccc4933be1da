"""Rendering pages: one Jinja2 environment (autoescaped: ticket text is hostile input), the
layout's shared context, and short messages carried across a redirect."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from deskhand.actions import action
from deskhand.domain.dates import readable
from deskhand.engine.escalation_work import count_open
from deskhand.engine.schedule import local_words
from deskhand.web.security import Viewer, optional_viewer, runtime

# Autoescape always, whatever a template's file name: Starlette's default decides by
# extension, and ".html.j2" would otherwise render ticket text as raw HTML.
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
)
FLASH = "deskhand_flash"


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    seconds = (datetime.now(UTC) - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"


def _edited(changes: Iterable[str], action_name: str) -> str:
    """The parameters an edit changed, in the action's plain words ("the group")."""
    return action(action_name).edited(changes)


templates.env.filters.update(
    ago=_ago,
    stamp=readable,
    local=local_words,
    edited=_edited,
    tojson_pretty=lambda v: json.dumps(v, indent=2),
)


def page(
    request: Request,
    name: str,
    who: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page with the layout's context: the user, the CSRF token, a flash message."""
    flash = request.cookies.get(FLASH)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "flash": flash,
            "active": name.split("/")[0].removesuffix(".html.j2"),
            "open_escalations": _open_escalations(request, who),
            **context,
        },
        status_code=status_code,
    )
    if flash:
        response.delete_cookie(FLASH)
    return response


def _open_escalations(request: Request, who: Viewer | None) -> int | None:
    """How many escalations wait in the user's human queue, for the navigation."""
    if who is None:
        return None
    try:
        return count_open(runtime(request), None if who.all_tenants else who.tenants)
    except Exception:  # an error page must render even when the database is the problem
        return None


def flash(response: Response, message: str) -> Response:
    """Show ``message`` on the next page."""
    response.set_cookie(FLASH, message[:300], max_age=60, httponly=True, samesite="lax")
    return response


def render_error(request: Request, status: int, message: str, hint: str | None) -> Response:
    who = None if status == 401 else _safe_viewer(request)
    if request.headers.get("HX-Request"):
        return templates.TemplateResponse(
            request, "_error.html.j2", {"message": message, "hint": hint}, status_code=status
        )
    return page(request, "error.html.j2", who, status, message=message, hint=hint)


def _safe_viewer(request: Request) -> Viewer | None:
    try:
        return optional_viewer(request)
    except Exception:  # an error page must render even when the database is the problem
        return None
