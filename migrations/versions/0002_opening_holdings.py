"""Opening holdings: parcels acquired before the bot's records, for the ATO capital gains export.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Same types as 0001: exact money (text on SQLite, whose NUMERIC keeps 15 digits) and UTC timestamps.
MONEY = sa.Numeric(38, 18).with_variant(sa.String(60), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "opening_holdings",
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("cost_aud", MONEY, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("asset", "acquired_at", name="pk_opening_holdings"),
    )


def downgrade() -> None:
    op.drop_table("opening_holdings")
