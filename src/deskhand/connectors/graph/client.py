"""One client tenant's Microsoft 365 through Microsoft Graph v1.0, with an app-only token.

Every request goes through the tenant's ``Caller``: reads, PATCHes, ``$ref`` DELETEs,
``assignLicense`` and ``revokeSignInSessions`` are retried when Graph is unavailable or throttles
(doing them twice leaves the same state); ``POST members/$ref`` is not, since a second one
answers "already exists" for the first.

Graph does not return whether a user must change their password at next sign-in
(``passwordProfile`` reads back null for app-only callers). ``sign_in_state`` reports what this
client itself set by its last reset of the user; unknown counts as "not forced", so a reset
asked to force the change is not verified by another process — it escalates, it is never
claimed done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from deskhand.connectors.calls import Caller, caller_for
from deskhand.connectors.doctor import Finding
from deskhand.connectors.errors import ConflictError, ForbiddenError, NotFoundError
from deskhand.connectors.graph.doctor import examine
from deskhand.connectors.graph.errors import (
    DIRECTORY,
    GROUPS,
    MAILBOX_SETTINGS,
    ORGANIZATION,
    PASSWORDS,
    SYSTEM,
    USERS,
    refusal,
    unreachable,
)
from deskhand.connectors.graph.settings import GraphSettings, trusting
from deskhand.connectors.graph.tokens import AppToken
from deskhand.connectors.redaction import Redactor
from deskhand.domain.directory import DirectoryGroup, DirectoryUser, SignInState, Sku

USER_FIELDS = (
    "id,userPrincipalName,displayName,mail,accountEnabled,onPremisesSyncEnabled,assignedLicenses"
)
GROUP_FIELDS = (
    "id,displayName,mailEnabled,securityEnabled,groupTypes,isAssignableToRole,onPremisesSyncEnabled"
)
SIGN_IN_FIELDS = (
    "id,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,passwordProfile"
)
PAGE_SIZE = 999  # Graph's largest page for users and groups
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Graph has no display name for a SKU; these are Microsoft's product names for the usual ones.
SKU_NAMES = {
    "SPB": "Microsoft 365 Business Premium",
    "O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
    "O365_BUSINESS_ESSENTIALS": "Microsoft 365 Business Basic",
    "SPE_E3": "Microsoft 365 E3",
    "SPE_E5": "Microsoft 365 E5",
    "ENTERPRISEPACK": "Office 365 E3",
    "ENTERPRISEPREMIUM": "Office 365 E5",
    "EXCHANGESTANDARD": "Exchange Online (Plan 1)",
}


class GraphM365:
    """A tenant's Microsoft 365 as Graph v1.0 offers it. Raises ``deskhand.connectors.errors``."""

    system = SYSTEM

    def __init__(
        self,
        tenant_id: str,
        settings: GraphSettings,
        credential: str | None,
        *,
        caller: Caller | None = None,
        transport: httpx.BaseTransport | None = None,
        vips: Iterable[str] = (),
        sku_names: Mapping[str, str] | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        # The tenant file's facts Graph does not hold: who the client treats as VIP (their
        # security requests always need verification), and its own names for its licences.
        self.vips = frozenset(address.strip().lower() for address in vips)
        self.sku_names = {sku_id.lower(): name for name, sku_id in (sku_names or {}).items()}
        # The credential is the client secret, or the certificate key's passphrase.
        what = (
            "Graph client secret" if settings.certificate_path is None else "Graph key passphrase"
        )
        self.redactor = Redactor({what: credential})
        self.caller = caller_for(
            tenant_id, SYSTEM, self.redactor, settings.timeout_seconds, given=caller
        )
        self._http = httpx.Client(
            base_url=settings.graph_base_url + "/",
            headers={"Accept": "application/json"},
            timeout=self.caller.policy.timeout_seconds,
            # One client for both Entra sign-in (msal) and Graph, so the proxy's CA covers both.
            verify=trusting(settings.ca_file) if settings.ca_file else True,
            transport=transport,
        )
        self.token = AppToken(settings, credential, self._http, self.redactor)
        self._forced: dict[str, bool] = {}  # user id → force_change of this client's last reset

    def close(self) -> None:
        self._http.close()

    # --- users ------------------------------------------------------------------------------

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name or (by ``$filter``) mail address."""
        params = {"$select": USER_FIELDS, "$expand": "manager($select=id)"}
        try:
            found = self._get(f"users/{_segment(key)}", params, DIRECTORY)
        except NotFoundError:
            if "@" not in key:
                raise
            matches = list(
                self._pages("users", {**params, "$filter": f"mail eq {_literal(key)}"}, DIRECTORY)
            )
            if not matches:
                raise
            found = matches[0]
        roles = self._pages(
            f"users/{found['id']}/memberOf/microsoft.graph.directoryRole",
            {"$select": "id"},
            DIRECTORY,
        )
        return self._marked(_directory_user(found, admin=any(True for _ in roles)))

    def list_users(self) -> list[DirectoryUser]:
        """Every user, ``admin`` when they hold a directory role: the members of each role the
        tenant has activated, read once for the whole list (a few requests, not one per user)."""
        admins = self._role_holders()
        params = {"$select": USER_FIELDS, "$expand": "manager($select=id)", "$top": PAGE_SIZE}
        users = [
            self._marked(_directory_user(item, admin=str(item["id"]) in admins))
            for item in self._pages("users", params, DIRECTORY)
        ]
        return sorted(users, key=lambda user: (user.display_name, user.id))

    def _role_holders(self) -> set[str]:
        # $expand=members on directoryRoles stops at 20 members: each role's members are paged.
        roles = list(self._pages("directoryRoles", {"$select": "id"}, DIRECTORY))
        return {
            str(member["id"])
            for role in roles
            for member in self._pages(
                f"directoryRoles/{_segment(str(role['id']))}/members",
                {"$select": "id"},
                DIRECTORY,
            )
        }

    def sign_in_state(self, user_id: str) -> SignInState:
        found = self._get(f"users/{_segment(user_id)}", {"$select": SIGN_IN_FIELDS}, USERS)
        profile = found.get("passwordProfile") or {}
        forced = profile.get("forceChangePasswordNextSignIn")
        return SignInState(
            password_changed_at=_moment(found.get("lastPasswordChangeDateTime")),
            sessions_revoked_at=_moment(found.get("signInSessionsValidFromDateTime")),
            must_change_password=bool(
                forced if forced is not None else self._forced.get(found["id"], False)
            ),
            locked=False,  # a lockout is Active Directory's (or Entra's smart lockout, unseen)
            account_enabled=bool(found.get("accountEnabled", True)),
        )

    def mailbox_purpose(self, user_id: str) -> str:
        """mailboxSettings.userPurpose ("user", "shared", …): how a conversion that only
        Exchange can make is read back. NotFoundError for a user without a mailbox."""
        path = f"users/{_segment(user_id)}/mailboxSettings"
        try:
            found = self._get(path, {"$select": "userPurpose"}, MAILBOX_SETTINGS)
        except NotFoundError as error:
            raise NotFoundError(
                f"Graph finds no mailbox for the user {user_id}: {error.message}",
                system=SYSTEM,
                status=404,
                fix="check in Exchange admin center → Recipients → Mailboxes that the user has "
                "a mailbox (a user who never had an Exchange Online licence has none)",
            ) from None
        return str(found.get("userPurpose") or "unknown")

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """PATCH passwordProfile of a cloud-only user; a synced user is refused before calling."""
        self.redactor.remember(password, "new password")  # an error may echo the request
        found = self._get(
            f"users/{_segment(user_id)}",
            {"$select": "id,userPrincipalName,onPremisesSyncEnabled"},
            USERS,
        )
        if found.get("onPremisesSyncEnabled"):
            raise ForbiddenError(
                f"{found.get('userPrincipalName', user_id)} is synced from on-premises Active "
                "Directory; Graph cannot change their password",
                system=SYSTEM,
                fix="reset the password in on-premises Active Directory (deskhand's "
                "ad.reset_password, or Active Directory Users and Computers → the user → Reset "
                "Password); Entra Connect syncs it",
            )
        profile = {"password": password, "forceChangePasswordNextSignIn": force_change}
        self._send(
            "PATCH",
            f"users/{found['id']}",
            PASSWORDS,
            idempotent=True,
            json={"passwordProfile": profile},
        )
        self._forced[found["id"]] = force_change

    def revoke_sessions(self, user_id: str) -> None:
        """Invalidate every refresh token and session cookie (revokeSignInSessions, no body)."""
        path = f"users/{_segment(user_id)}/revokeSignInSessions"
        self._send("POST", path, USERS, idempotent=True)

    def set_sign_in(self, user_id: str, enabled: bool) -> None:
        """Allow or block sign-in (accountEnabled). A synced user's is overwritten by the next
        sync: Graph refuses it, as for a password."""
        self._send(
            "PATCH",
            f"users/{_segment(user_id)}",
            USERS,
            idempotent=True,
            json={"accountEnabled": enabled},
        )

    # --- groups -----------------------------------------------------------------------------

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this id, or the one group with this display name."""
        if GUID.match(key.strip()):
            found = self._get(f"groups/{key.strip()}", {"$select": GROUP_FIELDS}, DIRECTORY)
            return _directory_group(found)
        params = {"$select": GROUP_FIELDS, "$filter": f"displayName eq {_literal(key.strip())}"}
        matches = list(self._pages("groups", params, DIRECTORY))
        if not matches:
            raise NotFoundError(f"No group is named {key!r}.", system=SYSTEM, status=404)
        if len(matches) > 1:
            # Picking one would change a group nobody named; the technician chooses.
            raise ConflictError(
                f"{len(matches)} groups are named {key!r}; name the group by its id",
                system=SYSTEM,
            )
        return _directory_group(matches[0])

    def list_groups(self) -> list[DirectoryGroup]:
        items = self._pages("groups", {"$select": GROUP_FIELDS, "$top": PAGE_SIZE}, DIRECTORY)
        return sorted((_directory_group(item) for item in items), key=lambda g: g.display_name)

    def group_members(self, group_id: str) -> list[str]:
        """The ids of the group's direct members."""
        items = self._pages(
            f"groups/{_segment(group_id)}/members", {"$select": "id", "$top": PAGE_SIZE}, DIRECTORY
        )
        return sorted(str(item["id"]) for item in items)

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """POST members/$ref: ConflictError when already a member; ForbiddenError for a
        mail-enabled group or distribution list, which only Exchange changes."""
        reference = {"@odata.id": f"{self.settings.graph_base_url}/directoryObjects/{user_id}"}
        self._send(
            "POST",
            f"groups/{_segment(group_id)}/members/$ref",
            GROUPS,
            idempotent=False,
            json=reference,
        )

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """DELETE members/{id}/$ref: NotFoundError when not a member."""
        path = f"groups/{_segment(group_id)}/members/{_segment(user_id)}/$ref"
        self._send("DELETE", path, GROUPS, idempotent=True)

    def _marked(self, user: DirectoryUser) -> DirectoryUser:
        """``user``, marked VIP when the tenant file lists their sign-in name or address."""
        names = {user.user_principal_name.lower(), (user.mail or "").lower()}
        return user.model_copy(update={"vip": True}) if names & self.vips else user

    # --- licences ---------------------------------------------------------------------------

    def subscribed_skus(self) -> list[Sku]:
        """Every SKU with its seats bought (prepaidUnits.enabled) and assigned (consumedUnits)."""
        skus = [
            Sku(
                id=str(item["skuId"]),
                part_number=str(item.get("skuPartNumber", "")),
                display_name=self.sku_names.get(str(item["skuId"]).lower())
                or SKU_NAMES.get(item.get("skuPartNumber", ""), item["skuPartNumber"]),
                total=int((item.get("prepaidUnits") or {}).get("enabled") or 0),
                consumed=int(item.get("consumedUnits") or 0),
            )
            for item in self._pages("subscribedSkus", {}, ORGANIZATION)
        ]
        return sorted(skus, key=lambda sku: sku.display_name)

    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None:
        """assignLicense with both arrays, as Graph requires: QuotaExceededError when a SKU
        has no seat left."""
        body = {
            "addLicenses": [{"skuId": sku_id, "disabledPlans": []} for sku_id in add],
            "removeLicenses": list(remove),
        }
        path = f"users/{_segment(user_id)}/assignLicense"
        self._send("POST", path, USERS, idempotent=True, json=body)

    def add_license_seats(self, sku_id: str, seats: int) -> None:
        """Graph cannot buy seats: always a ForbiddenError that says where it is done."""
        raise ForbiddenError(
            f"Microsoft Graph cannot buy licence seats ({seats} of {sku_id} asked for)",
            system=SYSTEM,
            fix="buy the seats in Partner Center (or your distributor's CSP portal) → Customers "
            "→ (the client) → Subscriptions → (the subscription) → Quantity, then retry the step",
        )

    # --- doctor -----------------------------------------------------------------------------

    def doctor(self) -> list[Finding]:
        """Token, each application permission deskhand needs, and the clock against Graph's."""
        return self.redactor.findings(examine(self))

    def read(
        self, path: str, permission: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        """One GET of Graph, through the caller (``doctor`` reads this way)."""
        return self._send("GET", path, permission, params=params)

    # --- requests ---------------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any], permission: str) -> dict[str, Any]:
        body: dict[str, Any] = self._send("GET", path, permission, params=params).json()
        return body

    def _pages(
        self, path: str, params: dict[str, Any], permission: str
    ) -> Iterator[dict[str, Any]]:
        """The items of a collection, following ``@odata.nextLink`` (which carries the query)."""
        url: str | None = path
        query: dict[str, Any] | None = params
        while url is not None:
            body = self._send("GET", url, permission, params=query).json()
            yield from body.get("value", [])
            url, query = body.get("@odata.nextLink"), None

    def _send(
        self,
        method: str,
        url: str,
        permission: str,
        *,
        idempotent: bool = True,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> httpx.Response:
        def request() -> httpx.Response:
            headers = {"Authorization": f"Bearer {self.token.bearer()}"}
            try:
                response = self._http.request(
                    method, url, params=params, json=json, headers=headers
                )
            except httpx.TransportError as error:
                raise unreachable(str(self._http.base_url.join(url)), error) from None
            if response.is_success:
                return response
            raise refusal(response, permission, self.settings.app_name)

        return self.caller.call(request, idempotent=idempotent)


def _segment(key: str) -> str:
    """An id or user principal name as one URL path segment."""
    return quote(key.strip(), safe="@")


def _literal(value: str) -> str:
    """An OData string literal: quoted, with its quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _directory_user(item: dict[str, Any], *, admin: bool = False) -> DirectoryUser:
    manager = item.get("manager") or {}
    return DirectoryUser(
        id=str(item["id"]),
        user_principal_name=str(item.get("userPrincipalName", "")),
        display_name=str(item.get("displayName") or item.get("userPrincipalName", "")),
        mail=item.get("mail"),
        manager_id=manager.get("id"),
        admin=admin,
        synced=bool(item.get("onPremisesSyncEnabled")),
        account_enabled=bool(item.get("accountEnabled", True)),
        licenses=tuple(sorted(str(a["skuId"]) for a in item.get("assignedLicenses") or [])),
    )


def _directory_group(item: dict[str, Any]) -> DirectoryGroup:
    # A Microsoft 365 group ("Unified") is mail-enabled yet Graph changes its members; a
    # distribution list or mail-enabled security group only Exchange changes.
    unified = "Unified" in (item.get("groupTypes") or [])
    return DirectoryGroup(
        id=str(item["id"]),
        display_name=str(item.get("displayName", "")),
        privileged=bool(item.get("isAssignableToRole")),
        mail_enabled=bool(item.get("mailEnabled")) and not unified,
        synced=bool(item.get("onPremisesSyncEnabled")),
    )


if TYPE_CHECKING:
    from deskhand.connectors.m365 import M365

    # mypy proves here that the Graph client satisfies the connector protocol.
    _m365: M365 = GraphM365("", GraphSettings(ms_tenant_id="", client_id=""), None)
