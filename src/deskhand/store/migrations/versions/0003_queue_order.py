"""The approval queue's order and specialist on the approvals themselves, with an index

With thousands of pending drafts, sorting them by their steps' blast radius (or filtering them
by their runs' specialist) meant reading every step; both are now kept on the approval, set when
the draft is made, and the queue's order is indexed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 05:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# deskhand.domain.risks.QUEUE_ORDER when this migration was written; spelled out here so that
# the migration means the same whatever that list becomes.
BACKFILL = """
UPDATE approvals SET risk_rank = CASE
    (SELECT steps.blast_radius FROM steps WHERE steps.id = approvals.step_id)
    WHEN 'destructive' THEN 0
    WHEN 'security' THEN 1
    WHEN 'billing' THEN 2
    WHEN 'external_communication' THEN 3
    WHEN 'internal' THEN 4
    WHEN 'read' THEN 5
    ELSE 6
END,
specialist = coalesce(
    (
        SELECT runs.specialist FROM runs JOIN steps ON steps.run_id = runs.id
        WHERE steps.id = approvals.step_id
    ),
    ''
)
"""


def upgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("specialist", sa.String(length=64), nullable=True))
    op.execute(BACKFILL)
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.alter_column("risk_rank", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("specialist", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(
            "ix_approvals_queue", ["status", "risk_rank", "created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_approvals_queue")
        batch_op.drop_column("specialist")
        batch_op.drop_column("risk_rank")
