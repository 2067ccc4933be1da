"""Signing in and out."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from deskhand.accounts import (
    WRONG_CREDENTIALS,
    AccountDisabled,
    close_session,
    open_session,
    sign_in,
)
from deskhand.sign_in_throttle import TooManyAttempts
from deskhand.web.render import flash, page
from deskhand.web.security import (
    COOKIE,
    CurrentViewer,
    check_csrf,
    client_address,
    optional_viewer,
    runtime,
)

router = APIRouter()
_PLACE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a place on the page: #plan-6


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would help a phishing mail."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/queue"
    parsed = urlparse(target)
    place = f"#{parsed.fragment}" if _PLACE.fullmatch(parsed.fragment) else ""
    return parsed.path + (f"?{parsed.query}" if parsed.query else "") + place


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/queue" if optional_viewer(request) else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html.j2", None, next=_safe_next(next), email="", error=None)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/queue",
) -> Response:
    rt = runtime(request)
    opened = None
    try:
        with rt.db.session() as session:
            user = sign_in(session, email, password, client_address(request))
            opened = open_session(session, user) if user is not None else None
    except (TooManyAttempts, AccountDisabled) as error:
        return _refused(request, next, email, error.message, error.http_status)
    if opened is None:
        return _refused(request, next, email, WRONG_CREDENTIALS, 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    # Secure is added by the app for every cookie, by one rule (security.cookie_secure).
    response.set_cookie(COOKIE, opened.token, httponly=True, samesite="lax", max_age=12 * 3600)
    return response


def _refused(request: Request, target: str, email: str, message: str, status: int) -> Response:
    return page(
        request,
        "login.html.j2",
        None,
        status_code=status,
        next=_safe_next(target),
        email=email,
        error=message,
    )


@router.post("/logout")
async def logout(request: Request, who: CurrentViewer) -> Response:
    check_csrf(request, who, await request.form())
    token = request.cookies.get(COOKIE, "")
    with runtime(request).db.session() as session:
        close_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return flash(response, "Signed out.")
