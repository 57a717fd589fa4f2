"""Run what `tradebot run --replay` runs and what `tradebot backtest` runs on the same candles.

``replay_positions`` builds the real runtime (``runtime.container.build_runtime`` in replay mode over a
temp SQLite file holding the candles), runs start-up reconciliation and the shipped ``ReplayDriver``
to the end of the data without sleeping, and returns the finished positions from the store.
``backtest_positions`` calls ``backtest.api.run_backtest`` as the CLI does. ``trade_fields`` is
everything the two must agree on for one trade.
"""

from __future__ import annotations

import io
import math
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config import (
    DatabaseConfig,
    ExchangeConfig,
    NotifyConfig,
    OpsConfig,
    RiskConfig,
    Settings,
    StrategyEntry,
)
from trader.core.backtest.markets import default_market
from trader.core.backtest.runner import BacktestSettings, compute_signals, simulate
from trader.core.domain.candles import CandleFrame, ms_to_datetime
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol
from trader.core.positions.state import Position
from trader.core.sim.costs import FeeModel, SlippageModel
from trader.core.strategies.registry import create
from trader.ports.store import OrderRecord
from trader.runtime.container import RunOptions, build_runtime
from trader.services.funding_files import write_funding_csv

STORE_EXCHANGE = "binance"


@dataclass(frozen=True)
class Case:
    """One comparison: a strategy with parameters, risk settings and candles of one timeframe."""

    strategy: str
    frames: Mapping[Symbol, CandleFrame]
    timeframe: str
    risk: RiskConfig
    params: dict[str, Any] = field(default_factory=dict)
    fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal(0)
    leverage: int | None = None  # set: a swap strategy that also shorts, at this leverage
    # funding-rate history per pair (time ms, rate): the backtest's settings, the replay's funding files
    funding: Mapping[Symbol, tuple[tuple[int, Decimal], ...]] = field(default_factory=dict)


def trade_fields(p: Position) -> tuple[object, ...]:
    """Return every field of a finished trade that both paths must produce identically.

    The signal's confidence is left out here and compared by ``assert_same_trades`` to 1e-9: live
    computes the last row on the last ``required_history`` candles, the backtest on the whole history,
    and a recursive indicator (Wilder RSI/ATR) keeps a difference of a few float ulps from its seed.
    """
    return (p.symbol, p.strategy, p.direction, p.status, p.opened_at, p.closed_at, p.exit_reason,
            p.requested_price, p.amount, p.entry_executed, p.filled, p.entry_price, p.exit_filled,
            p.exit_price, p.fees, p.realised_pnl, p.initial_stop, p.take_profit, p.reason, p.leverage,
            p.funding)


def assert_same_trades(expected: list[Position], got: list[Position]) -> None:
    """Fail unless both lists hold the same trades, in order, field by field."""
    want = [trade_fields(p) for p in expected]
    have = [trade_fields(p) for p in got]
    for i, (a, b) in enumerate(zip(want, have, strict=False)):
        assert a == b, f"trade {i} differs:\n backtest {a}\n replay   {b}"
    assert len(want) == len(have), f"backtest made {len(want)} trades, the replay {len(have)}"
    for a, b in zip(expected, got, strict=True):
        assert math.isclose(a.confidence, b.confidence, rel_tol=1e-9), (a.confidence, b.confidence)


def backtest_positions(case: Case) -> list[Position]:
    """Return the finished positions of the backtest (as `tradebot backtest` runs it, no --from)."""
    strategy = create(case.strategy, case.params)
    futures = None if case.leverage is None else FuturesTerms(Decimal(case.leverage))
    settings = BacktestSettings(strategy.name, case.timeframe, risk=case.risk,
                                fees=FeeModel.flat(case.fee), slippage=SlippageModel(case.slippage),
                                allow_short=futures is not None, futures=futures, funding=case.funding)
    # what backtest.api.run_backtest does without trade_from_ms, keeping the positions themselves
    markets = {s: default_market(s, float(f.close[0])) for s, f in case.frames.items()}
    run = simulate(compute_signals(strategy, case.frames), case.frames, markets, settings)
    return sorted(run.positions, key=lambda p: (p.created_at, p.id))


async def migrated_database(path: Path) -> Path:
    """Create a migrated, empty SQLite database at ``path`` (copy it per run: migrating is slow)."""
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


@dataclass(frozen=True)
class ReplayRun:
    """What a shipped replay left in its store, how many candle times it fed and how long that took."""

    finished: list[Position]
    unfinished: list[Position]
    orders: list[OrderRecord]
    fed: int
    seconds: float


async def run_shipped_replay(frames: Mapping[Symbol, CandleFrame], timeframe: str, risk: RiskConfig,
                             strategies: tuple[StrategyEntry, ...], workdir: Path, *,
                             fee: Decimal = Decimal("0.001"), slippage: Decimal = Decimal(0),
                             balance: Decimal = Decimal(10_000), template: Path | None = None,
                             funding_dir: Path | None = None) -> ReplayRun:
    """Run `tradebot run --replay`'s runtime over ``frames`` to the end of the data, without sleeping.

    ``workdir`` must exist and hold no replay database yet; ``template`` is a ``migrated_database``
    to copy instead of migrating a new one.
    """
    path = workdir / "replay.db"
    url = f"sqlite+aiosqlite:///{path}"
    if template is None:
        await upgrade_async(url)
    else:
        shutil.copyfile(template, path)
    db = Database.from_url(url)
    try:
        async with db.uow() as uow:
            for symbol, frame in frames.items():
                await uow.candles.upsert(STORE_EXCHANGE, symbol, timeframe, frame)
            await uow.commit()
    finally:
        await db.dispose()
    settings = Settings(
        database=DatabaseConfig(url=url),
        exchange=ExchangeConfig(name=STORE_EXCHANGE, replay=True, pairs=tuple(frames), timeframe=timeframe,
                                paper_fee=fee, paper_slippage=slippage, paper_start_balance=balance,
                                replay_funding_dir=str(funding_dir) if funding_dir else None),
        ops=OpsConfig(health_enabled=False, data_dir=str(workdir)),
        notify=NotifyConfig(console=True),
        risk=risk,
        strategies=strategies,
    )
    runtime = await build_runtime(settings, RunOptions(replay=True, speed=1e9, console=io.StringIO()))
    parts = runtime.lifecycle.parts
    try:
        assert parts.replay is not None and parts.reconcile is not None
        started = time.perf_counter()
        await parts.reconcile()  # as Lifecycle.start does before the replay task
        await parts.replay.run(sleep=_no_sleep)
        seconds = time.perf_counter() - started
        assert parts.replay.remaining == 0
        async with parts.uow_factory() as uow:
            unfinished = await uow.positions.unfinished()
            finished = await uow.positions.finished(limit=1_000_000)
            orders = [o for p in (*finished, *unfinished) for o in await uow.orders.for_position(p.id)]
    finally:
        await runtime.lifecycle.stop()
    return ReplayRun(sorted(finished, key=lambda p: (p.created_at, p.id)), unfinished, orders,
                     parts.replay.fed, seconds)


async def replay_positions(case: Case, workdir: Path, template: Path | None = None) -> list[Position]:
    """Return the finished positions of the shipped replay runtime over ``case``'s candles."""
    swap = {} if case.leverage is None else {"market": "swap", "allow_short": True, "leverage": case.leverage}
    funding_dir = None
    if case.funding:  # the files `tradebot data fetch --funding` writes
        funding_dir = workdir / "funding"
        for pair, rates in case.funding.items():
            write_funding_csv(funding_dir, pair, [(ms_to_datetime(at), rate) for at, rate in rates])
    run = await run_shipped_replay(case.frames, case.timeframe, case.risk,
                                   (StrategyEntry(name=case.strategy, params=case.params, **swap),), workdir,
                                   fee=case.fee, slippage=case.slippage, template=template,
                                   funding_dir=funding_dir)
    assert run.unfinished == [], "the replay closes what is open at the end of the data"
    return run.finished


async def _no_sleep(_: float) -> None:
    return None
