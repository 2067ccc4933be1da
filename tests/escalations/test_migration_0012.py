"""Migration 0012 keeps the escalations already there (open, nobody on them) and goes back
down to 0011 and up again, on a SQLite file and on the real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from deskhand.engine import escalation_work as work_on
from deskhand.engine.runtime import Runtime
from deskhand.store.db import MIGRATIONS
from deskhand.store.models import Escalation
from tests.escalations.test_working_escalations import TECH, unverified_reset


def test_0012_keeps_the_queue_and_goes_down_and_up_again(rt: Runtime, tmp_path: Path) -> None:
    escalation_id = unverified_reset(rt)
    work_on.note(rt, escalation_id, TECH, "Before the downgrade.")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = rt.db.engine
    command.downgrade(config, "0011")
    tables = inspect(rt.db.engine).get_table_names()
    assert "escalation_notes" not in tables
    columns = {c["name"] for c in inspect(rt.db.engine).get_columns("escalations")}
    assert "assignee_id" not in columns
    command.upgrade(config, "head")
    with rt.db.reading() as session:
        kept = session.scalars(select(Escalation)).one()
        assert (kept.id, kept.status, kept.assignee_id, kept.closed_as) == (
            escalation_id,
            "open",
            None,
            None,
        )
    assert work_on.take(rt, escalation_id, TECH).assignee == TECH
