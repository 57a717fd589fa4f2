"""The drift report of a paper account trading the pairs strategy (the shipped replay, real SQLite): the
backtest side runs the pair groups (``services.pair_drift``), so every leg the account traded is matched."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

from tests.e2e.shipped_replay import STORE_EXCHANGE, run_shipped_replay
from tests.e2e.test_replay_equals_backtest import BTC, ETH, hourly
from tests.e2e.test_replay_pairs import PARAMS, RISK
from trader.adapters.store.sql.uow import Database
from trader.config import ExchangeConfig, StrategyEntry
from trader.core.engine.pair_groups import split_leg_id
from trader.core.strategies.registry import default_registry
from trader.runtime.clock import SystemClock
from trader.services.drift import DriftService, DriftSetup


async def test_a_replayed_pairs_account_matches_its_backtest_leg_by_leg(tmp_path: Path) -> None:
    frames = hourly("2023-03-01", 600)
    entry = StrategyEntry(name="pairs", pairs=(ETH, BTC), market="swap", params=PARAMS)
    run = await run_shipped_replay(frames, "1h", RISK, (entry,), tmp_path)
    assert len(run.finished) >= 16
    path = tmp_path / "replay.db"
    db = Database.from_url(f"sqlite+aiosqlite:///{path}")
    setup = DriftSetup(ExchangeConfig(name=STORE_EXCHANGE, pairs=(ETH, BTC), paper_fee=Decimal("0.001"),
                                      paper_slippage=Decimal(0)),
                       RISK, (entry,), default_registry(), start_balance=Decimal(10_000))
    try:
        service = DriftService(db.uow, SystemClock(), setup)
        view = await service.report()
        # the last group may be closed by the end of the replay's data: not a decision of the strategy
        assert view.matched >= len(run.finished) - 2 and view.missing == 0 and view.extra <= 2
        assert view.logic_differences == ()
        legs = [t for t in view.trades if t.status == "matched"]
        assert all(t.account is not None and split_leg_id(t.account.position_id) for t in legs)

        first = legs[0].account
        assert first is not None  # a leg's exit fill moved a candle later by hand: a logic difference
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE fills SET ts = datetime(ts, '+2 hours') WHERE client_order_id IN (SELECT "
                         "client_order_id FROM orders WHERE position_id = ? AND purpose = 'exit')",
                         (first.position_id,))
        moved = await service.report()
        assert [t.account.position_id for t in moved.logic_differences if t.account] == [first.position_id]
    finally:
        await db.dispose()
