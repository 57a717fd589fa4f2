"""Drive TradingService + PaperExchange over stored candles with a SimClock (no wall-clock scheduling).

Per candle, as a live service would see it: the candle's open arrives (the paper venue matches resting
orders on the candle; fills go through an engine cycle at the open time, and orders placed by that
cycle, such as the stop after an entry fill, are matched on the same candle again, as the backtest
does), then the candle closes and every pair ticks in one step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.domain.enums import ExitReason
from trader.domain.ids import Symbol
from trader.domain.market import MarketSpec
from trader.exchange.paper_venue import PaperCosts, PaperExchange
from trader.ports.store import UnitOfWorkFactory
from trader.runtime.clock import SimClock
from trader.services.engine_runner import CycleInput, EngineOptions
from trader.services.trading import TradingService
from trader.sim.costs import FeeModel, SlippageModel
from trader.strategies.base import Strategy

MAX_SAME_CANDLE_ROUNDS = 5


@dataclass
class Replay:
    """A paper trading service over ``candles`` (same timeframe, aligned), driven candle by candle."""

    service: TradingService
    paper: PaperExchange
    clock: SimClock
    strategy: str
    candles: Mapping[Symbol, CandleFrame]
    timeframe: str
    names: tuple[str, ...] = ()

    @classmethod
    def build(cls, uow_factory: UnitOfWorkFactory, strategy: Strategy, candles: Mapping[Symbol, CandleFrame],
              markets: Mapping[Symbol, MarketSpec], risk: RiskConfig, *, timeframe: str = "1h",
              fee: Decimal = Decimal("0.001"), slippage: Decimal = Decimal(0),
              start_balance: Decimal = Decimal(10_000), more: Mapping[str, Strategy] | None = None) -> Replay:
        """Build the paper venue, clock and service; ``more`` adds strategies ticked after ``strategy``."""
        start = ms_to_datetime(min(int(c.timestamp[0]) for c in candles.values()))
        clock = SimClock(start)
        paper = PaperExchange(markets.values(), quote="USDT", balances={"USDT": start_balance},
                              costs=PaperCosts(FeeModel.flat(fee), SlippageModel(slippage)), clock=clock)
        strategies = {strategy.name: strategy, **(more or {})}
        service = TradingService(paper, uow_factory, clock, EngineOptions(risk), strategies)
        return cls(service, paper, clock, strategy.name, candles, timeframe, tuple(strategies))

    def warm_up(self, start: int, count: int) -> None:
        """Feed the ``count`` candles before index ``start`` without ticking (indicator history only)."""
        for frame_symbol, frame in self.candles.items():
            for k in range(max(0, start - count), start):
                row = (int(frame.timestamp[k]), float(frame.open[k]), float(frame.high[k]),
                       float(frame.low[k]), float(frame.close[k]), float(frame.volume[k]))
                self.paper.on_candle(frame_symbol, self.timeframe, row)

    async def run(self, start: int = 0, stop: int | None = None, *, finish: bool = True) -> None:
        """Feed candles ``start:stop`` (indexes into the first pair's frame); END_OF_DATA close at the end."""
        tf = timeframe_ms(self.timeframe)
        first = next(iter(self.candles.values()))
        times = [int(t) for t in first.timestamp[start:stop]]
        for t in times:
            await self.candle(t, tf)
        if finish:
            await self.finish(times[-1] + tf)

    async def candle(self, t: int, tf: int) -> None:
        """Open, match, then close candle ``t`` on every pair."""
        self.clock.set(ms_to_datetime(t))
        fills = []
        for symbol, frame in self.candles.items():
            k = int(frame.timestamp.searchsorted(t))
            if k < len(frame) and int(frame.timestamp[k]) == t:
                row = (t, float(frame.open[k]), float(frame.high[k]), float(frame.low[k]),
                       float(frame.close[k]), float(frame.volume[k]))
                fills += self.paper.on_candle(symbol, self.timeframe, row)
        for _ in range(MAX_SAME_CANDLE_ROUNDS):
            if not fills:
                break
            await self.service.runner.cycle(CycleInput(self.strategy), None)
            fills = [f for s in self.candles for f in self.paper.rematch(s)]
        self.clock.set(ms_to_datetime(t + tf))
        for name in self.names or (self.strategy,):
            await self.service.run_ticks(name, list(self.candles), self.timeframe)

    async def finish(self, end_ms: int) -> None:
        """Close what is open at the last close (END_OF_DATA), as the backtest does."""
        state = await self.service.engine_state()
        if not state.positions:
            return
        self.clock.set(max(self.clock.now(), ms_to_datetime(end_ms)))
        await self.service.close_all("end of replay", exit_reason=ExitReason.END_OF_DATA)
        for symbol, frame in self.candles.items():
            self.paper.on_price(symbol, Decimal(repr(float(frame.close[-1]))), self.clock.now())
        await self.service.runner.cycle(CycleInput(self.strategy), None)


def utc(*args: int) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)
