"""Real connections: where a tenant's connector settings live, where each intake source has got
to, and the display name a ticket arrived with

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskhand.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: SQLite cannot recreate a table others refer to
    # while foreign keys are enforced.
    op.add_column("tenants", sa.Column("config_path", sa.Text(), nullable=True))
    op.add_column("tickets", sa.Column("requester_display_name", sa.Text(), nullable=True))
    op.create_table(
        "intake_cursors",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("updated_at", deskhand.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id", "source"),
    )


def downgrade() -> None:
    op.drop_table("intake_cursors")
    op.drop_column("tickets", "requester_display_name")
    op.drop_column("tenants", "config_path")
