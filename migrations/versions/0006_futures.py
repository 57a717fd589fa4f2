"""Perpetual swaps: each position's leverage (1 on spot) and the funding it paid.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(38, 18).with_variant(sa.String(60), "sqlite")


def upgrade() -> None:
    # Existing rows are spot positions: 1x, no funding.
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("leverage", MONEY, nullable=False, server_default="1"))
        batch.add_column(sa.Column("funding", MONEY, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.drop_column("funding")
        batch.drop_column("leverage")
