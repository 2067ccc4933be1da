"""Trained triage classifiers, versioned with their held-out figures

`deskhand triage train` stores each model it fits here; the one marked active is the one the
dispatcher will use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import deskhand.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", deskhand.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("target_precision", sa.Double(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("training", sa.JSON(), nullable=False),
        sa.Column("library", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_models_active"), ["active"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_models_active"))
    op.drop_table("triage_models")
