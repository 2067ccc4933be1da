"""Microsoft 365 actions for a leaver and a starter: every group and every licence at once, an
automatic reply, mail forwarded to a colleague, OneDrive files shared with them, MFA methods
removed; a new user, their profile, and waiting for a user made in AD to reach Microsoft 365.

Each reads back what it changed. An action that changes several things at once (every group,
every licence) keeps in its snapshot what it found, so that its undo is one ordinary step per
thing: ``undo_steps`` turns the snapshot into those steps.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from deskhand.actions.contract import (
    LEFT_FOR_TECHNICIAN,
    Acted,
    Action,
    Baseline,
    Check,
    temporary_password,
)
from deskhand.connectors.capabilities import (
    M365_ALL_LICENCES,
    M365_AUTH_METHODS,
    M365_AUTO_REPLIES,
    M365_CREATE_USERS,
    M365_FORWARDING,
    M365_ONEDRIVE,
    M365_PROFILES,
    M365_USER_GROUPS,
    M365_USERS_READ,
)
from deskhand.connectors.errors import ConflictError, ForbiddenError, NotFoundError
from deskhand.connectors.factory import Connectors
from deskhand.domain.actions import Facts, Params, Reference, UserParams
from deskhand.domain.directory import (
    PASSWORD_METHOD,
    AuthMethod,
    AutoReply,
    DirectoryGroup,
    DirectoryUser,
    NewUser,
    UserProfile,
)
from deskhand.domain.risks import BlastRadius

# A second user a step names (who takes over the mail and files; the manager): looked up in the
# directory like the user, its sign-in name filled in from there.
DELEGATE = Reference("user", shows=("delegate_principal_name",))
MANAGER = Reference("user", shows=("manager_principal_name",))


def _sign_in_name(value: str) -> str:
    name, at, domain = value.partition("@")
    if not name or not at or "." not in domain or re.search(r"[\s@]", name + domain):
        raise ValueError("a sign-in name is name@domain, as in anna.berg@contoso.com")
    return value


def _country(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("a usage location is a country's two letters (ISO 3166), as in GB or DE")
    return value.upper()


SignInName = Annotated[str, Field(max_length=113), AfterValidator(_sign_in_name)]
Country = Annotated[str | None, AfterValidator(_country)]


class DelegateParams(UserParams):
    delegate_id: Annotated[str, DELEGATE] = Field(
        title="colleague", description="Directory id of the colleague who takes over"
    )
    delegate_principal_name: str = Field(
        description="The colleague's sign-in name, from the directory"
    )


class AutoReplyParams(UserParams):
    message: str = Field(
        min_length=1,
        max_length=4000,
        title="message",
        description="The automatic reply, the same to senders inside and outside the organisation",
    )


class ProfileParams(UserParams):
    department: str | None = Field(None, max_length=64, title="department")
    job_title: str | None = Field(None, max_length=128, title="job title")
    usage_location: Country = Field(
        None, title="usage location", description="Two letters: where the user's services are"
    )
    manager_id: Annotated[str | None, MANAGER] = Field(
        None, title="manager", description="Directory id of the user's manager"
    )
    manager_principal_name: str | None = Field(
        None, title="manager", description="The manager's sign-in name, from the directory"
    )

    @model_validator(mode="after")
    def _something_to_set(self) -> ProfileParams:
        if (self.department, self.job_title, self.usage_location, self.manager_id) == (None,) * 4:
            raise ValueError("give a department, a job title, a usage location or a manager")
        return self


class NewUserParams(Params):
    display_name: str = Field(min_length=1, max_length=256, title="display name")
    user_principal_name: SignInName = Field(title="sign-in name")
    mail_nickname: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        title="mail alias",
        description="The part of the mail address before @: letters, digits, . _ -",
    )
    department: str | None = Field(None, max_length=64, title="department")
    job_title: str | None = Field(None, max_length=128, title="job title")
    usage_location: Country = Field(None, title="usage location")


class AwaitUserParams(Params):
    user_principal_name: SignInName = Field(
        title="sign-in name", description="The sign-in name the user was created with in AD"
    )


def _user(params: UserParams) -> dict[str, str]:
    return {"user_id": params.user_id, "user_principal_name": params.user_principal_name}


# --- every group -----------------------------------------------------------------------------


def _kept_because(group: DirectoryGroup) -> str | None:
    """Why the user stays in ``group`` (a group deskhand does not change in Microsoft 365)."""
    if group.synced:
        return "synced from Active Directory: remove the user there"
    if group.dynamic:
        return "dynamic membership: its rule decides who is in it"
    if group.mail_enabled:
        return "a distribution list or mail-enabled group: remove the user in Exchange admin center"
    return None


def _left_for_technician(group: DirectoryGroup, upn: str) -> str | None:
    """What a technician does about a group the user stays in, in words; None for a group
    synced from AD: only a user synced from AD is in one, and their plan removes their AD
    groups (the sync then takes them out)."""
    if group.synced:
        return None
    if group.dynamic:
        return (
            f"check that the rule of the dynamic group {group.display_name} leaves {upn} out "
            "(deskhand cannot change its members)"
        )
    return (
        f"remove {upn} from {group.display_name} in Exchange admin center (a distribution "
        "list or mail-enabled group, which deskhand cannot change)"
    )


def _why(group: DirectoryGroup) -> dict[str, str]:
    return {"id": group.id, "name": group.display_name, "why": _kept_because(group) or ""}


def _named(groups: list[DirectoryGroup]) -> list[dict[str, str]]:
    return [{"id": g.id, "name": g.display_name} for g in groups]


class RemoveAllGroups(Action):
    """Internal, or security when one of the groups it removes the user from is privileged:
    the user's groups are read when the step is bound (``facts``), not named in it. The groups
    it cannot change are named, when it is read back, as lines left for a technician
    (``LEFT_FOR_TECHNICIAN``: the ticket goes to a technician for them)."""

    name = "m365.remove_all_groups"
    Params = UserParams
    radius = BlastRadius.INTERNAL
    privileged_radius = BlastRadius.SECURITY
    summary = (
        "Remove {user_principal_name} from every Microsoft 365 group deskhand can change "
        "(groups synced from AD, dynamic groups and distribution lists stay, and are named)"
    )
    undo = "add the user back to each group it removed them from (kept with the step)"
    safe_to_repeat = True
    needs = (M365_USER_GROUPS,)

    def _split(
        self, params: UserParams, c: Connectors
    ) -> tuple[list[DirectoryGroup], list[dict[str, str]]]:
        removable, kept = self._sorted(params, c)
        return removable, [_why(group) for group in kept]

    def _sorted(
        self, params: UserParams, c: Connectors
    ) -> tuple[list[DirectoryGroup], list[DirectoryGroup]]:
        """The user's groups deskhand removes them from, and those it cannot change."""
        removable: list[DirectoryGroup] = []
        kept: list[DirectoryGroup] = []
        for group in M365_USER_GROUPS.of(c).groups_of(params.user_id):
            (removable if _kept_because(group) is None else kept).append(group)
        return removable, kept

    def facts(self, params: Any, c: Any) -> Facts:
        removable, _ = self._split(params, c)
        return Facts(privileged_groups=frozenset(g.id for g in removable if g.privileged))

    def blast_radius(self, params: Any, facts: Facts) -> BlastRadius:
        return self.privileged_radius if facts.privileged_groups else self.radius

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        removable, kept = self._split(params, c)
        return {"groups": _named(removable), "kept": kept}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        groups = M365_USER_GROUPS.of(c)
        removable, kept = self._split(params, c)
        for group in removable:
            with suppress(NotFoundError):  # removed meanwhile: reading back decides
                groups.remove_group_member(group.id, params.user_id)
        return Acted({"removed": [g.display_name for g in removable], "kept": kept})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        removable, kept = self._sorted(params, c)
        upn = params.user_principal_name
        left = [words for group in kept if (words := _left_for_technician(group, upn))]
        return Check(
            not removable,
            {
                "still_in": _named(removable),
                "kept": [_why(group) for group in kept],
                LEFT_FOR_TECHNICIAN: left,
            },
        )

    def undo_steps(self, params: Any, snapshot: Any) -> list[tuple[str, dict[str, Any]]] | None:
        return [
            (
                "m365.add_group_member",
                {**_user(params), "group_id": g["id"], "group_name": g["name"]},
            )
            for g in snapshot.get("groups", [])
        ]


# --- every licence ---------------------------------------------------------------------------


class RemoveAllLicences(Action):
    """A licence a group gives the user (group-based licensing) is not removed from the user:
    Graph refuses it; it goes when they leave the group. Those are kept and named."""

    name = "m365.remove_all_licences"
    Params = UserParams
    radius = BlastRadius.DESTRUCTIVE
    summary = (
        "Remove every licence from {user_principal_name}: their Microsoft 365 services stop, "
        "and their mailbox is deleted 30 days after its licence is removed unless it was "
        "converted to a shared mailbox first"
    )
    undo = "assign each licence it removed again (kept with the step), within 30 days"
    safe_to_repeat = True
    needs = (M365_ALL_LICENCES,)

    def _held(self, params: UserParams, c: Connectors) -> tuple[list[str], list[str]]:
        """The user's own licences, and those only a group gives them."""
        licences = M365_ALL_LICENCES.of(c)
        own = licences.direct_licences(params.user_id)
        held = licences.get_user(params.user_id).licenses
        return own, [sku for sku in held if sku not in own]

    def _named(self, skus: list[str], c: Connectors) -> list[dict[str, str]]:
        names = {sku.id: sku.display_name for sku in c.m365.subscribed_skus()}
        return [{"id": sku, "name": names.get(sku, sku)} for sku in skus]

    def _kept(self, skus: list[str], c: Connectors) -> list[dict[str, str]]:
        why = "a group gives it: it goes when they leave the group"
        return [{**named, "why": why} for named in self._named(skus, c)]

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        own, through_groups = self._held(params, c)
        return {"licences": self._named(own, c), "kept": self._kept(through_groups, c)}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        own, through_groups = self._held(params, c)
        if own:
            M365_ALL_LICENCES.of(c).assign_license(params.user_id, add=[], remove=own)
        return Acted({"removed": own, "kept": self._kept(through_groups, c)})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        own, through_groups = self._held(params, c)
        return Check(not own, {"licences": own, "kept": self._kept(through_groups, c)})

    def undo_steps(self, params: Any, snapshot: Any) -> list[tuple[str, dict[str, Any]]] | None:
        return [
            ("m365.assign_license", {**_user(params), "sku_id": s["id"], "sku_name": s["name"]})
            for s in snapshot.get("licences", [])
        ]


# --- automatic replies -----------------------------------------------------------------------


def _reply(reply: AutoReply) -> dict[str, Any]:
    return reply.model_dump()


class SetAutoReply(Action):
    """External communication: senders outside the organisation read it."""

    name = "m365.set_auto_reply"
    Params = AutoReplyParams
    radius = BlastRadius.EXTERNAL_COMMUNICATION
    summary = (
        "Turn on an automatic reply for {user_principal_name}, to every sender inside and "
        "outside the organisation: “{message}”"
    )
    undo = "turn the automatic reply off again, or put back the one it replaced"
    safe_to_repeat = True
    needs = (M365_AUTO_REPLIES,)

    def snapshot(self, params: AutoReplyParams, c: Connectors) -> dict[str, Any]:
        return _reply(M365_AUTO_REPLIES.of(c).auto_reply(params.user_id))

    def act(self, params: AutoReplyParams, c: Connectors, key: str, secret: str | None) -> Acted:
        wanted = AutoReply(
            status="alwaysEnabled",
            internal_message=params.message,
            external_message=params.message,
            external_audience="all",
        )
        M365_AUTO_REPLIES.of(c).set_auto_reply(params.user_id, wanted)
        return Acted({"status": wanted.status})

    def check(self, params: AutoReplyParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        reply = M365_AUTO_REPLIES.of(c).auto_reply(params.user_id)
        done = (
            reply.status == "alwaysEnabled"
            and reply.external_audience == "all"
            and _same_text(reply.internal_message, params.message)
            and _same_text(reply.external_message, params.message)
        )
        return Check(done, _reply(reply))

    def undo_steps(self, params: Any, snapshot: Any) -> list[tuple[str, dict[str, Any]]] | None:
        before = AutoReply.model_validate(snapshot)
        if before.status == "disabled" or not before.internal_message:
            return [("m365.clear_auto_reply", _user(params))]
        return [
            ("m365.set_auto_reply", {**_user(params), "message": _plain(before.internal_message)})
        ]


def _plain(text: str) -> str:
    """A reply's text: Exchange keeps it as HTML, the text asked for wrapped in markup."""
    return " ".join(re.sub(r"<[^>]*>", " ", text).split())


def _same_text(stored: str, asked: str) -> bool:
    return _plain(stored) == _plain(asked)


class ClearAutoReply(Action):
    name = "m365.clear_auto_reply"
    Params = UserParams
    radius = BlastRadius.INTERNAL
    summary = "Turn off the automatic reply of {user_principal_name}"
    undo = "put back the automatic reply it turned off (kept with the step)"
    safe_to_repeat = True
    needs = (M365_AUTO_REPLIES,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return _reply(M365_AUTO_REPLIES.of(c).auto_reply(params.user_id))

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        replies = M365_AUTO_REPLIES.of(c)
        current = replies.auto_reply(params.user_id)
        replies.set_auto_reply(params.user_id, current.model_copy(update={"status": "disabled"}))
        return Acted({"status": "disabled"})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        reply = M365_AUTO_REPLIES.of(c).auto_reply(params.user_id)
        return Check(reply.status == "disabled", _reply(reply))

    def undo_steps(self, params: Any, snapshot: Any) -> list[tuple[str, dict[str, Any]]] | None:
        before = AutoReply.model_validate(snapshot)
        if before.status == "disabled" or not before.internal_message:
            return []
        return [
            ("m365.set_auto_reply", {**_user(params), "message": _plain(before.internal_message)})
        ]


# --- mail forwarded to a colleague -----------------------------------------------------------


def forwarding_rule_name(params: DelegateParams) -> str:
    """The name the inbox rule is found again by."""
    return f"deskhand: forward to {params.delegate_principal_name}"


def _address(user: DirectoryUser) -> str:
    return user.mail or user.user_principal_name


class _Forwarding(Action):
    Params = DelegateParams
    safe_to_repeat = True  # acting reads the rules first: never a second rule
    needs = (M365_FORWARDING,)

    def _rules(self, params: DelegateParams, c: Connectors) -> list[dict[str, Any]]:
        name = forwarding_rule_name(params)
        return [
            {"id": r.id, "forward_to": list(r.forward_to), "enabled": r.enabled}
            for r in M365_FORWARDING.of(c).inbox_rules(params.user_id)
            if r.display_name == name
        ]

    def snapshot(self, params: DelegateParams, c: Connectors) -> dict[str, Any]:
        return {"rules": self._rules(params, c)}


class ForwardMail(_Forwarding):
    """Security: another person reads the user's mail from now on."""

    name = "m365.forward_mail"
    radius = BlastRadius.SECURITY
    summary = (
        "Forward every message that reaches {user_principal_name}'s inbox to "
        "{delegate_principal_name} (an inbox rule named “deskhand: forward to "
        "{delegate_principal_name}”)"
    )
    undo = "m365.stop_forwarding with the same parameters"

    def act(self, params: DelegateParams, c: Connectors, key: str, secret: str | None) -> Acted:
        mail = M365_FORWARDING.of(c)
        address = _address(mail.get_user(params.delegate_id))
        if any(address in r["forward_to"] and r["enabled"] for r in self._rules(params, c)):
            return Acted({"already": f"a rule already forwards to {address}"})
        rule = mail.add_inbox_rule(params.user_id, forwarding_rule_name(params), address)
        return Acted({"rule_id": rule.id, "forward_to": address})

    def check(self, params: DelegateParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        address = _address(M365_FORWARDING.of(c).get_user(params.delegate_id))
        rules = self._rules(params, c)
        done = any(address in r["forward_to"] and r["enabled"] for r in rules)
        return Check(done, {"rules": rules, "forward_to": address})


class StopForwarding(_Forwarding):
    name = "m365.stop_forwarding"
    radius = BlastRadius.INTERNAL
    summary = (
        "Stop forwarding {user_principal_name}'s mail to {delegate_principal_name} (delete the "
        "inbox rule “deskhand: forward to {delegate_principal_name}”)"
    )
    undo = "m365.forward_mail with the same parameters"

    def act(self, params: DelegateParams, c: Connectors, key: str, secret: str | None) -> Acted:
        rules = self._rules(params, c)
        for rule in rules:
            with suppress(NotFoundError):  # deleted meanwhile: reading back decides
                M365_FORWARDING.of(c).delete_inbox_rule(params.user_id, rule["id"])
        return Acted({"deleted": [r["id"] for r in rules]})

    def check(self, params: DelegateParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        rules = self._rules(params, c)
        return Check(not rules, {"rules": rules})


# --- OneDrive files shared with a colleague --------------------------------------------------


class _OneDrive(Action):
    Params = DelegateParams
    safe_to_repeat = True
    needs = (M365_ONEDRIVE,)

    def _granted(self, params: DelegateParams, c: Connectors) -> list[dict[str, Any]]:
        """The colleague's own permissions on the root (not inherited, not through a link)."""
        return [
            {"id": g.id, "roles": list(g.roles)}
            for g in M365_ONEDRIVE.of(c).drive_grants(params.user_id)
            if g.user_id == params.delegate_id and not g.inherited
        ]

    def snapshot(self, params: DelegateParams, c: Connectors) -> dict[str, Any]:
        return {"granted": self._granted(params, c)}


class GrantOneDriveAccess(_OneDrive):
    name = "m365.grant_onedrive_access"
    radius = BlastRadius.SECURITY
    summary = (
        "Let {delegate_principal_name} open and change every file in {user_principal_name}'s "
        "OneDrive (signed in as themselves; no invitation e-mail is sent)"
    )
    undo = "m365.revoke_onedrive_access with the same parameters"

    def act(self, params: DelegateParams, c: Connectors, key: str, secret: str | None) -> Acted:
        M365_ONEDRIVE.of(c).grant_drive_access(params.user_id, params.delegate_id)
        return Acted({"granted": "write"})

    def check(self, params: DelegateParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        granted = self._granted(params, c)
        done = any({"write", "owner"} & set(g["roles"]) for g in granted)
        return Check(done, {"granted": granted})


class RevokeOneDriveAccess(_OneDrive):
    name = "m365.revoke_onedrive_access"
    radius = BlastRadius.INTERNAL
    summary = (
        "Take away {delegate_principal_name}'s access to {user_principal_name}'s OneDrive files"
    )
    undo = "m365.grant_onedrive_access with the same parameters"

    def act(self, params: DelegateParams, c: Connectors, key: str, secret: str | None) -> Acted:
        granted = self._granted(params, c)
        for grant in granted:
            with suppress(NotFoundError):  # removed meanwhile: reading back decides
                M365_ONEDRIVE.of(c).remove_drive_grant(params.user_id, grant["id"])
        return Acted({"removed": [g["id"] for g in granted]})

    def check(self, params: DelegateParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        granted = self._granted(params, c)
        return Check(not granted, {"granted": granted})


# --- MFA methods -----------------------------------------------------------------------------


def _methods(methods: list[AuthMethod]) -> list[dict[str, str]]:
    return [m.model_dump() for m in methods]


class RemoveMfaMethods(Action):
    name = "m365.remove_mfa_methods"
    Params = UserParams
    radius = BlastRadius.SECURITY
    summary = (
        "Remove every MFA method of {user_principal_name} (phone, Authenticator app, security "
        "key, Windows Hello, e-mail, …); the password stays"
    )
    undo = "cannot be undone by deskhand: the user registers MFA again at their next sign-in"
    safe_to_repeat = True  # removing what is gone already changes nothing
    needs = (M365_AUTH_METHODS,)

    def snapshot(self, params: UserParams, c: Connectors) -> dict[str, Any]:
        return {"methods": _methods(M365_AUTH_METHODS.of(c).auth_methods(params.user_id))}

    def act(self, params: UserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        methods = M365_AUTH_METHODS.of(c)
        found = [m for m in methods.auth_methods(params.user_id) if m.kind != PASSWORD_METHOD]
        # The phone last: Entra keeps a default phone method while others are registered.
        found.sort(key=lambda m: m.kind == "phoneAuthenticationMethod")
        removed, refused = [], []
        for method in found:
            try:
                methods.delete_auth_method(params.user_id, method)
                removed.append(method.kind)
            except NotFoundError:
                pass  # removed meanwhile
            except ForbiddenError as error:
                refused.append({"kind": method.kind, "why": str(error)})
        return Acted({"removed": removed, "refused": refused})

    def check(self, params: UserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        left = M365_AUTH_METHODS.of(c).auth_methods(params.user_id)
        others = [m for m in left if m.kind != PASSWORD_METHOD]
        observed: dict[str, Any] = {"methods": _methods(left)}
        if others:
            observed["left"] = (
                "remove these in Entra admin center → Users → "
                f"{params.user_principal_name} → Authentication methods: "
                + ", ".join(m.kind for m in others)
            )
        return Check(not others, observed)


# --- profile ---------------------------------------------------------------------------------


def _profile(profile: UserProfile) -> dict[str, Any]:
    return profile.model_dump()


class SetProfile(Action):
    """A user synced from AD is refused before anything is sent: AD holds these attributes."""

    name = "m365.set_profile"
    Params = ProfileParams
    radius = BlastRadius.INTERNAL
    summary = "Set the profile of {user_principal_name}"
    undo = "set the values it replaced again (kept with the step)"
    safe_to_repeat = True
    needs = (M365_PROFILES,)

    def describe(self, params: Any) -> str:
        changes = [
            f"{label} to {value or '(none)'}"
            for label, value in (
                ("department", params.department),
                ("job title", params.job_title),
                ("usage location", params.usage_location),
                ("manager", params.manager_principal_name if params.manager_id else None),
            )
            if value is not None
        ]
        return f"Set {params.user_principal_name}'s " + ", ".join(changes)

    def snapshot(self, params: ProfileParams, c: Connectors) -> dict[str, Any]:
        profile = M365_PROFILES.of(c).user_profile(params.user_id)
        before = _profile(profile)
        if profile.manager_id:
            before["manager_principal_name"] = c.m365.get_user(
                profile.manager_id
            ).user_principal_name
        return before

    def act(self, params: ProfileParams, c: Connectors, key: str, secret: str | None) -> Acted:
        profiles = M365_PROFILES.of(c)
        if profiles.user_profile(params.user_id).synced:
            raise ForbiddenError(
                f"{params.user_principal_name} is synced from on-premises Active Directory: "
                "their department, job title and manager are set there, not in Microsoft 365",
                system="m365",
                fix="Active Directory Users and Computers → the user → Organization; Entra "
                "Connect syncs it",
            )
        profiles.set_profile(
            params.user_id,
            department=params.department,
            job_title=params.job_title,
            usage_location=params.usage_location,
        )
        if params.manager_id:
            profiles.set_manager(params.user_id, params.manager_id)
        return Acted({"changed": True})

    def check(self, params: ProfileParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        profile = M365_PROFILES.of(c).user_profile(params.user_id)
        wanted = {
            "department": params.department,
            "job_title": params.job_title,
            "usage_location": params.usage_location,
            "manager_id": params.manager_id,
        }
        done = all(
            (getattr(profile, name) or "") == value
            for name, value in wanted.items()
            if value is not None
        )
        return Check(done, _profile(profile))

    def undo_steps(self, params: Any, snapshot: Any) -> list[tuple[str, dict[str, Any]]] | None:
        # Each attribute the step set goes back to what it was ("" clears one that was empty);
        # a manager it replaced comes back, one it added where there was none stays.
        restore: dict[str, Any] = {
            name: snapshot.get(name) or ""
            for name in ("department", "job_title", "usage_location")
            if getattr(params, name) is not None
        }
        if params.manager_id and snapshot.get("manager_id"):
            restore["manager_id"] = snapshot["manager_id"]
            restore["manager_principal_name"] = snapshot.get("manager_principal_name")
        if not restore:
            return None
        return [("m365.set_profile", {**_user(params), **restore})]


# --- a new user ------------------------------------------------------------------------------


class CreateUser(Action):
    creates = "user_principal_name"
    """Security: an account that can sign in. The temporary password is made before acting
    and stored (``secret``): the technician reveals it once; it is never in a message."""

    name = "m365.create_user"
    Params = NewUserParams
    radius = BlastRadius.SECURITY
    summary = (
        "Create the Microsoft 365 user {display_name} ({user_principal_name}), able to sign in "
        "with a temporary password they change at first sign-in"
    )
    undo = (
        "block sign-in and delete the account in the Microsoft 365 admin center → Users → "
        "Active users → (the user) → Delete user"
    )
    safe_to_repeat = True  # acting reads the sign-in name back first: never a second user
    needs = (M365_CREATE_USERS,)

    def secret(self) -> str | None:
        return temporary_password()

    def _existing(self, params: NewUserParams, c: Connectors) -> DirectoryUser | None:
        try:
            return M365_CREATE_USERS.of(c).get_user(params.user_principal_name)
        except NotFoundError:
            return None

    def snapshot(self, params: NewUserParams, c: Connectors) -> dict[str, Any]:
        existing = self._existing(params, c)
        return {"existed": existing.id if existing is not None else None}

    def act(self, params: NewUserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        assert secret is not None, "a new user needs the temporary password made first"
        existing = self._existing(params, c)
        if existing is not None:
            raise ConflictError(
                f"A user with the sign-in name {params.user_principal_name} already exists in "
                f"Microsoft 365 ({existing.display_name}); deskhand does not create a second "
                "one or change theirs",
                system="m365",
                fix="choose another sign-in name; or, if it is the same person, plan the "
                "changes to the existing user instead",
            )
        made = M365_CREATE_USERS.of(c).create_user(NewUser(**params.model_dump()), secret)
        return Acted({"created": made.id})

    def check(self, params: NewUserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        # Done when the sign-in name reads back as a user that did not exist when the step
        # started: after a takeover, the one this step made (the snapshot is the first one).
        existing = self._existing(params, c)
        if existing is None:
            return Check(False, {"found": False})
        made_here = baseline.snapshot.get("existed") is None
        observed = {"found": True, "id": existing.id, "display_name": existing.display_name}
        return Check(made_here and existing.display_name == params.display_name, observed)


class AwaitUser(Action):
    """A read-only step: a starter created in AD reaches Microsoft 365 at Entra Connect's next
    sync (every 30 minutes by default). Acting changes nothing; checking finds the user."""

    name = "m365.await_user"
    Params = AwaitUserParams
    radius = BlastRadius.READ
    summary = (
        "Wait for {user_principal_name}, created in Active Directory, to reach Microsoft 365 "
        "(at the next directory sync)"
    )
    undo = None
    safe_to_repeat = True
    needs = (M365_USERS_READ,)
    settles_within = timedelta(minutes=90)  # three of Entra Connect's 30-minute cycles
    recheck_every = timedelta(minutes=5)

    def snapshot(self, params: AwaitUserParams, c: Connectors) -> dict[str, Any]:
        return {}

    def act(self, params: AwaitUserParams, c: Connectors, key: str, secret: str | None) -> Acted:
        return Acted({"waits": "for the directory sync"})

    def check(self, params: AwaitUserParams, c: Connectors, key: str, baseline: Baseline) -> Check:
        try:
            user = M365_USERS_READ.of(c).get_user(params.user_principal_name)
        except NotFoundError:
            return Check(False, {"found": False})
        observed: dict[str, Any] = {"found": True, "id": user.id, "synced": user.synced}
        if not user.synced:
            observed["why"] = (
                "a cloud-only user already has this sign-in name: Entra Connect will match or "
                "clash with it; check Entra admin center → Users"
            )
        return Check(user.synced, observed)


ACTIONS = (
    RemoveAllGroups,
    RemoveAllLicences,
    SetAutoReply,
    ClearAutoReply,
    ForwardMail,
    StopForwarding,
    GrantOneDriveAccess,
    RevokeOneDriveAccess,
    RemoveMfaMethods,
    SetProfile,
    CreateUser,
    AwaitUser,
)
