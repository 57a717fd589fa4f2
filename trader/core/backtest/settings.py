"""What a backtest run is given (BacktestSettings) and what the simulation hands back (RunOutput)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from trader.config.sections import RiskConfig
from trader.core.backtest.stops import TradingStops
from trader.core.domain.futures import FuturesTerms
from trader.core.domain.ids import Symbol
from trader.core.domain.orders import Fill
from trader.core.positions.state import Position
from trader.core.sim.costs import FeeModel, SlippageModel

if TYPE_CHECKING:
    from trader.core.backtest.lanes import Lane
    from trader.core.backtest.timeline import Timeline

Progress = Callable[[float], None]  # called with the fraction of the run done, 0..1


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """What a run needs besides data: strategy name, risk section, money, costs, options."""

    strategy: str
    timeframe: str
    risk: RiskConfig = field(default_factory=RiskConfig)
    start_balance: Decimal = Decimal(10_000)
    quote: str = "USDT"
    fees: FeeModel | None = None  # None: each market's own maker/taker fees
    slippage: SlippageModel = field(default_factory=SlippageModel)
    allow_short: bool = False
    # Set: the pairs are traded as linear perpetuals (margin at this leverage, shorts possible).
    futures: FuturesTerms | None = None
    # Funding-rate history per pair, (funding time epoch ms, rate) ascending: charged on perpetuals.
    funding: Mapping[Symbol, tuple[tuple[int, Decimal], ...]] = field(default_factory=dict)
    # Risk sections that replace ``risk`` from a time on (epoch ms of a candle close, ascending), as a
    # /settings change does in a running engine; the drift report replays the audited changes with it.
    risk_changes: tuple[tuple[int, RiskConfig], ...] = ()


@dataclass(frozen=True, slots=True)
class RunOutput:
    """Raw output of a run: closed positions, ledger fills, the lanes and the timeline used."""

    positions: tuple[Position, ...]
    fills: tuple[Fill, ...]
    lanes: Mapping[Symbol, Lane]
    timeline: Timeline
    steps: int
    stops: TradingStops = field(default_factory=TradingStops)  # halts and refused entries
    funding: tuple[tuple[datetime, Decimal], ...] = ()  # funding charged (quote paid), oldest first
