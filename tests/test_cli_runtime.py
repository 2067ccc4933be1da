"""The runtime's commands as a user runs them: real processes, a real SQLite file, the sandbox
tenants — including the README's walk-through of one ticket with `deskhand serve` running."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

APPROVER = "dana@msp.example"


class Desk:
    """A deskhand installation in a folder of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(Path.home()),
            "DESKHAND_DATA_DIR": str(folder),
            "DESKHAND_POLL_SECONDS": "0.05",
            "COLUMNS": "160",
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "deskhand", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )
        assert "Traceback" not in result.stderr, result.stderr
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def sql(self, statement: str) -> None:
        with sqlite3.connect(self.folder / "deskhand.db") as connection:
            connection.execute(statement)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return Desk(tmp_path)


@pytest.fixture
def demo(desk: Desk) -> Desk:
    desk.run("demo", "--no-serve")
    return desk


def test_workers_refuse_a_database_without_the_current_schema(desk: Desk) -> None:
    for command in (["worker", "--once"], ["serve"]):
        result = desk.run(*command, check=False)
        assert result.returncode == 2
        assert "has no deskhand schema" in result.stderr
        assert "deskhand db upgrade" in result.stderr
    assert "is now at version" in desk.run("db", "upgrade").stdout
    assert "already at version" in desk.run("db", "upgrade").stdout
    assert "current" in desk.run("db", "status").stdout


def test_demo_seeds_tenants_users_and_tickets(desk: Desk) -> None:
    seeded = desk.json("demo", "--no-serve")
    assert seeded["tenants"] == ["contoso-dental", "northwind-law"]
    assert seeded["approver"] == APPROVER
    assert len(seeded["tickets"]) == 7  # five samples, a leaver's and a starter's
    tenants = desk.json("tenants", "list")
    assert [t["id"] for t in tenants] == ["contoso-dental", "northwind-law"]
    users = {u["email"]: u for u in desk.json("users", "list")}
    assert users["lee@msp.example"]["role"] == "tech"
    assert users["lee@msp.example"]["tenants"] == ["contoso-dental"]
    assert desk.json("demo", "--no-serve")["tickets"] == []  # seeding again adds nothing


def test_the_demo_offboards_a_synced_leaver_as_contoso_s_lifecycle_templates_say(
    demo: Desk,
) -> None:
    policies = {t["id"]: t["policy"] for t in demo.json("tenants", "list")}
    assert policies["contoso-dental"].endswith("demo_policies/contoso-dental.yaml")
    assert policies["northwind-law"] == "built-in"
    demo.run("worker", "--once")
    tickets = {t["subject"]: t for t in demo.json("tickets", "list")}
    # the starter's ticket is there whichever way it goes (planned, or escalated when no
    # installed specialist onboards)
    assert tickets["New starter: Jane Doe"]["status"] in ("awaiting_approval", "escalated")

    [leaver] = [
        p
        for p in demo.json("approvals", "plans")
        if p["ticket_id"] == tickets["Leaver: Tom Becker"]["id"]
    ]
    steps = [(s["action"], s["description"]) for s in leaver["steps"]]

    assert leaver["specialist"] == "offboarding" and leaver["not_before"].endswith("17:00:00Z")
    actions = [action for action, _ in steps]
    assert actions[0] == "ad.disable_account"  # synced from AD: blocked there first
    assert actions.index("exchange.convert_to_shared_mailbox") < actions.index(
        "m365.remove_all_licences"
    )
    said = dict(steps)
    assert "karen.whitfield@contosodental.example" in said["m365.forward_mail"]
    assert "has left Contoso Dental" in said["m365.set_auto_reply"]
    assert "OU=Disabled Users,DC=contosodental,DC=example" in said["ad.move_to_ou"]
    vendors = [d for a, d in steps if a == "vendor.checklist_item"]
    assert [v.split(",")[0] for v in vendors] == [
        "Dentrix",
        "Distributor portal (Microsoft 365 seats)",
    ]
    shown = demo.run("approvals", "plans").stdout  # what a technician reads at 80 columns
    assert "Scheduled: nothing runs before" in shown and "approves it ahead" in shown
    assert "17:00 (Europe/London); approving now" in " ".join(shown.split())
    assert "(security; waiting; after step 1)" in shown

    demo.run("approvals", "approve-plan", str(leaver["run_id"]), "--as", APPROVER)
    [listed] = [t for t in demo.json("tickets", "list") if t["id"] == leaver["ticket_id"]]
    assert listed["status"] == "working"  # approved ahead: nobody's approval is awaited
    assert listed["runs_at"] == leaver["not_before"].replace("Z", "+00:00")
    assert listed["status_words"].startswith("Approved — runs ")
    assert listed["status_words"].endswith(" 17:00 (Europe/London)")
    table = " ".join(demo.run("tickets", "list").stdout.split())
    assert listed["status_words"] in table
    plan = " ".join(demo.run("approvals", "plan", str(leaver["run_id"])).stdout.split())
    assert f"{listed['status_words']}, not before." in plan


def test_approve_edit_reject_trace_and_audit(demo: Desk, tmp_path: Path) -> None:
    assert "worked on 7 run(s)" in demo.run("worker", "--once").stdout
    drafts = demo.json("approvals", "list")
    access = next(d for d in drafts if d["action"] == "m365.add_group_member")
    shown = demo.json("approvals", "show", str(access["id"]))
    assert shown["proposed_params"]["group_name"] == "Finance Share"
    assert shown["requester_check"]["verdict"] == "authorised_contact"

    edit = tmp_path / "edit.yaml"
    edit.write_text("group_name: Domain Admins\ngroup_id: " + _group_id(demo, "Front Desk") + "\n")
    named = demo.run(
        "approvals", "approve", str(access["id"]), "--as", APPROVER, "--edit", str(edit),
        check=False,
    )  # fmt: skip
    assert named.returncode == 2  # a name is the directory's, never the edit's
    assert "group_name is filled in from the directory" in named.stderr + named.stdout
    edit.write_text("group_id: " + _group_id(demo, "Domain Admins") + "\n")
    raised = demo.run(
        "approvals", "approve", str(access["id"]), "--as", APPROVER, "--edit", str(edit),
        check=False,
    )  # fmt: skip
    assert raised.returncode == 2
    assert "makes step 1 SECURITY" in raised.stderr + raised.stdout
    assert "--approve-as security" in raised.stderr + raised.stdout
    edit.write_text("group_id: " + _group_id(demo, "Front Desk") + "\n")
    approved = demo.json(
        "approvals", "approve", str(access["id"]), "--as", APPROVER, "--edit", str(edit)
    )
    assert approved["changes"]["group_name"] == ["Finance Share", "Front Desk"]
    reply = next(
        d for d in drafts if d["ticket_id"] == access["ticket_id"] and d["id"] != access["id"]
    )
    shown_reply = demo.run("approvals", "show", str(reply["id"])).stdout
    assert "Planned again" in shown_reply and "Front Desk" in shown_reply
    demo.run("approvals", "approve", str(reply["id"]), "--as", APPROVER)
    demo.run("worker", "--once")
    assert _status(demo, access["ticket_id"]) == "resolved"

    licence = next(d for d in drafts if d["action"] == "m365.add_license_seats")
    rejected = demo.run(
        "approvals", "reject", str(licence["id"]), "--as", APPROVER, "--reason", "ask the owner"
    )
    assert "human queue" in rejected.stdout
    queue = demo.json("escalations", "list")
    assert {e["reason"] for e in queue} == {"identity_unverified", "approval_rejected"}

    trace = demo.json("trace", str(access["ticket_id"]))
    kinds = [line["type"] for line in trace["lines"]]
    # The run completes, then the PSA status follows it (deskhand.engine.psa_status).
    assert kinds[0] == "ticket.received" and kinds[-2:] == ["run.completed", "psa.status_followed"]
    assert any(line["actor"]["name"] == APPROVER for line in trace["lines"])
    text = demo.run("trace", str(access["ticket_id"])).stdout
    assert "specialist:access_change" in text, text
    assert f"approved by {APPROVER} (edited: the group)" in text, text
    assert "planned again after dana@msp.example edited draft" in text, text

    assert "intact" in demo.run("audit", "verify").stdout
    lines = demo.run("audit", "export", "--format", "jsonl").stdout.splitlines()
    assert len(lines) > 40 and all(json.loads(line)["hash"] for line in lines)
    demo.sql("DROP TRIGGER events_no_update")  # deskhand cannot; whoever has the file can
    demo.sql("UPDATE events SET data = '{}' WHERE id = 5")
    broken = demo.run("audit", "verify", check=False)
    assert broken.returncode == 1 and "event 5" in broken.stdout


def _group_id(desk: Desk, name: str) -> str:
    with sqlite3.connect(desk.folder / "sandbox.db") as connection:
        row = connection.execute(
            "SELECT id FROM sandbox_groups WHERE display_name = ? AND tenant_id = 'contoso-dental'",
            (name,),
        ).fetchone()
    return str(row[0])


def _status(desk: Desk, ticket_id: int) -> str:
    return next(t["status"] for t in desk.json("tickets", "list") if t["id"] == ticket_id)


def test_bad_input_gets_a_message_and_exit_code_2(demo: Desk) -> None:
    cases = [
        (["tickets", "add", "--tenant", "nowhere", "--from", "a@b.example", "--subject", "x"],
         "No tenant 'nowhere'"),
        (["tickets", "add", "--tenant", "contoso-dental", "--from", "not-an-address",
          "--subject", "x"], "is not an e-mail address"),
        (["approvals", "approve", "999", "--as", APPROVER], "No draft 999"),
        (["approvals", "approve", "1", "--as", "lee@msp.example"], "is a tech"),
        (["users", "add", "x@msp.example", "--role", "boss", "--tenants", "*"], "Unknown role"),
        (["trace", "999"], "No ticket 999"),
    ]  # fmt: skip
    demo.run("worker", "--once")
    for args, message in cases:
        result = demo.run(*args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)


def test_one_ticket_from_arrival_to_verified_with_serve_running(desk: Desk) -> None:
    """The README's walk-through."""
    desk.run("demo", "--no-serve")
    server = subprocess.Popen(
        [sys.executable, "-m", "deskhand", "serve"],
        env=desk.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ticket_id = desk.run(
            "tickets", "add", "--tenant", "contoso-dental",
            "--from", "anna.kowalski@contosodental.example",
            "--subject", "Password expired", "--body", "My password expired, please reset it.",
        ).stdout.strip()  # fmt: skip
        assert ticket_id.isdigit()
        drafts = _wait(
            lambda: [d for d in desk.json("approvals", "list") if d["ticket_id"] == int(ticket_id)]
        )
        for draft in drafts:
            desk.run("approvals", "approve", str(draft["id"]), "--as", APPROVER)
        _wait(lambda: _status(desk, int(ticket_id)) == "resolved")
        secret = desk.run("approvals", "secret", str(drafts[0]["id"]), "--as", APPROVER).stdout
        assert "shown once" in secret
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert "Traceback" not in (server.stderr.read() if server.stderr else "")


def _wait(condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_tenant_policy_is_checked_before_it_is_used(demo: Desk, tmp_path: Path) -> None:
    floor = tmp_path / "loose.yaml"
    floor.write_text(
        "blast_radius:\n  security: auto\napprovers: [approver]\napproval_expiry_hours: 24\n"
    )
    refused = demo.run("tenants", "policy", "contoso-dental", str(floor), check=False)
    assert refused.returncode == 2
    assert "loose.yaml, line 2: `security: auto` is not allowed" in " ".join(refused.stderr.split())
    good = tmp_path / "good.yaml"
    good.write_text(
        "blast_radius:\n  internal: auto\napprovers: [admin]\napproval_expiry_hours: 4\n"
        "time_entries:\n  minutes:\n    account_unlock: 5\n"
    )
    shown = demo.run("tenants", "policy", "contoso-dental", str(good)).stdout
    assert "internal: auto" in shown and "approvers: admin" in shown and "4 h" in shown
    assert "not billable): account unlock 5 min." in " ".join(shown.split())
    assert demo.json("tenants", "list")[0]["policy"] == str(good.resolve())
    assert "built-in policy" in demo.run("tenants", "policy", "contoso-dental", "--builtin").stdout
    templated = tmp_path / "templated.yaml"
    templated.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\n"
        "reply_template: |\n  Dear {{ first_name }},\n  {{ body }}\n  Acme\n"
    )
    shown = demo.run("tenants", "policy", "contoso-dental", str(templated)).stdout
    assert "framed by this reply_template" in shown and "Dear {{ first_name }}," in shown
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "approvers: [approver]\napproval_expiry_hours: 24\nreply_template: |\n  Hi {{ name }}\n"
    )
    refused = demo.run("tenants", "policy", "contoso-dental", str(broken), check=False)
    assert refused.returncode == 2 and "'name' is undefined" in refused.stderr


def test_serve_on_a_port_in_use_says_so_once_and_exits_2(demo: Desk) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = demo.run("serve", "--port", str(port), check=False)

    assert done.returncode == 2
    assert f"Cannot serve at 127.0.0.1:{port}: another program is already listening there." in (
        done.stderr
    )
    assert f"--port {port + 1}" in done.stderr
    assert "serving at" not in done.stderr and "Traceback" not in done.stderr
