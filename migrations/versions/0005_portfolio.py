"""Portfolio: basket holdings (fills or virtual purchases), the price cache, daily basket snapshots.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(38, 18).with_variant(sa.String(60), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portfolio_holdings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("basket", sa.String(40), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portfolio_holdings"),
        sa.UniqueConstraint("basket", "asset", "reference", name="uq_portfolio_holdings_ref"),
    )
    op.create_index("ix_portfolio_holdings_basket", "portfolio_holdings", ["basket"])
    op.create_table(
        "price_quotes",
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("asset", "quote", name="pk_price_quotes"),
    )
    op.create_table(
        "basket_snapshots",
        sa.Column("basket", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("basket", "day", name="pk_basket_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("basket_snapshots")
    op.drop_table("price_quotes")
    op.drop_index("ix_portfolio_holdings_basket", table_name="portfolio_holdings")
    op.drop_table("portfolio_holdings")
