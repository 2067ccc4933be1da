"""The web application: server-rendered pages with HTMX, and the JSON API under /api/v1.

Every asset is served from the package (``static/vendor`` holds htmx, Chart.js and Pico CSS,
installed from npm at development time): the app works without internet access.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.errors import DeskhandError
from deskhand.intake.polling import poll_all
from deskhand.web import api, pages
from deskhand.web.render import render_error
from deskhand.web.request_text import RefuseUnstorableText
from deskhand.web.security import NotSignedIn, cookie_secure, status_of, trusted_proxies

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("deskhand.web")

# Scripts and styles from deskhand only; nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(
    rt: Runtime, *, worker: bool = False, forwarded_allow_ips: str | None = None
) -> FastAPI:
    """The app for ``rt``; with ``worker``, a worker runs in this process while it serves.
    ``forwarded_allow_ips`` (default: the setting ``DESKHAND_FORWARDED_ALLOW_IPS``) names the
    proxies whose X-Forwarded-For and -Proto are believed; no one's when empty."""
    proxies = trusted_proxies(
        rt.settings.forwarded_allow_ips if forwarded_allow_ips is None else forwarded_allow_ips
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if worker:
            runner = Worker(rt, intake=poll_all)
            thread = threading.Thread(
                target=runner.run_forever, args=(stop,), name="deskhand-worker", daemon=True
            )
            thread.start()
        yield
        stop.set()
        if thread is not None:
            thread.join(timeout=30)

    app = FastAPI(
        title="deskhand",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.rt = rt
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.mount("/api/v1", api.build(rt))
    # Innermost first: text no database stores is refused before any route; every answer,
    # refusals too, gets the headers; the proxy's headers are applied before anything looks
    # at the client's address or scheme.
    app.add_middleware(RefuseUnstorableText)

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if cookie_secure(request):
            _secure_cookies(response)
        return response

    if proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)

    @app.exception_handler(NotSignedIn)
    async def sign_in_first(request: Request, error: NotSignedIn) -> Response:
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = {404: "There is no such page.", 405: "That page does not take this request."}
        text = message.get(error.status_code, str(error.detail))
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": text, "hint": "See /api/v1/openapi.json."},
                status_code=error.status_code,
            )
        return render_error(request, error.status_code, text, "Use the menu above.")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()
        )
        return render_error(
            request, 400, f"That address or form is not valid ({problems}).", "Go back and retry."
        )

    @app.exception_handler(DeskhandError)
    async def user_error(request: Request, error: DeskhandError) -> Response:
        return render_error(request, status_of(error), error.message, error.hint)

    return app


def _secure_cookies(response: Response) -> None:
    """Every cookie deskhand sets (the session, the flash message) is Secure by one rule,
    ``security.cookie_secure``."""
    cookies = response.headers.getlist("set-cookie")
    if not cookies:
        return
    del response.headers["set-cookie"]
    for cookie in cookies:
        secure = any(p.strip().lower() == "secure" for p in cookie.split(";"))
        response.headers.append("set-cookie", cookie if secure else f"{cookie}; Secure")
