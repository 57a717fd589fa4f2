"""The pairs strategy through the shipped replay (`tradebot run --replay`: container, ReplayDriver,
TradingService, engine.step, PaperExchange on simulated perpetuals, real SQLite):

- makes exactly the fills of the engine-path backtest (``backtest.pairs_engine``: ``engine.step`` over
  the simulator): same client order ids, amounts, prices, fees and times, fill by fill;
- makes the trades of `tradebot backtest-pairs` (``backtest.pairs.run_pairs``, its own loop over the
  group machine) on the same candles: the same groups, sides, fill times and prices of both legs, and
  amounts and PnL to the last amount step. The two size the legs from the same equity; that backtest
  reads it from its float equity curve and quantises to 8 places, the engine from the account's
  Decimal balance and rounds to the market's amount step, so amounts may differ by one step.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from tests.e2e.shipped_replay import run_shipped_replay
from tests.e2e.test_replay_equals_backtest import BTC, ETH, hourly
from trader.adapters.store.sql.uow import Database
from trader.config import RiskConfig, StrategyEntry
from trader.core.backtest.markets import default_market
from trader.core.backtest.pairs import PairSettings, run_pairs
from trader.core.backtest.pairs_engine import PairEngineSettings, run_pairs_engine
from trader.core.domain.candles import datetime_to_ms
from trader.core.domain.enums import OrderPurpose
from trader.core.domain.orders import Fill
from trader.core.engine.pair_groups import split_leg_id
from trader.core.strategies.pair_setup import pair_setup
from trader.core.strategies.pairs import PairParams
from trader.services.closed_trades import is_trade

PARAMS = {"window": 48, "halflife": 24, "entry_z": 2.0, "exit_z": 0.0, "stop_z": 4.0}
RISK = RiskConfig(cooldown_minutes=0, cooldown_after_loss_minutes=0, max_trades_per_day=50)


async def _groups(url: str) -> dict[str, dict[tuple[int, OrderPurpose], list[Fill]]]:
    """Return the replay's fills per group, leg and purpose, read back from its store."""
    db = Database.from_url(url)
    groups: dict[str, dict[tuple[int, OrderPurpose], list[Fill]]] = defaultdict(lambda: defaultdict(list))
    try:
        async with db.uow() as uow:
            for symbol in (ETH, BTC):
                for fill in await uow.fills.since(datetime(2000, 1, 1, tzinfo=UTC), symbol):
                    order = await uow.orders.get(fill.client_order_id)
                    assert order is not None
                    found = split_leg_id(order.position_id)
                    assert found is not None, f"{order.position_id} is not a pair leg"
                    groups[found[0]][(found[1], order.purpose)].append(fill)
    finally:
        await db.dispose()
    return groups


async def test_replay_of_the_pairs_strategy_makes_the_pairs_backtest_trades(tmp_path: Path) -> None:
    frames = hourly("2023-03-01", 600)
    entry = StrategyEntry(name="pairs", pairs=(ETH, BTC), market="swap", params=PARAMS)
    run = await run_shipped_replay(frames, "1h", RISK, (entry,), tmp_path)
    assert run.unfinished == []  # no single-pair position: legs belong to groups
    expected = run_pairs(frames[ETH], frames[BTC], PairParams(48, 24.0, 2.0, 0.0, 4.0), PairSettings(),
                         (ETH, BTC)).trades
    url = f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}"
    got = await _groups(url)
    engine = run_pairs_engine(frames[ETH], frames[BTC], pair_setup((ETH, BTC), PARAMS),
                              PairEngineSettings(risk=RISK))
    replayed = [f for g in got.values() for fills in g.values() for f in fills]
    assert sorted(map(_fill_fields, replayed)) == sorted(map(_fill_fields, engine.fills))
    assert len(engine.groups) == len(expected)
    assert len(expected) >= 8
    assert len(got) == len(expected), f"backtest made {len(expected)} groups, the replay {len(got)}"
    steps = [default_market(s, float(frames[s].close[0])).amount_step for s in (ETH, BTC)]
    in_order = sorted(got, key=lambda g: got[g][(0, OrderPurpose.ENTRY)][0].timestamp)
    for trade, group_id in zip(expected, in_order, strict=True):
        fills = got[group_id]
        for leg in (0, 1):
            (opened,) = fills[(leg, OrderPurpose.ENTRY)]
            (closed,) = fills[(leg, OrderPurpose.EXIT)]
            assert datetime_to_ms(opened.timestamp) == trade.opened_at, group_id
            assert datetime_to_ms(closed.timestamp) == trade.closed_at or trade.reason == "end_of_data"
            assert (opened.price, closed.price) == (trade.entry[leg], trade.exit[leg]), group_id
            assert abs(opened.amount - trade.amounts[leg]) <= steps[leg], (opened.amount, trade.amounts[leg])
            assert closed.amount == opened.amount
            assert (opened.side.value == "buy") == ((leg == 0) == (trade.side > 0))
        pnl = sum((_leg_pnl(fills, leg) for leg in (0, 1)), Decimal(0))
        assert math.isclose(pnl, trade.pnl, rel_tol=1e-3, abs_tol=0.02), (group_id, pnl, trade.pnl)
    # every closed group's legs are the store's finished positions (the trade history): once each, with
    # the PnL of their fills (funding, booked on a leg as on a single position, counted in it too)
    finished = {p.id: p for p in run.finished}
    assert len(finished) == len(run.finished) == 2 * len(got)
    for position in run.finished:
        found = split_leg_id(position.id)
        assert found is not None and found[0] in got and is_trade(position), position.id
        assert position.strategy == "pairs" and position.exit_reason is not None
        fills_pnl = _leg_pnl(got[found[0]], found[1])
        assert position.realised_pnl + position.funding == fills_pnl, position.id


def _fill_fields(fill: Fill) -> tuple[object, ...]:
    return (fill.client_order_id, fill.symbol, fill.side, fill.amount, fill.price, fill.fee, fill.timestamp)


def _leg_pnl(fills: dict[tuple[int, OrderPurpose], list[Fill]], leg: int) -> Decimal:
    (opened,), (closed,) = fills[(leg, OrderPurpose.ENTRY)], fills[(leg, OrderPurpose.EXIT)]
    sign = 1 if opened.side.value == "buy" else -1
    return sign * (closed.price - opened.price) * closed.amount - opened.fee - closed.fee
