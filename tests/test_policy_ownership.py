"""Nobody owns a thing that nobody can explain: setting a tenant's policy records who, the file's
hash and why; when that person is disabled, `deskhand tenants doctor`, `deskhand tenants policy`
and the Tenants page say so and ask for a new owner, and nothing stops working;
`deskhand tenants owner` records the new owner. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.store.models import EventRecord, Tenant
from deskhand.web.app import create_app
from tests.web.conftest import add_users, sign_in

TENANT = "contoso-dental"
GONE = (
    "Policy owner dana@msp.example is disabled: pick a new owner with "
    f"`deskhand tenants owner {TENANT} --as you`"
)
POLICY = """\
blast_radius:
  read: auto
  internal: approve
  security: approve
  billing: approve
  external_communication: approve
  destructive: approve
approvers: [approver, admin]
approval_expiry_hours: 8
"""


@pytest.fixture
def rt(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(runtime, tickets=False)
    add_users(runtime)
    yield runtime
    runtime.close()


def run(rt: Runtime, *args: str, code: int = 0) -> Result:
    env = {"DESKHAND_DATA_DIR": str(rt.settings.data_dir), "COLUMNS": "250"}
    result = CliRunner().invoke(app, ["--db", rt.settings.database_url, *args], env=env)
    assert result.exit_code == code, result.output
    return result


def doctor(rt: Runtime) -> dict[str, Any]:
    found = json.loads(run(rt, "tenants", "doctor", TENANT, "--json").stdout)[TENANT]
    owners = [f for f in found if f["check"] == "policy owner"]
    assert len(owners) == 1, found
    return dict(owners[0])


def tenants_page(rt: Runtime) -> str:
    with TestClient(create_app(rt), base_url="https://127.0.0.1") as client:
        sign_in(client, "sam@msp.example")
        listing = client.get("/tenants").text
        one = client.get(f"/tenants/{TENANT}").text
    return listing + one


def events(rt: Runtime, type_: str) -> list[EventRecord]:
    with rt.db.reading() as session:
        found = list(
            session.scalars(
                select(EventRecord).where(EventRecord.type == type_).order_by(EventRecord.id)
            )
        )
        session.expunge_all()
    return found


def test_a_policy_change_names_its_owner_and_a_disabled_owner_is_asked_to_be_replaced(
    rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "contoso.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    set_it = run(
        rt, "tenants", "policy", TENANT, str(policy), "--as", "dana@msp.example",
        "--reason", "internal steps need approval here",
    )  # fmt: skip
    assert "Last changed by dana@msp.example on " in set_it.stdout
    assert ": internal steps need approval here" in set_it.stdout
    [recorded] = events(rt, "tenant.policy_set")
    assert (recorded.actor_kind, recorded.actor, recorded.tenant_id) == (
        "user",
        "dana@msp.example",
        TENANT,
    )
    assert recorded.data == {
        "path": str(policy.resolve()),
        "sha256": hashlib.sha256(POLICY.encode()).hexdigest(),
        "reason": "internal steps need approval here",
    }
    assert doctor(rt)["outcome"] == "ok"
    assert "Policy owner" not in tenants_page(rt)

    run(rt, "users", "disable", "dana@msp.example")
    finding = doctor(rt)  # the doctor warns, and does not fail: nothing stops working
    assert finding["outcome"] == "warn"
    assert finding["detail"].startswith(GONE)
    assert finding["fix"].startswith(f"deskhand tenants owner {TENANT} --as YOU")
    assert GONE in run(rt, "tenants", "policy", TENANT).stdout
    page = tenants_page(rt)
    assert page.count("Policy owner dana@msp.example is disabled") == 2  # the list, the tenant
    with rt.db.reading() as session:  # the policy is still the one deskhand uses
        tenant = session.get(Tenant, TENANT)
        assert tenant is not None and tenant.policy_path == str(policy.resolve())

    taken = run(rt, "tenants", "owner", TENANT, "--as", "sam@msp.example", "--reason", "Dana left")
    assert f"sam@msp.example now owns the policy of {TENANT} (before: dana@msp.example)." in (
        taken.stdout
    )
    [owner_set] = events(rt, "tenant.owner_set")
    assert (owner_set.actor, owner_set.data) == (
        "sam@msp.example",
        {"previous": "dana@msp.example", "reason": "Dana left"},
    )
    assert doctor(rt)["outcome"] == "ok"
    assert "Last changed by sam@msp.example" in doctor(rt)["detail"]
    assert "is disabled" not in tenants_page(rt)


def test_a_policy_set_without_a_user_still_works_and_says_nobody_owns_it(
    rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "contoso.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    said = run(rt, "tenants", "policy", TENANT, str(policy)).stdout
    assert "Nobody owns this policy now: pass --as YOU and --reason next time" in said
    assert doctor(rt)["outcome"] == "warn"
    assert "No deskhand user owns this policy" in doctor(rt)["detail"]


def test_a_disabled_user_cannot_take_a_policy_over(rt: Runtime) -> None:
    run(rt, "users", "disable", "lee@msp.example")
    refused = run(rt, "tenants", "owner", TENANT, "--as", "lee@msp.example", code=2)
    assert "is disabled and cannot own a policy" in refused.output
    assert events(rt, "tenant.owner_set") == []


def test_a_tenant_added_with_a_policy_records_it_and_asks_for_an_owner(
    rt: Runtime, tmp_path: Path
) -> None:
    policy = tmp_path / "newco.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    run(rt, "tenants", "add", "newco", "--no-input", "--domain", "newco.example",
        "--policy", str(policy))  # fmt: skip
    [recorded] = events(rt, "tenant.policy_set")
    assert (recorded.tenant_id, recorded.actor_kind) == ("newco", "system")
    assert recorded.data["sha256"] == hashlib.sha256(POLICY.encode()).hexdigest()
    said = run(rt, "tenants", "policy", "newco").stdout
    assert "No deskhand user owns this policy" in said
    assert "`deskhand tenants owner newco --as you`" in said
