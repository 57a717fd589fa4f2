"""Initial schema: candles, trading records, risk state, secrets, audit, alerts, backtests, rates.

Money is Numeric(38, 18) on PostgreSQL and decimal text on SQLite (whose NUMERIC keeps only 15 digits);
see trader/adapters/store/columns.py. Timestamps are stored in UTC.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(38, 18).with_variant(sa.String(60), "sqlite")
TS = sa.DateTime(timezone=True)
DOUBLE = sa.Float(precision=53)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, MONEY, nullable=nullable)


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, TS, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "candles",
        sa.Column("exchange", sa.String(32), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        *(sa.Column(name, DOUBLE, nullable=False) for name in ("open", "high", "low", "close", "volume")),
        sa.PrimaryKeyConstraint("exchange", "symbol", "timeframe", "ts", name="pk_candles"),
    )
    op.create_table(
        "positions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _money("amount"),
        _money("filled"),
        _money("entry_price", nullable=True),
        _money("exit_filled"),
        _money("exit_price", nullable=True),
        _money("stop_price", nullable=True),
        _money("take_profit", nullable=True),
        _money("high_water", nullable=True),
        sa.Column("protection", sa.String(16), nullable=False),
        sa.Column("confidence", DOUBLE, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("opened_at", nullable=True),
        _ts("closed_at", nullable=True),
        sa.Column("exit_reason", sa.String(32), nullable=True),
        _money("fees"),
        _money("realised_pnl"),
        *(sa.Column(f"{kind}_attempt", sa.Integer(), nullable=False) for kind in ("entry", "stop", "tp", "exit")),
        _ts("created_at", nullable=True),
        _money("entry_executed"),
        _money("entry_limit", nullable=True),
        _money("requested_price", nullable=True),
        _money("initial_stop", nullable=True),
        sa.Column("working", sa.String(16), nullable=False),
        _money("working_amount"),
        sa.Column("tp_local", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_positions"),
    )
    op.create_index("ix_positions_symbol", "positions", ["symbol"])
    op.create_index("ix_positions_status", "positions", ["status"])
    op.create_index("ix_positions_closed_at", "positions", ["closed_at"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("exchange_order_id", sa.String(64), nullable=True),
        sa.Column("position_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        _money("amount"),
        _money("price", nullable=True),
        _money("trigger_price", nullable=True),
        _money("filled"),
        _money("average_price", nullable=True),
        _money("fee"),
        sa.Column("fee_currency", sa.String(16), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
    )
    op.create_index("ix_orders_position_id", "orders", ["position_id"])
    op.create_index("ix_orders_status", "orders", ["status"])

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trade_id", sa.String(64), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        _money("amount"),
        _money("price"),
        _money("fee"),
        sa.Column("fee_currency", sa.String(16), nullable=False),
        _ts("ts"),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("symbol", "trade_id", name="uq_fills_symbol_trade_id"),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_index("ix_fills_ts", "fills", ["ts"])

    op.create_table(
        "equity_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("ts"),
        sa.Column("quote", sa.String(16), nullable=False),
        _money("equity"),
        _money("free"),
        _money("exposure"),
        sa.PrimaryKeyConstraint("id", name="pk_equity_snapshots"),
    )
    op.create_index("ix_equity_snapshots_ts", "equity_snapshots", ["ts"])

    op.create_table(
        "risk_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("trading_state", sa.String(16), nullable=False),
        sa.Column("halt_reason", sa.Text(), nullable=False),
        sa.Column("flatten_requested", sa.Boolean(), nullable=False),
        _ts("changed_at", nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        _money("day_start_equity", nullable=True),
        sa.Column("trades_today", sa.Integer(), nullable=False),
        _money("realised_today"),
        sa.Column("daily_loss_day", sa.Date(), nullable=True),
        _money("peak_equity", nullable=True),
        _money("last_equity", nullable=True),
        sa.Column("consecutive_stops", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_risk_state"),
    )
    op.create_table(
        "risk_cooldowns",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("risk_state_id", sa.Integer(), nullable=False),
        _ts("until"),
        sa.ForeignKeyConstraint(["risk_state_id"], ["risk_state.id"], ondelete="CASCADE",
                                name="fk_risk_cooldowns_risk_state_id_risk_state"),
        sa.PrimaryKeyConstraint("symbol", name="pk_risk_cooldowns"),
    )
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_secrets"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("ts"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("result", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_ts", "audit_log", ["ts"])

    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("dedupe_key", sa.String(128), nullable=True),
        _ts("created_at"),
        _ts("delivered_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_outbox"),
    )
    op.create_index("ix_alert_outbox_pending", "alert_outbox", ["delivered_at", "id"])

    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("created_at"),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("pairs", sa.JSON(), nullable=False),
        sa.Column("timeframe", sa.String(8), nullable=False),
        _ts("period_start"),
        _ts("period_end"),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("trades", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_backtest_runs"),
    )
    op.create_index("ix_backtest_runs_created_at", "backtest_runs", ["created_at"])

    op.create_table(
        "aud_rates",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        _money("rate"),
        sa.Column("source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_aud_rates"),
    )
    op.create_table(
        "paper_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_paper_state"),
    )


def downgrade() -> None:
    for table in ("paper_state", "aud_rates", "backtest_runs", "alert_outbox", "audit_log", "secrets",
                  "risk_cooldowns", "risk_state", "equity_snapshots", "fills", "orders", "positions",
                  "candles"):
        op.drop_table(table)
