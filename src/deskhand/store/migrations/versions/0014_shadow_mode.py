"""Shadow mode per tenant and per specialist

``tenants.mode`` is ``shadow`` (plans recorded and compared with what the technicians did,
nothing drafted or run) or ``live``; ``tenants.specialist_modes`` overrides it per specialist.
Tenants that exist before this migration stay live: they were live. New tenants start in
shadow (the model's default), until an admin moves them to live.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("mode", sa.String(8), nullable=False, server_default="live"))
    op.add_column("tenants", sa.Column("specialist_modes", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "specialist_modes")
    op.drop_column("tenants", "mode")
