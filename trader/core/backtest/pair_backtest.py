"""``run_pair_backtest``: the pairs strategy as a ``BacktestResult``, like every other backtest.

One code path: ``pairs_engine.run_pairs_engine`` (``engine.step`` over the simulator, the path replay and
live take, both legs opened and closed together as one group). Each leg that held coins is one trade
(``pair_groups.leg_positions``, what the store records live), its id the leg's ``<group id>:<leg>``, so
the report, CSV, JSON, stored runs, the optimiser's objective and the drift comparison read it as any
other run's trades. ``tradebot backtest --strategy pairs``, ``tradebot backtest-pairs --engine`` and
``tradebot optimise --strategy pairs`` all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

import numpy as np

from trader.core.analytics.records import TradeRecord, equity_curve
from trader.core.backtest.pairs_engine import PairEngineRun, PairEngineSettings, run_pairs_engine
from trader.core.backtest.result import BacktestResult, is_trade, trade_record
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.ids import Symbol
from trader.core.domain.money import ONE
from trader.core.errors import DataError
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.state import Position
from trader.core.strategies.pair_setup import PAIRS_NAME, PairSetup

DEFAULT_FEE = Decimal("0.001")  # ``backtest.markets.default_market``'s, when the run gives none
PATH = "engine (pair groups through engine.step)"
ENGINE_MODEL = ("signals on close, both legs as market orders at the next open on linear perpetuals "
                "(margin at the leverage; funding not charged), amounts at each market's step, the risk "
                "section's guards; a leg refused by the venue unwinds the other")


def engine_settings(settings: BacktestSettings) -> PairEngineSettings:
    """Return the pairs engine's money, costs and risk for a run's ``settings``."""
    fee = settings.fees.taker if settings.fees is not None else DEFAULT_FEE
    leverage = settings.futures.leverage if settings.futures is not None else ONE
    return PairEngineSettings(settings.timeframe, settings.start_balance, settings.quote, fee=fee,
                              slippage=settings.slippage.rate, leverage=leverage, risk=settings.risk)


def run_pair_backtest(setup: PairSetup, candles: Mapping[Symbol, CandleFrame], settings: BacktestSettings, *,
                      trade_from_ms: int | None = None) -> BacktestResult:
    """Backtest ``setup`` on its two legs' candles (``candles`` holds both) and return the result."""
    y, x = Symbol(setup.y), Symbol(setup.x)
    missing = [s for s in (y, x) if s not in candles]
    if missing:
        raise DataError(f"pairs: no candles for {', '.join(missing)}")
    eng = engine_settings(settings)
    run = run_pairs_engine(candles[y], candles[x], setup, eng, trade_from_ms=trade_from_ms)
    tf = timeframe_ms(settings.timeframe)
    trades = tuple(sorted((_record(p, candles) for p in run.legs if is_trade(p)),
                          key=lambda t: (t.entry_time, t.symbol)))
    equity = equity_curve(run.timestamps + tf, run.equity)
    failed = sum(g.group.status is GroupStatus.FAILED for g in run.groups)
    params = {"window": setup.params.window, "halflife": setup.params.halflife,
              "entry_z": setup.params.entry_z, "exit_z": setup.params.exit_z, "stop_z": setup.params.stop_z,
              "leg_fraction": str(setup.leg_fraction)}
    return BacktestResult(PAIRS_NAME, params, (y, x), settings.timeframe, settings.start_balance,
                          settings.quote, trades, equity, 2 * len(run.timestamps), run.steps, failed,
                          _notes(run, eng, params), path=PATH)


def _record(leg: Position, candles: Mapping[Symbol, CandleFrame]) -> TradeRecord:
    """Return the leg's trade record with its excursions over the candles it was held."""
    frame = candles[leg.symbol]
    opened = datetime_to_ms(leg.opened_at) if leg.opened_at else int(frame.timestamp[0])
    closed = datetime_to_ms(leg.closed_at) if leg.closed_at else opened
    lo = max(int(np.searchsorted(frame.timestamp, opened, side="right")) - 1, 0)
    hi = max(int(np.searchsorted(frame.timestamp, closed, side="right")) - 1, lo)
    high, low = float(frame.high[lo:hi + 1].max()), float(frame.low[lo:hi + 1].min())
    return replace(trade_record(leg, high, low), id=leg.id)


def _notes(run: PairEngineRun, eng: PairEngineSettings, params: Mapping[str, object]) -> dict[str, str]:
    closed = [g for g in run.groups if g.group.status is GroupStatus.CLOSED]
    failed = len(run.groups) - len(closed)
    return {
        "fills": ENGINE_MODEL,
        "fees": f"{float(eng.fee * 100):g} % per side",
        "slippage": f"{float(eng.slippage * 100):g} % on every fill",
        "market": f"linear perpetuals at {eng.leverage}x; y leg = leg fraction x equity, x leg = beta x "
                  "that, the short leg sold short",
        "groups": f"{len(closed)} closed (long spread {sum(g.side > 0 for g in closed)}, short spread "
                  f"{sum(g.side < 0 for g in closed)}), {failed} failed to open (the filled leg unwound)",
        "parameters": ", ".join(f"{k}={v}" for k, v in params.items()),
        "simulation": PATH,
    }


__all__ = ["ENGINE_MODEL", "engine_settings", "run_pair_backtest"]
