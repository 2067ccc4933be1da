"""Who is asking, and may they: sessions for the browser, tokens for automation, CSRF checks on
every form, and the role and tenant-scope rules every page and API call goes through.

Objects of a tenant outside a user's scope are answered exactly like objects that do not
exist (404): the scope must not leak what is beyond it.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from deskhand.accounts import resume_session, user_for_token
from deskhand.engine.runtime import Runtime
from deskhand.errors import DeskhandError, UsageError
from deskhand.store.models import Tenant, User

COOKIE = "deskhand_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
ROLE_RANK = {"viewer": 0, "tech": 1, "approver": 2, "admin": 3}


class NotSignedIn(DeskhandError):  # noqa: N818 - a state, answered with the sign-in page
    exit_code = 2


class Forbidden(DeskhandError):  # noqa: N818
    """The user's role does not allow this."""

    exit_code = 2


class NotFound(DeskhandError):  # noqa: N818
    """No such object — or one outside the user's tenant scope, which looks the same."""

    exit_code = 2


class CsrfRejected(DeskhandError):  # noqa: N818
    exit_code = 2


def no_such(what: str, hint: str | None = None) -> NotFound:
    """The one answer for ``what`` ("ticket 7") when it does not exist or is outside the
    user's scope: the two must not be told apart."""
    return NotFound(f"There is no {what}.", hint=hint)


def status_of(error: DeskhandError) -> int:
    """The HTTP status for one of deskhand's errors."""
    if isinstance(error, NotSignedIn):
        return 401
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden | CsrfRejected):
        return 403
    if getattr(error, "retry_after", None) is not None:
        return 429
    return error.http_status


@dataclass(frozen=True)
class Viewer:
    """The signed-in user, as every request sees them."""

    id: int
    email: str
    name: str
    role: str
    tenants: tuple[str, ...]
    csrf_token: str  # empty for API tokens: they are not cookies, so CSRF does not apply
    via_token: bool = False

    @property
    def all_tenants(self) -> bool:
        return "*" in self.tenants

    def sees(self, tenant_id: str) -> bool:
        return self.all_tenants or tenant_id in self.tenants

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    def require(self, role: str) -> None:
        if not self.at_least(role):
            raise Forbidden(f"This needs the {role} role; {self.email} is a {self.role}.")

    def require_tenant(self, tenant_id: str, what: str) -> None:
        """NotFound for ``what`` ("draft 11") if it is of a tenant outside the user's scope —
        worded exactly as the answer for one that does not exist."""
        if not self.sees(tenant_id):
            raise no_such(what)

    def may_approve(self, rt: Runtime, tenant: Tenant) -> bool:
        return self.sees(tenant.id) and rt.policy(tenant).may_approve(self.role)


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


def _viewer(user: User, csrf: str, via_token: bool = False) -> Viewer:
    return Viewer(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        tenants=tuple(user.tenants),
        csrf_token=csrf,
        via_token=via_token,
    )


def optional_viewer(request: Request) -> Viewer | None:
    """The user behind the session cookie or the bearer token, if any."""
    rt = runtime(request)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        with rt.db.session() as session:
            user = user_for_token(session, header[7:].strip())
            return _viewer(user, "", via_token=True) if user is not None else None
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with rt.db.session() as session:
        found = resume_session(session, token)
        return _viewer(found.user, found.csrf_token) if found is not None else None


def viewer(request: Request) -> Viewer:
    found = optional_viewer(request)
    if found is None:
        raise NotSignedIn("Sign in first.")
    return found


CurrentViewer = Annotated[Viewer, Depends(viewer)]


def check_csrf(request: Request, who: Viewer, form: FormData | None = None) -> None:
    """A state-changing request made with the session cookie must carry the session's CSRF
    token, in the form or in the header HTMX sends; token-authenticated calls need none."""
    if who.via_token:
        return
    sent = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form else None)
    if not isinstance(sent, str) or not secrets.compare_digest(sent, who.csrf_token):
        raise CsrfRejected(
            "This form has expired or did not come from deskhand.",
            hint="Reload the page and try again.",
        )


def client_address(request: Request) -> str:
    """The address sign-in throttling counts: the peer's, or the client a trusted proxy names
    in X-Forwarded-For (``trusted_proxies``)."""
    return request.client.host if request.client else "unknown"


def trusted_proxies(value: str) -> list[str]:
    """The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, read from
    ``--forwarded-allow-ips``: comma-separated addresses or networks, or ``*`` for any peer
    (only when nothing but the proxy can reach deskhand). Empty: no one's — a client could
    otherwise name any address and escape the per-address sign-in limit."""
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            if "/" in entry:
                ipaddress.ip_network(entry)
            else:
                ipaddress.ip_address(entry)
        except ValueError:
            raise UsageError(
                f"--forwarded-allow-ips: {entry!r} is not an IP address or network.",
                hint="Give the proxy's address (10.0.0.5), its network (10.0.0.0/24), several "
                "separated by commas, or * for any peer.",
            ) from None
    return ["*"] if "*" in entries else entries


def cookie_secure(request: Request) -> bool:
    """Secure cookies, except over plain HTTP to a non-loopback host, where a browser would
    drop them (deskhand behind TLS termination should see https via the proxy headers)."""
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
