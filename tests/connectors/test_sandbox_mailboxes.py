"""The sandbox's mailboxes, as Graph's mailboxSettings show them: a user mailbox until a
technician converts it in Exchange admin center, none for a user without a mail address, and
a sandbox database made before mailboxes (or synced groups) were kept still opens. On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from deskhand.connectors.errors import NotFoundError
from deskhand.connectors.sandbox.seed import seed_demo
from deskhand.connectors.sandbox.store import SandboxStore, SandboxUser
from deskhand.connectors.sandbox.systems import SandboxM365

CONTOSO = "contoso-dental"
TOM = "tom.becker@contosodental.example"


@pytest.fixture
def store(seeded_store: SandboxStore) -> SandboxStore:
    return seeded_store


def set_user(store: SandboxStore, upn: str, **values: object) -> None:
    """What happens outside Graph (Exchange admin center, a mailbox removed), in the sandbox."""
    with store.session() as session:
        user = session.scalars(
            select(SandboxUser).where(SandboxUser.tenant_id == CONTOSO, SandboxUser.upn == upn)
        ).one()
        for name, value in values.items():
            setattr(user, name, value)


def test_a_mailbox_is_a_user_mailbox_until_converted_to_shared(store: SandboxStore) -> None:
    m365 = SandboxM365(store, CONTOSO)
    tom = m365.get_user(TOM).id

    before = m365.mailbox_purpose(tom)
    set_user(store, TOM, mailbox_purpose="shared")

    assert (before, m365.mailbox_purpose(tom), m365.mailbox_purpose(TOM)) == (
        "user",
        "shared",
        "shared",
    )
    assert store.calls(CONTOSO) == []  # reading a mailbox is not a mutating call


def test_a_user_without_a_mail_address_has_no_mailbox(store: SandboxStore) -> None:
    m365 = SandboxM365(store, CONTOSO)
    set_user(store, TOM, mail=None)

    with pytest.raises(NotFoundError) as caught:
        m365.mailbox_purpose(TOM)

    assert caught.value.status == 404
    assert caught.value.message.startswith(f"{TOM} has no Exchange Online mailbox")


def test_another_tenants_user_has_no_mailbox_here(store: SandboxStore) -> None:
    with pytest.raises(NotFoundError):
        SandboxM365(store, "northwind-law").mailbox_purpose(TOM)


def test_a_sandbox_made_before_mailboxes_were_kept_opens_with_user_mailboxes(url: str) -> None:
    older = SandboxStore(url)
    seed_demo(older)
    with older.engine.begin() as connection:
        connection.execute(text("ALTER TABLE sandbox_users DROP COLUMN mailbox_purpose"))
    older.dispose()

    reopened = SandboxStore(url)
    try:
        purpose = SandboxM365(reopened, CONTOSO).mailbox_purpose(TOM)
        again = SandboxStore(url)  # a second opening finds the column and leaves it
        again.dispose()
    finally:
        reopened.dispose()

    assert purpose == "user"


def test_a_sandbox_made_before_synced_groups_were_kept_opens_with_cloud_groups(url: str) -> None:
    older = SandboxStore(url)
    seed_demo(older)
    with older.engine.begin() as connection:
        connection.execute(text("ALTER TABLE sandbox_groups DROP COLUMN synced"))
    older.dispose()

    reopened = SandboxStore(url)
    try:
        groups = SandboxM365(reopened, CONTOSO).list_groups()
        again = SandboxStore(url)
        again.dispose()
    finally:
        reopened.dispose()

    assert groups and not any(group.synced for group in groups)
