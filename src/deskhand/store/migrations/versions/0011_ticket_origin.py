"""A ticket's origin as columns (tickets.origin, tickets.exported_from), not its id's prefix

Until now a ticket was taken to be outside the tenant's PSA when its ``psa_ticket_id`` began
with ``imap:`` (a message in the support mailbox) or with an export's PSA (``connectwise:24001``).
Existing tickets, and the arrivals kept in the quarantine for taking again, get their origin from
those same prefixes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00.000000
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The prefixes deskhand gave psa_ticket_id when this migration was written
# (deskhand.history.formats.FORMAT_NAMES for the exports deskhand imports tickets from), spelled
# out so that the migration means the same whatever the code becomes.
MAILBOX_PREFIX = "imap:"
EXPORTS = {
    "syncro": "Syncro",
    "connectwise": "ConnectWise Manage",
    "autotask": "Autotask",
    "halo": "HaloPSA",
}
# Quarantine sources whose held content is an arrival's fields as JSON (imap keeps the raw mail).
ARRIVAL_SOURCES = ("syncro", "cli", "import")

tickets = sa.table(
    "tickets",
    sa.column("psa_ticket_id", sa.String),
    sa.column("origin", sa.String),
    sa.column("exported_from", sa.String),
)
quarantine = sa.table(
    "quarantine",
    sa.column("id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("status", sa.String),
    sa.column("content", sa.LargeBinary),
    sa.column("size", sa.Integer),
)


def origin_of(psa_ticket_id: str) -> tuple[str, str | None]:
    """(origin, exported_from) as the code read them from a PSA ticket id before this."""
    if psa_ticket_id.startswith(MAILBOX_PREFIX):
        return "mailbox", None
    psa, sep, _ = psa_ticket_id.partition(":")
    if sep and psa in EXPORTS:
        return "export", EXPORTS[psa]
    return "psa", None


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: SQLite cannot recreate a table others refer to while
    # foreign keys are enforced, so the column is NOT NULL from the start, "psa" until backfilled.
    op.add_column(
        "tickets",
        sa.Column("origin", sa.String(length=16), server_default="psa", nullable=False),
    )
    op.add_column("tickets", sa.Column("exported_from", sa.String(length=64), nullable=True))
    op.execute(
        tickets.update()
        .where(tickets.c.psa_ticket_id.startswith(MAILBOX_PREFIX, autoescape=True))
        .values(origin="mailbox")
    )
    for psa, name in EXPORTS.items():
        op.execute(
            tickets.update()
            .where(tickets.c.psa_ticket_id.startswith(f"{psa}:", autoescape=True))
            .values(origin="export", exported_from=name)
        )
    _arrivals_held(with_origin=True)


def downgrade() -> None:
    _arrivals_held(with_origin=False)
    op.drop_column("tickets", "exported_from")
    op.drop_column("tickets", "origin")


def _arrivals_held(*, with_origin: bool) -> None:
    """The arrivals held in the quarantine with their origin added (or taken away again), so that
    they can still be taken again; content that was cut short or is not an arrival stays."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(quarantine.c.id, quarantine.c.content, quarantine.c.size).where(
            quarantine.c.status == "held", quarantine.c.source.in_(ARRIVAL_SOURCES)
        )
    ).all()
    for item_id, content, size in rows:
        if size > len(content):
            continue
        try:
            fields = json.loads(content)
        except ValueError:
            continue
        if not isinstance(fields, dict) or not isinstance(fields.get("psa_ticket_id"), str):
            continue  # a Syncro answer, not an arrival
        if with_origin:
            origin, exported_from = origin_of(fields["psa_ticket_id"])
            fields.update(origin=origin, exported_from=exported_from)
        else:
            fields.pop("origin", None)
            fields.pop("exported_from", None)
        changed = json.dumps(fields, indent=2).encode()
        connection.execute(
            quarantine.update()
            .where(quarantine.c.id == item_id)
            .values(content=changed, size=len(changed))
        )
