"""The fill rules of the simulator: the single statement of how an order fills against a candle.

Every simulated fill (backtest runner, PaperExchange, the compiled exit kernel) follows these rules.
The touch tests, the stop's fill price and the stop/take-profit decision are the scalar functions of
``trader.core.domain.price_rules``, which the kernel compiles and calls too; this module is their Decimal
face. A candle is only known by its open, high, low and close, so the rules assume the open came
first and are pessimistic inside the candle:

- MARKET: fills at the open of the first candle after it was placed (for a tick, at the tick price),
  moved against the trader by the slippage model. Signals come on a candle's close, so an entry fills
  at the next candle's open plus slippage.
- STOP (stop-market): triggers when the low reaches the stop (sell stop, protecting a long) or the high
  reaches it (buy stop, protecting a short). It fills at the stop price, or at the open when the candle
  opens already through the stop (a gap), then slippage as a taker.
- TAKE_PROFIT and resting LIMIT: fill at their own price when the candle touches it, as makers. A LIMIT
  that is already marketable at the open fills at the open (it crossed the book on arrival).
- STOP_LIMIT: triggers like STOP, then fills at its limit price only when the open is not already beyond
  the limit (we cannot know whether price came back within the candle, so assume it did not).
- A stop and a take-profit both touched inside one candle (``match_exit``): resolve with lower-timeframe
  candles when given, else assume the worse outcome (the stop). A gap through either at the open is
  unambiguous: the open happened first.
- Trailing stops are not an order type here: the caller ratchets the stop from a candle's extreme only
  after matching the existing stop on that candle (no same-candle optimism).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from trader.core.domain import price_rules as rules
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.sim.costs import Liquidity, SlippageModel

_NO_SLIPPAGE = SlippageModel()


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle (or one tick, with all four prices equal) in Decimal; ``timestamp`` is open time, ms."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    def __post_init__(self) -> None:
        if not (self.low <= min(self.open, self.close) and self.high >= max(self.open, self.close)):
            raise ValueError(f"inconsistent candle at {self.timestamp}: {self}")

    @classmethod
    def tick(cls, timestamp: int, price: Decimal) -> Bar:
        """Return a bar for a single traded price (paper trading on live ticks)."""
        return cls(timestamp, price, price, price, price)


@dataclass(frozen=True, slots=True)
class Match:
    """A fill decision: price (after slippage), liquidity, and whether the open gapped through."""

    price: Decimal
    liquidity: Liquidity
    gapped: bool = False


def match_order(
    order_type: OrderType,
    side: Side,
    bar: Bar,
    *,
    price: Decimal | None = None,
    trigger: Decimal | None = None,
    slippage: SlippageModel = _NO_SLIPPAGE,
) -> Match | None:
    """Return how an order of ``order_type``/``side`` fills on ``bar``, or None when it does not."""
    if order_type is OrderType.MARKET:
        return Match(slippage.apply(bar.open, side), Liquidity.TAKER)
    if order_type is OrderType.LIMIT:
        return _limit(side, bar, _required(price, "limit price"))
    if order_type is OrderType.TAKE_PROFIT:
        level = _required(trigger if trigger is not None else price, "take-profit price")
        return Match(level, Liquidity.MAKER) if touches_target(side, bar, level) else None
    if order_type is OrderType.STOP:
        return _stop(side, bar, _required(trigger, "stop trigger"), slippage)
    if order_type is OrderType.STOP_LIMIT:
        return _stop_limit(side, bar, _required(trigger, "stop trigger"), _required(price, "limit price"))
    raise ValueError(f"{order_type} is not matched as one order: match each leg (stop, take-profit)")


def touches_stop(side: Side, bar: Bar, stop: Decimal) -> bool:
    """Return True when a ``side`` stop at ``stop`` triggers on ``bar`` (sell: low <= stop)."""
    return rules.stop_touched(float(stop), float(bar.high), float(bar.low), _sign(side))


def touches_target(side: Side, bar: Bar, level: Decimal) -> bool:
    """Return True when a ``side`` take-profit/limit at ``level`` is touched (sell: high >= level)."""
    return rules.target_touched(float(level), float(bar.high), float(bar.low), _sign(side))


def stop_fill_price(side: Side, bar: Bar, stop: Decimal) -> Decimal:
    """Return the raw fill price of a triggered stop: the stop, or the open when it gapped through."""
    return _exact(rules.stop_fill_price(float(bar.open), float(stop), _sign(side)), stop, bar.open)


def match_exit(
    side: Side,
    bar: Bar,
    *,
    stop: Decimal | None,
    take_profit: Decimal | None,
    detail: Sequence[Bar] = (),
    slippage: SlippageModel = _NO_SLIPPAGE,
) -> tuple[OrderPurpose, Match] | None:
    """Return which protective exit (``side`` = the closing side) fills on ``bar`` first, and how.

    The decision is ``price_rules.protective_exit``. When it cannot tell (both touched inside the
    candle), walk ``detail`` (the candle's lower-timeframe candles, in order) with the same rule;
    without detail, or when one detail candle touches both, the stop wins.
    """
    code, price = rules.protective_exit(float(bar.open), float(bar.high), float(bar.low), _sign(side),
                                        math.nan if stop is None else float(stop),
                                        math.nan if take_profit is None else float(take_profit), bool(detail))
    if code == rules.BOTH:  # the first detail candle that decides, read on its own (the one rule)
        code, price, at = rules.detail_exit([float(b.open) for b in detail], [float(b.high) for b in detail],
                                            [float(b.low) for b in detail], _sign(side),
                                            math.nan if stop is None else float(stop),
                                            math.nan if take_profit is None else float(take_profit))
        if at >= 0:
            bar = detail[at]
    if code == rules.STOP and stop is not None:
        raw = _exact(price, stop, bar.open)
        return OrderPurpose.STOP, Match(slippage.apply(raw, side), Liquidity.TAKER, gapped=raw != stop)
    if code == rules.TAKE_PROFIT and take_profit is not None:
        gapped = stop is not None and touches_stop(side, bar, stop)  # both touched; the open decided
        return OrderPurpose.TAKE_PROFIT, Match(take_profit, Liquidity.MAKER, gapped=gapped)
    return None


def oco_leg(side: Side, fill_price: Decimal, take_profit: Decimal) -> OrderPurpose:
    """Return which leg of a ``side`` OCO filled at ``fill_price``: the take-profit fills at its price."""
    at_target = fill_price >= take_profit if side is Side.SELL else fill_price <= take_profit
    return OrderPurpose.TAKE_PROFIT if at_target else OrderPurpose.STOP


def _limit(side: Side, bar: Bar, limit: Decimal) -> Match | None:
    if (side is Side.BUY and bar.open <= limit) or (side is Side.SELL and bar.open >= limit):
        return Match(bar.open, Liquidity.TAKER, gapped=True)  # marketable on arrival
    if touches_target(side, bar, limit):
        return Match(limit, Liquidity.MAKER)
    return None


def _stop(side: Side, bar: Bar, stop: Decimal, slippage: SlippageModel) -> Match | None:
    if not touches_stop(side, bar, stop):
        return None
    raw = stop_fill_price(side, bar, stop)
    return Match(slippage.apply(raw, side), Liquidity.TAKER, gapped=raw != stop)


def _stop_limit(side: Side, bar: Bar, stop: Decimal, limit: Decimal) -> Match | None:
    if not touches_stop(side, bar, stop):
        return None
    beyond = bar.open < limit if side is Side.SELL else bar.open > limit
    return None if beyond else Match(limit, Liquidity.TAKER)


def _sign(side: Side) -> float:
    """Return the price rules' sign of the position a ``side`` order closes (sell closes a long)."""
    return 1.0 if side is Side.SELL else -1.0


def _exact(value: float, *candidates: Decimal) -> Decimal:
    """Return the Decimal among ``candidates`` that the float rule chose (no float noise leaks out)."""
    for candidate in candidates:
        if float(candidate) == value:
            return candidate
    return Decimal(repr(value))


def _required(value: Decimal | None, what: str) -> Decimal:
    if value is None:
        raise ValueError(f"order needs a {what}")
    return value
