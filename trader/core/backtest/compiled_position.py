"""The compiled loops' per-position kernel: one long position from its entry fill to its exit fill.

``backtest.compiled`` (one pair) and ``backtest.compiled_pairs`` (several pairs on one account) call
these at the same moments of a trade, so a position's arithmetic exists once for both: the entry's
market fill against the cash, the venue's check of the protective order, the exit decided on a close
(``positions.closing.on_price``: trailing past the close, else the exit signal), the resting stop or
take-profit's fill (detail candles deciding a candle that touches both), the exit fill's money and the
closed trade in the Kelly history. The rules are ``domain.price_rules`` and ``compiled_rules``; the
money is float here and booked again in Decimal by ``compiled_records``.
"""

from __future__ import annotations

import math

from numba.extending import register_jitable

from trader.core.backtest import compiled_rules as rl
from trader.core.backtest import kernel
from trader.core.backtest.compiled_records import X_SIGNAL, X_STOP, X_TAKE, X_TRAIL_CLOSE
from trader.core.domain import price_rules as rules

REJECTED_FOR_FUNDS = -1  # ``entry_fill``'s status when the venue rejects the order (not a fallback)


@register_jitable
def slipped(raw: float, slip: float, side: float) -> float:
    """Return a taker fill's price: ``raw`` moved against us by ``slip`` (``side`` +1 buying, -1 selling)."""
    return raw * (1.0 + side * slip) if slip > 0.0 else raw


@register_jitable
def entry_fill(amount: float, open_: float, cash: float, p):  # type: ignore[no-untyped-def]
    """Return (status, price, cost, fee) of the entry's market fill at ``open_``: 0, ``REJECTED_FOR_FUNDS``
    when cost and fee exceed ``cash`` (the venue rejects it), or a fallback status on the boundary."""
    price = slipped(open_, p[3], 1.0)
    cost = amount * price
    fee = cost * p[1]
    if rl.near(cost + fee, cash):
        return 10, price, cost, fee
    if cost + fee > cash:
        return REJECTED_FOR_FUNDS, price, cost, fee
    return 0, price, cost, fee


@register_jitable
def protected(steps: float, amount: float, price: float, stop: float, target: float, p) -> int:  # type: ignore[no-untyped-def]
    """Return 0, or the fallback status of a fill whose protective order the venue would refuse
    (``PendingEntry.filled``: the fill's value and the order's, against the venue minimums)."""
    reference = stop if math.isnan(target) else target
    for value in (amount * price, amount * reference):
        if rl.near(value, p[14]):
            return 12
        if steps < p[13] or value < p[14]:
            return 5
    return 0


@register_jitable
def close_kind(trail, entry: float, stop_at: float, hw_at: float, high: float, low: float, close: float,  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
               leave: bool) -> int:
    """Return the exit kind decided on a close (``closing.on_price``): the trailing stop ratcheted past the
    close, else the exit signal; 0 when neither (the engine would not exit: a fallback)."""
    kind = X_SIGNAL
    if trail[0] > 0.0 or not math.isnan(trail[7]):
        hw = rules.best_price(hw_at, high, low, 1.0)
        level = rules.trail_level(hw, entry, 1.0, trail[0] > 0.0, trail[1], trail[3], trail[4] > 0.0,
                                  trail[5], trail[6], trail[7])
        moved = rules.ratchet(stop_at, level, 1.0, trail[2], trail[8])
        if moved != stop_at and rules.stop_touched(moved, close, close, 1.0):
            kind = X_TRAIL_CLOSE
    if kind == X_SIGNAL and not leave:
        return 0
    return kind


@register_jitable
def protective_fill(code: int, raw: float, stop_at: float, target: float, detail, open_ms: int,  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
                    close_ms: int, p):
    """Return (exit kind, raw price, fill price, fee rate) of the resting stop or take-profit filling in a
    candle (the exit search's ``code`` and raw price; BOTH: the candle's detail candles decide)."""
    if code == kernel.BOTH:
        code, raw = rl.detail_fill(detail, open_ms, close_ms, stop_at, target)
    if code == kernel.TAKE_PROFIT:
        return X_TAKE, target, target, p[2]
    return X_STOP, raw, slipped(raw, p[3], -1.0), p[1]


@register_jitable
def book_exit(row, amount: float, price: float, kind: int, exit_k: int, raw: float, out: float,  # type: ignore[no-untyped-def]  # noqa: PLR0913, PLR0917
              rate: float):
    """Book the exit fill of a TRADE row (``row[10]`` holds the entry fee): fees, PnL; return (status, the
    quote the sale brings in)."""
    value = amount * out
    exit_fee = value * rate
    pnl = value - amount * price - row[10] - exit_fee
    if pnl != 0.0 and abs(pnl) <= rl.TOLERANCE * value:
        return 13, 0.0  # its sign decides Kelly's wins and losses, cooldown and streak
    row[3], row[4], row[9], row[10], row[11] = kind, exit_k, raw, row[10] + exit_fee, pnl
    return 0, value - exit_fee


@register_jitable
def stopped_out(kind: int) -> bool:
    """Return True for an exit ``risk.state.on_trade_closed`` counts in the stop streak."""
    return kind in (X_STOP, X_TRAIL_CLOSE)


@register_jitable
def remember(history, kept: int, pnl: float) -> int:  # type: ignore[no-untyped-def]
    """Add a closed trade's PnL to the Kelly history (the newest ``len(history)`` kept); return its length."""
    if kept == len(history):
        for j in range(kept - 1):  # in place, oldest first: a slice copy allocated a temporary per trade
            history[j] = history[j + 1]
    else:
        kept += 1
    history[kept - 1] = pnl
    return kept
