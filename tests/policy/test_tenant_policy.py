"""Tenant policy files: loading and checking them, the floor no policy lowers, and decisions."""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from deskhand.actions import catalogue
from deskhand.domain.decisions import Decision
from deskhand.domain.risks import APPROVAL_FLOOR, BlastRadius
from deskhand.domain.roles import ROLES
from deskhand.errors import InputError
from deskhand.plugins import installed
from deskhand.policy import tenant_policy
from deskhand.policy.tenant_policy import (
    BUILTIN_SOURCE,
    Installed,
    Rule,
    TenantPolicy,
)
from tests.policy.installed import decide, load_policy, parse_policy

AUTO, APPROVE, FORBID = Decision.AUTO, Decision.APPROVE, Decision.FORBID

# What the built-in policy decides for each action: at its usual blast radius, and at its
# privileged one where it has one. Written out, not derived, so a change to the file shows here.
BUILTIN_DECISIONS: dict[str, list[tuple[BlastRadius, Decision, str]]] = {
    "m365.reset_password": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.revoke_sessions": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.block_sign_in": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.allow_sign_in": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.add_group_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.remove_group_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.assign_license": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "m365.remove_license": [
        (BlastRadius.DESTRUCTIVE, APPROVE, "blast radius destructive: approve (built-in policy)"),
    ],
    "m365.add_license_seats": [
        (BlastRadius.BILLING, APPROVE, "blast radius billing: approve (built-in policy)"),
    ],
    "m365.remove_all_groups": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.remove_all_licences": [
        (BlastRadius.DESTRUCTIVE, APPROVE, "blast radius destructive: approve (built-in policy)"),
    ],
    "m365.clear_auto_reply": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "m365.forward_mail": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.stop_forwarding": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "m365.grant_onedrive_access": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.revoke_onedrive_access": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "m365.remove_mfa_methods": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.set_profile": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "m365.create_user": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "m365.set_auto_reply": [
        (
            BlastRadius.EXTERNAL_COMMUNICATION,
            APPROVE,
            "blast radius external_communication: approve (built-in policy)",
        ),
    ],
    "m365.await_user": [
        (BlastRadius.READ, AUTO, "blast radius read: auto (built-in policy)"),
    ],
    "exchange.hide_from_address_list": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "vendor.checklist_item": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
    "ad.reset_password": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.unlock_account": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.disable_account": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.enable_account": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.add_group_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.remove_group_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.remove_all_groups": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.move_to_ou": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "ad.create_user": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "exchange.add_distribution_list_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "exchange.remove_distribution_list_member": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "exchange.convert_to_shared_mailbox": [
        (BlastRadius.SECURITY, APPROVE, "blast radius security: approve (built-in policy)"),
    ],
    "psa.add_internal_note": [
        (BlastRadius.INTERNAL, AUTO, "actions: psa.add_internal_note: auto (built-in policy)"),
    ],
    "psa.send_reply": [
        (
            BlastRadius.EXTERNAL_COMMUNICATION,
            APPROVE,
            "blast radius external_communication: approve (built-in policy)",
        ),
    ],
    "psa.log_time": [
        (BlastRadius.BILLING, APPROVE, "blast radius billing: approve (built-in policy)"),
    ],
    "psa.set_status": [
        (BlastRadius.INTERNAL, APPROVE, "blast radius internal: approve (built-in policy)"),
    ],
}

TAIL = "approvers: [approver, admin]\napproval_expiry_hours: 24\n"


def policy_file(tmp_path: Path, text: str, name: str = "contoso.yaml") -> Path:
    """Write ``text`` as a policy file in the test's folder."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, text: str) -> str:
    """The message of the InputError that loading ``text`` as contoso.yaml raises."""
    with pytest.raises(InputError) as caught:
        load_policy(policy_file(tmp_path, text))
    assert caught.value.exit_code == 2
    return str(caught.value)


# --- the built-in policy ---------------------------------------------------------------------


def test_builtin_policy_loads_with_its_approvers_and_expiry() -> None:
    policy = load_policy()

    assert policy.source == BUILTIN_SOURCE
    assert policy.approvers == frozenset({"approver", "admin"})
    assert policy.expiry == timedelta(hours=24)
    assert {radius: rule.decision for radius, rule in policy.blast_radius.items()} == {
        BlastRadius.READ: AUTO,
        BlastRadius.INTERNAL: APPROVE,
        BlastRadius.SECURITY: APPROVE,
        BlastRadius.BILLING: APPROVE,
        BlastRadius.EXTERNAL_COMMUNICATION: APPROVE,
        BlastRadius.DESTRUCTIVE: APPROVE,
    }
    assert {name: rule.decision for name, rule in policy.actions.items()} == {
        "psa.add_internal_note": AUTO
    }


def test_builtin_decisions_cover_every_action_at_every_radius_it_can_have() -> None:
    assert set(BUILTIN_DECISIONS) == set(catalogue())
    for name, spec in catalogue().items():
        radii = [spec.radius] + ([spec.privileged_radius] if spec.privileged_radius else [])
        assert [radius for radius, _, _ in BUILTIN_DECISIONS[name]] == radii, name


@pytest.mark.parametrize(
    ("action", "radius", "decision", "because"),
    [(name, *expected) for name, rows in BUILTIN_DECISIONS.items() for expected in rows],
)
def test_builtin_policy_decides(
    action: str, radius: BlastRadius, decision: Decision, because: str
) -> None:
    assert decide(load_policy(), action, radius) == (decision, because)


def test_the_builtin_policy_file_names_no_action_it_does_not_rule_on() -> None:
    """The actions are listed from their declarations (`deskhand tenants policy`), not by hand
    in the file: a new action, a plugin's included, needs no edit of it."""
    text = resources.files("deskhand.policy").joinpath("default_policy.yaml").read_text("utf-8")
    named = set(re.findall(r"\b(?:m365|ad|exchange|psa)\.[a-z_]+\b", text))
    assert named == set(load_policy().actions) | {"m365.assign_license", "m365.remove_license"}


def test_builtin_approvers_are_approver_and_admin_only() -> None:
    policy = load_policy()

    assert [role for role in ROLES if policy.may_approve(role)] == ["approver", "admin"]
    assert not policy.may_approve("root")


# --- files that are refused, with the file and the line ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "blast_radius:\n  read: auto\n  secruity: approve\n" + TAIL,
            "contoso.yaml, line 3: `secruity` is not a blast radius. Did you mean `security`?",
            id="unknown blast radius",
        ),
        pytest.param(
            "actions:\n  psa.add_internal_note: auto\n  m365.reset_pasword: approve\n" + TAIL,
            "contoso.yaml, line 3: `m365.reset_pasword` is not an action deskhand knows. "
            "Did you mean `m365.reset_password`?",
            id="unknown action",
        ),
        pytest.param(
            "blast_radius:\n  read: auto\n  internal: yes\n" + TAIL,
            "contoso.yaml, line 3: `internal` is `yes`; a rule must be auto, approve or forbid.",
            id="decision not a decision",
        ),
        pytest.param(
            TAIL + "actions:\n  m365.assign_license: Auto\n",
            "contoso.yaml, line 4: `m365.assign_license` is `Auto`; a rule must be auto, "
            "approve or forbid. Did you mean `auto`?",
            id="decision in capitals",
        ),
        pytest.param(
            TAIL + "blast_radius:\n  read:\n",
            "contoso.yaml, line 4: `read` is empty; a rule must be auto, approve or forbid.",
            id="decision missing",
        ),
        pytest.param(
            "blast_radius:\n  read: [auto]\n" + TAIL,
            "contoso.yaml, line 2: `read` is a list; a rule must be auto, approve or forbid.",
            id="decision a list",
        ),
        pytest.param(
            "blast_radious:\n  read: auto\n" + TAIL,
            "contoso.yaml, line 1: `blast_radious` is not a policy setting. "
            "Did you mean `blast_radius`?",
            id="unknown top-level key",
        ),
        pytest.param(
            "actions:\n  - psa.add_internal_note\n" + TAIL,
            "contoso.yaml, line 2: actions must be `name: value` lines, not a list.",
            id="actions as a list",
        ),
        pytest.param(
            "blast_radius:\n  read: auto\n  internal: approve\n  read: approve\n" + TAIL,
            "contoso.yaml, line 4: `read` is set twice (also on line 2).",
            id="rule set twice",
        ),
        pytest.param(
            "approvers: []\napproval_expiry_hours: 24\n",
            "contoso.yaml, line 1: `approvers` is empty, so no draft could be approved",
            id="approvers empty",
        ),
        pytest.param(
            "approval_expiry_hours: 24\napprovers:\n",
            "contoso.yaml, line 2: `approvers` is empty",
            id="approvers blank",
        ),
        pytest.param(
            "approval_expiry_hours: 24\napprovers:\n  - approver\n  - techs\n",
            "contoso.yaml, line 4: `techs` in `approvers` is not a role. Did you mean `tech`?",
            id="approver role unknown",
        ),
        pytest.param(
            "approvers: admin\napproval_expiry_hours: 24\n",
            "contoso.yaml, line 1: `approvers` is `admin`: list the roles",
            id="approvers not a list",
        ),
        pytest.param(
            "approvers: [admin]\napproval_expiry_hours: 0\n",
            "contoso.yaml, line 2: `approval_expiry_hours` is `0`; it must be a number of hours, "
            "more than 0 and at most 720 (30 days).",
            id="expiry zero",
        ),
        pytest.param(
            "approvers: [admin]\n\napproval_expiry_hours: 721\n",
            "contoso.yaml, line 3: `approval_expiry_hours` is `721`",
            id="expiry past 30 days",
        ),
        pytest.param(
            "approvers: [admin]\napproval_expiry_hours: -4\n",
            "contoso.yaml, line 2: `approval_expiry_hours` is `-4`",
            id="expiry negative",
        ),
        pytest.param(
            "approvers: [admin]\napproval_expiry_hours: 24h\n",
            "contoso.yaml, line 2: `approval_expiry_hours` is `24h`",
            id="expiry with a unit",
        ),
        pytest.param(
            "approvers: [admin]\napproval_expiry_hours: '24'\n",
            "contoso.yaml, line 2: `approval_expiry_hours` is `24`",
            id="expiry quoted",
        ),
        pytest.param(
            "blast_radius:\n  read: auto\n internal: approve\n" + TAIL,
            "contoso.yaml, line 3, column 2: not valid YAML: while parsing a block mapping, "
            "expected <block end>, but found '<block mapping start>'.",
            id="bad indentation",
        ),
        pytest.param(
            "blast_radius:\n\tread: auto\n" + TAIL,
            "contoso.yaml, line 2, column 1: not valid YAML:",
            id="tab",
        ),
        pytest.param(
            "- read: auto\n",
            "contoso.yaml, line 1: the policy must be `name: value` lines, not a list.",
            id="not a mapping",
        ),
    ],
)
def test_bad_policy_file_is_refused_naming_file_and_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert refusal(tmp_path, text).startswith(expected)


@pytest.mark.parametrize("missing", ["approvers", "approval_expiry_hours"])
def test_policy_without_a_required_setting_is_refused(tmp_path: Path, missing: str) -> None:
    text = "".join(line + "\n" for line in TAIL.splitlines() if not line.startswith(missing))

    assert refusal(tmp_path, text).startswith(f"contoso.yaml: `{missing}` is missing.")


def test_empty_policy_file_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path, "# nothing yet\n").startswith("contoso.yaml is empty.")


def test_unreadable_policy_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Cannot read policy file .*absent\.yaml"):
        load_policy(tmp_path / "absent.yaml")
    (tmp_path / "latin1.yaml").write_bytes("approvers: [admin] # Müller\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"^latin1\.yaml is not UTF-8 text"):
        load_policy(tmp_path / "latin1.yaml")


# --- the floor --------------------------------------------------------------------------------

FLOOR_MESSAGE = (
    "actions always need a human's approval (deskhand's floor; no policy can lower it). "
    "Use approve or forbid."
)


def test_floor_refusal_reads_as_documented(tmp_path: Path) -> None:
    text = "# Contoso\n\nblast_radius:\n  security: auto\n" + TAIL

    assert refusal(tmp_path, text) == (
        "contoso.yaml, line 4: `security: auto` is not allowed — security actions always need "
        "a human's approval (deskhand's floor; no policy can lower it). Use approve or forbid."
    )


@pytest.mark.parametrize(
    ("rules", "line", "because"),
    [
        ("blast_radius:\n  read: auto\n  security: auto\n", 3, "security: auto` is not allowed"),
        ("blast_radius:\n  billing: auto\n", 2, "billing: auto` is not allowed — billing "),
        ("blast_radius:\n  destructive: auto\n", 2, "destructive: auto` is not allowed"),
        (
            "blast_radius:\n  external_communication: auto\n",
            2,
            "external_communication: auto` is not allowed — external_communication ",
        ),
        (
            "actions:\n  m365.reset_password: auto\n",
            2,
            "m365.reset_password: auto` is not allowed — m365.reset_password's blast radius is "
            "security, and security ",
        ),
        (
            "actions:\n  psa.add_internal_note: auto\n  m365.add_group_member: auto\n",
            3,
            "m365.add_group_member: auto` is not allowed — m365.add_group_member's blast radius "
            "is security when the group is privileged, and security ",
        ),
        (
            "actions:\n  m365.add_license_seats: auto\n",
            2,
            "m365.add_license_seats: auto` is not allowed — m365.add_license_seats's blast radius "
            "is billing, and billing ",
        ),
        (
            "actions:\n  psa.send_reply: auto\n",
            2,
            "psa.send_reply: auto` is not allowed — psa.send_reply's blast radius is "
            "external_communication, and external_communication ",
        ),
    ],
    ids=[
        "security: auto",
        "billing: auto",
        "destructive: auto",
        "external_communication: auto",
        "m365.reset_password: auto",
        "m365.add_group_member: auto",
        "m365.add_license_seats: auto",
        "psa.send_reply: auto",
    ],
)
def test_policy_that_lowers_the_floor_is_refused_at_load(
    tmp_path: Path, rules: str, line: int, because: str
) -> None:
    message = refusal(tmp_path, rules + TAIL)

    assert message.startswith(f"contoso.yaml, line {line}: `{because}")
    assert message.endswith(FLOOR_MESSAGE)


FLOOR_ACTIONS = sorted(
    name
    for name, spec in catalogue().items()
    if spec.radius in APPROVAL_FLOOR or spec.privileged_radius in APPROVAL_FLOOR
)


def test_floor_actions_are_the_ones_that_can_touch_security_billing_clients_or_data() -> None:
    # Pins the domain: if an action's radius changes, this test asks whether that was meant.
    assert FLOOR_ACTIONS == [
        "ad.add_group_member",
        "ad.create_user",
        "ad.disable_account",
        "ad.enable_account",
        "ad.move_to_ou",
        "ad.remove_all_groups",
        "ad.remove_group_member",
        "ad.reset_password",
        "ad.unlock_account",
        "exchange.add_distribution_list_member",
        "exchange.convert_to_shared_mailbox",
        "exchange.remove_distribution_list_member",
        "m365.add_group_member",
        "m365.add_license_seats",
        "m365.allow_sign_in",
        "m365.block_sign_in",
        "m365.create_user",
        "m365.forward_mail",
        "m365.grant_onedrive_access",
        "m365.remove_all_groups",
        "m365.remove_all_licences",
        "m365.remove_group_member",
        "m365.remove_license",
        "m365.remove_mfa_methods",
        "m365.reset_password",
        "m365.revoke_sessions",
        "m365.set_auto_reply",
        "psa.log_time",
        "psa.send_reply",
    ]


@pytest.mark.parametrize("action", FLOOR_ACTIONS)
def test_no_floor_action_can_be_auto(action: str) -> None:
    with pytest.raises(InputError, match=rf"^acme.yaml, line 2: `{re.escape(action)}: auto` is"):
        parse_policy(f"actions:\n  {action}: auto\n{TAIL}", "acme.yaml")


@pytest.mark.parametrize("action", FLOOR_ACTIONS)
def test_floor_actions_may_be_forbidden_or_approved(action: str) -> None:
    text = f"actions:\n  {action}: forbid\nblast_radius:\n  security: forbid\n{TAIL}"
    policy = parse_policy(text, "acme.yaml")

    assert decide(policy, action, catalogue()[action].radius) == (
        FORBID,
        f"actions: {action}: forbid (acme.yaml line 2)",
    )


@pytest.mark.parametrize("radius", sorted(APPROVAL_FLOOR))
def test_policy_built_in_code_cannot_lower_the_floor_either(radius: BlastRadius) -> None:
    with pytest.raises(ValidationError, match=f"tenant 7: `{radius}: auto` is not allowed"):
        TenantPolicy(
            source="tenant 7",
            blast_radius={radius: Rule(decision=AUTO)},
            approvers=frozenset({"admin"}),
            approval_expiry_hours=24,
        )


def test_a_policy_names_the_actions_it_is_handed_and_no_other() -> None:
    # The policy imports no registry: the caller hands it the installed actions, a plugin's too.
    text = f"actions:\n  acme.map_drive: auto\n{TAIL}"
    with pytest.raises(InputError, match=r"`acme\.map_drive` is not an action deskhand knows"):
        tenant_policy.parse_policy(text, "acme.yaml", installed())
    drive = SimpleNamespace(radius=BlastRadius.INTERNAL, privileged_radius=None, manual=False)
    known = Installed(actions={**catalogue(), "acme.map_drive": drive}, intents=())
    policy = tenant_policy.parse_policy(text, "acme.yaml", known)
    assert policy.decide("acme.map_drive", BlastRadius.INTERNAL, manual=False)[0] is AUTO
    # The same rule for a manual step: the technician's tick is the approval.
    assert policy.decide("acme.map_drive", BlastRadius.INTERNAL, manual=True) == (
        APPROVE,
        "acme.map_drive is a manual step: the technician ticks it off",
    )
    billing = SimpleNamespace(radius=BlastRadius.BILLING, privileged_radius=None, manual=False)
    with pytest.raises(InputError, match=r"line 2: `acme\.map_drive: auto` is not allowed"):
        tenant_policy.parse_policy(text, "acme.yaml", Installed({"acme.map_drive": billing}, ()))


# --- decisions --------------------------------------------------------------------------------

CONTOSO = """\
# Contoso: trusted with ordinary directory changes
blast_radius:
  read: auto
  internal: auto
  destructive: forbid
actions:
  m365.add_group_member: approve
  m365.assign_license: auto
  psa.send_reply: forbid
approvers: [tech, approver, admin]
approval_expiry_hours: 4
"""


@pytest.fixture
def contoso(tmp_path: Path) -> TenantPolicy:
    return load_policy(policy_file(tmp_path, CONTOSO))


def test_action_rule_wins_over_blast_radius_rule(contoso: TenantPolicy) -> None:
    assert decide(contoso, "m365.add_group_member", BlastRadius.INTERNAL) == (
        APPROVE,
        "actions: m365.add_group_member: approve (contoso.yaml line 7)",
    )


def test_blast_radius_rule_applies_without_an_action_rule(contoso: TenantPolicy) -> None:
    assert decide(contoso, "m365.remove_group_member", BlastRadius.INTERNAL) == (
        AUTO,
        "blast radius internal: auto (contoso.yaml line 4)",
    )


def test_no_rule_means_approve(contoso: TenantPolicy) -> None:
    assert decide(contoso, "m365.reset_password", BlastRadius.SECURITY) == (
        APPROVE,
        "no rule for m365.reset_password or blast radius security in contoso.yaml: approve",
    )


def test_forbid_rules_forbid(contoso: TenantPolicy) -> None:
    assert decide(contoso, "m365.remove_license", BlastRadius.DESTRUCTIVE) == (
        FORBID,
        "blast radius destructive: forbid (contoso.yaml line 5)",
    )
    assert decide(contoso, "psa.send_reply", BlastRadius.EXTERNAL_COMMUNICATION) == (
        FORBID,
        "actions: psa.send_reply: forbid (contoso.yaml line 9)",
    )


def test_privileged_group_change_needs_approval_though_internal_is_auto(
    contoso: TenantPolicy,
) -> None:
    assert decide(contoso, "m365.remove_group_member", BlastRadius.SECURITY) == (
        APPROVE,
        "no rule for m365.remove_group_member or blast radius security in contoso.yaml: approve",
    )


def test_auto_action_rule_gives_way_to_the_floor_at_decision_time(contoso: TenantPolicy) -> None:
    # m365.assign_license is internal, so `auto` loads; a step that is security is still drafted.
    assert decide(contoso, "m365.assign_license", BlastRadius.INTERNAL) == (
        AUTO,
        "actions: m365.assign_license: auto (contoso.yaml line 8)",
    )
    assert decide(contoso, "m365.assign_license", BlastRadius.SECURITY) == (
        APPROVE,
        "floor: security is never auto",
    )


def test_expiry_and_approvers_come_from_the_file(contoso: TenantPolicy) -> None:
    assert contoso.expiry == timedelta(hours=4)
    assert [role for role in ROLES if contoso.may_approve(role)] == ["tech", "approver", "admin"]


@pytest.mark.parametrize(
    ("hours", "expiry"),
    [("1.5", timedelta(minutes=90)), ("720", timedelta(days=30)), ("0.25", timedelta(minutes=15))],
)
def test_expiry_in_hours(hours: str, expiry: timedelta) -> None:
    policy = parse_policy(f"approvers: [admin]\napproval_expiry_hours: {hours}\n", "a.yaml")

    assert policy.expiry == expiry


def test_empty_rule_sections_mean_every_step_needs_approval() -> None:
    policy = parse_policy("blast_radius:\nactions:\n" + TAIL, "a.yaml")

    assert policy.blast_radius == {}
    assert policy.actions == {}
    assert decide(policy, "psa.add_internal_note", BlastRadius.INTERNAL)[0] is APPROVE


# --- the floor holds for any valid policy -----------------------------------------------------


def _allowed(*radii: BlastRadius | None) -> list[str]:
    """The decisions a rule may give for something that can have ``radii``."""
    if any(radius in APPROVAL_FLOOR for radius in radii):
        return ["approve", "forbid"]
    return ["auto", "approve", "forbid"]


def _rules(allowed: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    """Some of the names in ``allowed``, each with one of its allowed decisions."""
    return st.fixed_dictionaries(
        {}, optional={name: st.sampled_from(choices) for name, choices in allowed.items()}
    )


valid_policies: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "approvers": st.lists(st.sampled_from(ROLES), min_size=1, unique=True),
        "approval_expiry_hours": st.integers(min_value=1, max_value=720),
    },
    optional={
        "blast_radius": _rules({radius.value: _allowed(radius) for radius in BlastRadius}),
        "actions": _rules(
            {name: _allowed(s.radius, s.privileged_radius) for name, s in catalogue().items()}
        ),
    },
)


@given(valid_policies)
def test_no_valid_policy_decides_auto_for_a_floor_radius(data: dict[str, Any]) -> None:
    policy = parse_policy(yaml.safe_dump(data), "random.yaml")

    for action in [*catalogue(), "crm.not_an_action"]:
        for radius in BlastRadius:
            decision, because = decide(policy, action, radius)
            if radius in APPROVAL_FLOOR:
                assert decision is not AUTO, (action, radius, because)


@given(valid_policies, st.data())
def test_adding_any_floor_lowering_rule_to_a_valid_policy_is_refused(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    section, name = draw.draw(
        st.sampled_from(
            [("blast_radius", radius.value) for radius in sorted(APPROVAL_FLOOR)]
            + [("actions", action) for action in FLOOR_ACTIONS]
        )
    )
    data = {**data, section: {**data.get(section, {}), name: "auto"}}

    with pytest.raises(InputError, match=rf"`{re.escape(name)}: auto` is not allowed"):
        parse_policy(yaml.safe_dump(data), "random.yaml")


@pytest.mark.parametrize(
    "action", sorted(name for name, spec in catalogue().items() if spec.manual) or ["(none)"]
)
def test_a_manual_step_waits_for_the_technicians_tick_even_when_its_radius_is_auto(
    tmp_path: Path, action: str
) -> None:
    builtin = resources.files("deskhand.policy").joinpath("default_policy.yaml")
    text = builtin.read_text("utf-8").replace("internal: approve", "internal: auto", 1)
    path = tmp_path / "internal-auto.yaml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path)
    assert decide(policy, "psa.add_internal_note", BlastRadius.INTERNAL)[0] is Decision.AUTO
    decision, because = decide(policy, action, BlastRadius.INTERNAL)
    assert decision is Decision.APPROVE
    assert "manual step" in because
