"""Approval integrity: keyed bindings, re-planned edits, encrypted temporary passwords

An approval given before this version carries only the SHA-256 of its payload, not the keyed
binding the executor now checks: such a step fails closed (it escalates as approval_mismatch)
and is approved again. A temporary password not yet shown is erased: it was stored in clear.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskhand.store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("plan_inputs", sa.JSON(), nullable=True))
    op.add_column("steps", sa.Column("replanned_params", sa.JSON(), nullable=True))
    op.add_column("steps", sa.Column("replanned_by", sa.Integer(), nullable=True))
    op.add_column("approvals", sa.Column("binding", sa.String(length=128), nullable=True))
    op.add_column(
        "step_secrets",
        sa.Column("expires_at", deskhand.store.models.UtcDateTime(timezone=True), nullable=True),
    )
    op.execute("UPDATE step_secrets SET value = NULL")


def downgrade() -> None:
    op.drop_column("step_secrets", "expires_at")
    op.drop_column("approvals", "binding")
    op.drop_column("steps", "replanned_by")
    op.drop_column("steps", "replanned_params")
    op.drop_column("runs", "plan_inputs")
