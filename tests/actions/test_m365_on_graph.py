"""The executor's operations on a tenant whose Microsoft 365 is the Graph client: snapshot →
act → check, against the Graph stand-in, as the executor runs them — where Graph shows more than
the sandbox could (the request it got, a manual step read back). Every Microsoft 365 action runs
on both in tests/connectors/contract/test_m365.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from deskhand.actions import action
from deskhand.actions import action as action_named
from deskhand.actions.contract import Baseline
from deskhand.connectors.factory import Connectors, NoDirectory
from deskhand.connectors.graph import GraphM365
from deskhand.connectors.sandbox.store import SandboxStore
from deskhand.connectors.sandbox.systems import SandboxPsa
from tests.connectors.graph.conftest import Tenant
from tests.connectors.graph.standin import GraphStandIn


def connectors(m365: GraphM365, tmp_path: Path) -> Connectors:
    # Only Microsoft 365 is used here; the PSA is an empty sandbox and there is no AD.
    psa = SandboxPsa(SandboxStore(f"sqlite:///{tmp_path / 'psa.db'}"), "contoso")
    return Connectors("contoso", psa=psa, m365=m365, ad=NoDirectory("contoso"))


def test_a_cloud_only_password_reset_runs_snapshot_act_check(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    c = connectors(m365, tmp_path)
    name = "m365.reset_password"
    params = action(name).validate(
        {"user_id": tenant.bob, "user_principal_name": "bob@contoso.com", "force_change": True}
    )
    operation = action_named(name)
    # Late in a second: Graph's lastPasswordChangeDateTime, in whole seconds, falls before it.
    started = datetime.now(UTC).replace(microsecond=999_999)

    snapshot = operation.snapshot(params, c)
    baseline = Baseline(started, snapshot)
    assert operation.check(params, c, "key-1", baseline).done is False

    secret = operation.secret()
    operation.act(params, c, "key-1", secret)
    check = operation.check(params, c, "key-1", baseline)

    assert check.done is True
    assert check.observed["must_change_password"] is True
    assert snapshot["password_changed_at"] == "2026-01-05T09:00:00Z"
    assert [body for endpoint, body in graph.bodies if endpoint == "patch_user"] == [
        {"passwordProfile": {"password": secret, "forceChangePasswordNextSignIn": True}}
    ]


def test_a_mailbox_conversion_is_verified_only_once_graph_reads_it_as_shared(
    m365: GraphM365, graph: GraphStandIn, tenant: Tenant, tmp_path: Path
) -> None:
    c = connectors(m365, tmp_path)
    name = "exchange.convert_to_shared_mailbox"
    params = action(name).validate(
        {"user_id": tenant.bob, "user_principal_name": "bob@contoso.com"}
    )
    operation = action_named(name)

    snapshot = operation.snapshot(params, c)
    baseline = Baseline(datetime.now(UTC), snapshot)
    operation.act(params, c, "key-3", None)  # the tick: Graph is not asked to change anything
    ticked_too_early = operation.check(params, c, "key-3", baseline)
    graph.purposes[tenant.bob] = "shared"  # the technician converts it in Exchange admin center
    converted = operation.check(params, c, "key-3", baseline)

    assert snapshot == {"purpose": "user"}
    assert ticked_too_early.done is False
    assert "ticked off before it was converted" in ticked_too_early.observed["manual_step"]
    assert (converted.done, converted.observed) == (True, {"purpose": "shared"})
    assert not any(line.startswith(("PATCH /v1.0", "POST /v1.0")) for line in graph.received)
