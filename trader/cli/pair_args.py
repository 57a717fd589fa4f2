"""The pairs strategy's run from the command line: its two legs, parameters, timeframe and costs.

``tradebot backtest --strategy pairs`` and ``tradebot optimise --strategy pairs`` share it: the
configured ``[[strategies]] name = "pairs"`` entry gives the legs, parameters, timeframe and leverage,
and the flags (``--pairs Y,X``, ``--param``, ``--timeframe``, ``--leverage``) override them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from trader.cli import optimise_args as arg_types
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import split_symbol
from trader.core.errors import ArgError
from trader.core.strategies.pair_setup import PAIRS_NAME, PairSetup, pair_setup

if TYPE_CHECKING:
    from trader.config import Settings
    from trader.core.backtest.settings import BacktestSettings

NO_LEGS = ("the pairs strategy needs its two legs: --pairs Y,X (y first, e.g. ETH/USDT,BTC/USDT) or a "
           "configured [[strategies]] name = \"pairs\" with pairs = [y, x]")


def pair_run(args: argparse.Namespace, settings: Settings, params: Mapping[str, str],
             usage: str) -> tuple[PairSetup, str, BacktestSettings]:
    """Return the setup, timeframe and run settings of a pairs run; ArgError naming what is missing."""
    from dataclasses import replace

    from trader.services.backtest_runs import run_settings

    entry = next((e for e in settings.strategies if e.name == PAIRS_NAME), None)
    configured = list(entry.pairs or ()) if entry else []
    legs = list(arg_types.pairs(args.pairs, usage)) if args.pairs else configured
    if not legs:
        raise ArgError(NO_LEGS, usage)
    setup = pair_setup(legs, {**(entry.params if entry else {}), **params})
    timeframe = arg_types.timeframe(args.timeframe or (entry.timeframe if entry else None)
                                    or settings.exchange.timeframe, usage)
    given = getattr(args, "leverage", None)
    leverage = given if given is not None else entry.leverage if entry else 1
    margin = entry.margin_mode if entry else "isolated"
    base = run_settings(settings.backtest, settings.risk, PAIRS_NAME, timeframe, split_symbol(setup.y)[1],
                        balance=args.balance, fee=args.fee, slippage=args.slippage)
    return setup, timeframe, replace(base, allow_short=True, futures=FuturesTerms(Decimal(leverage), margin))
