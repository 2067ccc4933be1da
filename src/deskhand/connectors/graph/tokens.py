"""App-only tokens for one client tenant: msal's client-credentials flow, with msal's token
cache kept in memory, so that many Graph calls share one token until it nears expiry. Each
token obtained is handed to the connector's ``Redactor``: Graph's errors must never show it."""

from __future__ import annotations

import base64
import json
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal

from deskhand.connectors.errors import AuthenticationError, ConnectorError
from deskhand.connectors.graph.errors import SYSTEM, sign_in_failed, token_refusal, unreachable
from deskhand.connectors.graph.settings import PUBLIC_AUTHORITY, GraphSettings
from deskhand.connectors.redaction import Redactor


class AppToken:
    """The tenant's app-only access token for Graph, fetched and renewed as needed."""

    def __init__(
        self,
        settings: GraphSettings,
        credential: str | None,
        http: httpx.Client,
        redactor: Redactor,
    ):
        self.settings = settings
        self._credential = credential
        self._http = _SessionShaped(http)
        self._redactor = redactor  # the connector's: told each token obtained
        self._app: msal.ConfidentialClientApplication | None = None
        origin = urlsplit(settings.graph_base_url)
        # Graph's resource is its origin: https://graph.microsoft.com/.default in the public cloud.
        self.scope = f"{origin.scheme}://{origin.netloc}/.default"

    def bearer(self) -> str:
        """An access token, from msal's cache while it is valid, otherwise a new one."""
        try:
            result = self._application().acquire_token_for_client(scopes=[self.scope])
        except httpx.TransportError as error:
            raise unreachable(self.settings.authority, error) from None
        except (msal.exceptions.MsalServiceError, json.JSONDecodeError) as error:
            # msal's words for a 5xx answer and for one that is not JSON (a proxy's page)
            raise sign_in_failed(self.settings.authority, error, self._http.last_answer()) from None
        if not isinstance(result, dict) or "access_token" not in result:
            raise token_refusal(result or {}, self.settings.app_name)
        token = str(result["access_token"])
        self._redactor.remember(token, "Graph access token")
        return token

    def roles(self) -> set[str]:
        """The application permissions granted to the app, as the token's ``roles`` claim
        lists them (read from the token deskhand received, not verified: it is only read)."""
        claims = _claims(self.bearer())
        roles = claims.get("roles", [])
        return {str(role) for role in roles} if isinstance(roles, list) else set()

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=self._client_credential(),
                    authority=self.settings.authority,
                    # Instance discovery asks Microsoft's public host about the authority;
                    # a national cloud or a test stand-in is known to whoever configured it.
                    validate_authority=self.settings.authority_base == PUBLIC_AUTHORITY,
                    instance_discovery=self.settings.authority_base == PUBLIC_AUTHORITY,
                    http_client=self._http,
                    token_cache=msal.TokenCache(),
                )
            except httpx.TransportError as error:
                raise unreachable(self.settings.authority, error) from None
            except ValueError as error:
                # msal's word for an authority whose OpenID metadata it cannot read, or for a
                # certificate's key it cannot load.
                message = str(error).splitlines()[0] if str(error) else type(error).__name__
                fix = (
                    "the tenant id is wrong: copy the Tenant ID from Entra admin center → "
                    "Overview into the tenant's connection file"
                    if "authority" in message.lower()
                    else "certificate_path must be the PEM file of the certificate's private "
                    "key (with its passphrase as the credential if it has one)"
                )
                raise AuthenticationError(message, system=SYSTEM, fix=fix) from None
        return self._app

    def _client_credential(self) -> str | dict[str, str]:
        settings = self.settings
        if settings.certificate_path is None or settings.certificate_thumbprint is None:
            if not self._credential:
                raise ConnectorError(
                    "no client secret and no certificate for the Graph app",
                    system=SYSTEM,
                    fix=f"create one in Entra admin center → App registrations → "
                    f"{settings.app_name} → Certificates & secrets and reference it in the "
                    "tenant's connection file",
                )
            return self._credential
        try:
            key = settings.certificate_path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConnectorError(
                f"cannot read the certificate's private key {settings.certificate_path}: "
                f"{error.strerror}",
                system=SYSTEM,
                fix="point certificate_path at the PEM file with the private key",
            ) from None
        for line in key.splitlines():
            if not line.startswith("-----"):  # the PEM's base64 lines, not its armour
                self._redactor.add(line.strip(), "Graph certificate key")
        credential = {"private_key": key, "thumbprint": settings.certificate_thumbprint}
        if self._credential:
            credential["passphrase"] = self._credential  # the key's passphrase, if it has one
        return credential


class _SessionShaped:
    """httpx in the shape msal expects of a ``requests.Session``: msal's form values may be
    bytes (a certificate's signed assertion), which requests sends as they are and httpx would
    send as their repr."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http
        self._answers = threading.local()  # this thread's last answer to a POST (the token's)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._http.get(url, **_known(kwargs))

    def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        answer = self._http.post(url, data=data, **_known(kwargs))
        self._answers.last = answer
        return answer

    def last_answer(self) -> httpx.Response | None:
        """This thread's last answer to a token request: what msal could not read as JSON."""
        answer: httpx.Response | None = getattr(self._answers, "last", None)
        return answer

    def close(self) -> None:
        """The Graph client owns the httpx client and closes it."""


def _known(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments httpx shares with requests; a timeout of None keeps the client's own."""
    shared = {k: v for k, v in kwargs.items() if k in ("params", "headers", "timeout")}
    if shared.get("timeout") is None:
        shared.pop("timeout", None)
    return shared


def _claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, without checking its signature."""
    try:
        payload = token.split(".")[1]
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(decoded)
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}
