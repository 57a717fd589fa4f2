"""Position adjustment (DCA): when safety orders trigger, how big they are, and booking their fills.

A safety order is one more ENTRY order of the same position (attempt n = the n-th add), so fills,
ids, drift and reconciliation treat it like the entry it is. Safety order k triggers when a candle
CLOSES ``k x step`` past the position's reference price (``requested_price``: the signal candle's
close): below for a long, above for a short. Its size is the first order's x ``size_scale`` ** k.
After each add fill the stop and the take-profit are re-planned from the new average entry price
and the resting protective order is replaced to cover the whole holding. A refused or failed add
uses up its slot: the next one waits for the next level (no retry every candle).

The trigger is evaluated on floats, the same comparison the backtest's compiled exit search makes,
so both stop on the same candle.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trader.config.sections import DcaConfig
from trader.core.domain.commands import PlaceOrder
from trader.core.domain.enums import Direction, OrderPurpose, OrderType
from trader.core.domain.ids import client_order_id
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE
from trader.core.domain.orders import OrderRequest
from trader.core.errors import InvariantViolation
from trader.core.positions import position_events as ev
from trader.core.positions.closing import NO_COMMANDS, Result, rest
from trader.core.positions.pnl import average_price, fee_split
from trader.core.positions.protection import PositionContext, desired_resting
from trader.core.positions.state import Position, PositionStatus, Working, evolve


def sign(direction: Direction) -> Decimal:
    """Return +1 for a long, -1 for a short."""
    return ONE if direction is Direction.LONG else -ONE


def safety_level(anchor: Decimal, step: Decimal, k: int, direction: Direction) -> Decimal:
    """Return the price at which safety order ``k`` (1-based) triggers: ``k x step`` against the trade."""
    return anchor * (ONE - sign(direction) * step * k)


def ladder_weight(scale: Decimal, orders: int) -> Decimal:
    """Return the first ``orders`` order sizes in units of the first: 1 + scale + ... + scale**(orders-1)."""
    return sum((scale**j for j in range(orders)), Decimal(0))


def adds_done(position: Position) -> int:
    """Return the safety orders sent (or skipped) so far: every entry attempt after the first."""
    return max(position.entry_attempt - 1, 0)


def add_in_flight(position: Position) -> bool:
    """Return True while an add has been asked for but not fully executed yet (an entry that filled only
    partly looks the same: such a position gets no safety orders)."""
    return position.amount > position.entry_executed


def trigger_level(position: Position, dca: DcaConfig) -> float | None:
    """Return the close at or past which the next safety order is due, or None when none is."""
    if not dca.enabled or position.status is not PositionStatus.OPEN or position.requested_price is None:
        return None
    done = adds_done(position)
    if done >= dca.safety_orders or add_in_flight(position):
        return None
    return float(safety_level(position.requested_price, dca.step, done + 1, position.direction))


def triggered(level: float, close: float, direction: Direction) -> bool:
    """Return True when ``close`` reached the level (at or below it for a long, at or above for a short)."""
    return close <= level if direction is Direction.LONG else close >= level


def add_amount(position: Position, dca: DcaConfig, market: MarketSpec) -> Decimal:
    """Return the next safety order's size, rounded down to the market step.

    The first order's size is recovered from the requested total (first x the ladder weight so far),
    so nothing beyond the position itself is stored.
    """
    done = adds_done(position)
    first = position.amount / ladder_weight(dca.size_scale, done + 1)
    return market.round_amount(first * dca.size_scale ** (done + 1))


def exits_from_average(average: Decimal, direction: Direction, dca: DcaConfig,
                       market: MarketSpec) -> tuple[Decimal, Decimal]:
    """Return (stop, take-profit) on the tick: ``dca.stop`` and ``dca.take_profit`` from the average."""
    s = sign(direction)
    stop = market.round_stop(average * (ONE - s * dca.stop), direction)
    target = market.round_price(average * (ONE + s * dca.take_profit))
    return stop, target


def place_add(position: Position, amount: Decimal, ctx: PositionContext) -> Result:
    """Return the position with the add requested: the resting protective order cancelled, then the add.

    Never a market add and a resting stop at once: on one candle the venue (or the simulator) could fill
    either first, and the stop, sized for the old holding, would close the position under the add. The
    stop is re-placed for the whole holding when the add fills; until then the engine watches it.
    """
    attempt = position.entry_attempt
    position, cancel = rest(position, Working.NONE, ctx)
    order = OrderRequest(
        client_order_id=client_order_id(position.id, OrderPurpose.ENTRY, attempt), position_id=position.id,
        symbol=position.symbol, side=position.direction.entry_side, type=OrderType.MARKET,
        purpose=OrderPurpose.ENTRY, amount=amount,
    )
    added = evolve(position, amount=position.amount + amount, entry_attempt=attempt + 1)
    return added, (*cancel, PlaceOrder(order))


def skip_add(position: Position) -> Position:
    """Return the position with the next safety slot used up without an order (risk refused it)."""
    return evolve(position, entry_attempt=position.entry_attempt + 1)


def on_add_fill(position: Position, fill: ev.EntryFilled, ctx: PositionContext) -> Result:
    """Book a safety-order fill; while OPEN re-plan stop and target from the average and re-protect."""
    executed = position.entry_executed + fill.amount
    if fill.amount <= 0 or executed > position.amount:
        raise InvariantViolation(
            f"{position.id}: add fill {fill.amount} takes executed {executed} past {position.amount}")
    held, fee_quote = fee_split(fill.amount, fill.price, fill.fee, fill.fee_in_base,
                                reduces_holding=position.is_long)
    average = average_price(position.entry_executed, position.entry_price, fill.amount, fill.price)
    changes: dict[str, Any] = {
        "entry_price": average, "entry_executed": executed, "filled": position.filled + held,
        "fees": position.fees + fee_quote, "realised_pnl": position.realised_pnl - fee_quote,
    }
    if position.status is not PositionStatus.OPEN:
        # exiting (or in error): only book it; a working exit that ends short sells the rest
        return evolve(position, **changes), NO_COMMANDS
    if ctx.dca.enabled:
        stop, target = exits_from_average(average, position.direction, ctx.dca, ctx.market)
        # a re-planned stop is a new plan, not a trailed one: the exit reads STOP_LOSS
        changes.update(stop_price=stop, take_profit=target, initial_stop=stop)
    booked = evolve(position, **changes)
    # The resting order covers the old holding: replace it so the added coins are protected too.
    return rest(booked, desired_resting(booked, None, ctx), ctx)


def on_add_ended(position: Position, event: ev.EntryCancelled | ev.EntryRejected,
                 ctx: PositionContext) -> Result:
    """The add ended (cancelled or rejected): what filled stays booked, the rest is no longer asked for,
    and the protective order cancelled for the add rests again at once (not only at the next candle)."""
    del event
    if not add_in_flight(position):
        return position, NO_COMMANDS
    ended = evolve(position, amount=position.entry_executed)
    if ended.status is not PositionStatus.OPEN or ended.working is not Working.NONE:
        return ended, NO_COMMANDS
    return rest(ended, desired_resting(ended, None, ctx), ctx)
