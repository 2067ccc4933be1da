"""The web app on a real SQLite database with the demo tenants, and signed-in clients.

Users (password ``PASSWORD`` for all):
- dana@msp.example    approver, all tenants (the demo approver)
- sam@msp.example     admin, all tenants
- lee@msp.example     tech, contoso-dental only
- riley@msp.example   approver, northwind-law only
- vic@msp.example     viewer, contoso-dental only
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from deskhand.accounts import set_password
from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.store.models import User
from deskhand.web.app import create_app
from tests.support import postgres_database

PASSWORD = "correct horse battery staple"
USERS = {
    "dana@msp.example": ("approver", ["*"]),
    "sam@msp.example": ("admin", ["*"]),
    "lee@msp.example": ("tech", ["contoso-dental"]),
    "riley@msp.example": ("approver", ["northwind-law"]),
    "vic@msp.example": ("viewer", ["contoso-dental"]),
}


@pytest.fixture
def web_rt(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with the demo seeded (five sample tickets dispatched) and known passwords."""
    rt = Runtime.from_settings(
        Settings(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'deskhand.db'}",
            sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
        )
    )
    seed(rt)
    Worker(rt, "test-worker").run_once()
    add_users(rt)
    yield rt
    rt.close()


@pytest.fixture
def pg_web_rt(tmp_path: Path) -> Iterator[Runtime]:
    """The demo on the machine's PostgreSQL (a throwaway database), with the test users; no
    worker turn has run."""
    with postgres_database("deskhand_web") as url:
        rt = Runtime.from_settings(
            Settings(
                data_dir=tmp_path,
                database_url=url,
                sandbox_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
            )
        )
        seed(rt)
        add_users(rt)
        try:
            yield rt
        finally:
            rt.close()


def add_users(rt: Runtime) -> None:
    """The users above, with their roles, tenants and the password ``PASSWORD``."""
    with rt.db.session() as session:
        for email, (role, tenants) in USERS.items():
            user = session.execute(select(User).where(User.email == email)).scalar()
            if user is None:
                user = User(
                    email=email, name=email.split("@")[0].title(), role=role, tenants=tenants
                )
                session.add(user)
            user.role, user.tenants = role, tenants
            set_password(user, PASSWORD)


@pytest.fixture
def app_client(web_rt: Runtime) -> Iterator[TestClient]:
    """A client of the app; not signed in."""
    # https: the session cookie is Secure, and unlike a browser the test client sends a
    # Secure cookie only over https (browsers also accept it on loopback http).
    with TestClient(create_app(web_rt), base_url="https://127.0.0.1") as client:
        yield client


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in; returns the session's CSRF token (read from a page's form)."""
    response = client.post("/login", data={"email": email, "password": password, "next": "/queue"})
    assert response.status_code == 200, response.text  # followed the redirect to the queue
    match = re.search(r'name="csrf" value="([^"]+)"', response.text)
    assert match, "the signed-in page carries a CSRF token"
    return match.group(1)


@pytest.fixture
def signed_in(app_client: TestClient) -> tuple[TestClient, str]:
    """The demo approver, signed in: (client, csrf token)."""
    return app_client, sign_in(app_client, "dana@msp.example")
