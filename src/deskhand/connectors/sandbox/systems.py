"""The simulated client systems: Microsoft 365 (as Graph behaves), Active Directory (as LDAP
behaves) and the PSA (as Syncro behaves), each scoped to one tenant of a ``SandboxStore``.

They answer like the real APIs, with their wording and HTTP-like status codes, so that deskhand's
executor meets the same refusals here as in production. An object of another tenant does not
exist. Every mutating call commits at once in the sandbox's own database, with its row in the
call log; see ``deskhand.connectors.sandbox.store`` for that, and for fault injection
(``DESKHAND_SANDBOX_HANG``, ``DESKHAND_SANDBOX_LATENCY_MS``).

Simplifications, on purpose: one user row serves M365 and AD, so a synced user's AD password
change is seen in M365 at once (password hash sync without its two-minute delay); AD holds only
synced users and knows no licences or sign-in sessions.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from deskhand.connectors.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    QuotaExceededError,
)
from deskhand.connectors.ldap.security import checked_dn
from deskhand.connectors.sandbox.store import (
    FIRST_TICKET_NUMBER,
    SandboxAuthMethod,
    SandboxDriveGrant,
    SandboxGroup,
    SandboxGroupMember,
    SandboxInboxRule,
    SandboxLicenseAssignment,
    SandboxMailbox,
    SandboxOrganisationalUnit,
    SandboxPsaComment,
    SandboxPsaContact,
    SandboxPsaTicket,
    SandboxPsaTimeEntry,
    SandboxSku,
    SandboxStore,
    SandboxTenant,
    SandboxUser,
)
from deskhand.domain.directory import (
    PASSWORD_METHOD,
    AdAccount,
    AuthMethod,
    AutoReply,
    DirectoryGroup,
    DirectoryUser,
    DriveGrant,
    InboxRule,
    NewAdAccount,
    NewUser,
    PsaComment,
    PsaContact,
    PsaTicket,
    PsaTimeEntry,
    SignInState,
    Sku,
    UserProfile,
    dn_key,
)
from deskhand.store.models import now

if TYPE_CHECKING:
    from deskhand.connectors.ad import ActiveDirectory, AdPlacement, AdProvisioning
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
    from deskhand.connectors.psa import Psa

T = TypeVar("T")

M365_SYSTEM = "sandbox-m365"
AD_SYSTEM = "sandbox-ad"
PSA_SYSTEM = "sandbox-psa"
INITIAL_ISSUE = "Initial Issue"  # the subject Syncro gives a ticket's first comment
# A new Syncro account's ticket statuses (its API's ticket_status_list); an account may add more.
TICKET_STATUSES = (
    "New",
    "In Progress",
    "Resolved",
    "Invoiced",
    "Waiting for Parts",
    "Waiting on Customer",
    "Scheduled",
    "Customer Reply",
)
STATUS_NOT_LISTED = "Status is not included in the list"
# The id Graph gives every user's password method.
PASSWORD_METHOD_ID = "28c10230-6103-485e-b985-444c60001490"


class _SandboxSystem:
    """One simulated system of one tenant: reads and logged, committed changes."""

    system: ClassVar[str]

    def __init__(self, store: SandboxStore, tenant_id: str) -> None:
        self.store = store
        self.tenant_id = tenant_id

    def _reading(self) -> AbstractContextManager[Session]:
        return self.store.reading(self.system)

    def _apply(
        self, operation: str, arguments: dict[str, Any], change: Callable[[Session], T]
    ) -> T:
        return self.store.apply(
            tenant_id=self.tenant_id,
            system=self.system,
            operation=operation,
            arguments=arguments,
            change=change,
        )


# --- Microsoft 365 -------------------------------------------------------------------------


class SandboxM365(_SandboxSystem):
    """A tenant's Microsoft 365 as Microsoft Graph v1.0 presents it."""

    system = M365_SYSTEM

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name or mail address, ignoring case."""
        with self._reading() as session:
            row = self._user(session, key, by_mail=True)
            return _directory_user(
                row, _licences(session, self.tenant_id, [row.id])[row.id], in_ad=False
            )

    def list_users(self) -> list[DirectoryUser]:
        with self._reading() as session:
            rows = session.scalars(
                select(SandboxUser)
                .where(SandboxUser.tenant_id == self.tenant_id)
                .order_by(SandboxUser.display_name, SandboxUser.id)
            ).all()
            licences = _licences(session, self.tenant_id, [row.id for row in rows])
            return [_directory_user(row, licences[row.id], in_ad=False) for row in rows]

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this id or display name, ignoring case."""
        wanted = key.strip().lower()
        with self._reading() as session:
            row = session.scalars(
                select(SandboxGroup).where(
                    SandboxGroup.tenant_id == self.tenant_id,
                    or_(
                        func.lower(SandboxGroup.id) == wanted,
                        func.lower(SandboxGroup.display_name) == wanted,
                    ),
                )
            ).first()
            if row is None:
                raise _graph_not_found(key)
            return _directory_group(row)

    def list_groups(self) -> list[DirectoryGroup]:
        with self._reading() as session:
            rows = session.scalars(
                select(SandboxGroup)
                .where(SandboxGroup.tenant_id == self.tenant_id)
                .order_by(SandboxGroup.display_name)
            )
            return [_directory_group(row) for row in rows]

    def group_members(self, group_id: str) -> list[str]:
        """The ids of the group's members."""
        with self._reading() as session:
            group = self._group(session, group_id)
            return list(
                session.scalars(
                    select(SandboxGroupMember.user_id)
                    .where(
                        SandboxGroupMember.tenant_id == self.tenant_id,
                        SandboxGroupMember.group_id == group.id,
                    )
                    .order_by(SandboxGroupMember.user_id)
                )
            )

    def subscribed_skus(self) -> list[Sku]:
        """Every SKU with its seats bought (total) and assigned (consumed)."""
        with self._reading() as session:
            consumed = _consumed(session, self.tenant_id)
            rows = session.scalars(
                select(SandboxSku)
                .where(SandboxSku.tenant_id == self.tenant_id)
                .order_by(SandboxSku.display_name)
            )
            return [
                Sku(
                    id=row.id,
                    part_number=row.part_number,
                    display_name=row.display_name,
                    total=row.total,
                    consumed=consumed.get(row.id, 0),
                )
                for row in rows
            ]

    def sign_in_state(self, user_id: str) -> SignInState:
        with self._reading() as session:
            return _sign_in_state(self._user(session, user_id), in_ad=False)

    def mailbox_purpose(self, user_id: str) -> str:
        """GET /users/{id}/mailboxSettings → userPurpose; a user without a mail address has no
        mailbox, and Graph answers 404 for it."""
        with self._reading() as session:
            user = self._user(session, user_id)
            if not user.mail:
                raise NotFoundError(
                    f"{user.upn} has no Exchange Online mailbox (the mailbox is either "
                    "inactive, soft-deleted, or is hosted on-premise).",
                    system=self.system,
                    status=404,
                )
            return user.mailbox_purpose

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """Set a cloud-only user's password (PATCH passwordProfile); a synced user is refused."""

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            if user.synced:
                # Graph answers 400 Request_BadRequest here; ForbiddenError is the meaning.
                raise ForbiddenError(
                    "Unable to update the specified properties for on-premises mastered "
                    "Directory Sync objects or objects currently undergoing migration. "
                    f"{user.upn} is synced from on-premises Active Directory: reset the "
                    "password there.",
                    system=self.system,
                    status=400,
                )
            _set_password(user, password, force_change, minimum_length=8, system=self.system)

        # The password itself is never logged.
        arguments = {"user_id": user_id, "force_change": force_change}
        self._apply("reset_password", arguments, change)

    def revoke_sessions(self, user_id: str) -> None:
        """Invalidate every refresh token and session cookie (revokeSignInSessions)."""

        def change(session: Session) -> None:
            self._user(session, user_id).sessions_revoked_at = now()

        self._apply("revoke_sessions", {"user_id": user_id}, change)

    def set_sign_in(self, user_id: str, enabled: bool) -> None:
        """Block or allow sign-in (PATCH accountEnabled); a synced user is refused, as Graph
        refuses it: their account is enabled or disabled in AD."""

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            if user.synced:
                raise ForbiddenError(
                    "Unable to update the specified properties for on-premises mastered "
                    "Directory Sync objects or objects currently undergoing migration. "
                    f"{user.upn} is synced from on-premises Active Directory: disable or "
                    "enable the account there.",
                    system=self.system,
                    status=400,
                )
            user.account_enabled = enabled

        self._apply("set_sign_in", {"user_id": user_id, "enabled": enabled}, change)

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """POST /groups/{id}/members/$ref: ConflictError when already a member, ForbiddenError
        for a mail-enabled group (Exchange owns those)."""

        def change(session: Session) -> None:
            group = self._writable_group(session, group_id)
            user = self._user(session, user_id)
            if session.get(SandboxGroupMember, (self.tenant_id, group.id, user.id)) is not None:
                raise ConflictError(
                    "One or more added object references already exist for the following "
                    "modified properties: 'members'.",
                    system=self.system,
                    status=400,
                )
            session.add(
                SandboxGroupMember(tenant_id=self.tenant_id, group_id=group.id, user_id=user.id)
            )

        self._apply("add_group_member", {"group_id": group_id, "user_id": user_id}, change)

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """DELETE /groups/{id}/members/{id}/$ref: NotFoundError when not a member."""

        def change(session: Session) -> None:
            group = self._writable_group(session, group_id)
            membership = session.get(SandboxGroupMember, (self.tenant_id, group.id, user_id))
            if membership is None:
                raise _graph_not_found(user_id)
            session.delete(membership)

        self._apply("remove_group_member", {"group_id": group_id, "user_id": user_id}, change)

    def assign_license(self, user_id: str, add: list[str], remove: list[str]) -> None:
        """POST /users/{id}/assignLicense: all of it or nothing. Adding a licence the user has
        is accepted and changes nothing; removing one they lack is refused, as Graph does."""

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            skus = {sku.id: sku for sku in self._skus(session, [*add, *remove])}
            held = set(_licences(session, self.tenant_id, [user.id])[user.id])
            for sku_id in dict.fromkeys(remove):
                if sku_id not in held:
                    raise ConflictError(
                        "User does not have a corresponding license.",
                        system=self.system,
                        status=400,
                    )
                session.delete(
                    session.get_one(SandboxLicenseAssignment, (self.tenant_id, user.id, sku_id))
                )
                held.discard(sku_id)
            session.flush()
            consumed = _consumed(session, self.tenant_id)
            for sku_id in dict.fromkeys(add):
                if sku_id in held:
                    continue
                sku = skus[sku_id]
                if consumed.get(sku_id, 0) >= sku.total:
                    raise QuotaExceededError(
                        f"License assignment failed because service plans of {sku.part_number} "
                        f"could not be assigned. Subscription with SKU {sku_id} does not have "
                        "any available licenses.",
                        system=self.system,
                        status=400,
                    )
                session.add(
                    SandboxLicenseAssignment(
                        tenant_id=self.tenant_id, user_id=user.id, sku_id=sku_id
                    )
                )

        arguments = {"user_id": user_id, "add": list(add), "remove": list(remove)}
        self._apply("assign_license", arguments, change)

    def add_license_seats(self, sku_id: str, seats: int) -> None:
        """Buy ``seats`` more seats of a SKU the tenant subscribes to (a CSP order)."""

        def change(session: Session) -> None:
            if seats < 1:
                raise ConflictError(
                    f"The quantity must be at least 1 seat; {seats} was asked for.",
                    system=self.system,
                    status=400,
                )
            sku = session.get(SandboxSku, (self.tenant_id, sku_id))
            if sku is None:
                raise _graph_not_found(sku_id)
            sku.total += seats

        self._apply("add_license_seats", {"sku_id": sku_id, "seats": seats}, change)

    # --- a leaver's and a starter's changes ------------------------------------------------

    def groups_of(self, user_id: str) -> list[DirectoryGroup]:
        """GET /users/{id}/memberOf/microsoft.graph.group: every group, synced ones too."""
        with self._reading() as session:
            user = self._user(session, user_id)
            rows = session.scalars(
                select(SandboxGroup)
                .join(
                    SandboxGroupMember,
                    (SandboxGroupMember.tenant_id == SandboxGroup.tenant_id)
                    & (SandboxGroupMember.group_id == SandboxGroup.id),
                )
                .where(
                    SandboxGroup.tenant_id == self.tenant_id,
                    SandboxGroupMember.user_id == user.id,
                )
                .order_by(SandboxGroup.display_name)
            )
            return [_directory_group(row) for row in rows]

    def direct_licences(self, user_id: str) -> list[str]:
        """Every licence: the sandbox assigns licences to users only, never through groups."""
        with self._reading() as session:
            user = self._user(session, user_id)
            return list(_licences(session, self.tenant_id, [user.id])[user.id])

    def auto_reply(self, user_id: str) -> AutoReply:
        """GET mailboxSettings → automaticRepliesSetting; 404 for a user without a mailbox."""
        with self._reading() as session:
            user = self._mailbox_user(session, user_id)
            box = session.get(SandboxMailbox, (self.tenant_id, user.id))
            if box is None:
                return AutoReply(status="disabled")
            return AutoReply(
                status=box.auto_reply_status,
                internal_message=box.internal_reply,
                external_message=box.external_reply,
                external_audience=box.external_audience,
            )

    def set_auto_reply(self, user_id: str, reply: AutoReply) -> None:
        """PATCH mailboxSettings with automaticRepliesSetting."""

        def change(session: Session) -> None:
            box = self._mailbox(session, user_id)
            box.auto_reply_status = reply.status
            box.internal_reply = reply.internal_message
            box.external_reply = reply.external_message
            box.external_audience = reply.external_audience

        arguments = {"user_id": user_id, "status": reply.status}
        self._apply("set_auto_reply", arguments, change)

    def inbox_rules(self, user_id: str) -> list[InboxRule]:
        """GET /users/{id}/mailFolders/inbox/messageRules."""
        with self._reading() as session:
            user = self._mailbox_user(session, user_id)
            rows = session.scalars(
                select(SandboxInboxRule)
                .where(
                    SandboxInboxRule.tenant_id == self.tenant_id,
                    SandboxInboxRule.user_id == user.id,
                )
                .order_by(SandboxInboxRule.id)
            )
            return [_inbox_rule(row) for row in rows]

    def add_inbox_rule(self, user_id: str, display_name: str, forward_to: str) -> InboxRule:
        """POST …/messageRules: a rule that forwards every message to ``forward_to``."""

        def change(session: Session) -> InboxRule:
            user = self._mailbox_user(session, user_id)
            rule = SandboxInboxRule(
                tenant_id=self.tenant_id,
                user_id=user.id,
                display_name=display_name,
                forward_to=[forward_to],
            )
            session.add(rule)
            session.flush()
            return _inbox_rule(rule)

        arguments = {"user_id": user_id, "display_name": display_name, "forward_to": forward_to}
        return self._apply("add_inbox_rule", arguments, change)

    def delete_inbox_rule(self, user_id: str, rule_id: str) -> None:
        """DELETE …/messageRules/{id}: NotFoundError when there is no such rule."""

        def change(session: Session) -> None:
            user = self._mailbox_user(session, user_id)
            rule = session.get(SandboxInboxRule, int(rule_id)) if rule_id.isdigit() else None
            if rule is None or (rule.tenant_id, rule.user_id) != (self.tenant_id, user.id):
                raise NotFoundError(
                    "The specified object was not found in the store.",
                    system=self.system,
                    status=404,
                )
            session.delete(rule)

        self._apply("delete_inbox_rule", {"user_id": user_id, "rule_id": rule_id}, change)

    def drive_grants(self, owner_id: str) -> list[DriveGrant]:
        """GET /users/{id}/drive/root/permissions: the owner's own, then those granted."""
        with self._reading() as session:
            owner = self._drive_owner(session, owner_id)
            rows = session.scalars(
                select(SandboxDriveGrant)
                .where(
                    SandboxDriveGrant.tenant_id == self.tenant_id,
                    SandboxDriveGrant.owner_id == owner.id,
                )
                .order_by(SandboxDriveGrant.id)
            )
            own = DriveGrant(id="owner", user_id=owner.id, roles=("owner",))
            return [own, *(_drive_grant(row) for row in rows)]

    def grant_drive_access(self, owner_id: str, user_id: str) -> None:
        """POST /users/{id}/drive/root/invite (write, sign-in required, no e-mail); a user who
        already may write is left as they are, as SharePoint does."""

        def change(session: Session) -> None:
            owner = self._drive_owner(session, owner_id)
            grantee = self._user(session, user_id)
            held = session.scalars(
                select(SandboxDriveGrant).where(
                    SandboxDriveGrant.tenant_id == self.tenant_id,
                    SandboxDriveGrant.owner_id == owner.id,
                    SandboxDriveGrant.user_id == grantee.id,
                )
            ).first()
            if held is None:
                session.add(
                    SandboxDriveGrant(
                        tenant_id=self.tenant_id,
                        owner_id=owner.id,
                        user_id=grantee.id,
                        roles=["write"],
                    )
                )
            elif "write" not in held.roles:
                held.roles = [*held.roles, "write"]

        arguments = {"owner_id": owner_id, "user_id": user_id}
        self._apply("grant_drive_access", arguments, change)

    def remove_drive_grant(self, owner_id: str, grant_id: str) -> None:
        """DELETE /users/{id}/drive/root/permissions/{id}."""

        def change(session: Session) -> None:
            owner = self._drive_owner(session, owner_id)
            grant = session.get(SandboxDriveGrant, int(grant_id)) if grant_id.isdigit() else None
            if grant is None or (grant.tenant_id, grant.owner_id) != (self.tenant_id, owner.id):
                raise NotFoundError("Item not found", system=self.system, status=404)
            session.delete(grant)

        arguments = {"owner_id": owner_id, "grant_id": grant_id}
        self._apply("remove_drive_grant", arguments, change)

    def auth_methods(self, user_id: str) -> list[AuthMethod]:
        """GET /users/{id}/authentication/methods: the password first, as Graph lists it."""
        with self._reading() as session:
            user = self._user(session, user_id)
            rows = session.scalars(
                select(SandboxAuthMethod)
                .where(
                    SandboxAuthMethod.tenant_id == self.tenant_id,
                    SandboxAuthMethod.user_id == user.id,
                )
                .order_by(SandboxAuthMethod.id)
            )
            password = AuthMethod(id=PASSWORD_METHOD_ID, kind=PASSWORD_METHOD)
            return [password, *(AuthMethod(id=r.id, kind=r.kind, label=r.label) for r in rows)]

    def delete_auth_method(self, user_id: str, method: AuthMethod) -> None:
        """DELETE /users/{id}/authentication/{kind's collection}/{id}; the password is
        refused, as Graph refuses it."""

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            if method.kind == PASSWORD_METHOD:
                raise ForbiddenError(
                    "A password method cannot be deleted; reset the password instead.",
                    system=self.system,
                    status=400,
                )
            row = session.get(SandboxAuthMethod, (self.tenant_id, method.id))
            if row is None or row.user_id != user.id or row.kind != method.kind:
                raise _graph_not_found(method.id)
            session.delete(row)

        arguments = {"user_id": user_id, "method_id": method.id, "kind": method.kind}
        self._apply("delete_auth_method", arguments, change)

    def user_profile(self, user_id: str) -> UserProfile:
        with self._reading() as session:
            return _user_profile(self._user(session, user_id))

    def set_profile(
        self,
        user_id: str,
        *,
        department: str | None = None,
        job_title: str | None = None,
        usage_location: str | None = None,
    ) -> None:
        """PATCH /users/{id} with the attributes given; a synced user is refused."""

        def change(session: Session) -> None:
            user = self._cloud_user(session, user_id, "department, job title and usage location")
            if department is not None:
                user.department = department
            if job_title is not None:
                user.job_title = job_title or None
            if usage_location is not None:
                user.usage_location = usage_location.upper()

        arguments = {
            "user_id": user_id,
            "department": department,
            "job_title": job_title,
            "usage_location": usage_location,
        }
        self._apply("set_profile", arguments, change)

    def set_manager(self, user_id: str, manager_id: str) -> None:
        """PUT /users/{id}/manager/$ref; a synced user is refused."""

        def change(session: Session) -> None:
            user = self._cloud_user(session, user_id, "manager")
            user.manager_id = self._user(session, manager_id).id

        self._apply("set_manager", {"user_id": user_id, "manager_id": manager_id}, change)

    def create_user(self, new: NewUser, password: str) -> DirectoryUser:
        """POST /users: a cloud-only user who must change the password at first sign-in."""

        def change(session: Session) -> DirectoryUser:
            upn = new.user_principal_name
            taken = _find_user(session, self.tenant_id, upn, by_mail=True, by_sam=False)
            nickname = session.scalars(
                select(SandboxUser).where(
                    SandboxUser.tenant_id == self.tenant_id,
                    func.lower(SandboxUser.mail_nickname) == new.mail_nickname.lower(),
                )
            ).first()
            if taken is not None or nickname is not None:
                what = "userPrincipalName" if taken is not None else "mailNickname"
                raise ConflictError(
                    f"Another object with the same value for property {what} already exists.",
                    system=self.system,
                    status=400,
                )
            user = SandboxUser(
                tenant_id=self.tenant_id,
                id=str(uuid.uuid4()),
                upn=upn,
                display_name=new.display_name,
                mail=upn,
                mail_nickname=new.mail_nickname,
                job_title=new.job_title,
                department=new.department or "",
                usage_location=(new.usage_location or "").upper(),
            )
            _set_password(user, password, True, minimum_length=8, system=self.system)
            session.add(user)
            session.flush()
            return _directory_user(user, (), in_ad=False)

        # The password itself is never logged.
        arguments = {"user_principal_name": new.user_principal_name}
        return self._apply("create_user", arguments, change)

    def shown_in_address_list(self, user_id: str) -> bool | None:
        """GET /users/{id}?$select=showInAddressList."""
        with self._reading() as session:
            user = self._user(session, user_id)
            box = session.get(SandboxMailbox, (self.tenant_id, user.id))
            return None if box is None else box.show_in_address_list

    def _mailbox_user(self, session: Session, user_id: str) -> SandboxUser:
        user = self._user(session, user_id)
        if not user.mail:
            raise NotFoundError(
                f"{user.upn} has no Exchange Online mailbox (the mailbox is either inactive, "
                "soft-deleted, or is hosted on-premise).",
                system=self.system,
                status=404,
            )
        return user

    def _mailbox(self, session: Session, user_id: str) -> SandboxMailbox:
        user = self._mailbox_user(session, user_id)
        box = session.get(SandboxMailbox, (self.tenant_id, user.id))
        if box is None:
            box = SandboxMailbox(tenant_id=self.tenant_id, user_id=user.id)
            session.add(box)
        return box

    def _drive_owner(self, session: Session, owner_id: str) -> SandboxUser:
        # A OneDrive comes with a licence that includes it; a user without mail has none here.
        owner = self._user(session, owner_id)
        if not owner.mail:
            raise NotFoundError(
                f"{owner.upn} has no OneDrive (it is made when a licensed user first opens it).",
                system=self.system,
                status=404,
            )
        return owner

    def _cloud_user(self, session: Session, user_id: str, what: str) -> SandboxUser:
        user = self._user(session, user_id)
        if user.synced:
            raise ForbiddenError(
                "Unable to update the specified properties for on-premises mastered Directory "
                f"Sync objects or objects currently undergoing migration. {user.upn} is synced "
                f"from on-premises Active Directory: set the {what} there.",
                system=self.system,
                status=400,
            )
        return user

    def _user(self, session: Session, key: str, *, by_mail: bool = False) -> SandboxUser:
        # Graph addresses a user by id or user principal name; get_user also takes a mail.
        row = _find_user(session, self.tenant_id, key, by_mail=by_mail, by_sam=False)
        if row is None:
            raise _graph_not_found(key)
        return row

    def _group(self, session: Session, group_id: str) -> SandboxGroup:
        row = session.scalars(
            select(SandboxGroup).where(
                SandboxGroup.tenant_id == self.tenant_id,
                func.lower(SandboxGroup.id) == group_id.strip().lower(),
            )
        ).first()
        if row is None:
            raise _graph_not_found(group_id)
        return row

    def _writable_group(self, session: Session, group_id: str) -> SandboxGroup:
        group = self._group(session, group_id)
        if group.mail_enabled:
            raise ForbiddenError(
                "Cannot Update a mail-enabled security groups and or distribution list.",
                system=self.system,
                status=400,
                fix="change its members in Exchange admin center → Recipients → Groups "
                "(deskhand plans this as a manual step)",
            )
        if group.synced:
            raise ForbiddenError(
                "Unable to update the specified properties for on-premises mastered Directory "
                "Sync objects or objects currently undergoing migration.",
                system=self.system,
                status=400,
                fix="the group is synced from Active Directory: change its members there "
                "(ad.add_group_member, ad.remove_group_member)",
            )
        if group.dynamic:
            raise ForbiddenError(
                f"{group.display_name} has dynamic membership: its members follow its rule.",
                system=self.system,
                status=400,
                fix="change the user's attributes the rule reads, or the rule itself in Entra "
                "admin center → Groups → the group → Dynamic membership rules",
            )
        return group

    def _skus(self, session: Session, sku_ids: Iterable[str]) -> list[SandboxSku]:
        found = []
        for sku_id in dict.fromkeys(sku_ids):
            sku = session.get(SandboxSku, (self.tenant_id, sku_id))
            if sku is None:
                raise NotFoundError(
                    f"License {sku_id} does not correspond to a valid company License.",
                    system=self.system,
                    status=400,
                )
            found.append(sku)
        return found


def _graph_not_found(key: str) -> NotFoundError:
    return NotFoundError(
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
        system=M365_SYSTEM,
        status=404,
    )


# --- Active Directory ----------------------------------------------------------------------


class SandboxAD(_SandboxSystem):
    """A tenant's on-premises AD domain as an LDAP client sees it: only its synced users."""

    system = AD_SYSTEM

    def get_user(self, key: str) -> DirectoryUser:
        """The user with this id, user principal name, sAMAccountName or mail, ignoring case."""
        with self._reading() as session:
            return _directory_user(self._user(session, key), licences=(), in_ad=True)

    def account_state(self, user_id: str) -> SignInState:
        """pwdLastSet, "must change password", lockout and enabled state; AD has no sessions."""
        with self._reading() as session:
            return _sign_in_state(self._user(session, user_id), in_ad=True)

    def reset_password(self, user_id: str, password: str, force_change: bool) -> None:
        """Set unicodePwd; ``force_change`` sets pwdLastSet to 0. A lockout stays (unlock is
        its own call, as in AD)."""

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            _set_password(user, password, force_change, minimum_length=7, system=self.system)

        # The password itself is never logged.
        arguments = {"user_id": user_id, "force_change": force_change}
        self._apply("reset_password", arguments, change)

    def unlock(self, user_id: str) -> None:
        """Set lockoutTime to 0; unlocking an account that is not locked is not an error."""

        def change(session: Session) -> None:
            self._user(session, user_id).locked = False

        self._apply("unlock", {"user_id": user_id}, change)

    def disable(self, user_id: str) -> None:
        """Set the ACCOUNTDISABLE bit of userAccountControl; again is not an error."""
        self._account_control(user_id, enabled=False)

    def enable(self, user_id: str) -> None:
        """Clear the ACCOUNTDISABLE bit of userAccountControl; again is not an error."""
        self._account_control(user_id, enabled=True)

    def _account_control(self, user_id: str, *, enabled: bool) -> None:
        def change(session: Session) -> None:
            # One row is the user in both systems: Microsoft 365 sees it at once, where a real
            # tenant sees it at the next sync.
            self._user(session, user_id).account_enabled = enabled

        self._apply("enable" if enabled else "disable", {"user_id": user_id}, change)

    def get_group(self, key: str) -> DirectoryGroup:
        """The group with this id or name (cn), ignoring case: the tenant's synced groups."""
        with self._reading() as session:
            return _directory_group(self._group(session, key))

    def groups_of(self, user_id: str) -> list[DirectoryGroup]:
        """The groups the user is a direct member of (memberOf), by name."""
        with self._reading() as session:
            user = self._user(session, user_id)
            rows = session.scalars(
                select(SandboxGroup)
                .join(
                    SandboxGroupMember,
                    (SandboxGroupMember.tenant_id == SandboxGroup.tenant_id)
                    & (SandboxGroupMember.group_id == SandboxGroup.id),
                )
                .where(
                    SandboxGroup.tenant_id == self.tenant_id,
                    SandboxGroup.synced.is_(True),
                    SandboxGroupMember.user_id == user.id,
                )
            )
            groups = [_directory_group(row) for row in rows]
            return sorted(groups, key=lambda group: group.display_name.lower())

    def add_group_member(self, group_id: str, user_id: str) -> None:
        """Add the user to the group's ``member``: ConflictError when already a member, as
        LDAP answers attributeOrValueExists."""

        def change(session: Session) -> None:
            group, user = self._group(session, group_id), self._user(session, user_id)
            if session.get(SandboxGroupMember, (self.tenant_id, group.id, user.id)) is not None:
                raise ConflictError(
                    f"attributeOrValueExists: {user.upn} is already a member of "
                    f"{group.display_name}",
                    system=self.system,
                    status=20,
                )
            session.add(
                SandboxGroupMember(tenant_id=self.tenant_id, group_id=group.id, user_id=user.id)
            )

        self._apply("add_group_member", {"group_id": group_id, "user_id": user_id}, change)

    def remove_group_member(self, group_id: str, user_id: str) -> None:
        """Remove the user from the group's ``member``: NotFoundError when not a member."""

        def change(session: Session) -> None:
            group, user = self._group(session, group_id), self._user(session, user_id)
            membership = session.get(SandboxGroupMember, (self.tenant_id, group.id, user.id))
            if membership is None:
                raise NotFoundError(
                    f"{user.upn} is not a member of {group.display_name}",
                    system=self.system,
                    status=16,
                )
            session.delete(membership)

        self._apply("remove_group_member", {"group_id": group_id, "user_id": user_id}, change)

    def account(self, user_id: str) -> AdAccount:
        """The account with the OU that holds it and what it was created with."""
        with self._reading() as session:
            return _ad_account(self._user(session, user_id))

    def move_to_ou(self, user_id: str, ou: str) -> None:
        """Move the account into the OU ``ou``: NotFoundError when the domain has no such OU;
        moving it where it already is is not an error."""
        target = checked_dn(ou, "", system=self.system)

        def change(session: Session) -> None:
            user = self._user(session, user_id)
            user.ou = self._organisational_unit(session, target).dn

        self._apply("move_to_ou", {"user_id": user_id, "ou": ou}, change)

    def create_user(self, account: NewAdAccount, password: str) -> None:
        """Create the account enabled, its password to be changed at the next logon; synced,
        it is in Microsoft 365 at once (a real tenant sees it at the next sync)."""
        target = checked_dn(account.ou, "", system=self.system)

        def change(session: Session) -> None:
            ou = self._organisational_unit(session, target).dn
            for key in (account.sam_account_name, account.user_principal_name):
                taken = _find_user(session, self.tenant_id, key, by_mail=True, by_sam=True)
                if taken is not None:
                    raise ConflictError(
                        f"An account with the logon name {account.sam_account_name} or the "
                        f"sign-in name {account.user_principal_name} already exists: "
                        f"{_distinguished_name(taken)}. deskhand did not create another.",
                        system=self.system,
                        status=68,
                    )
            manager = self._user(session, account.manager) if account.manager else None
            user = SandboxUser(
                tenant_id=self.tenant_id,
                id=str(uuid.uuid4()),
                upn=account.user_principal_name,
                display_name=account.display_name,
                given_name=account.given_name,
                surname=account.surname,
                job_title=account.job_title,
                department=account.department or "",
                usage_location=account.country or "",  # what the sync makes of c
                sam_account_name=account.sam_account_name,
                manager_id=manager.id if manager else None,
                synced=True,
                ou=ou,
            )
            _set_password(user, password, True, minimum_length=7, system=self.system)
            session.add(user)

        # The password itself is never logged.
        arguments = account.model_dump(exclude_none=True)
        self._apply("create_user", arguments, change)

    def _organisational_unit(self, session: Session, dn: str) -> SandboxOrganisationalUnit:
        wanted = dn_key(dn)
        for row in session.scalars(
            select(SandboxOrganisationalUnit).where(
                SandboxOrganisationalUnit.tenant_id == self.tenant_id
            )
        ):
            if dn_key(row.dn) == wanted:
                return row
        raise NotFoundError(
            f"There is no organisational unit {dn} in the domain.", system=self.system, status=32
        )

    def _group(self, session: Session, key: str) -> SandboxGroup:
        wanted = key.strip().lower()
        row = session.scalars(
            select(SandboxGroup).where(
                SandboxGroup.tenant_id == self.tenant_id,
                SandboxGroup.synced.is_(True),  # a cloud group has no object in AD
                or_(
                    func.lower(SandboxGroup.id) == wanted,
                    func.lower(SandboxGroup.display_name) == wanted,
                ),
            )
        ).first()
        if row is None:
            raise NotFoundError(
                f"There is no such object on the server. (no group '{key}' in the domain)",
                system=self.system,
                status=404,
            )
        return row

    def _user(self, session: Session, key: str) -> SandboxUser:
        row = _find_user(session, self.tenant_id, key, by_mail=True, by_sam=True)
        if row is None or not row.synced:
            # A cloud-only user has no object in AD at all.
            raise NotFoundError(
                f"There is no such object on the server. (no user '{key}' in the domain)",
                system=self.system,
                status=404,
            )
        return row


# --- PSA -----------------------------------------------------------------------------------


class SandboxPsa(_SandboxSystem):
    """The MSP's PSA (as Syncro behaves), limited to one client's customer record."""

    system = PSA_SYSTEM

    def create_ticket(self, contact_email: str, subject: str, body: str) -> PsaTicket:
        """Open a ticket with the next number of the PSA, status "New"; its body is its first
        comment, public, as Syncro's "Initial Issue" is."""

        def change(session: Session) -> PsaTicket:
            tenant = session.get(SandboxTenant, self.tenant_id)
            if tenant is None:
                raise _syncro_not_found()
            if not subject.strip():  # POST /tickets words its 422 unlike POST …/comment
                error = json.dumps({"error": "Subject required field"})
                raise ConflictError(error, system=PSA_SYSTEM, status=422)
            # Writers take turns (see the store), so the highest number is ours to follow.
            highest = session.scalar(select(func.max(SandboxPsaTicket.number)))
            ticket = SandboxPsaTicket(
                number=(highest or FIRST_TICKET_NUMBER - 1) + 1,
                tenant_id=tenant.id,
                customer_id=tenant.customer_id,
                contact_email=contact_email,
                subject=subject,
                body=body,
                status="New",
                created_at=now(),
            )
            session.add(ticket)
            session.flush()
            session.add(
                SandboxPsaComment(
                    ticket_id=ticket.id,
                    subject=INITIAL_ISSUE,
                    body=body,
                    hidden=False,
                    created_at=ticket.created_at,
                )
            )
            return _psa_ticket(ticket)

        arguments = {"contact_email": contact_email, "subject": subject, "body": body}
        return self._apply("create_ticket", arguments, change)

    def get_ticket(self, ticket_id: str) -> PsaTicket:
        with self._reading() as session:
            return _psa_ticket(self._ticket(session, ticket_id))

    def add_comment(self, ticket_id: str, subject: str, body: str, hidden: bool) -> PsaComment:
        """POST /tickets/{id}/comment; Syncro requires a subject and a body (422 otherwise)."""

        def change(session: Session) -> PsaComment:
            ticket = self._ticket(session, ticket_id)
            _require_filled(body=body, subject=subject)
            comment = SandboxPsaComment(
                ticket_id=ticket.id, subject=subject, body=body, hidden=hidden, created_at=now()
            )
            session.add(comment)
            session.flush()
            return _psa_comment(comment)

        arguments = {"ticket_id": ticket_id, "subject": subject, "body": body, "hidden": hidden}
        return self._apply("add_comment", arguments, change)

    def update_status(self, ticket_id: str, status: str) -> PsaTicket:
        """Set the ticket's status, one of Syncro's (``TICKET_STATUSES``), as PUT /tickets/{id}
        does: another word is refused and changes nothing."""

        def change(session: Session) -> PsaTicket:
            ticket = self._ticket(session, ticket_id)
            if status not in TICKET_STATUSES:
                error = json.dumps({"success": False, "message": [STATUS_NOT_LISTED]})
                raise ConflictError(error, system=PSA_SYSTEM, status=422)
            ticket.status = status
            return _psa_ticket(ticket)

        return self._apply("update_status", {"ticket_id": ticket_id, "status": status}, change)

    def list_comments(self, ticket_id: str) -> list[PsaComment]:
        """The ticket's comments, oldest first."""
        with self._reading() as session:
            ticket = self._ticket(session, ticket_id)
            rows = session.scalars(
                select(SandboxPsaComment)
                .where(SandboxPsaComment.ticket_id == ticket.id)
                .order_by(SandboxPsaComment.id)
            )
            return [_psa_comment(row) for row in rows]

    def log_time(self, ticket_id: str, minutes: int, notes: str, billable: bool) -> PsaTimeEntry:
        """POST /tickets/{id}/timer_entry, with the billable flag set as asked."""
        if minutes <= 0:  # the caller's mistake: nothing is sent, as with the Syncro client
            raise ValueError(f"minutes must be positive, not {minutes}")

        def change(session: Session) -> PsaTimeEntry:
            ticket = self._ticket(session, ticket_id)
            entry = SandboxPsaTimeEntry(
                ticket_id=ticket.id,
                minutes=minutes,
                notes=notes,
                billable=billable,
                created_at=now(),
            )
            session.add(entry)
            session.flush()
            return _psa_time_entry(entry)

        arguments = {
            "ticket_id": ticket_id,
            "minutes": minutes,
            "notes": notes,
            "billable": billable,
        }
        return self._apply("log_time", arguments, change)

    def time_entries(self, ticket_id: str) -> list[PsaTimeEntry]:
        """The ticket's timer entries, oldest first."""
        with self._reading() as session:
            ticket = self._ticket(session, ticket_id)
            rows = session.scalars(
                select(SandboxPsaTimeEntry)
                .where(SandboxPsaTimeEntry.ticket_id == ticket.id)
                .order_by(SandboxPsaTimeEntry.id)
            )
            return [_psa_time_entry(row) for row in rows]

    def contacts(self) -> list[PsaContact]:
        """The client's contacts, with who is authorised to request changes for others."""
        with self._reading() as session:
            rows = session.scalars(
                select(SandboxPsaContact)
                .where(SandboxPsaContact.tenant_id == self.tenant_id)
                .order_by(SandboxPsaContact.name)
            )
            return [PsaContact(email=r.email, name=r.name, authorised=r.authorised) for r in rows]

    def _ticket(self, session: Session, ticket_id: str) -> SandboxPsaTicket:
        ticket = session.get(SandboxPsaTicket, int(ticket_id)) if ticket_id.isdigit() else None
        if ticket is None or ticket.tenant_id != self.tenant_id:
            raise _syncro_not_found()
        return ticket


def _syncro_not_found() -> NotFoundError:
    return NotFoundError(json.dumps({"message": "Not found"}), system=PSA_SYSTEM, status=404)


def _require_filled(**fields: str) -> None:
    """Syncro's 422 for blank required fields, one message per field, as Rails words them."""
    blank = [
        f"{name.capitalize()} can't be blank" for name, value in fields.items() if not value.strip()
    ]
    if blank:
        raise ConflictError(
            json.dumps({"success": False, "message": blank}), system=PSA_SYSTEM, status=422
        )


# --- Shared by the systems: queries, rules and rows to records --------------------------


_PASSWORD_REFUSALS = {
    M365_SYSTEM: "The specified password does not comply with password complexity "
    "requirements. Please provide a different password.",
    AD_SYSTEM: "Unable to update the password. The value provided for the new password does not "
    "meet the length, complexity, or history requirements of the domain.",
}


def _set_password(
    user: SandboxUser, password: str, force_change: bool, *, minimum_length: int, system: str
) -> None:
    """Record that the password changed (never the password), if it meets the default rule of
    Entra ID and of an AD domain: long enough, and three of upper case, lower case, digits and
    symbols."""
    kinds = (str.isupper, str.islower, str.isdigit, lambda c: not c.isalnum())
    present = sum(any(kind(c) for c in password) for kind in kinds)
    if len(password) < minimum_length or present < 3:
        raise ConflictError(_PASSWORD_REFUSALS[system], system=system, status=400)
    user.password_changed_at = now()
    user.must_change_password = force_change


def _find_user(
    session: Session, tenant_id: str, key: str, *, by_mail: bool, by_sam: bool
) -> SandboxUser | None:
    wanted = key.strip().lower()
    columns: list[InstrumentedAttribute[str | None]] = [SandboxUser.id, SandboxUser.upn]
    if by_mail:
        columns.append(SandboxUser.mail)
    if by_sam:
        columns.append(SandboxUser.sam_account_name)
    query = (
        select(SandboxUser)
        .where(SandboxUser.tenant_id == tenant_id)
        .where(or_(*(func.lower(column) == wanted for column in columns)))
        .order_by(SandboxUser.id)
    )
    return session.scalars(query).first()


def _licences(session: Session, tenant_id: str, user_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Each user's SKU ids, sorted."""
    held: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(SandboxLicenseAssignment.user_id, SandboxLicenseAssignment.sku_id)
        .where(
            SandboxLicenseAssignment.tenant_id == tenant_id,
            SandboxLicenseAssignment.user_id.in_(user_ids),
        )
        .order_by(SandboxLicenseAssignment.sku_id)
    )
    for user_id, sku_id in rows:
        held[user_id].append(sku_id)
    return {user_id: tuple(held[user_id]) for user_id in user_ids}


def _consumed(session: Session, tenant_id: str) -> dict[str, int]:
    """Seats assigned per SKU id."""
    rows = session.execute(
        select(SandboxLicenseAssignment.sku_id, func.count())
        .where(SandboxLicenseAssignment.tenant_id == tenant_id)
        .group_by(SandboxLicenseAssignment.sku_id)
    )
    return {sku_id: count for sku_id, count in rows}


def _directory_user(row: SandboxUser, licences: tuple[str, ...], *, in_ad: bool) -> DirectoryUser:
    """As AD reads it (no licences) or as Graph does (no lockout: that is AD's)."""
    return DirectoryUser(
        id=row.id,
        user_principal_name=row.upn,
        display_name=row.display_name,
        mail=row.mail,
        manager_id=row.manager_id,
        vip=row.vip,
        admin=row.admin,
        synced=row.synced,
        account_enabled=row.account_enabled,
        locked=row.locked and in_ad,
        licenses=licences,
    )


def _distinguished_name(row: SandboxUser) -> str:
    name = "".join(f"\\{c}" if c in ',+"\\<>;=#' else c for c in row.display_name)
    return f"CN={name},{row.ou}"


def _ad_account(row: SandboxUser) -> AdAccount:
    return AdAccount(
        id=row.id,
        distinguished_name=_distinguished_name(row),
        ou=row.ou,
        sam_account_name=row.sam_account_name or "",
        user_principal_name=row.upn,
        display_name=row.display_name,
        given_name=row.given_name or None,
        surname=row.surname or None,
        department=row.department or None,
        job_title=row.job_title,
        country=row.usage_location or None,
        manager_id=row.manager_id,
        account_enabled=row.account_enabled,
        must_change_password=row.must_change_password,
    )


def _directory_group(row: SandboxGroup) -> DirectoryGroup:
    return DirectoryGroup(
        id=row.id,
        display_name=row.display_name,
        privileged=row.privileged,
        mail_enabled=row.mail_enabled,
        synced=row.synced,
        dynamic=row.dynamic,
    )


def _inbox_rule(row: SandboxInboxRule) -> InboxRule:
    return InboxRule(
        id=str(row.id),
        display_name=row.display_name,
        forward_to=tuple(row.forward_to),
        enabled=row.enabled,
    )


def _drive_grant(row: SandboxDriveGrant) -> DriveGrant:
    return DriveGrant(id=str(row.id), user_id=row.user_id, roles=tuple(row.roles))


def _user_profile(row: SandboxUser) -> UserProfile:
    return UserProfile(
        department=row.department or None,
        job_title=row.job_title or None,
        usage_location=row.usage_location or None,
        manager_id=row.manager_id,
        synced=row.synced,
    )


def _sign_in_state(row: SandboxUser, *, in_ad: bool) -> SignInState:
    """As AD reads it (no sessions) or as Graph does (no lockout: that is AD's)."""
    return SignInState(
        password_changed_at=row.password_changed_at,
        sessions_revoked_at=None if in_ad else row.sessions_revoked_at,
        must_change_password=row.must_change_password,
        locked=row.locked and in_ad,
        account_enabled=row.account_enabled,
    )


def _psa_ticket(row: SandboxPsaTicket) -> PsaTicket:
    return PsaTicket(
        id=str(row.id),
        number=str(row.number),
        customer_id=row.customer_id,
        contact_email=row.contact_email,
        subject=row.subject,
        body=row.body,
        status=row.status,
    )


def _psa_comment(row: SandboxPsaComment) -> PsaComment:
    return PsaComment(
        id=str(row.id),
        ticket_id=str(row.ticket_id),
        subject=row.subject,
        body=row.body,
        hidden=row.hidden,
        created_at=row.created_at,
    )


def _psa_time_entry(row: SandboxPsaTimeEntry) -> PsaTimeEntry:
    return PsaTimeEntry(
        id=str(row.id),
        ticket_id=str(row.ticket_id),
        minutes=row.minutes,
        notes=row.notes,
        billable=row.billable,
    )


if TYPE_CHECKING:
    # mypy proves here that the sandbox systems satisfy the connector protocols.
    _m365: M365 = SandboxM365(SandboxStore(""), "")
    _sandbox = SandboxM365(SandboxStore(""), "")
    _groups: UserGroups = _sandbox
    _all_licences: AllLicences = _sandbox
    _replies: AutoReplies = _sandbox
    _forwarding: MailForwarding = _sandbox
    _drive: DriveSharing = _sandbox
    _methods: SignInMethods = _sandbox
    _profiles: Profiles = _sandbox
    _creation: UserCreation = _sandbox
    _lists: AddressLists = _sandbox
    _ad: ActiveDirectory = SandboxAD(SandboxStore(""), "")
    _placement: AdPlacement = SandboxAD(SandboxStore(""), "")
    _provisioning: AdProvisioning = SandboxAD(SandboxStore(""), "")
    _psa: Psa = SandboxPsa(SandboxStore(""), "")
