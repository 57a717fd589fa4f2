"""The common clock of a multi-pair run: every pair's candle close times, prices and trading days.

It answers two questions with array operations: the account's equity between two engine steps (for
the risk memory: ``equity_marks``) and the equity curve of the whole run (``equity_curve``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

import numba
import numpy as np
import pandas as pd
from numba.extending import register_jitable

from trader.config.sections import RiskConfig
from trader.core import memo
from trader.core.backtest import kernel
from trader.core.domain.candles import FloatArray, IntArray, ms_to_datetime
from trader.core.domain.enums import Side
from trader.core.domain.ids import Symbol
from trader.core.domain.orders import Fill
from trader.core.risk import guard_rules
from trader.core.risk.state import RiskState

if TYPE_CHECKING:
    from trader.core.backtest.lanes import Lane


_DAY_MS = 86_400_000

# The guards' arithmetic, compiled here once for ``_pick_marks`` and for ``backtest.compiled_risk``.
for _rule in guard_rules.COMPILABLE:
    register_jitable(_rule)


class Holdings(Protocol):
    """What the equity marks read of an account: each asset's balance and its swap positions
    (``SimLedger`` is one; the fast path's books hold spot only)."""

    def total(self, asset: str) -> Decimal:
        """Return the free plus locked balance of ``asset``."""

    def contracts(self) -> dict[Symbol, tuple[Decimal, Decimal, Decimal]]:
        """Return every open swap position as (signed amount, average entry, margin locked)."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """Close times of every candle of every pair, each pair's last close then, and the trading day."""

    times: IntArray  # sorted unique close times, ms
    closes: Mapping[Symbol, FloatArray]  # last close of the pair at each time (first open before it)
    bases: Mapping[Symbol, str]
    days: IntArray  # local midnight (ns) of each time's trading day in the risk timezone
    timezone: str
    quote: str
    close_rows: FloatArray  # ``closes`` stacked, one row per pair in their order (add_fills' input)

    @classmethod
    def build(cls, lanes: Mapping[Symbol, Lane], timezone: str, quote: str) -> Timeline:
        """Return the timeline of ``lanes`` with trading days in ``timezone``."""
        stamps = [lane.candles.timestamp + lane.timeframe_ms for lane in lanes.values()]
        if len(stamps) == 1:
            times = stamps[0]  # already sorted and unique (CandleFrame checks it)
        else:
            merged = np.sort(np.concatenate(stamps)) if stamps else np.zeros(0, dtype=np.int64)
            times = merged[np.r_[True, merged[1:] != merged[:-1]]] if len(merged) else merged
        closes = {}
        for symbol, lane in lanes.items():
            at = np.searchsorted(lane.candles.timestamp + lane.timeframe_ms, times, side="right") - 1
            first = lane.candles.open[0] if len(lane) else np.nan
            closes[symbol] = np.where(at >= 0, lane.candles.close[np.maximum(at, 0)], first)
        days = trading_days(times, timezone)
        bases = {symbol: symbol.split("/")[0] for symbol in lanes}
        rows = np.stack(list(closes.values())) if closes else np.zeros((0, len(times)))
        return cls(times, closes, bases, days, timezone, quote, rows)

    @classmethod
    def shared(cls, lanes: Mapping[Symbol, Lane], timezone: str, quote: str,
               rows: tuple[Hashable, ...] | None = None) -> Timeline:
        """Return ``build``'s timeline, the same one for the same candles inside an optimiser's cache.

        Why: a study's trials run on the same window slices, and merging the pairs' close times (a sort)
        was a third of a two-pair trial. Not frozen: the compiled loop's cached signatures take
        writable arrays, and nothing writes to a timeline. ``rows``: the lanes' ``memo.rows_key``, in
        their order, when the caller has them (they cost a share of a trial).
        """
        cache = memo.active()
        if cache is None:
            return cls.build(lanes, timezone, quote)
        # by the rows the candles view: a trial's trade slice is a new frame over the same rows
        if rows is None:
            rows = tuple(memo.rows_key(lane.candles) for lane in lanes.values())
        key = ("timeline", tuple((s, frame_rows, lane.timeframe_ms)
                                 for (s, lane), frame_rows in zip(lanes.items(), rows, strict=True)),
               timezone, quote)
        return cache.shared(key, tuple(lane.candles for lane in lanes.values()),
                            lambda: cls.build(lanes, timezone, quote), freeze=False)

    def fraction(self, time_ms: int) -> float:
        """Return how far ``time_ms`` is through the run, 0..1."""
        if len(self.times) < 2:
            return 1.0
        first, last = int(self.times[0]), int(self.times[-1])
        return min(max((time_ms - first) / (last - first), 0.0), 1.0)

    def _day_key(self, day: date | None) -> int | None:
        return None if day is None else _local_midnight_ns(day, self.timezone)

    def equity_marks(self, last_ms: int | None, now_ms: int, ledger: Holdings, risk: RiskState,
                     cfg: RiskConfig, *, inclusive: bool = False) -> tuple[tuple[datetime, Decimal], ...]:
        """Return the equity observations after the last step (up to ``now_ms``, included when
        ``inclusive``) that can change the risk memory.

        Holdings are constant between steps, so the equity at each close is cash + sum(amount x close).
        Only these reach ``step``: the first close of each new trading day (day roll), the first breach
        of the drawdown or daily-loss limit with the peak before it, and a new equity peak; the others
        cannot change any decision (every guard is monotone in them).
        """
        if last_ms is None:
            return ()
        a = int(self.times.searchsorted(last_ms, side="right"))
        b = int(self.times.searchsorted(now_ms, side="right" if inclusive else "left"))
        if a >= b:
            return ()
        cash, held = _holdings(ledger, self.bases, self.quote)
        known_day = self._day_key(risk.day)
        if not held and self.days[a] == self.days[b - 1] == known_day:
            return ()  # flat and still the same day: the equity is the cash already recorded
        equity = None
        for symbol, amount in held.items():  # cash + each holding in turn, as np.full(cash) += would
            part = amount * self.closes[symbol][a:b]
            equity = cash + part if equity is None else equity + part
        if equity is None:
            equity = np.full(b - a, cash)
        levels = np.array([-np.inf if risk.peak_equity is None else float(risk.peak_equity),
                           np.nan if risk.day_start_equity is None else float(risk.day_start_equity),
                           float(cfg.max_drawdown_pct), float(cfg.daily_loss_limit_pct)])
        day = -1 if known_day is None else known_day
        picks = _pick_marks(equity, self.days[a:b], day, bool(held), levels)
        if not picks.any():  # the common case while holding: nothing new for the risk memory
            return ()
        return tuple((ms_to_datetime(int(self.times[a + i])), Decimal(repr(float(equity[i]))))
                     for i in np.flatnonzero(picks))

    def equity_curve(self, fills: Sequence[Fill], start_cash: Decimal,
                     funding: Sequence[tuple[datetime, Decimal]] = ()) -> FloatArray:
        """Return the account equity at every time of the timeline from the run's fills and funding.

        A fill at time t (a candle's open or inside it) counts from the first close after t on; a
        funding charge at t from the first close at or after t.
        """
        equity = np.full(len(self.times), float(start_cash))
        for charged_at, paid in funding:
            start = int(np.searchsorted(self.times, int(charged_at.timestamp() * 1000), side="left"))
            equity[start:] -= float(paid)
        if not fills:
            return equity
        stamps = [int(f.timestamp.timestamp() * 1000) for f in fills]
        buy = np.array([f.side is Side.BUY for f in fills])
        amount = np.array([float(f.amount) for f in fills])
        value = np.array([float(f.amount * f.price) for f in fills])
        fee = np.array([float(f.fee) for f in fills])
        symbols = np.array([f.symbol for f in fills])
        return self.add_fills(equity, stamps, symbols, np.where(buy, -value, value), fee,
                              np.where(buy, amount, -amount))

    def add_fills(self, equity: FloatArray, stamps: Sequence[int], symbols: np.ndarray,  # type: ignore[type-arg]
                  value: FloatArray, fee: FloatArray, amount: FloatArray) -> FloatArray:
        """Return ``equity`` plus the fills at ``stamps`` (ms): cash flow ``value`` (negative buying) less
        ``fee``, and each pair's holding (``amount``, negative selling) valued at its closes."""
        index = {symbol: k for k, symbol in enumerate(self.closes)}
        # a fill of a pair without closes here moves the cash only (-1: no holding)
        pair = np.array([index.get(s, -1) for s in symbols.tolist()], dtype=np.int64)
        return self.add_pair_fills(equity, np.asarray(stamps, dtype=np.int64), pair, value, fee, amount)

    def add_pair_fills(self, equity: FloatArray, stamps: IntArray, pair: IntArray, value: FloatArray,
                       fee: FloatArray, amount: FloatArray) -> FloatArray:
        """Return ``add_fills``' equity with each fill's pair given by its index ``pair`` in ``closes``
        (-1: a pair without closes here, whose fills move the cash only)."""
        if not len(self.times):
            raise ValueError("no close times to add fills to")
        # the end-of-data exit fills at the last close: count it there
        at = np.minimum(np.searchsorted(self.times, stamps, side="right"), len(self.times) - 1)
        flows = np.asarray(value - fee, dtype=np.float64)
        out: FloatArray = _add_fills(np.asarray(equity, dtype=np.float64), at, flows, pair,
                                     np.asarray(amount, dtype=np.float64), self.close_rows)
        return out


@numba.njit(cache=True, nogil=True)
def _add_fills(equity, at, flows, pair, amount, closes):  # type: ignore[no-untyped-def]
    """Return ``equity`` plus the running sum of the cash ``flows`` and, for each pair with a fill, its
    running holding times its closes, each fill from its close ``at`` on.

    numpy's ``bincount`` (each bin's weights added in order from 0.0), ``cumsum`` and products in one
    compiled pass (a share of every optimiser trial): the same float operations in the same order (no
    fast-math), so the same bits; tests/unit/core/backtest/test_timeline.py compares them.
    """
    n, npairs = len(equity), closes.shape[0]
    flow = np.zeros(n)
    held = np.zeros((npairs, n))
    has = np.zeros(npairs, dtype=np.bool_)
    for j in range(len(at)):
        flow[at[j]] += flows[j]
        if pair[j] >= 0:
            held[pair[j], at[j]] += amount[j]
            has[pair[j]] = True
    out = np.empty(n)
    cash = 0.0
    for i in range(n):  # cumsum: the first element as it is, then each sum in turn
        cash = flow[i] if i == 0 else cash + flow[i]
        out[i] = equity[i] + cash
    for q in range(npairs):
        if not has[q]:
            continue
        total = 0.0
        for i in range(n):
            total = held[q, i] if i == 0 else total + held[q, i]
            out[i] += total * closes[q, i]
    return out


def trading_days(times: IntArray, timezone: str) -> IntArray:
    """Return the trading day of each time (epoch ms) as its local midnight (ns) in ``timezone``."""
    if timezone == "UTC":  # the common case without pandas' time-zone machinery: same numbers
        if len(times) > 1 and 0 <= times[0] and bool(np.all(times[1:] >= times[:-1])):
            days = _sorted_utc_days(times)
            if days is not None:
                return days
        return (times // _DAY_MS) * _DAY_MS * 1_000_000
    local = pd.DatetimeIndex(pd.to_datetime(times, unit="ms", utc=True)).tz_convert(timezone)
    return np.asarray(local.normalize().asi8, dtype=np.int64)


def _sorted_utc_days(times: IntArray) -> IntArray | None:
    """Return ``(times // day) * day * 1e6`` of non-negative non-decreasing ``times`` as each day's value
    repeated over its times (a year of minutes: 365 searches, not 525,600 divisions and three
    temporaries); None when the times span more days than they hold (then dividing is cheaper)."""
    first, last = int(times[0]) // _DAY_MS, int(times[-1]) // _DAY_MS
    if last - first > len(times):
        return None
    starts = np.searchsorted(times, np.arange(first + 1, last + 1, dtype=np.int64) * _DAY_MS)
    counts = np.diff(starts, prepend=0, append=len(times))
    # the same int64 product as the division's (wrapping alike beyond year 2262)
    midnights = np.arange(first, last + 1, dtype=np.int64) * _DAY_MS * 1_000_000
    days: IntArray = np.repeat(midnights, counts)
    return days


@lru_cache(maxsize=4096)
def _local_midnight_ns(day: date, timezone: str) -> int:
    return int(pd.Timestamp(day.isoformat()).tz_localize(timezone).value)


def _holdings(ledger: Holdings, bases: Mapping[Symbol, str],
              quote: str) -> tuple[float, dict[Symbol, float]]:
    contracts = ledger.contracts()
    held = {}
    for symbol, base in bases.items():
        # A swap's signed contracts, else the base coins held.
        amount = contracts[symbol][0] if symbol in contracts else ledger.total(base)
        if amount:
            held[symbol] = float(amount)
    # Equity = cash + held x price: a swap's entry value is not cash (its margin and PnL are).
    entry_value = sum((amount * entry for symbol, (amount, entry, _) in contracts.items()
                       if symbol in bases), Decimal(0))
    return float(ledger.total(quote) - entry_value), held


@numba.njit(cache=True, nogil=True)
def _pick_marks(equity, days, known_day, held, levels):  # type: ignore[no-untyped-def]
    """Flag the first close of each new day, then (holding) the new peak and the first breaches.

    ``levels`` = (peak so far, today's start equity, drawdown limit, daily loss limit).
    """
    peak, day_start, max_drawdown, daily_loss = levels[0], levels[1], levels[2], levels[3]
    n = len(equity)
    picks = np.zeros(n, dtype=np.bool_)
    day = known_day
    best, best_at = -np.inf, -1  # the highest equity so far in this interval
    dd_done, loss_done = False, False
    for i in range(n):
        if days[i] != day:
            day, day_start, loss_done = days[i], equity[i], False
            picks[i] = True
        if not held:
            continue
        if equity[i] > best:
            best, best_at = equity[i], i
        running = max(peak, best)
        if not dd_done and running > 0 and guard_rules.drawdown(running, equity[i]) >= max_drawdown:
            dd_done = True
            picks[i] = True
            if best > peak:
                picks[best_at] = True  # the peak this breach is measured from
        if not loss_done and day_start > 0 and guard_rules.day_loss(day_start, equity[i]) >= daily_loss:
            loss_done = True
            picks[i] = True
    if held and best > peak:
        picks[best_at] = True  # the interval's new peak (first time it was reached)
    return picks


kernel._flush_stale_cache(_pick_marks, (guard_rules.__file__,))  # numba watches this file only
