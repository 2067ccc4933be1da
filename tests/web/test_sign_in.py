"""Signing in: guessing is slowed down per account and address without anyone being able to
keep an approver out; X-Forwarded-For counts only from a configured proxy; disabled accounts,
new passwords and changed roles or tenants take effect on sessions and API tokens at once; every
cookie deskhand sets is Secure by one rule. The throttle's counts run on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand import accounts, sign_in_throttle
from deskhand.accounts import AccountDisabled, create_token, sign_in
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.domain.events import SYSTEM
from deskhand.engine import approvals
from deskhand.engine.runtime import Runtime
from deskhand.errors import InputError
from deskhand.sign_in_throttle import TooManyAttempts
from deskhand.store.models import EventRecord, LoginAttempt, User, now
from deskhand.web.app import create_app
from tests.web.conftest import PASSWORD, add_users
from tests.web.conftest import sign_in as sign_in_web

DANA = "dana@msp.example"
OFFICE = "198.51.100.10"  # the approver's own address
WRONG = "not the password at all"


def _desk(tmp_path: Path, database_url: str) -> Runtime:
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=database_url,
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt, tickets=False)
    add_users(rt)
    return rt


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """The demo's tenants and the test users, no tickets, on each backend."""
    rt = _desk(tmp_path, database_url)
    yield rt
    rt.close()


@pytest.fixture
def bare_rt(tmp_path: Path) -> Iterator[Runtime]:
    """The same on SQLite only, for what does not depend on the database."""
    rt = _desk(tmp_path, f"sqlite:///{tmp_path / 'deskhand.db'}")
    yield rt
    rt.close()


@pytest.fixture
def bare_client(bare_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(bare_rt), base_url="https://127.0.0.1") as client:
        yield client


def attempt(rt: Runtime, email: str, password: str, address: str) -> str:
    """One sign-in, committed as the web app commits it: signed in, wrong, stopped, disabled."""
    try:
        with rt.db.session() as session:
            user = sign_in(session, email, password, address)
    except TooManyAttempts:
        return "stopped"
    except AccountDisabled:
        return "disabled"
    return "signed in" if user is not None else "wrong"


def failed_before(rt: Runtime, email: str, address: str, times: int = 1) -> None:
    """Failures as ``attempt`` records them, written directly (each real one costs an argon2
    hash)."""
    with rt.db.session() as session:
        for _ in range(times):
            session.add(LoginAttempt(email=email, address=address, at=now(), succeeded=False))


def attempts_recorded(rt: Runtime) -> int:
    with rt.db.reading() as session:
        return len(session.scalars(select(LoginAttempt.id)).all())


def test_five_wrong_passwords_stop_that_address_for_that_account_only(desk: Runtime) -> None:
    for _ in range(sign_in_throttle.PER_PAIR):
        assert attempt(desk, DANA, WRONG, "203.0.113.5") == "wrong"
    assert attempt(desk, DANA, PASSWORD, "203.0.113.5") == "stopped"
    # The guesser's address may still sign in as someone else, and Dana from anywhere else.
    assert attempt(desk, "sam@msp.example", PASSWORD, "203.0.113.5") == "signed in"
    assert attempt(desk, DANA, PASSWORD, OFFICE) == "signed in"


def test_a_stopped_attempt_is_not_checked_and_not_counted(desk: Runtime) -> None:
    for _ in range(sign_in_throttle.PER_PAIR):
        attempt(desk, DANA, WRONG, "203.0.113.5")
    before = attempts_recorded(desk)
    for password in (WRONG, PASSWORD):  # the same answer: a stop says nothing of the password
        assert attempt(desk, DANA, password, "203.0.113.5") == "stopped"
    assert attempts_recorded(desk) == before


def test_an_address_spraying_many_accounts_is_stopped_and_no_one_else(desk: Runtime) -> None:
    for n in range(sign_in_throttle.PER_ADDRESS - 1):
        failed_before(desk, f"user{n}@msp.example", "203.0.113.7")
    assert attempt(desk, "someone@msp.example", WRONG, "203.0.113.7") == "wrong"
    assert attempt(desk, DANA, PASSWORD, "203.0.113.7") == "stopped"
    assert attempt(desk, DANA, PASSWORD, OFFICE) == "signed in"


def test_many_addresses_guessing_one_account_cannot_keep_its_owner_out(desk: Runtime) -> None:
    attackers = [f"203.0.113.{n}" for n in range(1, sign_in_throttle.ATTACKING_ADDRESSES + 3)]
    for address in attackers[: sign_in_throttle.ATTACKING_ADDRESSES - 1]:
        failed_before(desk, DANA, address, sign_in_throttle.PER_PAIR - 2)
    # Below the number of addresses that makes it an attack, each pair has its own count.
    assert attempt(desk, DANA, WRONG, attackers[0]) == "wrong"
    assert attempt(desk, DANA, PASSWORD, attackers[1]) == "signed in"
    for address in attackers[sign_in_throttle.ATTACKING_ADDRESSES - 1 :]:
        assert attempt(desk, DANA, WRONG, address) == "wrong"
    # Now one guess per attacking address: none of them gets another, right or wrong …
    for address in attackers:
        assert attempt(desk, DANA, PASSWORD, address) == "stopped", address
    # … while the account itself is never locked: Dana's own address signs in.
    assert attempt(desk, DANA, PASSWORD, OFFICE) == "signed in"
    # A new address gets its one try, and after a wrong one it waits like the rest.
    assert attempt(desk, DANA, WRONG, "192.0.2.99") == "wrong"
    assert attempt(desk, DANA, PASSWORD, "192.0.2.99") == "stopped"


def test_the_wait_is_until_the_counted_failures_leave_the_window(desk: Runtime) -> None:
    with desk.db.session() as session:
        for minutes in (16, 14, 10, 9, 8, 7):  # the one 16 minutes ago no longer counts
            session.add(
                LoginAttempt(
                    email=DANA,
                    address="203.0.113.5",
                    at=now() - timedelta(minutes=minutes),
                    succeeded=False,
                )
            )
    with desk.db.session() as session, pytest.raises(TooManyAttempts) as stopped:
        sign_in(session, DANA, PASSWORD, "203.0.113.5")
    assert stopped.value.message == "Too many failed sign-ins. Try again in 1 minute."
    assert timedelta(0) < stopped.value.retry_after <= timedelta(minutes=1)


def test_the_login_page_says_stopped_with_429_and_a_wrong_password_with_401(
    bare_client: TestClient,
) -> None:
    app_client = bare_client
    for _ in range(sign_in_throttle.PER_PAIR):
        wrong = app_client.post("/login", data={"email": DANA, "password": WRONG})
        assert wrong.status_code == 401
    stopped = app_client.post("/login", data={"email": DANA, "password": PASSWORD})
    assert stopped.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in stopped.text


# X-Forwarded-For: only from a configured proxy.


def _recorded_address(rt: Runtime, client: TestClient, forwarded: str) -> str:
    client.post(
        "/login",
        data={"email": "probe@msp.example", "password": WRONG},
        headers={"X-Forwarded-For": forwarded},
    )
    with rt.db.reading() as session:
        newest = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
        assert newest is not None
        return newest.address


@pytest.mark.parametrize(
    ("allowed", "peer", "counted"),
    [
        (None, "127.0.0.1", "127.0.0.1"),  # the default: no one's, not even a local peer's
        ("", "127.0.0.1", "127.0.0.1"),
        ("127.0.0.1", "127.0.0.1", "203.0.113.66"),
        ("10.0.0.0/8, 192.0.2.1", "10.1.2.3", "203.0.113.66"),
        ("10.0.0.0/8", "127.0.0.1", "127.0.0.1"),
        ("*", "192.0.2.200", "203.0.113.66"),
    ],
)
def test_forwarded_for_counts_only_from_a_configured_proxy(
    bare_rt: Runtime, allowed: str | None, peer: str, counted: str
) -> None:
    app = create_app(bare_rt, forwarded_allow_ips=allowed)
    with TestClient(app, base_url="https://127.0.0.1", client=(peer, 40000)) as client:
        assert _recorded_address(bare_rt, client, "203.0.113.66") == counted


def test_the_forwarded_setting_comes_from_the_environment_setting(
    bare_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKHAND_FORWARDED_ALLOW_IPS", "127.0.0.1")
    bare_rt.settings.forwarded_allow_ips = Settings().forwarded_allow_ips
    app = create_app(bare_rt)
    with TestClient(app, base_url="https://127.0.0.1", client=("127.0.0.1", 40000)) as client:
        assert _recorded_address(bare_rt, client, "203.0.113.66") == "203.0.113.66"


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(bare_rt: Runtime) -> None:
    app_client = TestClient(create_app(bare_rt), base_url="https://127.0.0.1")
    for n in range(sign_in_throttle.PER_ADDRESS):
        app_client.post(
            "/login",
            data={"email": f"user{n}@msp.example", "password": WRONG},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    stopped = app_client.post(
        "/login",
        data={"email": DANA, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.250"},
    )
    assert stopped.status_code == 429


def test_a_malformed_forwarded_allow_ips_is_named_before_serving(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from deskhand.cli import app

    result = CliRunner().invoke(
        app,
        ["serve", "--forwarded-allow-ips", "10.0.0.1, proxy.local"],
        env={"DESKHAND_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 2, result.output
    assert "--forwarded-allow-ips: 'proxy.local' is not an IP address or network." in result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _served_address(folder: Path, *options: str) -> str:
    """Run `deskhand serve` for real, sign in wrongly through it with X-Forwarded-For, and
    read the address the attempt was counted under."""
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(Path.home()),
        "DESKHAND_DATA_DIR": str(folder),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "deskhand", "serve", "--no-worker", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/login",
                    data={"email": "probe@msp.example", "password": WRONG},
                    headers={"X-Forwarded-For": "203.0.113.66"},
                )
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "deskhand serve did not start"
                time.sleep(0.2)
        assert answer.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    rt = Runtime.from_settings(Settings(data_dir=folder))
    try:
        with rt.db.reading() as session:
            newest = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
            assert newest is not None
            return newest.address
    finally:
        rt.close()


def test_deskhand_serve_believes_forwarded_for_only_when_told_to(tmp_path: Path) -> None:
    """uvicorn's own default believes any local peer; `serve` must not."""
    rt = Runtime.from_settings(Settings(data_dir=tmp_path))
    rt.db.upgrade()
    rt.close()
    assert _served_address(tmp_path) == "127.0.0.1"
    assert _served_address(tmp_path, "--forwarded-allow-ips", "127.0.0.1") == "203.0.113.66"


# Accounts: disabled, new password, changed role and tenants.


def _token(rt: Runtime, email: str) -> str:
    with rt.db.session() as session:
        return create_token(session, accounts.find_user(session, email), "test")


def _change(rt: Runtime, email: str, change: str, *args: object) -> object:
    with rt.db.session() as session:
        user = accounts.find_user(session, email)
        return getattr(accounts, change)(session, user, *args, SYSTEM)


def test_disabling_ends_sessions_and_tokens_and_refuses_sign_in_until_enabled(
    bare_rt: Runtime, bare_client: TestClient
) -> None:
    web_rt, app_client = bare_rt, bare_client
    sign_in_web(app_client, DANA)
    token = {"Authorization": f"Bearer {_token(web_rt, DANA)}"}
    assert app_client.get("/api/v1/me", headers=token).status_code == 200

    ended = _change(web_rt, DANA, "disable_user")
    assert ended == accounts.Ended(sessions=1, tokens=1)
    assert app_client.get("/queue", follow_redirects=False).status_code == 303
    assert app_client.get("/api/v1/me", headers=token).status_code == 401
    refused = app_client.post("/login", data={"email": DANA, "password": PASSWORD})
    assert refused.status_code == 403
    assert f"The account {DANA} is disabled." in refused.text
    wrong = app_client.post("/login", data={"email": DANA, "password": WRONG})
    assert wrong.status_code == 401  # a wrong password does not learn that it is disabled

    _change(web_rt, DANA, "enable_user")
    sign_in_web(app_client, DANA)
    assert app_client.get("/queue").status_code == 200
    assert app_client.get("/api/v1/me", headers=token).status_code == 401  # stays revoked


def test_a_disabled_account_is_refused_even_where_its_access_was_not_ended(
    bare_rt: Runtime, bare_client: TestClient
) -> None:
    web_rt, app_client = bare_rt, bare_client
    """Belt and braces: a session or token that outlived the disabling (restored from a
    backup, say) is refused too."""
    sign_in_web(app_client, DANA)
    token = {"Authorization": f"Bearer {_token(web_rt, DANA)}"}
    with web_rt.db.session() as session:
        accounts.find_user(session, DANA).disabled_at = now()
    assert app_client.get("/queue", follow_redirects=False).status_code == 303
    assert app_client.get("/api/v1/me", headers=token).status_code == 401


def test_a_new_password_revokes_the_users_api_tokens_and_ends_sessions(
    bare_rt: Runtime, bare_client: TestClient
) -> None:
    web_rt, app_client = bare_rt, bare_client
    sign_in_web(app_client, DANA)
    token = {"Authorization": f"Bearer {_token(web_rt, DANA)}"}
    ended = _change(web_rt, DANA, "change_password", "a whole new passphrase")
    assert ended == accounts.Ended(sessions=1, tokens=1)
    assert app_client.get("/api/v1/me", headers=token).status_code == 401
    assert app_client.get("/queue", follow_redirects=False).status_code == 303
    sign_in_web(app_client, DANA, "a whole new passphrase")


def test_a_changed_role_or_scope_applies_to_the_next_request(
    bare_rt: Runtime, bare_client: TestClient
) -> None:
    web_rt, app_client = bare_rt, bare_client
    riley = "riley@msp.example"
    sign_in_web(app_client, riley)
    token = {"Authorization": f"Bearer {_token(web_rt, riley)}"}
    assert app_client.get("/tenants/contoso-dental").status_code == 404
    _change(web_rt, riley, "set_tenants", ["northwind-law", "contoso-dental"])
    assert app_client.get("/tenants/contoso-dental").status_code == 200
    assert app_client.get("/api/v1/events", headers=token).status_code == 200
    _change(web_rt, riley, "set_role", "tech")
    assert app_client.get("/api/v1/events", headers=token).status_code == 403
    assert app_client.get("/audit").status_code == 403


def test_every_account_change_is_an_event_of_the_log(bare_rt: Runtime) -> None:
    web_rt = bare_rt
    with web_rt.db.session() as session:
        accounts.add_user(
            session,
            "new@msp.example",
            name="New",
            role="tech",
            tenants=["contoso-dental"],
            password="long enough password",
            actor=SYSTEM,
        )
    for change, *args in (
        ("set_role", "approver"),
        ("set_tenants", ["*"]),
        ("change_password", "another long password"),
        ("disable_user",),
        ("enable_user",),
        ("remove_user",),
    ):
        _change(web_rt, "new@msp.example", change, *args)
    with web_rt.db.reading() as session:
        found = session.scalars(
            select(EventRecord).where(EventRecord.type.like("user.%")).order_by(EventRecord.id)
        ).all()
        assert [(e.type, e.actor, e.data["user"]) for e in found] == [
            (kind, "deskhand", "new@msp.example")
            for kind in (
                "user.added",
                "user.role_changed",
                "user.tenants_changed",
                "user.password_changed",
                "user.disabled",
                "user.enabled",
                "user.removed",
            )
        ]
        assert found[1].data == {"user": "new@msp.example", "before": "tech", "after": "approver"}
        assert session.scalars(select(User).where(User.email == "new@msp.example")).first() is None


def test_a_user_with_approval_history_cannot_be_removed_only_disabled(web_rt: Runtime) -> None:
    approvals.approve(web_rt, 1, DANA, verification="called back the number on file")
    with pytest.raises(InputError) as refused:
        _change(web_rt, DANA, "remove_user")
    assert "cannot be removed: they decided 1 draft(s)" in refused.value.message
    assert refused.value.hint is not None and "deskhand users disable" in refused.value.hint
    with web_rt.db.reading() as session:
        assert accounts.find_user(session, DANA).disabled_at is None


# Cookies.


def _cookies(response: httpx.Response) -> dict[str, str]:
    found = {}
    for response_ in [*response.history, response]:
        for header in response_.headers.get_list("set-cookie"):
            found[header.split("=", 1)[0]] = header
    return found


@pytest.mark.parametrize(
    ("base_url", "secure"),
    [
        ("https://deskhand.example", True),
        ("http://127.0.0.1", True),  # browsers keep Secure cookies on loopback http
        ("http://localhost", True),
        ("http://deskhand.lan", False),  # plain http elsewhere: Secure would be dropped
    ],
)
def test_the_flash_cookie_is_secure_by_the_session_cookies_rule(
    bare_rt: Runtime, base_url: str, secure: bool
) -> None:
    with TestClient(create_app(bare_rt), base_url=base_url) as client:
        signed_in = client.post(
            "/login", data={"email": DANA, "password": PASSWORD}, follow_redirects=False
        )
        session_cookie = _cookies(signed_in)["deskhand_session"]
        if base_url.startswith("http://"):  # the test client keeps Secure cookies to https
            client.cookies.set("deskhand_session", session_cookie.split(";")[0].split("=", 1)[1])
        page = client.get("/queue")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, page.text[:300]
        signed_out = client.post("/logout", data={"csrf": csrf[1]}, follow_redirects=False)
        flash_cookie = _cookies(signed_out)["deskhand_flash"]
    for cookie in (session_cookie, flash_cookie):
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert ("secure" in attributes) is secure, cookie
