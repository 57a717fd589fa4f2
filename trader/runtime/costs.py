"""Paper versus backtest costs: what ``tradebot run`` prints at start when they differ.

The paper exchange and the backtest share the fill model (``trader.core.sim``); only the configured costs
can differ (``exchange.paper_fee``/``paper_slippage`` against ``backtest.fee``/``slippage``). Saying so
at start lets a user compare a paper account with a backtest run at the same costs.
"""

from __future__ import annotations

from decimal import Decimal

from trader.config.sections import BacktestConfig, ExchangeConfig
from trader.core.formatting import percent


def cost_notice(exchange: ExchangeConfig, backtest: BacktestConfig) -> str | None:
    """Return what differs between the paper account's costs and the backtest's, or None when equal."""
    differences = [f"{name} {_pct(paper)} on paper, {_pct(tested)} in backtests"
                   for name, paper, tested in (("fee", exchange.paper_fee, backtest.fee),
                                               ("slippage", exchange.paper_slippage, backtest.slippage))
                   if paper != tested]
    if not differences:
        return None
    return (f"paper costs differ from the backtest defaults: {'; '.join(differences)}. To compare, run "
            f"tradebot backtest --fee {exchange.paper_fee} --slippage {exchange.paper_slippage} (or set "
            "backtest.fee/backtest.slippage to the exchange.paper_* values)")


def _pct(value: Decimal) -> str:
    return percent(value, sign=False, digits=3)
