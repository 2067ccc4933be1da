"""Scheduled runs and step dependencies

A run can wait for a moment (``runs.not_before``: a leaver's last day, a starter's first, or a
step waiting for a directory sync to show a change); a step names the steps it waits for
(``steps.depends_on``: positions; none recorded means every earlier step, as before).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from deskhand.store.models import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on both: a batch would make SQLite copy steps, which approvals refer to.
    op.add_column("runs", sa.Column("not_before", UtcDateTime(timezone=True), nullable=True))
    op.add_column("steps", sa.Column("depends_on", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("steps", "depends_on")
    op.drop_column("runs", "not_before")
