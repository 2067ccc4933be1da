"""Exporting the event log as JSON Lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from deskhand.audit.export import export_jsonl
from deskhand.audit.log import GENESIS_HASH, append, event_hash
from deskhand.domain.events import SYSTEM, Actor, ActorKind, DraftApproved, RunQueued
from deskhand.store.db import Database
from deskhand.store.models import EventRecord

DANA = Actor(ActorKind.USER, "dana@msp.example")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/d.db")
    database.upgrade()
    yield database
    database.dispose()


def append_events(db: Database) -> list[EventRecord]:
    """Six events: contoso, fabrikam, contoso, no tenant, fabrikam, contoso."""
    records = []
    for n, tenant in enumerate(["contoso", "fabrikam", "contoso", None, "fabrikam", "contoso"]):
        with db.session() as session:
            event = DraftApproved(f"{n}", "ab" * 32, edited=True, changes={"group": ["A", "Ä"]})
            records.append(append(session, event, actor=DANA, tenant_id=tenant, ticket_id=7))
    return records


def export(db: Database, **options: Any) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    with db.session() as session:
        count = export_jsonl(session, out, **{"tenant_ids": None, **options})
    return count, [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_event_becomes_one_json_line_in_id_order(db: Database) -> None:
    records = append_events(db)
    count, lines = export(db)
    assert count == len(lines) == 6
    assert [line["id"] for line in lines] == [record.id for record in records]
    first = lines[0]
    assert first == {
        "id": records[0].id,
        "at": records[0].at.isoformat(timespec="microseconds"),
        "type": "draft.approved",
        "actor": {"kind": "user", "name": "dana@msp.example"},
        "tenant_id": "contoso",
        "ticket_id": 7,
        "run_id": None,
        "step_id": None,
        "data": {
            "approval_id": "0",
            "payload_hash": "ab" * 32,
            "edited": True,
            "changes": {"group": ["A", "Ä"]},
            "acknowledged": [],
            "verification": "",
            "binding": "",
            "blast_radius": "",
            "proposed_radius": "",
            "approved_as": "",
        },
        "prev_hash": GENESIS_HASH,
        "hash": records[0].hash,
    }
    assert datetime.fromisoformat(first["at"]).utcoffset() is not None


def test_the_export_can_be_re_verified_without_the_database(db: Database) -> None:
    append_events(db)
    _, lines = export(db)
    previous = GENESIS_HASH
    for line in lines:
        record = EventRecord(
            id=line["id"],
            at=datetime.fromisoformat(line["at"]),
            type=line["type"],
            actor_kind=line["actor"]["kind"],
            actor=line["actor"]["name"],
            tenant_id=line["tenant_id"],
            ticket_id=line["ticket_id"],
            run_id=line["run_id"],
            step_id=line["step_id"],
            data=line["data"],
        )
        assert line["prev_hash"] == previous
        assert event_hash(record, previous) == line["hash"]
        previous = line["hash"]


def test_since_is_inclusive_and_until_exclusive(db: Database) -> None:
    records = append_events(db)
    count, lines = export(db, since=records[2].at, until=records[4].at)
    assert count == 2
    assert [line["id"] for line in lines] == [records[2].id, records[3].id]
    assert export(db, since=records[5].at)[0] == 1
    assert export(db, until=records[1].at)[0] == 1


def test_a_tenant_scope_exports_only_those_tenants_events(db: Database) -> None:
    records = append_events(db)
    _, lines = export(db, tenant_ids={"contoso"})
    assert [line["id"] for line in lines] == [records[i].id for i in (0, 2, 5)]
    _, lines = export(db, tenant_ids=["contoso", "fabrikam"])
    assert {line["tenant_id"] for line in lines} == {"contoso", "fabrikam"}  # no tenant-less ones
    assert export(db, tenant_ids=[]) == (0, [])


def test_an_empty_log_exports_nothing(db: Database) -> None:
    assert export(db) == (0, [])


def test_a_long_log_streams_through_batches(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskhand.audit.export.BATCH_SIZE", 4)
    with db.session() as session:
        for n in range(10):
            append(session, RunQueued(reason=f"event {n}"), actor=SYSTEM)
    count, lines = export(db)
    assert count == 10
    assert [line["data"]["reason"] for line in lines] == [f"event {n}" for n in range(10)]
