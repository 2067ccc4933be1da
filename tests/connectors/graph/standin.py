"""A local Microsoft Graph and Microsoft login: a real HTTPS server on 127.0.0.1 (a certificate
of a throw-away CA made by ``trustme``, since msal only talks https) that answers the requests
deskhand makes as Graph v1.0 and Entra's token endpoint do, from data held in memory.

Every entity it returns and every PATCH or action body it receives is checked against Graph's
published schema (``csdl.schema()``); what does not match is recorded in ``violations`` (the
``graph`` fixture fails the test on any) and the request is answered 400. It filters ``eq`` on one
property, enforces the application permissions in the token's ``roles``, refuses a wrong client
secret with AADSTS7000215, and answers 429 with ``Retry-After`` or 5xx on request
(``fail_next``), or as a proxy that echoes the request back (``echo_next``).

Its OData handling is Graph's, so that Microsoft's own SDK meets it as it meets Graph (see
``sdk.py``): a cast segment is ``microsoft.graph.group`` or its alias ``graph.group``; ``$top``
sets the page size (1 to 999; ``subscribedSkus`` and ``directoryRoles`` and their members refuse
any) and ``@odata.nextLink`` carries it on; without ``$top`` a page holds ``page_size`` items
(Graph's default is 100; two here, so that every collection read pages); a page with ``$expand``
holds at most 100 objects; a ``$select`` or ``$expand`` of a property the type does not have is
refused 400 and a method a known path does not take 405, each with Graph's code and message.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import jwt
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.connectors.echo import Echo, echoed
from tests.connectors.graph.csdl import schema

MS_TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "s3cret~for~the~stand-in"
ALL_ROLES = frozenset(
    {
        "User.ReadWrite.All",
        "Group.ReadWrite.All",
        "User-PasswordProfile.ReadWrite.All",
        "Directory.Read.All",
        "Organization.Read.All",
        "MailboxSettings.Read",
        # What a leaver's steps need besides (``LIFECYCLE_ROLES``).
        "MailboxSettings.ReadWrite",
        "Files.ReadWrite.All",
        "UserAuthenticationMethod.ReadWrite.All",
    }
)

ROUTES = Map(
    [
        Rule("/<tenant>/v2.0/.well-known/openid-configuration", endpoint="openid"),
        Rule("/<tenant>/oauth2/v2.0/token", endpoint="token", methods=["POST"]),
        Rule("/v1.0/users", endpoint="users", methods=["GET"]),
        Rule("/v1.0/users/<key>", endpoint="user", methods=["GET"]),
        Rule("/v1.0/users/<key>", endpoint="patch_user", methods=["PATCH"]),
        Rule("/v1.0/users/<key>/memberOf", endpoint="member_of", methods=["GET"]),
        Rule("/v1.0/users/<key>/memberOf/<cast>", endpoint="member_of", methods=["GET"]),
        Rule("/v1.0/users/<key>/revokeSignInSessions", endpoint="revoke", methods=["POST"]),
        Rule("/v1.0/users/<key>/assignLicense", endpoint="assign_license", methods=["POST"]),
        Rule("/v1.0/users/<key>/mailboxSettings", endpoint="mailbox_settings", methods=["GET"]),
        Rule("/v1.0/groups", endpoint="groups", methods=["GET"]),
        Rule("/v1.0/groups/<key>", endpoint="group", methods=["GET"]),
        Rule("/v1.0/groups/<key>/members", endpoint="members", methods=["GET"]),
        Rule("/v1.0/groups/<key>/members/$ref", endpoint="add_member", methods=["POST"]),
        Rule(
            "/v1.0/groups/<key>/members/<user>/$ref", endpoint="remove_member", methods=["DELETE"]
        ),
        Rule("/v1.0/directoryRoles", endpoint="directory_roles", methods=["GET"]),
        Rule("/v1.0/directoryRoles/<key>/members", endpoint="role_members", methods=["GET"]),
        Rule("/v1.0/subscribedSkus", endpoint="skus", methods=["GET"]),
        Rule("/v1.0/organization", endpoint="organization", methods=["GET"]),
        # A leaver's and a starter's.
        Rule("/v1.0/users", endpoint="create_user", methods=["POST"]),
        Rule("/v1.0/users/<key>/manager/$ref", endpoint="set_manager", methods=["PUT"]),
        Rule(
            "/v1.0/users/<key>/mailboxSettings",
            endpoint="patch_mailbox_settings",
            methods=["PATCH"],
        ),
        Rule(
            "/v1.0/users/<key>/mailFolders/inbox/messageRules",
            endpoint="message_rules",
            methods=["GET"],
        ),
        Rule(
            "/v1.0/users/<key>/mailFolders/inbox/messageRules",
            endpoint="add_message_rule",
            methods=["POST"],
        ),
        Rule(
            "/v1.0/users/<key>/mailFolders/inbox/messageRules/<rule>",
            endpoint="delete_message_rule",
            methods=["DELETE"],
        ),
        Rule(
            "/v1.0/users/<key>/drive/root/permissions",
            endpoint="drive_permissions",
            methods=["GET"],
        ),
        Rule(
            "/v1.0/users/<key>/drive/root/permissions/<permission>",
            endpoint="delete_drive_permission",
            methods=["DELETE"],
        ),
        Rule("/v1.0/users/<key>/drive/root/invite", endpoint="drive_invite", methods=["POST"]),
        Rule("/v1.0/users/<key>/authentication/methods", endpoint="auth_methods", methods=["GET"]),
        Rule(
            "/v1.0/users/<key>/authentication/<collection>/<method>",
            endpoint="delete_auth_method",
            methods=["DELETE"],
        ),
    ]
)
LARGEST_PAGE = 999  # $top of a directory collection: 1 to 999
EXPANDED_PAGE = 100  # a page with $expand holds at most this many objects, whatever $top says
EXPANDABLE = frozenset({"manager"})  # the $expand this stand-in models
# The application permission each endpoint needs (any one of those listed).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "users": ("User.ReadWrite.All", "Directory.Read.All"),
    "user": ("User.ReadWrite.All", "Directory.Read.All"),
    "patch_user": ("User.ReadWrite.All",),
    "member_of": ("Directory.Read.All",),
    "revoke": ("User.ReadWrite.All",),
    "assign_license": ("User.ReadWrite.All",),
    "mailbox_settings": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    "groups": ("Group.ReadWrite.All", "Directory.Read.All"),
    "group": ("Group.ReadWrite.All", "Directory.Read.All"),
    "members": ("Group.ReadWrite.All", "Directory.Read.All"),
    "add_member": ("Group.ReadWrite.All", "GroupMember.ReadWrite.All"),
    "remove_member": ("Group.ReadWrite.All", "GroupMember.ReadWrite.All"),
    "directory_roles": ("Directory.Read.All", "RoleManagement.Read.Directory"),
    "role_members": ("Directory.Read.All", "RoleManagement.Read.Directory"),
    "skus": ("Organization.Read.All",),
    "organization": ("Organization.Read.All",),
    "create_user": ("User.ReadWrite.All",),
    "set_manager": ("User.ReadWrite.All",),
    "patch_mailbox_settings": ("MailboxSettings.ReadWrite",),
    "message_rules": ("MailboxSettings.Read", "MailboxSettings.ReadWrite"),
    "add_message_rule": ("MailboxSettings.ReadWrite",),
    "delete_message_rule": ("MailboxSettings.ReadWrite",),
    "drive_permissions": ("Files.ReadWrite.All", "Sites.ReadWrite.All"),
    "delete_drive_permission": ("Files.ReadWrite.All", "Sites.ReadWrite.All"),
    "drive_invite": ("Files.ReadWrite.All", "Sites.ReadWrite.All"),
    "auth_methods": (
        "UserAuthenticationMethod.Read.All",
        "UserAuthenticationMethod.ReadWrite.All",
    ),
    "delete_auth_method": ("UserAuthenticationMethod.ReadWrite.All",),
}
# What a leaver's and a starter's steps need besides (the doctor only warns without them).
LIFECYCLE_ROLES = frozenset(
    {"MailboxSettings.ReadWrite", "Files.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"}
)
PASSWORD_KIND = "passwordAuthenticationMethod"
PASSWORD_METHOD_ID = "28c10230-6103-485e-b985-444c60001490"  # every user's, in Graph
# Each sign-in method collection of users/{id}/authentication, and the type it holds.
AUTH_COLLECTIONS = {
    "emailMethods": "emailAuthenticationMethod",
    "fido2Methods": "fido2AuthenticationMethod",
    "microsoftAuthenticatorMethods": "microsoftAuthenticatorAuthenticationMethod",
    "passwordMethods": PASSWORD_KIND,
    "phoneMethods": "phoneAuthenticationMethod",
    "platformCredentialMethods": "platformCredentialAuthenticationMethod",
    "softwareOathMethods": "softwareOathAuthenticationMethod",
    "temporaryAccessPassMethods": "temporaryAccessPassAuthenticationMethod",
    "windowsHelloForBusinessMethods": "windowsHelloForBusinessAuthenticationMethod",
    "externalAuthenticationMethods": "externalAuthenticationMethod",
}
DISABLED_REPLY = {
    "status": "disabled",
    "externalAudience": "all",
    "internalReplyMessage": "",
    "externalReplyMessage": "",
}
PASSWORD_PERMISSION = "User-PasswordProfile.ReadWrite.All"
GLOBAL_ADMINISTRATOR = {
    "id": str(uuid.uuid5(uuid.NAMESPACE_OID, "global-admin")),
    "displayName": "Global Administrator",
    "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10",
}


class GraphRefusalError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


@dataclass
class _Fault:
    status: int
    times: int
    path: str  # a regular expression searched in "METHOD /path"
    retry_after: int | None


@dataclass
class GraphStandIn:
    """In-memory Graph of one tenant. Users, groups and SKUs are held as Graph's JSON."""

    page_size: int = 2
    secret: str = CLIENT_SECRET
    roles: set[str] = field(default_factory=lambda: set(ALL_ROLES))
    date_skew: timedelta = timedelta(0)  # how far the Date header is off the real time
    certificate: x509.Certificate | None = None  # the app's certificate, if it has one
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → user JSON
    forced: dict[str, bool] = field(default_factory=dict)  # write-only forceChange... flag
    admins: set[str] = field(default_factory=set)  # user ids holding a directory role
    managers: dict[str, str] = field(default_factory=dict)  # user id → manager id
    purposes: dict[str, str] = field(default_factory=dict)  # user id → userPurpose (has mailbox)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # group id → user ids
    skus: dict[str, dict[str, Any]] = field(default_factory=dict)  # skuId → subscribedSku
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)  # automaticRepliesSetting
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # inbox messageRules
    drives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # OneDrive root perms
    methods: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sign-in methods
    created: list[str] = field(default_factory=list)  # users made by POST users
    group_licences: dict[str, dict[str, str]] = field(default_factory=dict)  # user → sku → group
    token_requests: int = 0
    token_seconds: int = 3599  # a token's expires_in; msal asks again for one under 300
    received: list[str] = field(default_factory=list)  # "METHOD /path?query"
    bodies: list[tuple[str, Any]] = field(default_factory=list)  # (endpoint, JSON body)
    violations: list[str] = field(default_factory=list)
    _tokens: set[str] = field(default_factory=set)
    _faults: list[_Fault] = field(default_factory=list)
    _echoes: list[Echo] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _server: BaseWSGIServer | None = None
    ca: trustme.CA = field(default_factory=trustme.CA)

    # --- running ---------------------------------------------------------------------------

    def start(self) -> GraphStandIn:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet, ssl_context=context
        )
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        return f"https://127.0.0.1:{self._server.server_port}"

    def client_ssl(self) -> ssl.SSLContext:
        """An SSL context that trusts the stand-in's certificate."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    # --- data ------------------------------------------------------------------------------

    def add_user(
        self,
        upn: str,
        name: str,
        *,
        mail: str | None = None,
        synced: bool = False,
        enabled: bool = True,
        licences: tuple[str, ...] = (),
        manager: str | None = None,
        admin: bool = False,
    ) -> str:
        user_id = str(uuid.uuid4())
        self.users[user_id] = {
            "id": user_id,
            "userPrincipalName": upn,
            "displayName": name,
            "mail": mail,
            "accountEnabled": enabled,
            "onPremisesSyncEnabled": True if synced else None,
            "assignedLicenses": [{"skuId": sku, "disabledPlans": []} for sku in licences],
            "lastPasswordChangeDateTime": "2026-01-05T09:00:00Z",
            "signInSessionsValidFromDateTime": "2026-01-05T09:00:00Z",
            # Graph reads this back as null: the flag is write-only for app-only callers.
            "passwordProfile": None,
        }
        if manager:
            self.managers[user_id] = manager
        if mail:  # a user with a mail address has an Exchange Online mailbox, a user one
            self.purposes[user_id] = "user"
            # … and a OneDrive, its owner's permission on its root.
            self.drives[user_id] = [_permission(self.users[user_id], ["owner"])]
        if admin:
            self.admins.add(user_id)
        return user_id

    def add_group(
        self,
        name: str,
        *,
        mail_enabled: bool = False,
        unified: bool = False,
        role_assignable: bool = False,
        synced: bool = False,
    ) -> str:
        group_id = str(uuid.uuid4())
        self.groups[group_id] = {
            "id": group_id,
            "displayName": name,
            "mailEnabled": mail_enabled or unified,
            "securityEnabled": not unified,
            "groupTypes": ["Unified"] if unified else [],
            "isAssignableToRole": role_assignable,
            "onPremisesSyncEnabled": True if synced else None,
        }
        self.members[group_id] = []
        return group_id

    def add_sku(self, part_number: str, seats: int) -> str:
        sku_id = str(uuid.uuid4())
        self.skus[sku_id] = {
            "id": f"{uuid.uuid4()}_{sku_id}",
            "skuId": sku_id,
            "skuPartNumber": part_number,
            "capabilityStatus": "Enabled",
            "appliesTo": "User",
            "prepaidUnits": {"enabled": seats, "suspended": 0, "warning": 0, "lockedOut": 0},
            "servicePlans": [],
        }
        return sku_id

    def consumed(self, sku_id: str) -> int:
        return sum(
            any(a["skuId"] == sku_id for a in user["assignedLicenses"])
            for user in self.users.values()
        )

    def fail_next(
        self, status: int, times: int = 1, path: str = "", retry_after: int | None = None
    ) -> None:
        """Answer the next ``times`` requests matching ``path`` with ``status``."""
        self._faults.append(_Fault(status, times, path, retry_after))

    def echo_next(
        self, path: str, status: int = 502, *, as_json: bool = False, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests matching ``path`` (searched in "METHOD /path?query")
        as a proxy whose error page echoes the request: its line, body and Authorization."""
        self._echoes.append(Echo(path, status, as_json, times))

    # --- serving ---------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._answer(request)
        served = datetime.now(UTC) + self.date_skew
        response.headers["Date"] = format_datetime(served, usegmt=True)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        adapter = ROUTES.bind("127.0.0.1")
        line = f"{request.method} {request.path}"
        self.received.append(f"{line}?{request.query_string.decode()}")
        for echo in self._echoes:
            if echo.takes(request):
                return echoed(request, echo.status, as_json=echo.as_json)
        try:
            endpoint, args = adapter.match(request.path, method=request.method)
        except MethodNotAllowed:
            return _error(
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            )
        except HTTPException as error:
            return _error(error.code or 404, "Request_ResourceNotFound", f"{line} unknown")
        try:
            self._inject(line)
            if endpoint == "openid":
                return self._openid(args["tenant"])
            if endpoint == "token":
                return self._token(request)
            self._authorise(request, str(endpoint))
            handler = getattr(self, f"_{endpoint}")
            return handler(request, **args)  # type: ignore[no-any-return]
        except GraphRefusalError as refusal:
            return _error(refusal.status, refusal.code, refusal.message, refusal.headers)

    def _inject(self, line: str) -> None:
        for fault in self._faults:
            if fault.times > 0 and re.search(fault.path, line):
                fault.times -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                code = "TooManyRequests" if fault.status == 429 else "ServiceUnavailable"
                raise GraphRefusalError(fault.status, code, "Injected by the test.", headers)

    # --- login -----------------------------------------------------------------------------

    def _openid(self, tenant: str) -> Response:
        if tenant.lower() != MS_TENANT:
            return _json(
                {
                    "error": "invalid_tenant",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
                400,
            )
        base = f"{self.origin}/{tenant}"
        return _json(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
            }
        )

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = request.form
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return _json(
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found in the directory.",
                },
                400,
            )
        if form.get("client_assertion"):
            return self._certificate_token(form)
        if form.get("client_secret") != self.secret:
            return _json(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. "
                    "Ensure the secret being sent in the request is the client secret value, "
                    "not the client secret ID.\r\nTrace ID: 0\r\nTimestamp: 2026-01-05",
                },
                401,
            )
        if form.get("scope") != f"{self.origin}/.default":
            return _json({"error": "invalid_scope", "error_description": "AADSTS70011"}, 400)
        return self._issue()

    def _certificate_token(self, form: Any) -> Response:
        """A client assertion signed with the certificate's key, as Entra checks it."""
        refused = {
            "error": "invalid_client",
            "error_description": "AADSTS700027: Client assertion failed signature validation.",
        }
        if self.certificate is None:
            return _json(refused, 401)
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
            jwt.decode(
                assertion,
                self.certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=f"{self.origin}/{MS_TENANT}/oauth2/v2.0/token",
                issuer=CLIENT_ID,
            )
        except jwt.PyJWTError:
            return _json(refused, 401)
        thumbprint = self.certificate.fingerprint(
            hashes.SHA1()
        )  # Entra names certificates by SHA-1
        x5t = str(header.get("x5t", "")).rstrip("=")  # base64url, padded or not
        if x5t != base64.urlsafe_b64encode(thumbprint).decode().rstrip("="):
            return _json(refused, 401)
        return self._issue()

    def _issue(self) -> Response:
        claims = {"aud": self.origin, "tid": MS_TENANT, "roles": sorted(self.roles)}
        token = ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"typ": "JWT", "alg": "none"}, claims, uuid.uuid4().hex)
        )
        self._tokens.add(token)
        return _json(
            {"token_type": "Bearer", "expires_in": self.token_seconds, "access_token": token}
        )

    def _authorise(self, request: Request, endpoint: str) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._tokens:
            raise GraphRefusalError(401, "InvalidAuthenticationToken", "Access token is empty.")
        if not set(PERMISSIONS[endpoint]) & self.roles:
            raise GraphRefusalError(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )

    # --- users -----------------------------------------------------------------------------

    def _users(self, request: Request) -> Response:
        return self._collection(request, "user", [self._shown(u) for u in self.users.values()])

    def _user(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        return self._entity(request, "user", self._shown(user))

    def _patch_user(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        body = self._body(request, "patch_user")
        self._check(schema().check_entity("user", body, "PATCH user"))
        if "passwordProfile" in body and PASSWORD_PERMISSION not in self.roles:
            raise GraphRefusalError(
                403,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            )
        if user["onPremisesSyncEnabled"]:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                "Unable to update the specified properties for "
                "on-premises mastered Directory Sync objects or objects currently undergoing "
                "migration.",
            )
        profile = body.get("passwordProfile")
        if profile is not None:
            password = profile.get("password") or ""
            kinds = (str.isupper, str.islower, str.isdigit, lambda c: not c.isalnum())
            if len(password) < 8 or sum(any(k(c) for c in password) for k in kinds) < 3:
                raise GraphRefusalError(
                    400,
                    "Request_BadRequest",
                    "The specified password does not comply with "
                    "password complexity requirements. Please provide a different password.",
                )
            user["lastPasswordChangeDateTime"] = _now()
            self.forced[user["id"]] = bool(profile.get("forceChangePasswordNextSignIn"))
        if "accountEnabled" in body:
            user["accountEnabled"] = body["accountEnabled"]
        for name in ("department", "jobTitle", "usageLocation"):
            if name in body:
                user[name] = body[name]
        return Response(status=204)

    def _member_of(self, request: Request, key: str, cast: str = "") -> Response:
        """memberOf, or memberOf cast to a type (``microsoft.graph.group`` or ``graph.group``);
        a segment that is no cast names one membership by its id, as in Graph."""
        user = self._find_user(key)
        found = [
            {"@odata.type": "#microsoft.graph.group", **g}
            for gid, g in self.groups.items()
            if user["id"] in self.members[gid]
        ]
        if user["id"] in self.admins:
            found.append({"@odata.type": "#microsoft.graph.directoryRole", **GLOBAL_ADMINISTRATOR})
        if not cast:
            return self._collection(request, "directoryObject", found)
        if not cast.startswith(("microsoft.graph.", "graph.")):
            raise GraphRefusalError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{cast}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        kind = cast.removeprefix("microsoft.").removeprefix("graph.")
        if kind not in schema().types or not schema().is_a(kind, "directoryObject"):
            raise GraphRefusalError(400, "Request_BadRequest", f"Unknown cast {cast}.")
        return self._collection(
            request,
            kind,
            [item for item in found if schema().is_a(item["@odata.type"].removeprefix("#"), kind)],
        )

    def _revoke(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        body = request.get_data()
        self.bodies.append(("revoke", body.decode() or None))
        self._check(
            schema().check_action(
                "revokeSignInSessions", "user", json.loads(body) if body else None
            )
        )
        user["signInSessionsValidFromDateTime"] = _now()
        return _json({"@odata.context": f"{self.origin}/v1.0/$metadata#Edm.Boolean", "value": True})

    def _assign_license(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        body = self._body(request, "assign_license")
        self._check(schema().check_action("assignLicense", "user", body))
        adding = [a["skuId"] for a in body["addLicenses"]]
        for sku_id in [*adding, *body["removeLicenses"]]:
            if sku_id not in self.skus:
                raise GraphRefusalError(
                    400,
                    "Request_BadRequest",
                    f"License {sku_id} does not correspond to a valid company License.",
                )
        held = [a["skuId"] for a in user["assignedLicenses"]]
        for sku_id in body["removeLicenses"]:
            if sku_id in self.group_licences.get(user["id"], {}):
                raise GraphRefusalError(
                    400,
                    "Request_BadRequest",
                    "User license is inherited from a group membership and it cannot be removed "
                    "directly from the user.",
                )
        for sku_id in body["removeLicenses"]:
            if sku_id not in held:
                raise GraphRefusalError(
                    400, "Request_BadRequest", "User does not have a corresponding license."
                )
        for sku_id in adding:
            sku = self.skus[sku_id]
            if sku_id not in held and self.consumed(sku_id) >= sku["prepaidUnits"]["enabled"]:
                raise GraphRefusalError(
                    400,
                    "Request_BadRequest",
                    "License assignment failed because service plans "
                    f"of {sku['skuPartNumber']} could not be assigned. Subscription with SKU "
                    f"{sku_id} does not have any available licenses.",
                )
        kept = [s for s in held if s not in body["removeLicenses"]]
        kept += [s for s in adding if s not in kept]
        user["assignedLicenses"] = [{"skuId": s, "disabledPlans": []} for s in kept]
        return self._entity(request, "user", self._shown(user))

    def _mailbox_settings(self, request: Request, key: str) -> Response:
        try:
            user = self._find_user(key)
        except GraphRefusalError:
            raise GraphRefusalError(
                404, "ErrorInvalidUser", f"The requested user '{key}' is invalid."
            ) from None
        purpose = self.purposes.get(user["id"])
        if purpose is None:
            raise GraphRefusalError(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        settings = {
            "archiveFolder": "AAMkAGI2TGuLAAA=",
            "timeZone": "W. Europe Standard Time",
            "dateFormat": "dd/MM/yyyy",
            "timeFormat": "HH:mm",
            "language": {"locale": "en-GB", "displayName": "English (United Kingdom)"},
            "userPurpose": purpose,
            "automaticRepliesSetting": self.replies.get(user["id"], DISABLED_REPLY),
        }
        _check_query(request.args, "mailboxSettings", exchange=True)
        shown = _selected(settings, request.args)
        self._check(schema().check_entity("mailboxSettings", shown))
        context = f"{self.origin}/v1.0/$metadata#users('{user['id']}')/mailboxSettings"
        return _json({"@odata.context": context, **shown})

    # --- directory roles (activated in the tenant: one, held by ``admins``) -------------------

    def _directory_roles(self, request: Request) -> Response:
        return self._collection(
            request, "directoryRole", [dict(GLOBAL_ADMINISTRATOR)], custom_pages=False
        )

    def _role_members(self, request: Request, key: str) -> Response:
        if key != GLOBAL_ADMINISTRATOR["id"]:
            raise GraphRefusalError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property "
                "objects are not present.",
            )
        found = [
            {"@odata.type": "#microsoft.graph.user", **self.users[uid]}
            for uid in sorted(self.admins)
        ]
        return self._collection(request, "directoryObject", found, custom_pages=False)

    # --- groups ----------------------------------------------------------------------------

    def _groups(self, request: Request) -> Response:
        return self._collection(request, "group", list(self.groups.values()))

    def _group(self, request: Request, key: str) -> Response:
        return self._entity(request, "group", self._find_group(key))

    def _members(self, request: Request, key: str) -> Response:
        group = self._find_group(key)
        found = [
            {"@odata.type": "#microsoft.graph.user", **self.users[uid]}
            for uid in self.members[group["id"]]
        ]
        return self._collection(request, "directoryObject", found)

    def _add_member(self, request: Request, key: str) -> Response:
        group = self._find_group(key)
        body = self._body(request, "add_member")
        reference = body.get("@odata.id", "") if isinstance(body, dict) else ""
        wanted = f"{self.origin}/v1.0/directoryObjects/"
        self._check(self._reference_problems(body))
        self._writable(group)
        user_id = reference.removeprefix(wanted)
        if user_id not in self.users:
            raise GraphRefusalError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{user_id}' does not "
                "exist or one of its queried reference-property objects are not "
                "present.",
            )
        if user_id in self.members[group["id"]]:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                "One or more added object references "
                "already exist for the following modified properties: 'members'.",
            )
        self.members[group["id"]].append(user_id)
        return Response(status=204)

    def _remove_member(self, request: Request, key: str, user: str) -> Response:
        group = self._find_group(key)
        self._writable(group)
        if user not in self.members[group["id"]]:
            raise GraphRefusalError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{user}' does not "
                "exist or one of its queried reference-property objects are not "
                "present.",
            )
        self.members[group["id"]].remove(user)
        return Response(status=204)

    def _reference_problems(self, body: Any) -> list[str]:
        """A ``$ref`` body is one ``@odata.id`` naming a directoryObject; ``members`` must be a
        collection of directoryObject on group for it to mean anything."""
        members = schema().members("group").get("members")
        problems = []
        if members is None or not schema().is_a(
            members.type.removeprefix("Collection(").removesuffix(")"), "directoryObject"
        ):
            problems.append("group.members is not a collection of directoryObject")
        wanted = f"{self.origin}/v1.0/directoryObjects/"
        if not isinstance(body, dict) or set(body) != {"@odata.id"}:
            problems.append(f"$ref body must be exactly {{'@odata.id': ...}}, got {body!r}")
        elif not str(body["@odata.id"]).startswith(wanted):
            problems.append(f"$ref @odata.id must start with {wanted}, got {body['@odata.id']}")
        return problems

    def _writable(self, group: dict[str, Any]) -> None:
        if group["mailEnabled"] and "Unified" not in group["groupTypes"]:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                "Cannot Update a mail-enabled security groups and or distribution list.",
            )
        if "DynamicMembership" in group["groupTypes"]:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                # Refused as Graph refuses it; the wording is the stand-in's own.
                "The group has dynamic membership: its rule adds and removes its members.",
            )
        if group.get("onPremisesSyncEnabled"):
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                "Unable to update the specified properties for on-premises mastered Directory "
                "Sync objects or objects currently undergoing migration.",
            )

    # --- organisation ----------------------------------------------------------------------

    def _skus(self, request: Request) -> Response:
        found = [
            {**sku, "consumedUnits": self.consumed(sku_id)} for sku_id, sku in self.skus.items()
        ]
        return self._collection(request, "subscribedSku", found, custom_pages=False)

    def _organization(self, request: Request) -> Response:
        found = [{"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, MS_TENANT)), "displayName": "Contoso"}]
        return self._collection(request, "organization", found)

    # --- a leaver's and a starter's: mailbox, OneDrive, sign-in methods, profile, new users ---

    def add_auth_method(self, user_id: str, kind: str, **properties: Any) -> str:
        """Register a sign-in method (``kind``: phoneAuthenticationMethod, …) for a user."""
        method_id = str(uuid.uuid4())
        method = {"@odata.type": f"#microsoft.graph.{kind}", "id": method_id, **properties}
        self._check(schema().check_entity("authenticationMethod", method))
        self.methods.setdefault(user_id, []).append(method)
        return method_id

    def _auth_methods(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        password = {
            "@odata.type": f"#microsoft.graph.{PASSWORD_KIND}",
            "id": PASSWORD_METHOD_ID,
            "password": None,
            "createdDateTime": user["lastPasswordChangeDateTime"],
        }
        found = [password, *self.methods.get(user["id"], [])]
        return self._collection(request, "authenticationMethod", found, custom_pages=False)

    def _delete_auth_method(
        self, request: Request, key: str, collection: str, method: str
    ) -> Response:
        user = self._find_user(key)
        kind = AUTH_COLLECTIONS.get(collection)
        if kind is None or kind == PASSWORD_KIND:
            raise GraphRefusalError(
                400 if kind else 404,
                "badRequest" if kind else "Request_ResourceNotFound",
                f"DELETE is not supported on authentication/{collection}.",
            )
        held = self.methods.get(user["id"], [])
        for found in held:
            if found["id"] == method and found["@odata.type"] == f"#microsoft.graph.{kind}":
                held.remove(found)
                return Response(status=204)
        raise GraphRefusalError(404, "itemNotFound", f"No {kind} with the id {method}.")

    def _patch_mailbox_settings(self, request: Request, key: str) -> Response:
        user = self._mailbox_user(key)
        body = self._body(request, "patch_mailbox_settings")
        self._check(schema().check_entity("mailboxSettings", body, "PATCH mailboxSettings"))
        setting = body.get("automaticRepliesSetting")
        if setting is not None:
            stored = {**self.replies.get(user["id"], DISABLED_REPLY), **setting}
            for name in ("internalReplyMessage", "externalReplyMessage"):
                stored[name] = _as_html(stored.get(name) or "")
            self.replies[user["id"]] = stored
        return _json({"@odata.context": f"{self.origin}/v1.0/$metadata#Me/mailboxSettings", **body})

    def _message_rules(self, request: Request, key: str) -> Response:
        user = self._mailbox_user(key)
        return self._collection(
            request, "messageRule", self.rules.get(user["id"], []), custom_pages=False
        )

    def _add_message_rule(self, request: Request, key: str) -> Response:
        user = self._mailbox_user(key)
        body = self._body(request, "add_message_rule")
        self._check(schema().check_entity("messageRule", body, "POST messageRule"))
        rule = {
            **body,
            "id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode(),
            "hasError": False,
        }
        rule.setdefault("isEnabled", True)
        rule["isReadOnly"] = False
        self.rules.setdefault(user["id"], []).append(rule)
        return _json(rule, 201)

    def _delete_message_rule(self, request: Request, key: str, rule: str) -> Response:
        user = self._mailbox_user(key)
        held = self.rules.get(user["id"], [])
        for found in held:
            if found["id"] == rule:
                held.remove(found)
                return Response(status=204)
        raise GraphRefusalError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def _drive_permissions(self, request: Request, key: str) -> Response:
        owner = self._drive_owner(key)
        return self._collection(request, "permission", self.drives[owner["id"]], custom_pages=False)

    def _drive_invite(self, request: Request, key: str) -> Response:
        owner = self._drive_owner(key)
        body = self._body(request, "drive_invite")
        self._check(schema().check_action("invite", "driveItem", body))
        granted = []
        for recipient in body["recipients"]:
            user = self._find_user(str(recipient.get("objectId") or recipient.get("email") or ""))
            permissions = self.drives[owner["id"]]
            held = next(
                (p for p in permissions if p["grantedToV2"]["user"]["id"] == user["id"]), None
            )
            if held is None:
                held = _permission(user, list(body.get("roles") or ["read"]))
                permissions.append(held)
            else:
                held["roles"] = sorted({*held["roles"], *(body.get("roles") or [])})
            granted.append(held)
        for item in granted:
            self._check(schema().check_entity("permission", item))
        return _json(
            {
                "@odata.context": f"{self.origin}/v1.0/$metadata#Collection(permission)",
                "value": granted,
            }
        )

    def _delete_drive_permission(self, request: Request, key: str, permission: str) -> Response:
        owner = self._drive_owner(key)
        held = self.drives[owner["id"]]
        for found in held:
            if found["id"] == permission and "owner" not in found["roles"]:
                held.remove(found)
                return Response(status=204)
        raise GraphRefusalError(404, "itemNotFound", "Item not found")

    def _set_manager(self, request: Request, key: str) -> Response:
        user = self._find_user(key)
        body = self._body(request, "set_manager")
        wanted = f"{self.origin}/v1.0/users/"
        if not isinstance(body, dict) or set(body) != {"@odata.id"}:
            self._check([f"manager $ref body must be exactly {{'@odata.id': ...}}, got {body!r}"])
        if not str(body["@odata.id"]).startswith(wanted):
            self._check(
                [f"manager $ref @odata.id must start with {wanted}, got {body['@odata.id']}"]
            )
        if user["onPremisesSyncEnabled"]:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                "Unable to update the specified properties for on-premises mastered Directory "
                "Sync objects or objects currently undergoing migration.",
            )
        manager = self._find_user(str(body["@odata.id"]).removeprefix(wanted))
        self.managers[user["id"]] = manager["id"]
        return Response(status=204)

    def _create_user(self, request: Request) -> Response:
        body = self._body(request, "create_user")
        self._check(schema().check_entity("user", body, "POST user"))
        required = (
            "accountEnabled",
            "displayName",
            "mailNickname",
            "userPrincipalName",
            "passwordProfile",
        )
        missing = [name for name in required if name not in body]
        if missing:
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                f"Invalid value specified for property '{missing[0]}' of resource 'User'.",
            )
        for name, value in (
            ("userPrincipalName", body["userPrincipalName"]),
            ("mailNickname", body["mailNickname"]),
        ):
            if any(str(u.get(name, "")).lower() == str(value).lower() for u in self.users.values()):
                raise GraphRefusalError(
                    400,
                    "Request_BadRequest",
                    f"Another object with the same value for property {name} already exists.",
                )
        profile = body["passwordProfile"]
        user_id = self.add_user(
            body["userPrincipalName"], body["displayName"], mail=body["userPrincipalName"]
        )
        user = self.users[user_id]
        user["mailNickname"] = body["mailNickname"]
        for name in ("accountEnabled", "department", "jobTitle", "usageLocation"):
            if name in body:
                user[name] = body[name]
        self.forced[user_id] = bool(profile.get("forceChangePasswordNextSignIn"))
        self.created.append(user_id)
        return _json({"@odata.context": f"{self.origin}/v1.0/$metadata#users/$entity", **user}, 201)

    def _mailbox_user(self, key: str) -> dict[str, Any]:
        user = self._find_user(key)
        if user["id"] not in self.purposes:
            raise GraphRefusalError(
                404,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        return user

    def _drive_owner(self, key: str) -> dict[str, Any]:
        user = self._find_user(key)
        if user["id"] not in self.drives:
            raise GraphRefusalError(404, "itemNotFound", "Item not found")
        return user

    # --- OData ------------------------------------------------------------------------------

    def license_through_group(self, user_id: str, sku_id: str, group_id: str) -> None:
        """Group-based licensing: the user holds ``sku_id`` because they are in the group."""
        self.users[user_id]["assignedLicenses"].append({"skuId": sku_id, "disabledPlans": []})
        self.group_licences.setdefault(user_id, {})[sku_id] = group_id

    def _shown(self, user: dict[str, Any]) -> dict[str, Any]:
        manager = self.managers.get(user["id"])
        shown = dict(user)
        through = self.group_licences.get(user["id"], {})
        shown["licenseAssignmentStates"] = [
            {
                "skuId": a["skuId"],
                "assignedByGroup": through.get(a["skuId"]),
                "state": "Active",
                "disabledPlans": [],
            }
            for a in user["assignedLicenses"]
        ]
        if manager:
            shown["manager"] = {"@odata.type": "#microsoft.graph.user", "id": manager}
        return shown

    def _find_user(self, key: str) -> dict[str, Any]:
        for user in self.users.values():
            if key.lower() in (user["id"], user["userPrincipalName"].lower()):
                return user
        raise GraphRefusalError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or "
            "one of its queried reference-property objects are not present.",
        )

    def _find_group(self, key: str) -> dict[str, Any]:
        if key in self.groups:
            return self.groups[key]
        raise GraphRefusalError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or "
            "one of its queried reference-property objects are not present.",
        )

    def _entity(self, request: Request, type_name: str, item: dict[str, Any]) -> Response:
        _check_query(request.args, type_name)
        shown = _selected(item, request.args)
        self._check(schema().check_entity(type_name, shown))
        return _json(
            {"@odata.context": f"{self.origin}/v1.0/$metadata#{type_name}s/$entity", **shown}
        )

    def _collection(
        self,
        request: Request,
        type_name: str,
        items: list[dict[str, Any]],
        *,
        custom_pages: bool = True,
    ) -> Response:
        """One page of ``items``; ``custom_pages=False`` for a collection that refuses
        ``$top`` (Graph pages it on its own terms)."""
        query = request.args
        _check_query(query, type_name)
        size = self._page(query, custom_pages)
        wanted = query.get("$filter")
        if wanted:
            match = re.fullmatch(r"(\w+) eq '((?:[^']|'')*)'", wanted)
            if match is None:
                raise GraphRefusalError(400, "BadRequest", f"Invalid filter clause: {wanted}")
            name, value = match.group(1), match.group(2).replace("''", "'")
            items = [i for i in items if str(i.get(name) or "").lower() == value.lower()]
        skip = int(query.get("$skiptoken", "0"))
        page = [_selected(item, query) for item in items[skip : skip + size]]
        for item in page:
            self._check(schema().check_entity(type_name, item))
        body: dict[str, Any] = {
            "@odata.context": f"{self.origin}/v1.0/$metadata#{type_name}s",
            "value": page,
        }
        if skip + size < len(items):
            following = {k: v for k, v in query.items() if k != "$skiptoken"}
            following["$skiptoken"] = str(skip + size)
            body["@odata.nextLink"] = f"{self.origin}{request.path}?{urlencode(following)}"
        return _json(body)

    def _page(self, query: Any, custom_pages: bool) -> int:
        """The page size: ``$top`` if given (1 to 999), else ``page_size``; at most 100 with
        ``$expand``, as Graph answers a directory query that expands."""
        top = query.get("$top")
        if top is None:
            size = self.page_size
        elif not custom_pages:
            raise GraphRefusalError(
                400,
                "Request_UnsupportedQuery",
                "This resource does not support custom page sizes. "
                "Please retry without a page size argument.",
            )
        elif not top.isdigit() or not 1 <= int(top) <= LARGEST_PAGE:
            raise GraphRefusalError(
                400,
                "Request_UnsupportedQuery",
                f"Invalid page size specified: '{top}'. Must be between 1 and "
                f"{LARGEST_PAGE} inclusive.",
            )
        else:
            size = int(top)
        return min(size, EXPANDED_PAGE) if query.get("$expand") else size

    def _body(self, request: Request, endpoint: str) -> Any:
        try:
            body = json.loads(request.get_data() or b"null")
        except ValueError:
            refusal = "Unable to read JSON request payload."
            raise GraphRefusalError(400, "BadRequest", refusal) from None
        self.bodies.append((endpoint, body))
        return body

    def _check(self, problems: list[str]) -> None:
        if problems:
            self.violations.extend(problems)
            raise GraphRefusalError(400, "BadRequest", "; ".join(problems))


def _check_query(query: Any, type_name: str, *, exchange: bool = False) -> None:
    """Refuse a ``$select`` or ``$expand`` of a property ``type_name`` does not have, in the
    words of the workload behind it: the directory's (users, groups, …) or Exchange's."""
    members = schema().members(type_name)
    selected = [name.strip() for name in (query.get("$select") or "").split(",") if name.strip()]
    # manager($select=id,displayName): the expanded property is the name before the brackets.
    expanded = [
        part.strip().split("(")[0]
        for part in re.split(r",(?![^(]*\))", query.get("$expand") or "")
        if part.strip()
    ]
    for name in [*selected, *expanded]:
        if name not in members:
            if exchange:
                raise GraphRefusalError(
                    400,
                    "RequestBroker--ParseUri",
                    f"Could not find a property named '{name}' on type "
                    f"'microsoft.graph.{type_name}'.",
                )
            raise GraphRefusalError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.DirectoryServices.{type_name[0].upper()}{type_name[1:]}'.",
            )
    for name in expanded:
        if name not in EXPANDABLE:
            raise GraphRefusalError(
                501,
                "NotImplemented",
                f"The Graph stand-in does not model $expand={name}: add it to standin.py.",
            )


def _selected(item: dict[str, Any], query: Any) -> dict[str, Any]:
    """The item with only ``$select``-ed properties (and an expanded manager), as Graph does."""
    chosen = query.get("$select")
    keep = set(chosen.split(",")) | {"@odata.type"} if chosen else None
    if "manager" in item and "manager" in (query.get("$expand") or ""):
        keep = None if keep is None else keep | {"manager"}
    shown = {k: v for k, v in item.items() if keep is None or k in keep}
    if "manager" not in (query.get("$expand") or ""):
        shown.pop("manager", None)
    return shown


def _permission(user: dict[str, Any], roles: list[str]) -> dict[str, Any]:
    """A permission on a drive item granted to one directory user."""
    identity = {"user": {"id": user["id"], "displayName": user["displayName"]}}
    return {
        "id": base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="),
        "roles": roles,
        "grantedTo": identity,
        "grantedToV2": identity,
    }


def _as_html(text: str) -> str:
    """A reply message as Exchange keeps it: the text in an HTML body."""
    if not text or text.lstrip().startswith("<html"):
        return text
    return f"<html>\r\n<body>\r\n<div>{text}</div>\r\n</body>\r\n</html>\r\n"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": _now(), "request-id": str(uuid.uuid4())},
        }
    }
    response = _json(body, status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        # Without http.server's own Date header: the stand-in's (maybe skewed) one is the one.
        self.send_response_only(code, message)
