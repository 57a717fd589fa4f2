"""The compiled loop's output turned into the run's result: trades booked in Decimal, the equity curve.

``backtest.compiled`` decides (which candles, how many amount steps, which exit); this module books
the money of each decision with the engine's own functions, so the trades equal the engine path's.
The money the equity curve needs (each fill's value, fee and amount as floats) is booked at once, over
arrays, by the same rule functions called with ``domain.scaled.ScaledArray`` (exact integers, no Decimal
objects: a year of minutes' fills in a fraction of a millisecond), and in Decimal objects only where that
is not exact. The trade records, with their Decimal money, are built on first read (``LazyTrades``): the
optimiser reads the curve and the trade count only.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import MISSING, dataclass, fields
from decimal import Decimal
from itertools import chain
from typing import Final, Generic, TypeVar, cast, overload

import numba
import numpy as np

from trader.core.analytics.records import TradeRecord
from trader.core.backtest.result import _range_extremes
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import CandleFrame, FloatArray, ms_to_datetime
from trader.core.domain.enums import Direction, ExitReason, Side
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
from trader.core.domain.scaled import Inexact, ScaledArray
from trader.core.domain.scaled import merged as scaled_merged
from trader.core.positions.pnl import price_gain
from trader.core.sim.costs import FeeModel, Liquidity
from trader.core.strategies.base import SignalFrame

# record kinds (column 0 of the loop's output)
REFUSED: Final = 1  # an entry signal risk refused while flat; column 2 = reason code
REJECTED: Final = 2  # an approved entry the venue rejected for funds at the next open
TRADE: Final = 3
# exit kinds (column 3 of a TRADE)
X_STOP: Final = 1
X_TAKE: Final = 2
X_TRAIL_CLOSE: Final = 3
X_SIGNAL: Final = 4
X_END: Final = 5

_GIVEN = ("symbol", "strategy", "direction", "entry_time", "exit_time", "entry_price", "exit_price", "amount",
          "fees", "pnl", "exit_reason", "confidence", "entry_reason", "mae", "mfe")
_SLOT_SET = {f.name: getattr(TradeRecord, f.name).__set__ for f in fields(TradeRecord)}
_GIVEN_SET = tuple(_SLOT_SET[name] for name in _GIVEN)
_DEFAULTS = tuple((_SLOT_SET[f.name], f.default) for f in fields(TradeRecord) if f.name not in _GIVEN)
if any(default is MISSING for _, default in _DEFAULTS):  # a new required field must be given here
    raise TypeError("TradeRecord has a required field backtest.compiled does not fill")


def _record(*values: object) -> TradeRecord:
    """Return a TradeRecord of ``_GIVEN`` values, its other fields at their defaults.

    Slot by slot, as ``risk.state._evolve`` copies a RiskState: a frozen dataclass's ``__init__`` and
    checks cost three times as much, a third of a year of minutes' run time. The loop's trades meet
    the checks by construction (UTC times, exit not before entry, positive prices and amount, fees >= 0).
    """
    new: TradeRecord = object.__new__(TradeRecord)
    for setter, value in zip(_GIVEN_SET, values, strict=True):
        setter(new, value)
    for setter, default in _DEFAULTS:
        setter(new, default)
    return new


class LazyTrades(Sequence[TradeRecord]):
    """A run's trade records, built by ``build`` on first read; their count is known without building."""

    __slots__ = ("_build", "_built", "_count")

    def __init__(self, count: int, build: Callable[[], tuple[TradeRecord, ...]]) -> None:
        self._count = count
        self._build: Callable[[], tuple[TradeRecord, ...]] | None = build
        self._built: tuple[TradeRecord, ...] | None = None

    def records(self) -> tuple[TradeRecord, ...]:
        """Return the records as a tuple, building them once."""
        if self._built is None:
            assert self._build is not None
            self._built, self._build = self._build(), None
            if len(self._built) != self._count:  # the count given up front must be the records'
                raise AssertionError(f"{len(self._built)} trade records, {self._count} announced")
        return self._built

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> TradeRecord: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[TradeRecord, ...]: ...
    def __getitem__(self, index: int | slice) -> TradeRecord | tuple[TradeRecord, ...]:
        return self.records()[index]

    def __iter__(self) -> Iterator[TradeRecord]:
        return iter(self.records())

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (tuple, list, LazyTrades) of the same records, as the eager tuple was."""
        if isinstance(other, LazyTrades | tuple | list):
            return len(self) == len(other) and self.records() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.records())

    def __repr__(self) -> str:
        return repr(self.records()) if self._built is not None else f"LazyTrades({self._count} unbuilt)"

    def __reduce__(self) -> tuple[type, tuple[tuple[TradeRecord, ...]]]:
        return tuple, (self.records(),)  # pickled (e.g. to a worker process) as the plain tuple


def merged(parts: Sequence[Sequence[TradeRecord]]) -> LazyTrades:
    """Return several pairs' trades as one lazy sequence in the result's order (entry time, symbol)."""
    def build() -> tuple[TradeRecord, ...]:
        return tuple(sorted(chain.from_iterable(parts), key=lambda t: (t.entry_time, t.symbol)))
    return LazyTrades(sum(len(p) for p in parts), build)


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


Decimals = np.ndarray  # a 1-d object array of Decimal


def _decimals(values: Sequence[object]) -> Decimals:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _each(values: Money) -> Decimal:
    """Pass an array of money (Decimal objects or a ``ScaledArray``) to a money rule (``slippage.apply``,
    ``fees.fee``) for every element.

    Those rules are arithmetic on their Decimal arguments, which numpy applies to an object array element
    by element with the same operands in the same order (and the same decimal context), and a
    ``ScaledArray`` exactly: each value is what the call on one Decimal gives, without one Python call per
    trade. A rule that stops being elementwise arithmetic fails loudly here (no truth value of an array,
    an operation ``ScaledArray`` lacks) and in the differential suites.
    """
    return cast(Decimal, values)


Money = TypeVar("Money", Decimals, ScaledArray)


@dataclass(frozen=True, slots=True)
class Booked(Generic[Money]):
    """The money of one pair's trades, one element per trade: Decimal object arrays (the records') or
    ``ScaledArray`` (the same values, for the equity curve)."""

    amount: Money
    entry: Money
    exit: Money
    entry_fee: Money
    exit_fee: Money
    entry_value: Money  # amount x entry, the notional the entry fee is charged on
    exit_value: Money  # amount x exit


def _booked(amount: Money, entry_open: Money, raw: Money, maker: np.ndarray, settings: BacktestSettings,
            market: MarketSpec, merge: Callable[[np.ndarray, Money, Money], Money]) -> Booked[Money]:
    """Return the money of trades of ``amount`` entering at the opens ``entry_open`` and leaving at the raw
    prices ``raw`` (``maker``: resting take-profits): the engine path's operations per trade (slippage on
    taker fills, the fee model) applied over arrays, each rule on its own fills only; ``merge`` puts
    a mask's two subsets back in order."""
    fees = settings.fees or FeeModel.from_market(market)
    slippage, taker = settings.slippage, ~maker
    entry = cast(Money, slippage.apply(_each(entry_open), Side.BUY))
    exit_ = merge(maker, raw[maker], cast(Money, slippage.apply(_each(raw[taker]), Side.SELL)))
    entry_value = amount * entry
    entry_fee = cast(Money, fees.fee(_each(entry_value), Liquidity.TAKER))
    out = amount * exit_
    exit_fee = merge(maker, cast(Money, fees.fee(_each(out[maker]), Liquidity.MAKER)),
                     cast(Money, fees.fee(_each(out[taker]), Liquidity.TAKER)))
    return Booked(amount, entry, exit_, entry_fee, exit_fee, entry_value, out)


def _merged_objects(mask: np.ndarray, chosen: Decimals, others: Decimals) -> Decimals:
    out = np.empty(len(mask), dtype=object)
    out[mask], out[~mask] = chosen, others
    return out


def book_money(done: FloatArray, entry_open: FloatArray, settings: BacktestSettings,
               market: MarketSpec) -> Booked[Decimals]:
    """Return the Decimal money of the loop's TRADE rows ``done`` entering at the opens ``entry_open``:
    the same Decimals as one call of each money rule per trade (amount in steps, prices ``_dec``)."""
    amount = _decimals(list(map(Decimal, done[:, 5].astype(np.int64).tolist()))) * market.amount_step
    opens = _decimals(list(map(Decimal, map(repr, entry_open.tolist()))))  # _dec, without a call per value
    raw = _decimals(list(map(Decimal, map(repr, done[:, 9].tolist()))))
    return _booked(amount, opens, raw, done[:, 3] == X_TAKE, settings, market, _merged_objects)


def book_scaled(done: FloatArray, entry_open: FloatArray, settings: BacktestSettings,
                market: MarketSpec) -> Booked[ScaledArray] | None:
    """Return ``book_money``'s values as ``ScaledArray``, or None where one is beyond its exact range
    (``scaled.Inexact``: the caller books in Decimal then)."""
    try:
        amount = ScaledArray.of_ints(done[:, 5].astype(np.int64)) * market.amount_step
        return _booked(amount, ScaledArray.of_floats(entry_open), ScaledArray.of_floats(done[:, 9]),
                       done[:, 3] == X_TAKE, settings, market, scaled_merged)
    except Inexact:
        return None


def book_trades(rows: FloatArray, frame: CandleFrame, signals: SignalFrame, symbol: Symbol,
                settings: BacktestSettings,
                market: MarketSpec, tf: int) -> tuple[Sequence[TradeRecord], FloatArray]:
    """Return the trade records of the loop's TRADE rows (built on first read) and the equity at every close.

    The money is booked here from the loop's decisions (amount in steps, fill candles, raw fill prices
    that are candle prices or ticks) with the engine's own functions (slippage, fee model,
    ``price_gain``) in the engine path's order of operations, so trades equal it exactly (in Decimal, for
    the records; the same values in ``ScaledArray`` for the curve); the equity curve is
    ``Timeline.equity_curve``'s arithmetic on the same fills.
    """
    out, flows = book_fills(rows, frame, signals, symbol, settings, market, int(frame.timestamp[-1]) + tf)
    if not len(out):
        return out, np.full(len(frame), float(settings.start_balance))
    at, value, fee_paid, amounts = flows[0], flows[2], flows[3], flows[4]
    # Timeline.equity_curve's arithmetic, on arrays instead of Fill objects, in one compiled pass
    return out, _curve(float(settings.start_balance), at, value - fee_paid, amounts, frame.close)


@numba.njit(cache=True, nogil=True)
def _curve(start, where, flows, amounts, closes):  # type: ignore[no-untyped-def]
    """Return the equity at every close: ``start`` plus the cumulative cash ``flows`` plus the cumulative
    ``amounts`` held times the close, each fill counted from its candle ``where`` on.

    numpy's ``full``, ``add.at`` (fills of one candle summed in order), ``cumsum`` and products in one
    loop: the same float operations in the same order (no fast-math), so the same bits
    (tests/unit/core/backtest/test_compiled_prep.py compares them). With the fills in candle order (a
    pair's trades are) the candles without a fill are skipped instead of adding their 0.0: a sum never
    becomes -0.0 (it starts at +0.0), and adding +0.0 leaves any other float as it is.
    """
    n, m = len(closes), len(where)
    ordered = True
    for j in range(1, m):
        ordered = ordered and where[j - 1] <= where[j]
    if ordered:
        return _sweep(start, where, flows, amounts, closes)
    # numpy's dense sums (a fill at n, the end of data, counts after every close)
    flow, held = np.zeros(n + 1), np.zeros(n + 1)
    for j in range(m):
        flow[where[j]] += flows[j]
        held[where[j]] += amounts[j]
    return _sweep(start, np.arange(n + 1), flow, held, closes)


@numba.njit(cache=True, nogil=True)
def _sweep(start, where, flows, amounts, closes):  # type: ignore[no-untyped-def]
    # the curve of fills in candle order (``_curve``)
    n, m = len(closes), len(where)
    out = np.empty(n)
    cash = 0.0
    amount = 0.0
    j = 0
    for i in range(n):
        if j < m and where[j] == i:  # this candle's fills, summed from 0.0 as add.at does
            flow_i, held_i = 0.0, 0.0
            while j < m and where[j] == i:
                flow_i += flows[j]
                held_i += amounts[j]
                j += 1
            cash += flow_i
            amount += held_i
        out[i] = (start + cash) + amount * closes[i]
    return out


Flows = tuple[np.ndarray, np.ndarray, FloatArray, FloatArray, FloatArray]
"""Each fill of the booked trades: candle index, time (ms) (both int64), signed value, fee, signed amount."""


def _floats(values: Decimals | ScaledArray) -> FloatArray:
    if isinstance(values, ScaledArray):
        return values.floats()  # float() of each value, as of its Decimal
    return values.astype(np.float64)  # float() of each Decimal (numpy calls its __float__)


def _pairs(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    # each trade's entry then exit: column_stack's ravel (its common type) without its temporaries
    out = np.empty(2 * len(first), dtype=np.result_type(first, second))
    out[0::2], out[1::2] = first, second
    return out


def book_fills(rows: FloatArray, frame: CandleFrame, signals: SignalFrame, symbol: Symbol,
               settings: BacktestSettings, market: MarketSpec,
               end_ms: int) -> tuple[LazyTrades, Flows]:
    """Return the trade records of one pair's TRADE rows (built on first read) and their fills
    (``Flows``), entry then exit.

    ``end_ms`` is when the end-of-data exit fills: the pair's last close (the runner's last tick).
    """
    done = rows[rows[:, 0] == TRADE]
    n = len(frame)
    if not len(done):
        nothing = np.zeros(0, dtype=np.int64)
        return LazyTrades(0, tuple), (nothing, nothing, np.zeros(0), np.zeros(0), np.zeros(0))
    first = done[:, 1].astype(np.int64) + 1
    last = done[:, 4].astype(np.int64)
    kinds = done[:, 3].astype(np.int64)
    exit_at = np.where(kinds == X_END, n - 1, last)
    exit_ms = np.where(kinds == X_END, end_ms, frame.timestamp[last])
    entry_open = frame.open[first]
    # the curve's money without Decimal objects when exact (nearly always); the records book it in Decimal
    scaled = book_scaled(done, entry_open, settings, market)
    money: Booked[Decimals] | Booked[ScaledArray] = (
        scaled if scaled is not None else book_money(done, entry_open, settings, market))
    amount = _floats(money.amount)
    flows: Flows = (
        _pairs(first, exit_at), _pairs(frame.timestamp[first], exit_ms),
        _pairs(-_floats(money.entry_value), _floats(money.exit_value)),
        _pairs(_floats(money.entry_fee), _floats(money.exit_fee)), _pairs(amount, -amount))

    context = decimal.getcontext().copy()  # the records' Decimals as the run's context gives them

    def build() -> tuple[TradeRecord, ...]:
        with decimal.localcontext(context):
            decimals = money if scaled is None else book_money(done, entry_open, settings, market)
            return _records(done, frame, signals, symbol, settings, cast(Booked[Decimals], decimals), exit_ms)
    return LazyTrades(len(done), build), flows


def _records(done: FloatArray, frame: CandleFrame, signals: SignalFrame, symbol: Symbol,
             settings: BacktestSettings, money: Booked[Decimals],
             exit_ms: np.ndarray) -> tuple[TradeRecord, ...]:
    """Return the TradeRecords of the booked trades ``done`` (their money in ``money``), MAE/MFE included."""
    first = done[:, 1].astype(np.int64) + 1
    last = done[:, 4].astype(np.int64)
    highs, lows = _range_extremes(frame.high, frame.low, first, np.maximum(last, first))
    reasons = {X_STOP: ExitReason.STOP_LOSS, X_TAKE: ExitReason.TAKE_PROFIT,
               X_TRAIL_CLOSE: ExitReason.TRAILING_STOP, X_SIGNAL: ExitReason.SIGNAL,
               X_END: ExitReason.END_OF_DATA}
    signal_k = done[:, 1].astype(np.int64)
    words: dict[int, str] = {}  # the entry reason of each confirmation set, spelled once
    out = []
    columns = zip(signal_k.tolist(), done[:, 3].astype(np.int64).tolist(), done[:, 6].tolist(),
                  money.amount.tolist(), money.entry.tolist(), money.exit.tolist(), money.entry_fee.tolist(),
                  money.exit_fee.tolist(), frame.timestamp[first].tolist(),
                  exit_ms.tolist(), signals.confidence[signal_k].tolist(), signals.reasons[signal_k].tolist(),
                  highs.tolist(), lows.tolist(), strict=True)
    for k, kind, trailed, amount, entry, exit_, entry_fee, exit_fee, entry_ms, out_ms, confidence, code, \
            high, low in columns:
        reason = ExitReason.TRAILING_STOP if kind == X_STOP and trailed else reasons[kind]
        pnl = ZERO - entry_fee + price_gain(Direction.LONG, entry, exit_, amount) - exit_fee
        words_k = words.get(code)
        if words_k is None:
            words_k = words[code] = signals.reason(k)
        entry_f = float(entry)
        out.append(_record(
            symbol, settings.strategy, Direction.LONG, ms_to_datetime(entry_ms), ms_to_datetime(out_ms),
            entry,
            exit_, amount, entry_fee + exit_fee, pnl, str(reason), confidence, words_k,
            low / entry_f - 1.0, high / entry_f - 1.0))
    return tuple(out)
