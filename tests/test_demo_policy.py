"""The demo's policy file for Contoso Dental names only what the sandbox seed has: the role's
licences and groups, and the OU a leaver synced from AD is moved to — so that `deskhand demo`
plans a leaver and a starter that can run."""

from __future__ import annotations

from pathlib import Path

from deskhand.connectors.sandbox.seed import _SKU_NAMES, CONTOSO_DENTAL, CONTOSO_DISABLED_OU
from deskhand.demo import DEMO_POLICIES, demo_policy
from tests.policy.installed import load_policy


def test_every_demo_policy_file_loads() -> None:
    for tenant in DEMO_POLICIES:
        path = demo_policy(tenant)
        assert path is not None and Path(path).is_file()
        load_policy(Path(path))
    assert demo_policy("northwind-law") is None  # the built-in policy


def test_contoso_s_templates_name_what_the_sandbox_has() -> None:
    policy = load_policy(Path(demo_policy("contoso-dental") or ""))
    lifecycle = policy.lifecycle

    assert policy.time_zone == "Europe/London"
    assert lifecycle.offboarding.disabled_ou == CONTOSO_DISABLED_OU
    assert lifecycle.offboarding.auto_reply and "{delegate}" in lifecycle.offboarding.auto_reply
    front_desk = lifecycle.role("Front Desk")
    assert front_desk is not None
    licences = {_SKU_NAMES[s.sku_id][1] for s in CONTOSO_DENTAL.subscriptions}
    assert set(front_desk.licences) <= licences
    # groups Graph can change: not a distribution list, not a privileged group
    changeable = {g.name for g in CONTOSO_DENTAL.groups if not g.mail_enabled and not g.privileged}
    assert front_desk.groups and set(front_desk.groups) <= changeable
    systems = [item.system for item in lifecycle.vendor_checklist]
    assert systems == ["Dentrix", "Distributor portal (Microsoft 365 seats)"]
    assert all(item.offboarding and item.onboarding for item in lifecycle.vendor_checklist)
