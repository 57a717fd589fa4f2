"""Backtest of the pairs strategy: both legs opened and closed together as one group (``pair_group``).

Model (stated once, shown in the report): signals on candle close; both legs fill at the next candle's
open as taker orders (``fee`` per side, ``slippage`` against us); the long leg is bought with quote and
the short leg is SOLD SHORT, modelled as a negative holding whose sale credits the quote (spot venues
cannot do this: on spot it needs margin or a perpetual; borrow costs and funding are not modelled).
Leg sizes: the y leg's notional is ``leg_fraction`` x equity, the x leg's is beta x that (the log-price
hedge ratio). Entries need beta > 0. At most one group at a time. The group machine's unwind path is
exercised with ``reject_leg`` (the venue refuses that leg's opening orders), to show it stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from trader.core.domain.candles import CandleFrame, FloatArray
from trader.core.domain.enums import Side
from trader.core.positions import pair_group as pg
from trader.core.strategies.pairs import PairParams, PairSignals, aligned, compute_pair

D = Decimal


@dataclass(frozen=True, slots=True)
class PairSettings:
    """Money and costs of a pairs backtest."""

    start_balance: Decimal = Decimal(10_000)
    leg_fraction: Decimal = Decimal("0.3")
    fee: Decimal = Decimal("0.001")
    slippage: Decimal = Decimal(0)
    reject_leg: int | None = None  # fault injection: this leg's opening orders are refused


@dataclass(frozen=True, slots=True)
class PairTrade:
    """One closed group: side (+1 long spread), times, per-leg prices and amounts, PnL after fees."""

    side: int
    opened_at: int
    closed_at: int
    reason: str
    entry: tuple[Decimal, Decimal]
    exit: tuple[Decimal, Decimal]
    amounts: tuple[Decimal, Decimal]
    beta: float
    fees: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True)
class PairBacktest:
    """Trades, the equity at every close, groups that failed to open, and the signals used."""

    symbols: tuple[str, str]
    trades: tuple[PairTrade, ...]
    equity: FloatArray
    failed_groups: int
    signals: PairSignals
    start_balance: Decimal
    timestamps: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0, np.int64))

    @property
    def end_equity(self) -> float:
        """Return the equity at the last close."""
        return float(self.equity[-1]) if len(self.equity) else float(self.start_balance)

    @property
    def max_drawdown(self) -> float:
        """Return the largest peak-to-trough fall of the equity, as a fraction."""
        if not len(self.equity):
            return 0.0
        peak = np.maximum.accumulate(self.equity)
        return float(np.max((peak - self.equity) / peak))


def run_pairs(y: CandleFrame, x: CandleFrame, params: PairParams, settings: PairSettings,
              symbols: tuple[str, str] = ("Y", "X")) -> PairBacktest:
    """Backtest the pair (y, x) on their common candles and return trades and equity."""
    y, x = aligned(y, x)
    signals = compute_pair(y, x, params)
    run = _Run(y, x, signals, settings, symbols)
    run.walk()
    return PairBacktest(symbols, tuple(run.trades), run.equity, run.failed, signals, settings.start_balance,
                        y.timestamp)


class _Run:
    def __init__(self, y: CandleFrame, x: CandleFrame, signals: PairSignals, settings: PairSettings,
                 symbols: tuple[str, str]) -> None:
        self.frames, self.s, self.cfg, self.symbols = (y, x), signals, settings, symbols
        self.cash = settings.start_balance
        self.holding = [D(0), D(0)]  # signed base amounts
        self.group: pg.PairGroup | None = None
        self.side = 0
        self.opened: tuple[int, tuple[Decimal, Decimal], float] | None = None
        self.orders: tuple[pg.GroupCommand, ...] = ()
        self.beta, self.pending_close, self.amounts = 0.0, "", (D(0), D(0))
        self.open_cash, self.fees_paid = settings.start_balance, D(0)
        self.trades: list[PairTrade] = []
        self.failed = 0
        self.equity = np.empty(len(y))

    def walk(self) -> None:
        n = len(self.frames[0])
        for i in range(n):
            if i > 0:
                self._fill_pending(i)
            self.equity[i] = self._mark(i)
            if i + 1 < n:
                self._decide(i)
        if self.group is not None and self.group.status is pg.GroupStatus.OPEN:
            self._close(n - 1, "end_of_data", at_close=True)
            self.equity[-1] = self._mark(n - 1)

    # the decision on close i, executed at open i + 1
    def _decide(self, i: int) -> None:
        s = self.s
        if self.group is None:
            beta = float(s.beta[i])
            if s.enter_long[i] and beta > 0:
                self._open(i, 1, beta)
            elif s.enter_short[i] and beta > 0:
                self._open(i, -1, beta)
            return
        stop = s.stop_long[i] if self.side > 0 else s.stop_short[i]
        target = s.exit_long[i] if self.side > 0 else s.exit_short[i]
        if stop or target:
            self.pending_close = "stop" if stop else "target"

    def _open(self, i: int, side: int, beta: float) -> None:
        equity = D(repr(float(self.equity[i])))
        notional_y = equity * self.cfg.leg_fraction
        notional_x = notional_y * D(repr(beta))
        prices = (D(repr(float(self.frames[0].close[i]))), D(repr(float(self.frames[1].close[i]))))
        sides = (Side.BUY, Side.SELL) if side > 0 else (Side.SELL, Side.BUY)
        legs = [pg.Leg(self.symbols[k], sides[k], _amount(n / prices[k])) for k, n in
                enumerate((notional_y, notional_x))]
        self.group, self.orders = pg.open_group(f"pair-{i}", legs[0], legs[1])
        self.side, self.beta, self.pending_close = side, beta, ""

    def _fill_pending(self, i: int) -> None:
        if self.group is None:
            return
        if self.group.status is pg.GroupStatus.OPENING:
            self._execute_open(i)
        elif self.group.status is pg.GroupStatus.OPEN and self.pending_close:
            self._close(i, self.pending_close, at_close=False)

    def _execute_open(self, i: int) -> None:
        assert self.group is not None
        self.open_cash, self.fees_paid = self.cash, D(0)  # the trade's PnL is the cash change
        fills: list[Decimal] = [D(0), D(0)]
        commands = list(self.orders)
        while commands:  # unwinds produced on the way execute in the same instant
            command = commands.pop(0)
            if isinstance(command, pg.CancelLeg):
                continue  # market orders here fill or fail at once: nothing is left to cancel
            if command.purpose is pg.LegPurpose.OPEN and command.leg == self.cfg.reject_leg:
                self.group, more = pg.on_open_failed(self.group, command.leg)
            else:
                price = self._trade(i, command.leg, command.side, command.amount)
                fills[command.leg] = price
                if command.purpose is not pg.LegPurpose.OPEN:
                    continue
                self.group, more = pg.on_open_fill(self.group, command.leg, command.amount)
            commands += more
        if self.group.status is pg.GroupStatus.OPEN:
            amounts = (self.group.legs[0].amount, self.group.legs[1].amount)
            self.opened = (i, (fills[0], fills[1]), self.beta)
            self.amounts = amounts
        else:  # a leg failed: everything held was unwound in the same instant
            self.group, self.failed = None, self.failed + 1

    def _close(self, i: int, reason: str, *, at_close: bool) -> None:
        assert self.group is not None and self.opened is not None
        self.group, orders = pg.close_group(self.group)
        prices = [self._trade(i, o.leg, o.side, o.amount, at_close=at_close) for o in _orders(orders)]
        self.group = pg.on_flat(self.group)
        opened_i, entry, beta = self.opened
        # both legs are flat again, so the cash change since the first opening fill is the whole PnL
        self.trades.append(PairTrade(self.side, int(self.frames[0].timestamp[opened_i]),
                                     int(self.frames[0].timestamp[i]), reason, entry, (prices[0], prices[1]),
                                     self.amounts, beta, self.fees_paid, self.cash - self.open_cash))
        self.group, self.opened = None, None

    def _trade(self, i: int, leg: int, side: Side, amount: Decimal, *, at_close: bool = False) -> Decimal:
        frame = self.frames[leg]
        raw = D(repr(float(frame.close[i] if at_close else frame.open[i])))
        price = raw * (1 + self.cfg.slippage) if side is Side.BUY else raw * (1 - self.cfg.slippage)
        fee = amount * price * self.cfg.fee
        signed = amount if side is Side.BUY else -amount
        self.cash -= signed * price + fee
        self.holding[leg] += signed
        self.fees_paid += fee
        return price

    def _mark(self, i: int) -> float:
        value = float(self.cash)
        for leg in (0, 1):
            if self.holding[leg]:
                value += float(self.holding[leg]) * float(self.frames[leg].close[i])
        return value


def _orders(commands: tuple[pg.GroupCommand, ...]) -> Iterator[pg.LegOrder]:
    return (c for c in commands if isinstance(c, pg.LegOrder))


def _amount(value: Decimal) -> Decimal:
    """Round a leg amount down to 8 decimal places (venues' finest base step)."""
    return value.quantize(D("0.00000001"), rounding="ROUND_DOWN")
