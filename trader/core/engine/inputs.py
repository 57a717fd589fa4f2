"""StepInput and StepOutput: what ``step`` reads and returns, identical in backtest, paper and live.

Only the producer differs: the backtest runner builds StepInput from arrays and the simulator, the
trading service from the exchange port. Nothing in here knows which mode it is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from trader.config.sections import RiskConfig, TrailingConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.commands import Command
from trader.core.domain.enums import ExitReason
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.engine.actions import ControlAction
from trader.core.engine.events import EngineEvent
from trader.core.engine.orders import OrderUpdate
from trader.core.engine.pair_groups import PairSignal
from trader.core.engine.state import EngineState
from trader.core.positions.position_events import PriceUpdated
from trader.core.positions.protection import PositionContext
from trader.core.strategies.base import Signal


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """The frozen settings ``step`` needs: strategy name, risk section, markets, protection options."""

    strategy: str
    risk: RiskConfig
    markets: Mapping[Symbol, MarketSpec]
    tp_swap_distance: Decimal = Decimal("0.005")
    allow_short: bool = False
    venue_down: str = ""  # non-empty: the venue's circuit breaker is open, every entry is refused with it
    pair_leg_fraction: Decimal = Decimal("0.3")  # pairs: the y leg's notional as a fraction of equity
    _contexts: dict[Symbol, PositionContext] = field(default_factory=dict, init=False, repr=False,
                                                      compare=False)

    @property
    def trailing(self) -> TrailingConfig:
        """Return the trailing-stop section of the risk config."""
        return self.risk.trailing

    def context(self, symbol: Symbol) -> PositionContext:
        """Return what the position machine needs for ``symbol``, built once per pair (asked per event)."""
        ctx = self._contexts.get(symbol)
        if ctx is None:
            ctx = self._contexts[symbol] = PositionContext(self.markets[symbol], self.trailing,
                                                           self.tp_swap_distance, self.risk.dca)
        return ctx


@dataclass(frozen=True, slots=True)
class StepInput:
    """One step's inputs; every field but ``now``, ``account`` and ``config`` may be empty.

    - ``order_updates``: fills and status changes of our orders since the last step, oldest first.
    - ``prices``: the candle that just closed (or a tick) per pair: trailing stops, watched levels.
    - ``signals``: the strategy's row for the candle that just closed, per pair: exits, then entries.
    - ``exit_requests``: close every active position of these pairs (manual close, end of data).
    - ``equity_marks``: earlier (time, equity) observations since the last step, oldest first, for
      the risk memory (peak, daily loss, drawdown halt); ``account.equity`` is recorded after them.
    - ``funding``: quote paid (negative: received) per perpetual-swap pair since the last step, from
      the venue's funding history live, from the funding-rate history in a backtest; split over the
      pair's open positions by size and booked like a fee.
    - ``actions``: control actions (halt, pause, resume, unlock, entry block, manual entry, adopted
      manual exit), applied by ``step`` in order; see ``engine.actions``.
    - ``pair_signals``: the pairs strategy's row per couple (``PairSignal.key``): group exits, then entries.
    """

    now: datetime
    account: AccountSnapshot
    config: EngineConfig
    order_updates: tuple[OrderUpdate, ...] = ()
    prices: Mapping[Symbol, PriceUpdated] = field(default_factory=dict)
    signals: Mapping[Symbol, Signal] = field(default_factory=dict)
    exit_requests: Mapping[Symbol, ExitReason] = field(default_factory=dict)
    equity_marks: tuple[tuple[datetime, Decimal], ...] = ()
    actions: tuple[ControlAction, ...] = ()
    funding: Mapping[Symbol, Decimal] = field(default_factory=dict)
    pair_signals: Mapping[str, PairSignal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepOutput:
    """The new state, the commands to persist then execute in order, and what to announce."""

    state: EngineState
    commands: tuple[Command, ...]
    events: tuple[EngineEvent, ...]
