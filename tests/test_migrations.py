"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL:
a column, index or constraint added to one and not the other is caught here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select

from deskhand.config import Settings
from deskhand.demo import seed
from deskhand.domain.origin import TicketOrigin
from deskhand.domain.risks import risk_rank
from deskhand.engine import state
from deskhand.engine.runtime import Runtime
from deskhand.engine.worker import Worker
from deskhand.intake import quarantine
from deskhand.store.db import MIGRATIONS, Database
from deskhand.store.models import Approval, Base, Quarantined, Run, Step, Tenant, Ticket
from tests.support import postgres_database


def differences(url: str) -> list[object]:
    database = Database(url)
    try:
        database.upgrade()
        with database.engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        database.engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert differences(f"sqlite:///{tmp_path / 'deskhand.db'}") == []


def test_migrations_match_the_models_on_postgresql() -> None:
    with postgres_database("deskhand_migrations") as url:
        assert differences(url) == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_to_0003_ranks_and_labels_the_drafts_already_there(
    backend: str, tmp_path: Path
) -> None:
    """Drafts made before the queue's order and specialist moved onto the approvals get them
    from their steps and runs."""
    if backend == "sqlite":
        check_backfill(f"sqlite:///{tmp_path / 'deskhand.db'}", tmp_path)
    else:
        with postgres_database("deskhand_migrations") as url:
            check_backfill(url, tmp_path)


def check_backfill(url: str, tmp_path: Path) -> None:
    rt = Runtime.from_settings(
        Settings(data_dir=tmp_path, database_url=url, sandbox_url=f"sqlite:///{tmp_path}/sb.db")
    )
    try:
        seed(rt)
        Worker(rt, "test-worker").run_once()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = rt.db.engine
        command.downgrade(config, "0002")
        command.upgrade(config, "head")
        with rt.db.reading() as session:
            query = select(
                Approval.risk_rank, Step.blast_radius, Approval.specialist, Run.specialist
            )
            ranked = session.execute(query.join(Approval.step).join(Step.run)).all()
    finally:
        rt.close()
    # The seeded drafts differ in radius and in specialist.
    assert len({row.blast_radius for row in ranked}) >= 2
    assert len({row[3] for row in ranked}) >= 2
    assert [row.risk_rank for row in ranked] == [risk_rank(row.blast_radius) for row in ranked]
    assert [row[2] for row in ranked] == [row[3] for row in ranked]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_to_0011_gives_each_ticket_the_origin_its_id_said(
    backend: str, tmp_path: Path
) -> None:
    """Tickets, and arrivals held in the quarantine, from before the origin was a column get it
    from the prefix their PSA ticket id had: imap: for the support mailbox, an export's PSA."""
    if backend == "sqlite":
        check_origin_backfill(f"sqlite:///{tmp_path / 'deskhand.db'}", tmp_path)
    else:
        with postgres_database("deskhand_migrations") as url:
            check_origin_backfill(url, tmp_path)


def check_origin_backfill(url: str, tmp_path: Path) -> None:
    rt = Runtime.from_settings(
        Settings(data_dir=tmp_path, database_url=url, sandbox_url=f"sqlite:///{tmp_path}/sb.db")
    )
    ids = ["imap:<a@mail.example>", "connectwise:24001", "halo:7", "1042", "other:3", "imap_x"]
    held = {"cli": "1043", "import": "autotask:9"}
    try:
        seed(rt)
        with rt.db.session() as session:
            tenant = session.scalars(select(Tenant)).first()
            assert tenant is not None
            for psa_ticket_id in ids:
                state.receive_ticket(
                    session,
                    tenant,
                    requester_email="dana@example.com",
                    requester_name="Dana",
                    psa_ticket_id=psa_ticket_id,
                    subject="Hi",
                    body="Hi",
                    origin=TicketOrigin.PSA,  # dropped by the downgrade below
                )
            for source, psa_ticket_id in held.items():
                content = {"requester_email": "dana@example.com", "psa_ticket_id": psa_ticket_id}
                quarantine.hold(
                    session, tenant.id, source, psa_ticket_id, "why", json.dumps(content).encode()
                )
            quarantine.hold(session, tenant.id, "syncro", "answer", "why", b'{"answer": "yes"}')
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = rt.db.engine
        command.downgrade(config, "0010")
        command.upgrade(config, "head")
        with rt.db.reading() as session:
            rows = session.execute(
                select(Ticket.psa_ticket_id, Ticket.origin, Ticket.exported_from)
            ).all()
            origins = {row[0]: (row[1], row[2]) for row in rows}
            held_items = session.scalars(select(Quarantined)).all()
            kept = {item.reference: json.loads(item.content) for item in held_items}
    finally:
        rt.close()
    assert {psa_ticket_id: origins[psa_ticket_id] for psa_ticket_id in ids} == {
        "imap:<a@mail.example>": ("mailbox", None),
        "connectwise:24001": ("export", "ConnectWise Manage"),
        "halo:7": ("export", "HaloPSA"),
        "1042": ("psa", None),
        "other:3": ("psa", None),
        "imap_x": ("psa", None),
    }
    assert {origin for origin, _ in origins.values()} == {"psa", "mailbox", "export"}
    assert (kept["1043"]["origin"], kept["1043"]["exported_from"]) == ("psa", None)
    assert (kept["autotask:9"]["origin"], kept["autotask:9"]["exported_from"]) == (
        "export",
        "Autotask",
    )
    assert kept["answer"] == {"answer": "yes"}
