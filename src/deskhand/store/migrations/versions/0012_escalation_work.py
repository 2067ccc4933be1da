"""Escalations worked to the end: who works one, how it was closed, and technicians' notes

An escalation was created open and nothing closed it. It now has an assignee, a resolution and
who closed it (``closed_as``: resolved by a person, or resumed: deskhand worked the ticket
again as ``resumed_run_id``, after the technician verified the requester as ``verification``
says), and notes kept beside it (``escalation_notes``), each also written to the PSA.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from deskhand.store.models import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch: SQLite copies the table to add foreign keys, which it may (nothing refers to
    # escalations yet); PostgreSQL alters it in place.
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closed_as", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verification", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resumed_run_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_escalations_assignee", "users", ["assignee_id"], ["id"])
        batch.create_foreign_key("fk_escalations_closed_by", "users", ["closed_by_id"], ["id"])
        batch.create_foreign_key("fk_escalations_resumed_run", "runs", ["resumed_run_id"], ["id"])
        batch.create_index("ix_escalations_assignee_id", ["assignee_id"])
    op.create_table(
        "escalation_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("escalation_id", sa.Integer(), sa.ForeignKey("escalations.id"), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("psa_comment_id", sa.String(length=64), nullable=True),
        sa.Column("psa_error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_escalation_notes_escalation_id", "escalation_notes", ["escalation_id"])


def downgrade() -> None:
    op.drop_index("ix_escalation_notes_escalation_id", table_name="escalation_notes")
    op.drop_table("escalation_notes")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_assignee_id")
        batch.drop_constraint("fk_escalations_resumed_run", type_="foreignkey")
        batch.drop_constraint("fk_escalations_closed_by", type_="foreignkey")
        batch.drop_constraint("fk_escalations_assignee", type_="foreignkey")
        for column in (
            "resumed_run_id",
            "verification",
            "closed_by_id",
            "resolution",
            "closed_as",
            "assignee_id",
        ):
            batch.drop_column(column)
