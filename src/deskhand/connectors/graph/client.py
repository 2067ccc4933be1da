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
    AUTH_METHODS,
    DIRECTORY,
    FILES,
    GROUPS,
    MAILBOX_SETTINGS,
    MAILBOX_WRITE,
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
from deskhand.domain.directory import (
    AuthMethod,
    AutoReply,
    DirectoryGroup,
    DirectoryUser,
    DriveGrant,
    InboxRule,
    NewUser,
    SignInState,
    Sku,
    UserProfile,
)

USER_FIELDS = (
    "id,userPrincipalName,displayName,mail,accountEnabled,onPremisesSyncEnabled,assignedLicenses"
)
GROUP_FIELDS = (
    "id,displayName,mailEnabled,securityEnabled,groupTypes,isAssignableToRole,onPremisesSyncEnabled"
)
SIGN_IN_FIELDS = (
    "id,accountEnabled,lastPasswordChangeDateTime,signInSessionsValidFromDateTime,passwordProfile"
)
PROFILE_FIELDS = "id,department,jobTitle,usageLocation,onPremisesSyncEnabled"
# Where each kind of sign-in method is deleted (users/{id}/authentication/…/{method id}).
AUTH_METHOD_COLLECTIONS = {
    "emailAuthenticationMethod": "emailMethods",
    "fido2AuthenticationMethod": "fido2Methods",
    "microsoftAuthenticatorAuthenticationMethod": "microsoftAuthenticatorMethods",
    "phoneAuthenticationMethod": "phoneMethods",
    "platformCredentialAuthenticationMethod": "platformCredentialMethods",
    "softwareOathAuthenticationMethod": "softwareOathMethods",
    "temporaryAccessPassAuthenticationMethod": "temporaryAccessPassMethods",
    "windowsHelloForBusinessAuthenticationMethod": "windowsHelloForBusinessMethods",
    "externalAuthenticationMethod": "externalAuthenticationMethods",
}
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

    # --- a leaver's and a starter's changes ---------------------------------------------------

    def groups_of(self, user_id: str) -> list[DirectoryGroup]:
        """The groups the user is a direct member of (memberOf, cast to group)."""
        items = self._pages(
            f"users/{_segment(user_id)}/memberOf/microsoft.graph.group",
            {"$select": GROUP_FIELDS, "$top": PAGE_SIZE},
            DIRECTORY,
        )
        return sorted((_directory_group(item) for item in items), key=lambda g: g.display_name)

    def direct_licences(self, user_id: str) -> list[str]:
        """The SKUs with an assignment of the user's own (licenseAssignmentStates without
        assignedByGroup); one held through a group as well counts as the user's own."""
        found = self._get(
            f"users/{_segment(user_id)}", {"$select": "id,licenseAssignmentStates"}, USERS
        )
        return sorted(
            {
                str(state["skuId"])
                for state in found.get("licenseAssignmentStates") or []
                if not state.get("assignedByGroup")
            }
        )

    def auto_reply(self, user_id: str) -> AutoReply:
        """mailboxSettings.automaticRepliesSetting; NotFoundError for a user without a mailbox."""
        path = f"users/{_segment(user_id)}/mailboxSettings"
        found = self._get(path, {"$select": "automaticRepliesSetting"}, MAILBOX_SETTINGS)
        setting = found.get("automaticRepliesSetting") or {}
        return AutoReply(
            status=str(setting.get("status") or "disabled"),
            internal_message=str(setting.get("internalReplyMessage") or ""),
            external_message=str(setting.get("externalReplyMessage") or ""),
            external_audience=str(setting.get("externalAudience") or "none"),
        )

    def set_auto_reply(self, user_id: str, reply: AutoReply) -> None:
        """PATCH mailboxSettings with the whole automaticRepliesSetting."""
        setting = {
            "status": reply.status,
            "externalAudience": reply.external_audience,
            "internalReplyMessage": reply.internal_message,
            "externalReplyMessage": reply.external_message,
        }
        path = f"users/{_segment(user_id)}/mailboxSettings"
        self._send(
            "PATCH", path, MAILBOX_WRITE, idempotent=True, json={"automaticRepliesSetting": setting}
        )

    def inbox_rules(self, user_id: str) -> list[InboxRule]:
        """The rules of the user's inbox (mailFolders/inbox/messageRules)."""
        path = f"users/{_segment(user_id)}/mailFolders/inbox/messageRules"
        return [_inbox_rule(item) for item in self._pages(path, {}, MAILBOX_WRITE)]

    def add_inbox_rule(self, user_id: str, display_name: str, forward_to: str) -> InboxRule:
        """POST a rule without conditions (every message), first in order, that forwards.
        Not retried: a second POST would make a second rule."""
        rule = {
            "displayName": display_name,
            "sequence": 1,
            "isEnabled": True,
            "actions": {
                "forwardTo": [{"emailAddress": {"address": forward_to}}],
                "stopProcessingRules": False,
            },
        }
        path = f"users/{_segment(user_id)}/mailFolders/inbox/messageRules"
        made = self._send("POST", path, MAILBOX_WRITE, idempotent=False, json=rule).json()
        return _inbox_rule(made)

    def delete_inbox_rule(self, user_id: str, rule_id: str) -> None:
        path = f"users/{_segment(user_id)}/mailFolders/inbox/messageRules/{_segment(rule_id)}"
        self._send("DELETE", path, MAILBOX_WRITE, idempotent=True)

    def drive_grants(self, owner_id: str) -> list[DriveGrant]:
        """The permissions on the root of the owner's OneDrive."""
        path = f"users/{_segment(owner_id)}/drive/root/permissions"
        return [_drive_grant(item) for item in self._pages(path, {}, FILES)]

    def grant_drive_access(self, owner_id: str, user_id: str) -> None:
        """POST drive/root/invite: write, sign-in required, no invitation mail."""
        body = {
            "recipients": [{"objectId": user_id}],
            "roles": ["write"],
            "requireSignIn": True,
            "sendInvitation": False,
        }
        path = f"users/{_segment(owner_id)}/drive/root/invite"
        self._send("POST", path, FILES, idempotent=True, json=body)

    def remove_drive_grant(self, owner_id: str, grant_id: str) -> None:
        path = f"users/{_segment(owner_id)}/drive/root/permissions/{_segment(grant_id)}"
        self._send("DELETE", path, FILES, idempotent=True)

    def auth_methods(self, user_id: str) -> list[AuthMethod]:
        """Every registered method (authentication/methods), typed by its @odata.type."""
        path = f"users/{_segment(user_id)}/authentication/methods"
        return [_auth_method(item) for item in self._pages(path, {}, AUTH_METHODS)]

    def delete_auth_method(self, user_id: str, method: AuthMethod) -> None:
        """DELETE the method at its own kind's collection; the password, and a kind Graph
        v1.0 cannot delete, are refused before calling."""
        collection = AUTH_METHOD_COLLECTIONS.get(method.kind)
        if collection is None:
            raise ForbiddenError(
                f"deskhand cannot remove a sign-in method of the kind {method.kind}",
                system=SYSTEM,
                fix="Entra admin center → Users → (the user) → Authentication methods → the "
                "method → Delete",
            )
        path = f"users/{_segment(user_id)}/authentication/{collection}/{_segment(method.id)}"
        self._send("DELETE", path, AUTH_METHODS, idempotent=True)

    def user_profile(self, user_id: str) -> UserProfile:
        params = {"$select": PROFILE_FIELDS, "$expand": "manager($select=id)"}
        found = self._get(f"users/{_segment(user_id)}", params, DIRECTORY)
        return UserProfile(
            department=found.get("department") or None,
            job_title=found.get("jobTitle") or None,
            usage_location=found.get("usageLocation") or None,
            manager_id=(found.get("manager") or {}).get("id"),
            synced=bool(found.get("onPremisesSyncEnabled")),
        )

    def set_profile(
        self,
        user_id: str,
        *,
        department: str | None = None,
        job_title: str | None = None,
        usage_location: str | None = None,
    ) -> None:
        """PATCH the attributes given ("" clears one: null to Graph)."""
        location = usage_location.upper() if usage_location else usage_location
        given = {"department": department, "jobTitle": job_title, "usageLocation": location}
        body = {name: value or None for name, value in given.items() if value is not None}
        if body:
            self._send("PATCH", f"users/{_segment(user_id)}", USERS, idempotent=True, json=body)

    def set_manager(self, user_id: str, manager_id: str) -> None:
        """PUT manager/$ref naming the manager."""
        reference = {"@odata.id": f"{self.settings.graph_base_url}/users/{manager_id}"}
        path = f"users/{_segment(user_id)}/manager/$ref"
        self._send("PUT", path, USERS, idempotent=True, json=reference)

    def create_user(self, new: NewUser, password: str) -> DirectoryUser:
        """POST users, enabled, with a password to change at first sign-in. Not retried: a
        second POST answers that the name exists (the action reads the user back instead)."""
        self.redactor.remember(password, "new password")
        body: dict[str, Any] = {
            "accountEnabled": True,
            "displayName": new.display_name,
            "mailNickname": new.mail_nickname,
            "userPrincipalName": new.user_principal_name,
            "passwordProfile": {"password": password, "forceChangePasswordNextSignIn": True},
        }
        extra = {
            "department": new.department,
            "jobTitle": new.job_title,
            "usageLocation": (new.usage_location or "").upper(),
        }
        body.update({name: value for name, value in extra.items() if value})
        made = self._send("POST", "users", USERS, idempotent=False, json=body).json()
        self._forced[str(made["id"])] = True
        return self.get_user(str(made["id"]))

    def shown_in_address_list(self, user_id: str) -> bool | None:
        """user.showInAddressList, as Graph reads it (often null: see AddressLists)."""
        found = self._get(
            f"users/{_segment(user_id)}", {"$select": "id,showInAddressList"}, DIRECTORY
        )
        shown = found.get("showInAddressList")
        return None if shown is None else bool(shown)

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
    types = item.get("groupTypes") or []
    return DirectoryGroup(
        id=str(item["id"]),
        display_name=str(item.get("displayName", "")),
        privileged=bool(item.get("isAssignableToRole")),
        mail_enabled=bool(item.get("mailEnabled")) and "Unified" not in types,
        synced=bool(item.get("onPremisesSyncEnabled")),
        dynamic="DynamicMembership" in types,
    )


def _inbox_rule(item: dict[str, Any]) -> InboxRule:
    actions = item.get("actions") or {}
    return InboxRule(
        id=str(item["id"]),
        display_name=str(item.get("displayName") or ""),
        forward_to=tuple(
            str((recipient.get("emailAddress") or {}).get("address") or "")
            for recipient in actions.get("forwardTo") or []
        ),
        enabled=bool(item.get("isEnabled", True)),
    )


def _drive_grant(item: dict[str, Any]) -> DriveGrant:
    granted = item.get("grantedToV2") or item.get("grantedTo") or {}
    return DriveGrant(
        id=str(item["id"]),
        user_id=(granted.get("user") or {}).get("id"),
        roles=tuple(str(role) for role in item.get("roles") or []),
        inherited=item.get("inheritedFrom") is not None,
    )


def _auth_method(item: dict[str, Any]) -> AuthMethod:
    kind = str(item.get("@odata.type", "")).removeprefix("#microsoft.graph.")
    label = item.get("phoneNumber") or item.get("displayName") or item.get("emailAddress")
    return AuthMethod(id=str(item["id"]), kind=kind, label=str(label or ""))


if TYPE_CHECKING:
    from deskhand.connectors.m365 import (
        M365,
        AddressLists,
        AllLicences,
        AutoReplies,
        DriveSharing,
        MailForwarding,
        Profiles,
        SignInMethods,
        UserCreation,
        UserGroups,
    )

    # mypy proves here that the Graph client satisfies the connector protocols.
    _m365: M365 = GraphM365("", GraphSettings(ms_tenant_id="", client_id=""), None)
    _graph = GraphM365("", GraphSettings(ms_tenant_id="", client_id=""), None)
    _groups: UserGroups = _graph
    _all_licences: AllLicences = _graph
    _replies: AutoReplies = _graph
    _forwarding: MailForwarding = _graph
    _drive: DriveSharing = _graph
    _methods: SignInMethods = _graph
    _profiles: Profiles = _graph
    _creation: UserCreation = _graph
    _lists: AddressLists = _graph
