"""`deskhand notify check|test TENANT`: where messages go, shown without secrets, and a trial
message sent over real HTTP."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from deskhand.cli import app
from deskhand.engine.runtime import Runtime
from tests.connectors.mail.server import free_port
from tests.notifications.conftest import Receiver


def notify(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["notify", *args], env={"DESKHAND_DATA_DIR": str(tmp_path), **env}
    )
    return result.exit_code, result.output


def test_a_trial_message_reaches_the_msps_webhook_and_names_it_without_its_token(
    rt: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    env = {"DESKHAND_NOTIFY_URLS": "env:MSP_HOOK", "MSP_HOOK": receiver.url()}
    code, said = notify(tmp_path, env, "test", "contoso-dental")

    assert code == 0, said
    assert said.strip() == "env:MSP_HOOK: sent"
    (message,) = receiver.messages()
    assert message["title"] == "[Contoso Dental] deskhand test message"
    assert "/plans?tenant=contoso-dental" in message["message"]


def test_a_target_that_does_not_take_it_fails_the_command(rt: Runtime, tmp_path: Path) -> None:
    url = f"json://127.0.0.1:{free_port()}/hook/Cl0sed-Port-Token-4411"
    code, said = notify(tmp_path, {"DESKHAND_NOTIFY_URLS": url}, "test", "contoso-dental")
    assert code == 1
    assert "not sent:" in said and "Cl0sed-Port-Token-4411" not in said


def test_check_lists_the_targets_and_what_is_wrong_without_sending(
    rt: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    env = {"DESKHAND_NOTIFY_URLS": f"escalation,execution_failed={receiver.url()} env:UNSET_HOOK"}
    code, said = notify(tmp_path, env, "check", "contoso-dental")

    assert code == 1
    lines = said.splitlines()
    assert (
        f"msp     json://127.0.0.1:{receiver.port}/…  (escalation, execution_failed)  ok" in lines
    )
    assert any("env:UNSET_HOOK" in line and "UNSET_HOOK is not set" in line for line in lines)
    assert "DESKHAND_PUBLIC_URL is not set" in said
    assert "T0ken-Only-In-Tests" not in said and receiver.posts == []


def test_an_unknown_tenant_is_named_with_the_known_ones(rt: Runtime, tmp_path: Path) -> None:
    code, said = notify(tmp_path, {}, "test", "contoso")
    assert code == 2 and "No tenant 'contoso'" in said and "contoso-dental" in said


def test_a_worker_run_once_from_cron_tells_what_is_due_before_it_exits(
    rt: Runtime, receiver: Receiver, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        ["worker", "--once"],
        env={"DESKHAND_DATA_DIR": str(tmp_path), "DESKHAND_NOTIFY_URLS": receiver.url()},
    )
    assert result.exit_code == 0, result.output
    assert sorted(m["title"] for m in receiver.messages()) == [
        "[Contoso Dental] 4 new plan(s) wait for approval",
        "[Contoso Dental] Escalated: Password reset for Dr. Raman",
    ]
