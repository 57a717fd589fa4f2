"""LiveEngine: the running TradingService plus how to rebuild it when parameters or strategies change.

Strategies are built from the ParameterBook through the registry and wrapped in ``GuardedStrategy``;
a change replaces the TradingService around the same EngineRunner (same state, lock and outbox), so a
tick in flight finishes with the old parameters and the next one uses the new ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import cast

from trader.config.sections import ExchangeConfig, StrategyEntry
from trader.core.domain.futures import StrategyTrading
from trader.core.errors import ConfigError, StrategyError
from trader.core.strategies import registry as strategy_registry
from trader.core.strategies.base import Strategy
from trader.core.strategies.guard import GuardedStrategy
from trader.core.strategies.pair_setup import PAIRS_NAME, PairSetup, pair_setup
from trader.live.alerts import AlertService
from trader.live.engine_runner import EngineOptions
from trader.live.monitor import ProtectionMonitor
from trader.live.parameters import ParameterBook
from trader.live.reconcile import Reconciler
from trader.live.trading import TradingService
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.metrics import NO_METRICS, EngineMetrics
from trader.ports.store import UnitOfWorkFactory

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TickPlan:
    """One scheduled tick: a strategy on a pair and timeframe."""

    strategy: str
    symbol: str
    timeframe: str


def build_strategies(book: ParameterBook) -> dict[str, Strategy]:
    """Return the enabled strategies with their current parameters, guarded; ConfigError if one fails."""
    built: dict[str, Strategy] = {}
    problems: list[str] = []
    for entry in book.strategies:
        if entry.name == PAIRS_NAME:
            continue  # two legs per tick: ``build_pairs``
        try:
            guarded = GuardedStrategy(book.registry.create(entry.name, entry.params))
        except StrategyError as exc:
            problems.append(f"strategies.{entry.name}: {exc}")
            continue
        built[entry.name] = cast(Strategy, guarded)  # GuardedStrategy has Strategy's interface
    if problems:
        raise ConfigError(problems)
    return built


def build_pairs(book: ParameterBook) -> dict[str, PairSetup]:
    """Return the enabled pairs strategies (``name = "pairs"``) by name; ConfigError if one is invalid."""
    built: dict[str, PairSetup] = {}
    problems: list[str] = []
    for entry in book.strategies:
        if entry.name != PAIRS_NAME:
            continue
        try:
            built[entry.name] = pair_setup(entry.pairs, entry.params)
        except StrategyError as exc:
            problems.append(f"strategies.{entry.name}: {exc}")
    if problems:
        raise ConfigError(problems)
    return built


def strategy_trading(entries: Iterable[StrategyEntry]) -> dict[str, StrategyTrading]:
    """Return how each configured strategy trades: shorts, market type, leverage, margin mode.

    Strategies name pairs ('BTC/USDT') whatever the market type: with swap strategies the exchange
    adapter trades each pair's linear perpetual, so candles, positions and backtests keep one symbol.
    """
    return {e.name: StrategyTrading(e.allow_short, e.market == "swap", Decimal(e.leverage), e.margin_mode)
            for e in entries}


def perpetual_terms(entries: Iterable[StrategyEntry], default_pairs: Iterable[str]
                    ) -> dict[str, tuple[Decimal, str]]:
    """Return (leverage, margin mode) per pair traded by a swap strategy: what the venue must be set to
    before the first entry (start-up checks allow one setting per pair)."""
    pairs = tuple(default_pairs)
    return {pair: (Decimal(e.leverage), e.margin_mode)
            for e in entries if e.market == "swap" for pair in (e.pairs or pairs)}


class LiveEngine:
    """Holds the current TradingService; implements ``services.control.EngineHandle``."""

    def __init__(self, exchange: Exchange, uow_factory: UnitOfWorkFactory, clock: Clock,  # noqa: PLR0913
                 exchange_config: ExchangeConfig, book: ParameterBook, alerts: AlertService, *,
                 monitor_interval: timedelta = timedelta(seconds=10), live_prices: bool = True,
                 metrics: EngineMetrics = NO_METRICS) -> None:
        self._exchange = exchange
        self._config = exchange_config
        self._book = book
        pairs = build_pairs(book)
        options = EngineOptions(book.risk, tp_swap_distance=exchange_config.tp_swap_distance,
                                trading=strategy_trading(book.strategies),
                                leg_fractions={n: p.leg_fraction for n, p in pairs.items()})
        self._trading = TradingService(exchange, uow_factory, clock, options, build_strategies(book),
                                       alerts=alerts, metrics=metrics, pairs=pairs)
        runner = self._trading.runner
        self.monitor = ProtectionMonitor(runner, monitor_interval, prices=live_prices)
        legs = {p for e in book.strategies if e.name == PAIRS_NAME for p in e.pairs or ()}
        self.reconciler = Reconciler(runner, symbols=sorted({p.symbol for p in self.plans()} | legs))

    @property
    def trading(self) -> TradingService:
        """Return the trading service ticks and control actions use now."""
        return self._trading

    def plans(self) -> list[TickPlan]:
        """Return one tick per (enabled strategy, pair, timeframe); a pairs strategy ticks once per couple,
        under its first (y) pair."""
        out: list[TickPlan] = []
        for entry in self._book.strategies:
            pairs = entry.pairs or self._config.pairs
            for pair in pairs[:1] if entry.name == PAIRS_NAME else pairs:
                out.append(TickPlan(entry.name, pair, entry.timeframe or self._config.timeframe))
        return out

    def apply_parameters(self) -> None:
        """Use the book's current risk section and strategy parameters from the next tick on."""
        strategies = build_strategies(self._book)  # first, so a failure changes nothing
        pairs = build_pairs(self._book)
        runner = self._trading.runner
        runner.options = replace(runner.options, risk=self._book.risk,
                                 trading=strategy_trading(self._book.strategies),
                                 leg_fractions={n: p.leg_fraction for n, p in pairs.items()})
        self._trading.use_strategies(strategies, pairs)
        logger.info("parameters applied to the running engine")

    async def entries_blocked(self) -> str:
        """Return why new entries are blocked after reconciliation ("" when they are not)."""
        return (await self._trading.runner.snapshot()).state.entries_blocked

    async def acknowledge(self, actor: str) -> None:
        """Lift the reconciliation entry block (an admin looked at the differences)."""
        await self.reconciler.acknowledge(actor)

    def reload_strategies(self) -> int:
        """Discover strategy plugins again and rebuild the enabled strategies; return how many run."""
        self._book.use_registry(strategy_registry.reload())
        self.apply_parameters()
        return len(self._book.strategies)
