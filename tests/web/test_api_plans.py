"""/api/v1/plans with an API token: plans listed one per run, approved whole in one call,
rejected with a reason, and hidden from a user who may not see the tenant."""

from __future__ import annotations

from fastapi.testclient import TestClient

from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.web.app import create_app
from tests.web.test_api import api, token_for  # noqa: F401  (the fixture)


def test_plans_are_listed_shown_and_approved_whole(api: TestClient, web_rt: Runtime) -> None:  # noqa: F811
    plans = api.get("/plans").json()
    assert len({p["run_id"] for p in plans}) == len(plans) >= 3
    drafts = api.get("/drafts", params={"limit": 500}).json()
    assert sorted(i for p in plans for i in p["pending"]) == sorted(d["id"] for d in drafts)
    first = next(p for p in plans if not p["verify_first"])
    assert api.get(f"/plans/{first['run_id']}").json() == first

    approved = api.post(f"/plans/{first['run_id']}/approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["pending"] == []
    for draft_id in first["pending"]:
        assert api.get(f"/drafts/{draft_id}").json()["status"] == "approved"
    again = api.post(f"/plans/{first['run_id']}/approve")
    assert again.status_code == 409
    assert "no drafts waiting" in again.json()["error"]


def test_a_rejected_plan_needs_a_reason_and_goes_to_the_human_queue(api: TestClient) -> None:  # noqa: F811
    run_id = api.get("/plans").json()[0]["run_id"]
    assert api.post(f"/plans/{run_id}/reject", json={"reason": ""}).status_code == 422

    rejected = api.post(f"/plans/{run_id}/reject", json={"reason": "the client called it off"})

    assert rejected.status_code == 200 and rejected.json()["pending"] == []
    queue = api.get("/escalations").json()
    assert any(e["reason"] == "approval_rejected" for e in queue)


def test_another_tenants_plan_is_not_there_for_that_user(web_rt: Runtime) -> None:
    riley = {"Authorization": f"Bearer {token_for(web_rt, 'riley@msp.example')}"}
    dana = {"Authorization": f"Bearer {token_for(web_rt, 'dana@msp.example')}"}
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1/api/v1") as client:
        contoso = [
            p
            for p in client.get("/plans", headers=dana).json()
            if p["tenant_id"] == "contoso-dental"
        ]
        assert contoso
        run_id = contoso[0]["run_id"]
        assert all(
            p["tenant_id"] != "contoso-dental" for p in client.get("/plans", headers=riley).json()
        )
        hidden = client.get(f"/plans/{run_id}", headers=riley)
        assert hidden.status_code == 404 and hidden.json()["error"] == f"There is no plan {run_id}."
        refused = client.post(f"/plans/{run_id}/approve", headers=riley)
        assert refused.status_code == 404


def _finished_group_change(api: TestClient, web_rt: Runtime) -> int:  # noqa: F811
    """The demo's plan that adds a user to a group, approved and run: its number."""
    [added] = [
        p
        for p in api.get("/plans").json()
        if p["steps"][0]["action"] == "m365.add_group_member" and len(p["steps"]) == 3
    ]
    assert api.post(f"/plans/{added['run_id']}/approve").status_code == 200
    Worker(web_rt, "test-worker").run_once()
    assert api.get(f"/plans/{added['run_id']}").json()["steps"][0]["status"] == "verified"
    return int(added["run_id"])


def test_a_finished_plan_is_undone_as_a_new_plan_waiting_for_approval(
    api: TestClient,  # noqa: F811
    web_rt: Runtime,
) -> None:
    finished = _finished_group_change(api, web_rt)

    proposed = api.post(f"/plans/{finished}/undo")

    assert proposed.status_code == 201, proposed.text
    undo = proposed.json()
    assert undo["undo_of"] == finished and undo["specialist"] == "undo"
    assert [s["action"] for s in undo["steps"]] == ["m365.remove_group_member"]
    assert undo["pending"] and undo["run_id"] in {p["run_id"] for p in api.get("/plans").json()}
    again = api.post(f"/plans/{finished}/undo")
    assert again.status_code == 409
    assert again.json()["error"] == (
        f"The undo of plan {finished} is proposed already: plan {undo['run_id']}, waiting for "
        "approval."
    )
    still_open = api.post(f"/plans/{undo['run_id']}/undo")
    assert still_open.status_code == 409
    assert "is still waiting for approval" in still_open.json()["error"]


def test_only_an_approver_who_sees_the_tenant_may_propose_an_undo(
    api: TestClient,  # noqa: F811
    web_rt: Runtime,
) -> None:
    finished = _finished_group_change(api, web_rt)
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1/api/v1") as client:
        riley = {"Authorization": f"Bearer {token_for(web_rt, 'riley@msp.example')}"}
        hidden = client.post(f"/plans/{finished}/undo", headers=riley)
        assert hidden.status_code == 404
        assert hidden.json()["error"] == f"There is no plan {finished}."
        lee = {"Authorization": f"Bearer {token_for(web_rt, 'lee@msp.example')}"}
        refused = client.post(f"/plans/{finished}/undo", headers=lee)
        assert refused.status_code == 403
        assert "lee@msp.example is a tech" in refused.json()["error"]
    assert [p for p in api.get("/plans").json() if p["undo_of"] == finished] == []


def _group_step(api: TestClient) -> tuple[int, dict[str, object]]:  # noqa: F811
    """The demo's waiting plan that adds a user to a group, and its group step."""
    [plan] = [
        p
        for p in api.get("/plans").json()
        if p["steps"][0]["action"] == "m365.add_group_member" and len(p["steps"]) == 3
    ]
    return int(plan["run_id"]), plan["steps"][0]


def test_a_group_is_left_out_of_a_plan_and_its_ticket_planned_again(api: TestClient) -> None:  # noqa: F811
    run_id, step = _group_step(api)
    assert step["gives"]
    draft_id = step["approval_id"]
    assert api.post(f"/drafts/{draft_id}/leave-out", json={"reason": " "}).status_code == 422

    left = api.post(f"/drafts/{draft_id}/leave-out", json={"reason": "not this group"})

    assert left.status_code == 200, left.text
    done = left.json()
    assert (done["draft_id"], done["run_id"], done["action"]) == (
        draft_id,
        run_id,
        "m365.add_group_member",
    )
    assert [o["name"] for o in done["left_out"]] == step["gives"]
    assert done["new_run_id"] > run_id and done["approver"] == "dana@msp.example"
    assert api.get(f"/plans/{run_id}").json()["pending"] == []
    assert api.get(f"/drafts/{draft_id}").json()["status"] == "rejected"
    again = api.post(f"/drafts/{draft_id}/leave-out", json={"reason": "not this group"})
    assert again.status_code == 409
    assert "was closed: something was left out of it" in again.json()["error"]
    assert again.json()["hint"]


def test_a_step_with_no_group_is_not_left_out_and_another_tenants_draft_is_not_there(
    api: TestClient,  # noqa: F811
    web_rt: Runtime,
) -> None:
    run_id, step = _group_step(api)
    steps = api.get(f"/plans/{run_id}").json()["steps"]
    reply = next(s for s in steps if s["approval_id"] is not None and not s["gives"])

    refused = api.post(f"/drafts/{reply['approval_id']}/leave-out", json={"reason": "no"})

    assert refused.status_code == 409
    assert "gives no group or licence" in refused.json()["error"]
    assert "edit the step" in refused.json()["hint"]
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1/api/v1") as client:
        riley = {"Authorization": f"Bearer {token_for(web_rt, 'riley@msp.example')}"}
        hidden = client.post(
            f"/drafts/{step['approval_id']}/leave-out", json={"reason": "no"}, headers=riley
        )
        assert hidden.status_code == 404
    assert api.get(f"/plans/{run_id}").json()["pending"]
