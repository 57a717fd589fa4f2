"""The compiled loop's output turned into the run's result: trades booked in Decimal, the equity curve.

``backtest.compiled`` decides (which candles, how many amount steps, which exit); this module books
the money of each decision with the engine's own functions, so the trades equal the engine path's.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from decimal import Decimal
from typing import Final

import numpy as np

from trader.core.analytics.records import TradeRecord
from trader.core.backtest.result import _range_extremes
from trader.core.backtest.settings import BacktestSettings
from trader.core.domain.candles import CandleFrame, FloatArray, ms_to_datetime
from trader.core.domain.enums import Direction, ExitReason, Side
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ZERO
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


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def book_trades(rows: FloatArray, frame: CandleFrame, signals: SignalFrame, symbol: Symbol,
                settings: BacktestSettings,
                market: MarketSpec, tf: int) -> tuple[tuple[TradeRecord, ...], FloatArray]:
    """Return the trade records of the loop's TRADE rows and the equity at every close.

    The money is booked here in Decimal from the loop's decisions (amount in steps, fill candles, raw
    fill prices that are candle prices or ticks) with the engine's own functions (slippage, fee model,
    ``price_gain``) in the engine path's order of operations, so trades equal it exactly; the equity
    curve is ``Timeline.equity_curve``'s arithmetic on the same fills.
    """
    n = len(frame)
    equity = np.full(n, float(settings.start_balance))
    out, flows = book_fills(rows, frame, signals, symbol, settings, market, int(frame.timestamp[-1]) + tf)
    if not out:
        return (), equity
    at, value, fee_paid, amounts = flows[0], flows[2], flows[3], flows[4]
    # Timeline.equity_curve's arithmetic, on arrays instead of Fill objects
    where = np.array(at, dtype=np.int64)
    flow = np.zeros(n + 1)
    np.add.at(flow, where, np.array(value) - np.array(fee_paid))
    equity += np.cumsum(flow)[:-1]
    holding = np.zeros(n + 1)
    np.add.at(holding, where, np.array(amounts))
    equity += np.cumsum(holding)[:-1] * frame.close
    return out, equity


Flows = tuple[list[int], list[int], list[float], list[float], list[float]]
"""Each fill of the booked trades: candle index, time (ms), signed value, fee, signed amount."""


def book_fills(rows: FloatArray, frame: CandleFrame, signals: SignalFrame, symbol: Symbol,
               settings: BacktestSettings, market: MarketSpec,
               end_ms: int) -> tuple[tuple[TradeRecord, ...], Flows]:
    """Return the trade records of one pair's TRADE rows and their fills (``Flows``), entry then exit.

    ``end_ms`` is when the end-of-data exit fills: the pair's last close (the runner's last tick).
    """
    done = rows[rows[:, 0] == TRADE]
    n = len(frame)
    if not len(done):
        return (), ([], [], [], [], [])
    first = done[:, 1].astype(np.int64) + 1
    last = done[:, 4].astype(np.int64)
    highs, lows = _range_extremes(frame.high, frame.low, first, np.maximum(last, first))
    reasons = {X_STOP: ExitReason.STOP_LOSS, X_TAKE: ExitReason.TAKE_PROFIT,
               X_TRAIL_CLOSE: ExitReason.TRAILING_STOP, X_SIGNAL: ExitReason.SIGNAL,
               X_END: ExitReason.END_OF_DATA}
    fees = settings.fees or FeeModel.from_market(market)
    slippage, step = settings.slippage, market.amount_step
    kinds = done[:, 3].astype(np.int64)
    signal_k = done[:, 1].astype(np.int64)
    exit_at = np.where(kinds == X_END, n - 1, last)
    exit_ms = np.where(kinds == X_END, end_ms, frame.timestamp[last])
    words: dict[int, str] = {}  # the entry reason of each confirmation set, spelled once
    out = []
    value, fee_paid, amounts = [], [], []
    columns = zip(signal_k.tolist(), kinds.tolist(), done[:, 5].tolist(), done[:, 6].tolist(),
                  done[:, 9].tolist(), frame.open[first].tolist(), frame.timestamp[first].tolist(),
                  exit_ms.tolist(), signals.confidence[signal_k].tolist(), signals.reasons[signal_k].tolist(),
                  highs.tolist(), lows.tolist(), strict=True)
    for k, kind, steps, trailed, raw, entry_open, entry_ms, out_ms, confidence, code, high, low in columns:
        reason = ExitReason.TRAILING_STOP if kind == X_STOP and trailed else reasons[kind]
        amount = Decimal(int(steps)) * step
        entry = slippage.apply(_dec(entry_open), Side.BUY)
        entry_fee = fees.fee(amount * entry, Liquidity.TAKER)
        maker = kind == X_TAKE
        exit_ = _dec(raw) if maker else slippage.apply(_dec(raw), Side.SELL)
        exit_fee = fees.fee(amount * exit_, Liquidity.MAKER if maker else Liquidity.TAKER)
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
        value += [-float(amount * entry), float(amount * exit_)]
        fee_paid += [float(entry_fee), float(exit_fee)]
        amount_f = float(amount)
        amounts += [amount_f, -amount_f]
    at = np.column_stack([first, exit_at]).ravel().tolist()
    stamps = np.column_stack([frame.timestamp[first], exit_ms]).ravel().tolist()
    return tuple(out), (at, stamps, value, fee_paid, amounts)
