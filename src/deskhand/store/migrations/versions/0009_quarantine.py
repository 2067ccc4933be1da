"""Quarantine: incoming messages and rows that cannot be taken, kept with their reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
