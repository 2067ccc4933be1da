"""The event log cannot be changed by the application's role (PostgreSQL and SQLite)

Triggers refuse every UPDATE, DELETE and TRUNCATE of ``events``, and let the chain head
(``event_chain``) only move forward: nothing in deskhand changes or removes an event, so a
statement that tries is a mistake or an attack, and fails. Someone who owns the tables (or is a
superuser) can still drop or disable the triggers; the signed checkpoints kept outside the
database (``deskhand.audit.checkpoints``) are what find that.

A later migration that rebuilds ``events`` or ``event_chain`` on SQLite (``batch_alter_table``
copies the table) drops these triggers with it, and must create them again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REFUSED = "the event log is append-only: events cannot be changed or removed"
HEAD_REFUSED = "the event chain head only moves forward: it cannot be moved back or removed"

POSTGRESQL = [
    f"""
    CREATE FUNCTION deskhand_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSED} (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'deskhand never changes an event; see deskhand audit verify.';
    END $$
    """,
    """
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION deskhand_events_append_only()
    """,
    f"""
    CREATE FUNCTION deskhand_event_chain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND (
            NEW.last_event_id > OLD.last_event_id
            OR (NEW.last_event_id = OLD.last_event_id AND NEW.last_hash = OLD.last_hash)
        ) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{HEAD_REFUSED} (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'deskhand only moves the head when it appends an event.';
    END $$
    """,
    """
    CREATE TRIGGER event_chain_forward_only BEFORE UPDATE OR DELETE ON event_chain
        FOR EACH ROW EXECUTE FUNCTION deskhand_event_chain_forward_only()
    """,
    """
    CREATE TRIGGER event_chain_no_truncate BEFORE TRUNCATE ON event_chain
        FOR EACH STATEMENT EXECUTE FUNCTION deskhand_event_chain_forward_only()
    """,
]

# SQLite has no TRUNCATE: its "DELETE FROM events" is a DELETE, and fires the trigger.
SQLITE = [
    f"""
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER event_chain_forward_only BEFORE UPDATE ON event_chain
    WHEN NEW.id IS NOT OLD.id OR NEW.last_event_id < OLD.last_event_id
        OR (NEW.last_event_id = OLD.last_event_id AND NEW.last_hash IS NOT OLD.last_hash)
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END
    """,
    f"""
    CREATE TRIGGER event_chain_no_delete BEFORE DELETE ON event_chain
    BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END
    """,
]


def upgrade() -> None:
    statements = POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER event_chain_no_truncate ON event_chain")
        op.execute("DROP TRIGGER event_chain_forward_only ON event_chain")
        op.execute("DROP FUNCTION deskhand_event_chain_forward_only()")
        op.execute("DROP TRIGGER events_append_only ON events")
        op.execute("DROP FUNCTION deskhand_events_append_only()")
        return
    for trigger in ("event_chain_no_delete", "event_chain_forward_only"):
        op.execute(f"DROP TRIGGER {trigger}")
    for trigger in ("events_no_delete", "events_no_update"):
        op.execute(f"DROP TRIGGER {trigger}")
