"""What a leaver's and a starter's Microsoft 365 steps rely on (``deskhand.connectors.m365``'s
lifecycle protocols), held against the sandbox and against the Graph client talking to the
Graph stand-in — which checks every request against Graph's published schema — and those
steps as the executor runs them on both: snapshot, act, read back, act again, undo."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskhand.actions import action
from deskhand.actions.contract import Baseline
from deskhand.connectors.errors import ConflictError, ForbiddenError, NotFoundError
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.sandbox.store import (
    SandboxAuthMethod,
    SandboxGroup,
    SandboxGroupMember,
    SandboxMailbox,
    SandboxStore,
)
from deskhand.connectors.sandbox.systems import SandboxM365, SandboxPsa
from deskhand.domain.directory import PASSWORD_METHOD, AutoReply, NewUser
from tests.connectors.contract.conftest import (
    TENANT,
    M365Case,
    _GraphBuilder,
    _SandboxM365Builder,
    populate_m365,
)
from tests.connectors.graph.conftest import Waits, client_for
from tests.connectors.graph.standin import LIFECYCLE_ROLES, GraphStandIn

PASSWORD = "Tmp-Orchid-4821"


class _SandboxExtras:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store

    def group(self, name: str, members: tuple[str, ...], **kind: bool) -> str:
        group_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(SandboxGroup(tenant_id=TENANT, id=group_id, display_name=name, **kind))
            session.flush()
            for user_id in members:
                session.add(
                    SandboxGroupMember(tenant_id=TENANT, group_id=group_id, user_id=user_id)
                )
        return group_id

    def auth_method(self, user_id: str, kind: str, label: str) -> str:
        method_id = str(uuid.uuid4())
        with self.store.session() as session:
            session.add(
                SandboxAuthMethod(
                    tenant_id=TENANT, id=method_id, user_id=user_id, kind=kind, label=label
                )
            )
        return method_id

    def show_in_address_list(self, user_id: str, shown: bool) -> None:
        with self.store.session() as session:
            box = session.get(SandboxMailbox, (TENANT, user_id))
            if box is None:
                session.add(
                    SandboxMailbox(tenant_id=TENANT, user_id=user_id, show_in_address_list=shown)
                )
            else:
                box.show_in_address_list = shown


# Where each kind of sign-in method shows what tells it apart (None: nowhere).
_LABELS: dict[str, str | None] = {
    "phoneAuthenticationMethod": "phoneNumber",
    "emailAuthenticationMethod": "emailAddress",
    "softwareOathAuthenticationMethod": None,
}


class _GraphExtras:
    def __init__(self, graph: GraphStandIn) -> None:
        self.graph = graph

    def group(self, name: str, members: tuple[str, ...], **kind: bool) -> str:
        group_id = self.graph.add_group(
            name, role_assignable=kind.get("privileged", False), synced=kind.get("synced", False)
        )
        if kind.get("dynamic"):
            self.graph.groups[group_id]["groupTypes"] = ["DynamicMembership"]
            self.graph.groups[group_id]["membershipRule"] = 'user.department -eq "Sales"'
        self.graph.members[group_id].extend(members)
        return group_id

    def auth_method(self, user_id: str, kind: str, label: str) -> str:
        shown = _LABELS.get(kind, "displayName")
        return self.graph.add_auth_method(user_id, kind, **({shown: label} if shown else {}))

    def show_in_address_list(self, user_id: str, shown: bool) -> None:
        self.graph.users[user_id]["showInAddressList"] = shown


@dataclass(frozen=True)
class Lifecycle:
    """One implementation, the contract case's ids, and a way to put in what those lack."""

    case: M365Case
    extras: _SandboxExtras | _GraphExtras

    @property
    def m365(self) -> Any:
        return self.case.m365


@pytest.fixture(params=["sandbox", "graph"])
def lifecycle(request: pytest.FixtureRequest, sandbox: SandboxStore) -> Iterator[Lifecycle]:
    if request.param == "sandbox":
        ids = populate_m365(_SandboxM365Builder(sandbox))
        yield Lifecycle(M365Case(SandboxM365(sandbox, TENANT), **ids), _SandboxExtras(sandbox))
        return
    graph = GraphStandIn().start()
    graph.roles |= LIFECYCLE_ROLES
    ids = populate_m365(_GraphBuilder(graph))
    client = client_for(graph, Waits([]))
    yield Lifecycle(M365Case(client, **ids), _GraphExtras(graph))
    client.close()
    graph.stop()
    assert graph.violations == [], "requests or answers that Graph's schema does not allow"


# --- a user's groups -------------------------------------------------------------------------


def test_a_users_groups_are_every_group_with_what_makes_one_unchangeable_here(
    lifecycle: Lifecycle,
) -> None:
    case = lifecycle.case
    dynamic = lifecycle.extras.group("Everyone", (case.ada,), dynamic=True)
    admins = lifecycle.extras.group("Helpdesk Admins", (case.ada,), privileged=True)

    groups = {g.display_name: g for g in lifecycle.m365.groups_of(case.ada)}

    assert sorted(groups) == ["All Staff", "Everyone", "Helpdesk Admins", "Sales"]
    assert groups["All Staff"].mail_enabled and not groups["Sales"].mail_enabled
    assert groups["Everyone"].dynamic and groups["Everyone"].id == dynamic
    assert groups["Helpdesk Admins"].privileged and groups["Helpdesk Admins"].id == admins
    assert [g.display_name for g in lifecycle.m365.groups_of(case.carol)] == ["Engineering"]
    assert lifecycle.m365.groups_of(case.carol)[0].synced
    with pytest.raises(ForbiddenError):  # a dynamic group's members follow its rule
        lifecycle.m365.remove_group_member(dynamic, case.ada)


# --- automatic replies -----------------------------------------------------------------------


def test_an_automatic_reply_set_is_read_back_and_turned_off_again(lifecycle: Lifecycle) -> None:
    m365, bob = lifecycle.m365, lifecycle.case.bob
    assert m365.auto_reply(bob).status == "disabled"

    m365.set_auto_reply(
        bob,
        AutoReply(
            status="alwaysEnabled",
            internal_message="Bob has left; please write to Dan.",
            external_message="Bob has left; please write to Dan.",
            external_audience="all",
        ),
    )
    on = m365.auto_reply(bob)
    m365.set_auto_reply(bob, on.model_copy(update={"status": "disabled"}))

    assert (on.status, on.external_audience) == ("alwaysEnabled", "all")
    assert "Bob has left; please write to Dan." in on.internal_message
    assert "Bob has left; please write to Dan." in on.external_message
    assert m365.auto_reply(bob).status == "disabled"
    with pytest.raises(NotFoundError):  # Eve has no mailbox
        m365.auto_reply(lifecycle.case.eve)


# --- forwarding ------------------------------------------------------------------------------


def test_a_forwarding_rule_is_read_back_by_its_name_and_deleted_once(lifecycle: Lifecycle) -> None:
    m365, bob = lifecycle.m365, lifecycle.case.bob
    assert m365.inbox_rules(bob) == []

    made = m365.add_inbox_rule(bob, "deskhand: forward to dan@contract.example", "dan@x.example")

    assert [(r.id, r.display_name, r.forward_to, r.enabled) for r in m365.inbox_rules(bob)] == [
        (made.id, "deskhand: forward to dan@contract.example", ("dan@x.example",), True)
    ]
    m365.delete_inbox_rule(bob, made.id)
    with pytest.raises(NotFoundError):
        m365.delete_inbox_rule(bob, made.id)
    assert m365.inbox_rules(bob) == []
    with pytest.raises(NotFoundError):
        m365.inbox_rules(lifecycle.case.eve)


# --- OneDrive --------------------------------------------------------------------------------


def test_onedrive_access_granted_twice_is_one_write_permission_removed_once(
    lifecycle: Lifecycle,
) -> None:
    m365, bob, dan = lifecycle.m365, lifecycle.case.bob, lifecycle.case.dan
    assert [(g.user_id, g.roles) for g in m365.drive_grants(bob)] == [(bob, ("owner",))]

    m365.grant_drive_access(bob, dan)
    m365.grant_drive_access(bob, dan)

    granted = [g for g in m365.drive_grants(bob) if g.user_id == dan]
    assert [(g.roles, g.inherited) for g in granted] == [(("write",), False)]
    m365.remove_drive_grant(bob, granted[0].id)
    with pytest.raises(NotFoundError):
        m365.remove_drive_grant(bob, granted[0].id)
    assert [g.user_id for g in m365.drive_grants(bob)] == [bob]
    with pytest.raises(NotFoundError):  # no mailbox, no licence with OneDrive: no OneDrive
        m365.drive_grants(lifecycle.case.eve)


# --- sign-in methods -------------------------------------------------------------------------


def test_sign_in_methods_are_listed_with_the_password_and_removed_one_by_one(
    lifecycle: Lifecycle,
) -> None:
    m365, bob = lifecycle.m365, lifecycle.case.bob
    phone = lifecycle.extras.auth_method(bob, "phoneAuthenticationMethod", "+44 7700 900123")
    lifecycle.extras.auth_method(bob, "microsoftAuthenticatorAuthenticationMethod", "Bob's phone")

    methods = m365.auth_methods(bob)
    by_kind = {m.kind: m for m in methods}

    assert sorted(by_kind) == [
        "microsoftAuthenticatorAuthenticationMethod",
        PASSWORD_METHOD,
        "phoneAuthenticationMethod",
    ]
    assert by_kind["phoneAuthenticationMethod"].label == "+44 7700 900123"
    m365.delete_auth_method(bob, by_kind["phoneAuthenticationMethod"])
    with pytest.raises(NotFoundError):
        m365.delete_auth_method(bob, by_kind["phoneAuthenticationMethod"])
    with pytest.raises(ForbiddenError):
        m365.delete_auth_method(bob, by_kind[PASSWORD_METHOD])
    assert phone not in [m.id for m in m365.auth_methods(bob)]
    assert len(m365.auth_methods(bob)) == 2


# --- profile ---------------------------------------------------------------------------------


def test_a_profile_set_is_read_back_and_a_synced_users_is_refused(lifecycle: Lifecycle) -> None:
    m365, case = lifecycle.m365, lifecycle.case

    m365.set_profile(case.bob, department="Sales", job_title="Buyer", usage_location="gb")
    m365.set_manager(case.bob, case.dan)
    m365.set_profile(case.bob, job_title="")  # "" clears; None leaves it

    profile = m365.user_profile(case.bob)
    assert (profile.department, profile.job_title, profile.usage_location) == ("Sales", None, "GB")
    assert (profile.manager_id, profile.synced) == (case.dan, False)
    with pytest.raises(ForbiddenError):
        m365.set_profile(case.carol, department="Sales")
    with pytest.raises(ForbiddenError):
        m365.set_manager(case.carol, case.dan)
    assert m365.user_profile(case.carol).department is None


# --- new users -------------------------------------------------------------------------------


def test_a_new_user_must_change_the_password_and_a_taken_name_is_refused(
    lifecycle: Lifecycle,
) -> None:
    m365 = lifecycle.m365
    new = NewUser(
        display_name="Fay Starter",
        user_principal_name="fay@contract.example",
        mail_nickname="fay",
        department="Sales",
        usage_location="GB",
    )

    made = m365.create_user(new, PASSWORD)

    assert m365.get_user("fay@contract.example") == made
    assert (made.display_name, made.account_enabled, made.synced) == ("Fay Starter", True, False)
    assert m365.sign_in_state(made.id).must_change_password
    assert m365.user_profile(made.id).department == "Sales"
    with pytest.raises(ConflictError):
        m365.create_user(new, PASSWORD)
    with pytest.raises(ConflictError):
        m365.create_user(new.model_copy(update={"mail_nickname": "fay2"}), PASSWORD)


def test_the_address_list_is_unknown_until_graph_says(lifecycle: Lifecycle) -> None:
    m365, bob = lifecycle.m365, lifecycle.case.bob
    assert m365.shown_in_address_list(bob) is None

    lifecycle.extras.show_in_address_list(bob, False)

    assert m365.shown_in_address_list(bob) is False


# --- the actions, as the executor runs them -------------------------------------------------


def connectors(lifecycle: Lifecycle, sandbox: SandboxStore) -> Connectors:
    return Connectors(
        TENANT, psa=SandboxPsa(sandbox, TENANT), m365=lifecycle.m365, ad=NoDirectory(TENANT)
    )


def started() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)


def run(name: str, params: dict[str, Any], c: Connectors) -> tuple[Any, Baseline]:
    """Snapshot, a check that is not done yet, act, a check that is, act again (a takeover
    may) and a check that still is; the parameters and the baseline, for the undo."""
    operation = action(name)
    valid = operation.validate(params)
    baseline = Baseline(started(), operation.snapshot(valid, c))
    assert not operation.check(valid, c, "key-1", baseline).done, name
    secret = operation.secret()
    operation.act(valid, c, "key-1", secret)
    assert operation.check(valid, c, "key-1", baseline).done, name
    if operation.safe_to_repeat and name != "m365.create_user":
        operation.act(valid, c, "key-1", secret)
        assert operation.check(valid, c, "key-1", baseline).done, name
    return valid, baseline


def undo(name: str, valid: Any, baseline: Baseline, c: Connectors) -> list[str]:
    """Run the steps that undo ``name`` once it ran; their names."""
    steps = action(name).undo_steps(valid, baseline.snapshot) or []
    for other, params in steps:
        run(other, params, c)
    return [other for other, _ in steps]


def user(case: M365Case, name: str) -> dict[str, str]:
    return {"user_id": getattr(case, name), "user_principal_name": f"{name}@contract.example"}


def test_removing_every_group_leaves_the_ones_changed_elsewhere_and_is_undone_group_by_group(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    team = lifecycle.extras.group("Project Team", (case.ada,))
    lifecycle.extras.group("Everyone", (case.ada,), dynamic=True)

    valid, baseline = run("m365.remove_all_groups", user(case, "ada"), c)
    check = action("m365.remove_all_groups").check(valid, c, "key-1", baseline)

    assert sorted(g["name"] for g in baseline.snapshot["groups"]) == ["Project Team", "Sales"]
    assert {k["name"]: k["why"].split(":")[0] for k in check.observed["kept"]} == {
        "All Staff": "a distribution list or mail-enabled group",
        "Everyone": "dynamic membership",
    }
    assert [g.display_name for g in lifecycle.m365.groups_of(case.ada)] == [
        "All Staff",
        "Everyone",
    ]
    assert undo("m365.remove_all_groups", valid, baseline, c) == ["m365.add_group_member"] * 2
    assert {case.ada} <= set(lifecycle.m365.group_members(team))
    assert case.ada in lifecycle.m365.group_members(case.sales)


def test_a_users_own_licences_are_every_licence_they_hold_unless_a_group_gives_one(
    lifecycle: Lifecycle,
) -> None:
    case = lifecycle.case

    assert lifecycle.m365.direct_licences(case.ada) == sorted((case.premium, case.full))
    assert lifecycle.m365.direct_licences(case.bob) == []


def test_removing_every_licence_frees_the_seats_and_is_undone_licence_by_licence(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)

    valid, baseline = run("m365.remove_all_licences", user(case, "ada"), c)

    assert lifecycle.m365.get_user(case.ada).licenses == ()
    assert baseline.snapshot["kept"] == []
    assert {s["name"] for s in baseline.snapshot["licences"]} == {
        "Microsoft 365 Business Premium",
        "Microsoft 365 Business Basic",
    }
    assert undo("m365.remove_all_licences", valid, baseline, c) == ["m365.assign_license"] * 2
    assert lifecycle.m365.get_user(case.ada).licenses == tuple(sorted((case.premium, case.full)))


def test_an_automatic_reply_is_read_back_and_undone_by_turning_it_off(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    message = "Bob has left Contract Dental. Please write to dan@contract.example."

    valid, baseline = run("m365.set_auto_reply", {**user(case, "bob"), "message": message}, c)

    assert baseline.snapshot["status"] == "disabled"
    assert undo("m365.set_auto_reply", valid, baseline, c) == ["m365.clear_auto_reply"]
    assert lifecycle.m365.auto_reply(case.bob).status == "disabled"


def test_a_replaced_automatic_reply_is_put_back_by_the_undo(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    earlier = {**user(case, "bob"), "message": "On holiday until Monday."}
    run("m365.set_auto_reply", earlier, c)

    valid, baseline = run("m365.set_auto_reply", {**earlier, "message": "Bob has left."}, c)

    assert undo("m365.set_auto_reply", valid, baseline, c) == ["m365.set_auto_reply"]
    assert "On holiday until Monday." in lifecycle.m365.auto_reply(case.bob).internal_message


def delegate(case: M365Case, owner: str, to: str) -> dict[str, str]:
    return {
        **user(case, owner),
        "delegate_id": getattr(case, to),
        "delegate_principal_name": f"{to}@contract.example",
    }


def test_mail_forwarded_by_one_rule_is_stopped_by_its_undo(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)

    valid, baseline = run("m365.forward_mail", delegate(case, "bob", "dan"), c)

    rules = lifecycle.m365.inbox_rules(case.bob)
    assert [(r.display_name, r.forward_to) for r in rules] == [
        ("deskhand: forward to dan@contract.example", ("dan@contract.example",))
    ]
    assert undo("m365.forward_mail", valid, baseline, c) == ["m365.stop_forwarding"]
    assert lifecycle.m365.inbox_rules(case.bob) == []


def test_onedrive_access_granted_is_read_back_and_revoked_by_its_undo(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)

    valid, baseline = run("m365.grant_onedrive_access", delegate(case, "bob", "dan"), c)

    assert baseline.snapshot == {"granted": []}
    assert undo("m365.grant_onedrive_access", valid, baseline, c) == ["m365.revoke_onedrive_access"]
    assert [g.user_id for g in lifecycle.m365.drive_grants(case.bob)] == [case.bob]


def test_every_mfa_method_goes_and_the_password_stays(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    for kind in (
        "phoneAuthenticationMethod",
        "microsoftAuthenticatorAuthenticationMethod",
        "fido2AuthenticationMethod",
        "softwareOathAuthenticationMethod",
        "emailAuthenticationMethod",
        "windowsHelloForBusinessAuthenticationMethod",
    ):
        lifecycle.extras.auth_method(case.bob, kind, kind)

    valid, baseline = run("m365.remove_mfa_methods", user(case, "bob"), c)

    assert len(baseline.snapshot["methods"]) == 7
    assert [m.kind for m in lifecycle.m365.auth_methods(case.bob)] == [PASSWORD_METHOD]
    assert action("m365.remove_mfa_methods").undo_steps(valid, baseline.snapshot) is None


def test_a_profile_set_is_undone_to_what_it_was(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    lifecycle.m365.set_profile(case.bob, department="Warehouse")
    lifecycle.m365.set_manager(case.bob, case.ada)
    params = {
        **user(case, "bob"),
        "department": "Sales",
        "job_title": "Buyer",
        "usage_location": "de",
        "manager_id": case.dan,
        "manager_principal_name": "dan@contract.example",
    }

    valid, baseline = run("m365.set_profile", params, c)

    assert valid.usage_location == "DE"
    assert undo("m365.set_profile", valid, baseline, c) == ["m365.set_profile"]
    profile = lifecycle.m365.user_profile(case.bob)
    assert (profile.department, profile.job_title, profile.usage_location) == (
        "Warehouse",
        None,
        None,
    )
    assert profile.manager_id == case.ada


def test_a_synced_users_profile_is_refused_in_plain_words(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    spec = action("m365.set_profile")
    valid = spec.validate({**user(case, "carol"), "department": "Sales"})

    with pytest.raises(ForbiddenError) as refused:
        spec.act(valid, c, "key-1", None)

    assert "synced from on-premises Active Directory" in str(refused.value)
    assert "set there, not in Microsoft 365" in str(refused.value)


def test_a_new_user_is_created_once_and_a_taken_sign_in_name_is_a_clear_refusal(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    c = connectors(lifecycle, sandbox)
    params = {
        "display_name": "Fay Starter",
        "user_principal_name": "fay@contract.example",
        "mail_nickname": "fay",
        "job_title": "Hygienist",
    }

    valid, baseline = run("m365.create_user", params, c)
    spec = action("m365.create_user")

    assert baseline.snapshot == {"existed": None}
    assert lifecycle.m365.get_user("fay@contract.example").display_name == "Fay Starter"
    # A takeover reads the user this step made back as done, and never makes a second one.
    assert spec.check(valid, c, "key-1", baseline).done
    taken = spec.validate({**params, "user_principal_name": "bob@contract.example"})
    with pytest.raises(ConflictError) as refused:
        spec.act(taken, c, "key-2", spec.secret())
    assert refused.value.message.startswith(
        "A user with the sign-in name bob@contract.example already exists in Microsoft 365 "
        "(Bob Builder)"
    )
    assert not spec.check(taken, c, "key-2", Baseline(started(), spec.snapshot(taken, c))).done


def test_waiting_for_a_user_is_done_when_microsoft_365_finds_them_synced(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    c = connectors(lifecycle, sandbox)
    spec = action("m365.await_user")
    baseline = Baseline(started(), {})

    absent = spec.check(
        spec.validate({"user_principal_name": "gus@contract.example"}), c, "k", baseline
    )
    cloud = spec.check(
        spec.validate({"user_principal_name": "bob@contract.example"}), c, "k", baseline
    )
    synced = spec.check(
        spec.validate({"user_principal_name": "carol@contract.example"}), c, "k", baseline
    )

    assert (absent.done, absent.observed) == (False, {"found": False})
    assert (
        not cloud.done and "cloud-only user already has this sign-in name" in cloud.observed["why"]
    )
    assert synced.done and synced.observed["synced"]


def test_hiding_from_the_address_list_is_verified_only_as_far_as_graph_can_show_it(
    lifecycle: Lifecycle, sandbox: SandboxStore
) -> None:
    case, c = lifecycle.case, connectors(lifecycle, sandbox)
    spec = action("exchange.hide_from_address_list")
    valid = spec.validate(user(case, "bob"))
    baseline = Baseline(started(), spec.snapshot(valid, c))
    spec.act(valid, c, "key-1", None)

    unknown = spec.check(valid, c, "key-1", baseline)
    lifecycle.extras.show_in_address_list(case.bob, True)
    still_shown = spec.check(valid, c, "key-1", baseline)
    lifecycle.extras.show_in_address_list(case.bob, False)
    hidden = spec.check(valid, c, "key-1", baseline)

    # The instructions say where: Exchange admin center, or AD for a user synced from there.
    assert spec.describe(valid).startswith("Exchange admin center → Recipients → Mailboxes → ")
    assert "Attribute Editor → msExchHideFromAddressLists → TRUE" in spec.describe(valid)
    assert unknown.done and "not read back" in unknown.observed["not_read_back"]
    assert not still_shown.done and "ticked off before" in still_shown.observed["manual_step"]
    assert (hidden.done, hidden.observed) == (True, {"show_in_address_list": False})
