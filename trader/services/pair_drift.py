"""The drift report's backtest side for the pairs strategy: its groups through the pairs engine path.

The pairs strategy is no registry strategy (two legs, one group), so ``DriftService`` asks here for the
trades a backtest makes over the account's period: ``backtest.pairs_engine.run_pairs_engine`` (the
group simulation behind ``tradebot backtest --strategy pairs``, proven fill for fill equal to the
replay) with the paper account's costs, then each leg built from its fills as the account's legs are
(``analytics.drift.filled_trades`` over ``GroupClosed.legs``). Parameters are those in force at the
period's start (a change inside the period is named in the report's notes, not replayed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal

from trader.config.sections import ExchangeConfig, StrategyEntry
from trader.core.analytics.drift import FilledTrade, filled_trades
from trader.core.backtest.pairs_engine import PairEngineSettings, run_pairs_engine
from trader.core.domain.candles import CandleFrame, datetime_to_ms, timeframe_ms
from trader.core.domain.enums import ExitReason
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, StrategyError
from trader.core.strategies.pair_setup import PAIRS_NAME, pair_setup
from trader.services.param_history import Regime

LoadFrames = Callable[[Sequence[Symbol], str, int, int], Awaitable[dict[Symbol, CandleFrame]]]


async def expected(load: LoadFrames, entry: StrategyEntry, timeframe: str, periods: Sequence[Regime],
                   span: tuple[datetime, datetime], balance: Decimal,
                   exchange: ExchangeConfig) -> list[FilledTrade]:
    """Return the legs the pairs backtest trades over ``span`` (those still open at its end left out)."""
    params = next((e.params for e in periods[0].strategies if e.name == PAIRS_NAME), entry.params)
    try:
        setup = pair_setup(entry.pairs, params)
    except StrategyError as exc:
        raise DataError(str(exc), user_message=exc.user_message) from None
    tf = timeframe_ms(timeframe)
    trade_from = -(-(datetime_to_ms(span[0]) - tf) // tf) * tf  # the first candle whose close it saw
    end_ms = datetime_to_ms(span[1]) - tf + 1  # candles closed by the last snapshot
    legs = [Symbol(setup.y), Symbol(setup.x)]
    frames = await load(legs, timeframe, trade_from - setup.required_history * tf, end_ms)
    settings = PairEngineSettings(timeframe, balance, exchange.quote_currency, fee=exchange.paper_fee,
                                  slippage=exchange.paper_slippage, leverage=Decimal(entry.leverage),
                                  risk=periods[0].risk)
    run = await asyncio.to_thread(run_pairs_engine, frames[legs[0]], frames[legs[1]], setup, settings,
                                  trade_from_ms=trade_from)
    trades = filled_trades(run.legs, run.fills, exchange.quote_currency)
    return [t for t in trades if t.exit_reason != ExitReason.END_OF_DATA.value]  # still open in the account


def notes(periods: Sequence[Regime]) -> list[str]:
    """Return what the pairs comparison leaves out, in words (nothing when nothing is)."""
    if len(periods) < 2:
        return []
    return ["pairs: settings changed inside the period are not replayed for it; its backtest keeps the "
            "parameters and risk in force at the start"]
