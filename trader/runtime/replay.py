"""Replay (demo) mode: stored candles drive a PaperExchange and a SimClock through the real TradingService.

Per candle, in the backtest runner's event order (docs/architecture-engine.md), so a replay makes
exactly the trades ``tradebot backtest`` makes on the same candles and settings:

1. the candle opens: the SimClock moves to its open time and the candle is fed to the paper exchange
   (market orders fill at its open, resting stops and take-profits match on its range); fills go
   through one engine cycle at the open time, and the orders that cycle places (the stop and
   take-profit of an entry that just filled) are matched on the same candle again, as the backtest
   checks a new position's levels on its entry candle;
2. the candle closes: the SimClock moves to the close, every due strategy ticks through
   ``TradingService.run_ticks``, the protection monitor runs, equity and the cursor are stored.

Between candles it sleeps ``timeframe / speed`` seconds. A fresh replay starts a few candles before
the first entry signal (computed over the stored candles from their first one, as the backtest does),
so a demo trades within seconds and skips nothing the backtest would take; the candles before it only
warm the strategies up. At the end of the data what is still open is closed at the last close
(END_OF_DATA), as the backtest does. A restarted replay resumes at its stored cursor with the paper
account and engine state restored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import numpy as np

from trader.adapters.exchange import PaperCosts, PaperExchange, PaperStateStore
from trader.adapters.exchange.paper_funding import FileRates
from trader.config.sections import ExchangeConfig
from trader.core.backtest.markets import as_swap, default_market
from trader.core.domain.candles import CandleFrame, ms_to_datetime, timeframe_ms
from trader.core.domain.enums import ExitReason
from trader.core.domain.ids import Symbol
from trader.core.errors import ConfigError, InvariantViolation
from trader.core.formatting import money
from trader.core.strategies.base import Strategy
from trader.core.strategies.pair_setup import PairSetup
from trader.core.strategies.pairs import aligned, compute_pair
from trader.live.decision_log import log_events, log_fills, log_ticks
from trader.live.engine_handle import LiveEngine
from trader.live.engine_runner import CycleInput
from trader.ports.store import EquitySnapshot, ReplayCursor, UnitOfWorkFactory
from trader.runtime.clock import SimClock
from trader.services.candle_csv import series_from_name
from trader.services.funding_files import read_funding
from trader.services.market_data import MarketDataService, sample_files

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
PAPER_KEY = "paper:replay"
LEAD_CANDLES = 3  # replay starts this many candles before the first entry signal
MAX_SAME_CANDLE_ROUNDS = 5  # entry fill -> protection placed -> protection filled on the same candle

Sleep = Callable[[float], Awaitable[None]]
Hook = Callable[[], Awaitable[object]]


_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class ReplayData:
    """The stored candles of every pair (one timeframe) and where the replay starts (open time, ms)."""

    timeframe: str
    frames: Mapping[Symbol, CandleFrame]
    start_ms: int
    resumed: bool


async def load_frames(uow_factory: UnitOfWorkFactory, market_data: MarketDataService, store_exchange: str,
                      pairs: Sequence[str], timeframe: str) -> dict[Symbol, CandleFrame]:
    """Return the stored candles per pair, importing the bundled samples first when any is missing."""
    frames = {Symbol(p): await market_data.load(store_exchange, Symbol(p), timeframe) for p in pairs}
    empty = {symbol for symbol, frame in frames.items() if len(frame) == 0}
    for path in sample_files():
        if series_from_name(path) in {(symbol, timeframe) for symbol in empty}:
            logger.info("importing the bundled sample %s into the store (first replay)", path.name)
            await market_data.import_csv(path, store_exchange)
    frames = {Symbol(p): await market_data.load(store_exchange, Symbol(p), timeframe) for p in pairs}
    missing = [p for p, f in frames.items() if len(f) == 0]
    if missing:
        raise ConfigError([f"exchange.pairs: no {timeframe} candles stored for {', '.join(missing)}; the "
                           "bundled samples have BTC/USDT and ETH/USDT 1h (more: tradebot data import)"])
    return frames


def first_entry_ms(frames: Mapping[Symbol, CandleFrame], strategies: Sequence[Strategy],
                   lead: int = LEAD_CANDLES, *, shorts: bool = False, pairs: Sequence[PairSetup] = ()) -> int:
    """Return the open time to start replaying at: ``lead`` candles before the first entry signal.

    Signals are computed over each pair's whole stored history and counted from its first candle,
    the way ``backtest.lanes`` picks entry candidates, so the replay skips no signal the backtest takes.
    ``shorts``: short entry signals count too (a strategy with ``allow_short``). ``pairs``: the first
    group entry of each pairs strategy counts too (both sides: one leg is always short).
    """
    best: int | None = None
    for setup in pairs:
        y, x = aligned(frames[Symbol(setup.y)], frames[Symbol(setup.x)])
        if len(y) > setup.params.window:
            s = compute_pair(y, x, setup.params)
            entries = np.flatnonzero(s.enter_long | s.enter_short)
            if len(entries):
                at = int(y.timestamp[max(0, int(entries[0]) - lead)])
                best = at if best is None else min(best, at)
    for frame in frames.values():
        if len(frame) == 0:
            continue
        for strategy in strategies:
            signals = strategy.compute(frame)
            wanted = signals.enter_long & ~signals.exit_long
            if shorts:
                wanted = wanted | (signals.enter_short & ~signals.exit_short)
            entries = np.flatnonzero(wanted)
            if len(entries):
                at = int(frame.timestamp[max(0, int(entries[0]) - lead)])
                best = at if best is None else min(best, at)
    first = min(int(f.timestamp[0]) for f in frames.values() if len(f))
    if best is None:
        logger.warning("no entry signal in the stored candles; replaying from the start")
        return first
    return max(first, best)


async def replay_data(uow_factory: UnitOfWorkFactory, frames: Mapping[Symbol, CandleFrame], timeframe: str,
                      strategies: Sequence[Strategy], *, shorts: bool = False,
                      pairs: Sequence[PairSetup] = ()) -> ReplayData:
    """Return the frames and the start: the stored cursor when resuming, else before the first signal."""
    async with uow_factory() as uow:
        cursor = await uow.replay.get()
    if cursor is not None and cursor.timeframe == timeframe:
        return ReplayData(timeframe, frames, cursor.next_ms, resumed=True)
    start = first_entry_ms(frames, strategies, shorts=shorts, pairs=pairs)
    return ReplayData(timeframe, frames, start, resumed=False)


async def build_replay_exchange(config: ExchangeConfig, uow_factory: UnitOfWorkFactory, clock: SimClock,
                                data: ReplayData, warmup: int, *, swap: bool = False) -> PaperExchange:
    """Return the paper exchange fed with the warm-up candles, then restored from the store if saved.

    ``swap``: the pairs are simulated as linear perpetuals (margin, shorts), as ``tradebot backtest``
    does for a swap strategy; each strategy's leverage is applied by the engine.
    """
    markets = [default_market(s, float(f.close[0])) for s, f in data.frames.items()]
    if swap:
        markets = [as_swap(m) for m in markets]
    store = PaperStateStore(uow_factory, clock, key=PAPER_KEY)
    funding = None
    if swap and config.replay_funding_dir:  # the pairs with a funding-history file pay its rates
        funding = FileRates(read_funding(Path(config.replay_funding_dir), list(data.frames)))
    paper = PaperExchange(markets, quote=config.quote_currency,
                          balances={config.quote_currency: Decimal(config.paper_start_balance)},
                          costs=PaperCosts.from_config(config), clock=clock, saver=store.save,
                          funding=funding)
    for symbol, frame in data.frames.items():
        end = int(np.searchsorted(frame.timestamp, data.start_ms, side="left"))
        for i in range(max(0, end - warmup), end):  # history for the strategies; no orders rest yet
            paper.on_candle(symbol, data.timeframe, _row(frame, i))
    restored = await store.load_into(paper)
    logger.info("replay paper account %s", "restored from the store" if restored else "starts fresh")
    return paper


def _row(frame: CandleFrame, i: int) -> tuple[int, float, float, float, float, float]:
    return (int(frame.timestamp[i]), float(frame.open[i]), float(frame.high[i]), float(frame.low[i]),
            float(frame.close[i]), float(frame.volume[i]))


class ReplayDriver:
    """Advance the SimClock over the stored candles and run the same ticks the scheduler runs live."""

    def __init__(self, paper: PaperExchange, clock: SimClock, data: ReplayData, engine: LiveEngine,
                 uow_factory: UnitOfWorkFactory, *, speed: float, monitor: Hook | None = None) -> None:
        if speed <= 0:
            raise ValueError("replay speed must be positive")
        self._paper = paper
        self._clock = clock
        self._data = data
        self.engine = engine
        self._uow = uow_factory
        self._step = timeframe_ms(data.timeframe)
        self._pause = self._step / 1000 / speed
        self._monitor = monitor
        times = np.unique(np.concatenate([f.timestamp for f in data.frames.values()]))
        self._times = times[times >= data.start_ms]
        self._index = {s: {int(t): i for i, t in enumerate(f.timestamp) if t >= data.start_ms}
                       for s, f in data.frames.items()}
        self.fed = 0
        self.trades = 0  # fills seen, for the summary line

    @property
    def seconds_per_candle(self) -> float:
        """Return the real seconds between two replayed candles."""
        return self._pause

    @property
    def remaining(self) -> int:
        """Return how many candle times are left."""
        return len(self._times) - self.fed

    async def run(self, max_candles: int | None = None, sleep: Sleep = asyncio.sleep) -> int:
        """Replay candles until the data ends or ``max_candles`` were fed; return how many were fed."""
        first = ms_to_datetime(int(self._times[0])) if len(self._times) else None
        logger.info("replay: %d candle(s) from %s, %s per candle (speed x%g)", len(self._times), first,
                    f"{self._pause:.2f}s", self._step / 1000 / self._pause if self._pause else 0)
        done = 0
        while self.fed < len(self._times) and (max_candles is None or done < max_candles):
            await self.step()
            done += 1
            await sleep(self._pause)
        logger.info("replay: stopped after %s candle(s), %d fill(s); %s candle(s) left", f"{done:,}",
                    self.trades, f"{self.remaining:,}")
        if self.remaining == 0:
            await self.finish()  # also after a restart at the end, should the last run have stopped first
            logger.info("replay: reached the end of the stored candles; to watch the demo from the start "
                        "again, delete the replay database (./data/replay.db by default)")
        return done

    async def step(self) -> None:
        """Replay the next candle time: open (fills), then close (ticks, monitor, equity, cursor)."""
        ts = int(self._times[self.fed])
        await self._open(ts)
        close = ts + self._step
        self._clock.set(ms_to_datetime(close))
        await self._paper.settle_funding(ms_to_datetime(close))  # charged at the close, as the backtest does
        await self._ticks(close)
        if self._monitor is not None:
            await self._guard("monitor", self._monitor())
        await self._record(close)
        self.fed += 1

    async def _open(self, open_ms: int) -> None:
        """Feed the candle opening at ``open_ms`` to every pair; book its fills at that time.

        Fills are booked at the open (cooldowns and the daily counters start there, as in the
        backtest); the protection an entry fill places is matched on the same candle, again and again
        while that fills something (a stop hit inside the entry candle).
        """
        self._clock.set(ms_to_datetime(open_ms))
        fills = []
        for symbol, frame in self._data.frames.items():
            i = self._index[symbol].get(open_ms)
            if i is not None:
                fills += self._paper.on_candle(symbol, self._data.timeframe, _row(frame, i))
        for _ in range(MAX_SAME_CANDLE_ROUNDS):
            if not fills:
                break
            await self._paper.persist()  # fills change the account: saved before the engine books them
            self.trades += log_fills(fills)
            booked = await self._guard("fills", self.engine.trading.runner.cycle(CycleInput(), None))
            log_events(booked.events if booked is not None else ())
            fills = [f for symbol in self._data.frames for f in self._paper.rematch(symbol)]

    async def finish(self) -> None:
        """Close what is still open at the last close (END_OF_DATA), as the backtest does at its end.

        ``run`` calls it when the data ends; without open positions it does nothing.
        """
        trading = self.engine.trading
        state = await trading.engine_state()
        if not state.positions and not state.groups:
            return
        await self._guard("end of data", trading.close_all("end of the replayed candles",
                                                           exit_reason=ExitReason.END_OF_DATA))
        now = self._clock.now()
        fills = []
        for symbol, frame in self._data.frames.items():  # the market exits fill at the last close
            if len(frame):
                fills += self._paper.on_price(symbol, Decimal(repr(float(frame.close[-1]))), now)
        await self._paper.persist()
        if fills:
            self.trades += log_fills(fills)
            booked = await self._guard("end of data", trading.runner.cycle(CycleInput(), None))
            log_events(booked.events if booked is not None else ())
        logger.info("replay: positions still open at the end of the data were closed at the last close")

    async def _ticks(self, close_ms: int) -> None:
        groups: dict[tuple[str, str], list[str]] = {}
        for plan in self.engine.plans():
            if close_ms % timeframe_ms(plan.timeframe) == 0:
                groups.setdefault((plan.strategy, plan.timeframe), []).append(plan.symbol)
        for (strategy, timeframe), symbols in groups.items():
            work = self.engine.trading.run_ticks(strategy, symbols, timeframe)
            reports = await self._guard(strategy, work)
            log_ticks(reports or [])

    async def _guard(self, what: str, work: Awaitable[_T]) -> _T | None:
        try:
            return await work
        except InvariantViolation:
            raise  # a broken invariant stops the engine; the next start reconciles
        except Exception as exc:  # one failing tick must not stop the replay (the scheduler behaves alike)
            logger.error("replay: %s failed at %s: %s", what, self._clock.now(), exc)
            return None

    async def _record(self, close_ms: int) -> None:
        account = await self._paper.balances()
        now = ms_to_datetime(close_ms)
        if close_ms % _DAY_MS == 0:  # a progress line per simulated day, so a quiet market never looks hung
            logger.info("replay: %s UTC, equity %s, %d fill(s) so far, %s candle(s) left",
                        now.strftime("%Y-%m-%d"), money(account.equity, account.quote), self.trades,
                        f"{self.remaining:,}")
        async with self._uow() as uow:
            await uow.equity.add(EquitySnapshot.from_account(account, now))
            await uow.replay.save(ReplayCursor(self._data.timeframe, close_ms), now)
            await uow.commit()

