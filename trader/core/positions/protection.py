"""Protection plan: which single closing order rests on the venue, as pure decisions.

On spot a resting stop and a resting take-profit would lock the same coins, so at most one
protective order rests at a time:

- native stop and OCO available: one OCO (stop + take-profit limit);
- native stop, no OCO: the stop rests and the take-profit is held locally; when the close comes within
  ``tp_swap_distance`` of the target the stop is swapped for the take-profit limit, and swapped back
  when the close falls more than twice that distance away (hysteresis, so it does not flap);
- no native stop: the take-profit limit rests (if any) and the engine watches the stop.

Where the entry order can carry its protection (``Capabilities.attached_bracket``: Bybit's TP/SL on the
order, Kraken's conditional close) the entry is sent with it (``carries_bracket``) and the position's
protection is ATTACHED: the venue makes the first stop (or stop + take-profit, an OCO in effect) itself
when the entry fills, and the machine adopts it under ``attached_client_id`` of the entry. Anything
after it (a trailing move, a swap) is an ordinary resting order, as for NATIVE.

Whatever does not rest on the venue is watched by ``positions.machine`` on every PriceUpdated.
The exchange engineer executes the resulting commands; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from trader.config.sections import DcaConfig, TrailingConfig
from trader.core.domain.enums import OrderPurpose, OrderType, ProtectionKind
from trader.core.domain.ids import ClientOrderId, attached_client_id, client_order_id
from trader.core.domain.market import Capabilities, MarketSpec
from trader.core.domain.money import ONE
from trader.core.domain.orders import OrderRequest
from trader.core.errors import InvariantViolation
from trader.core.positions.state import Position, Working, evolve
from trader.core.positions.trailing import TrailParams

_PURPOSE = {
    Working.STOP: OrderPurpose.STOP,
    Working.OCO: OrderPurpose.STOP,
    Working.TAKE_PROFIT: OrderPurpose.TAKE_PROFIT,
    Working.EXIT: OrderPurpose.EXIT,
}
RESTING: frozenset[Working] = frozenset({Working.STOP, Working.TAKE_PROFIT, Working.OCO})


@dataclass(frozen=True, slots=True)
class PositionContext:
    """Everything besides the position that the machine needs: market, trailing/DCA rules, swap distance."""

    market: MarketSpec
    trailing: TrailingConfig = field(default_factory=TrailingConfig)
    tp_swap_distance: Decimal = Decimal("0.005")
    dca: DcaConfig = field(default_factory=DcaConfig)
    trail: TrailParams = field(init=False, repr=False, compare=False)  # float view for the price rules

    def __post_init__(self) -> None:
        trail = TrailParams.from_config(self.trailing, float(self.market.price_step))
        object.__setattr__(self, "trail", trail)


def protection_kind(capabilities: Capabilities) -> ProtectionKind:
    """Return NATIVE when the venue holds stop orders, else WATCHED."""
    return ProtectionKind.NATIVE if capabilities.native_stop else ProtectionKind.WATCHED


def carries_bracket(market: MarketSpec, limit: bool) -> bool:
    """Return True when an entry (``limit`` or market) should carry its protection for the venue to attach."""
    caps = market.capabilities
    return caps.native_stop and caps.attached_bracket and market.futures is None \
        and (limit or not caps.attached_limit_only)


def base_resting(position: Position, capabilities: Capabilities,
                 protection: ProtectionKind | None = None) -> Working:
    """Return the order that rests when the price is far from the target (``protection`` overrides)."""
    has_stop = position.stop_price is not None
    has_tp = position.take_profit is not None and not position.tp_local
    kind = protection or position.protection
    if kind in _ON_VENUE and has_stop:
        oco = capabilities.oco or _attached_oco(position, capabilities, kind)
        return Working.OCO if oco and has_tp else Working.STOP
    return Working.TAKE_PROFIT if has_tp else Working.NONE


_ON_VENUE = (ProtectionKind.NATIVE, ProtectionKind.ATTACHED)


def _attached_oco(position: Position, capabilities: Capabilities, kind: ProtectionKind) -> bool:
    """The venue's attached stop + take-profit: the first protection, kept for as long as it rests."""
    if kind is not ProtectionKind.ATTACHED or not capabilities.attached_take_profit:
        return False
    return position.stop_attempt == 0 or (position.working is Working.OCO and position.stop_attempt == 1)


def first_attached(position: Position) -> bool:
    """Return True while the next stop of ``position`` is the one the venue attaches to its entry."""
    return position.protection is ProtectionKind.ATTACHED and position.stop_attempt == 0


def desired_resting(position: Position, close: Decimal | None, ctx: PositionContext,
                    protection: ProtectionKind | None = None) -> Working:
    """Return the order that should rest now, swapping the take-profit in near the target."""
    base = base_resting(position, ctx.market.capabilities, protection)
    target = position.take_profit
    if base is not Working.STOP or target is None or position.tp_local or close is None:
        return base
    distance = ctx.tp_swap_distance
    if position.working is Working.TAKE_PROFIT:
        distance = distance * 2  # hysteresis: stay swapped until clearly away
    if position.is_long:
        near = close >= target * (ONE - distance)
    else:
        near = close <= target * (ONE + distance)
    return Working.TAKE_PROFIT if near else Working.STOP


def working_id(position: Position) -> ClientOrderId | None:
    """Return the client id of the working closing order, or None."""
    purpose = _PURPOSE.get(position.working)
    if purpose is None:
        return None
    return _closing_id(position, purpose, _attempts(position, purpose) - 1)


def _closing_id(position: Position, purpose: OrderPurpose, attempt: int) -> ClientOrderId:
    if purpose is OrderPurpose.STOP and attempt == 0 and position.protection is ProtectionKind.ATTACHED:
        entry = client_order_id(position.id, OrderPurpose.ENTRY, max(position.entry_attempt - 1, 0))
        return attached_client_id(entry)
    return client_order_id(position.id, purpose, attempt)


def closing_order(position: Position, kind: Working, market: MarketSpec,
                  **extra: Any) -> tuple[Position, OrderRequest]:
    """Return the position with ``kind`` working (attempt counted, ``extra`` applied) and its request.

    The amount is the held amount rounded down to the market step, so it never exceeds the holding.
    ``extra`` may carry other changes of the same event (fills included) so the event copies once.
    """
    purpose = _PURPOSE[kind]
    counter = _COUNTER[purpose]
    attempt: int = getattr(position, counter)
    amount = market.round_amount(held_after(position, extra))
    direction = position.direction
    price: Decimal | None = None
    trigger: Decimal | None = None
    order_type = OrderType.MARKET
    if kind is Working.STOP or kind is Working.OCO:
        stop = extra.get("stop_price", position.stop_price)
        if stop is None:
            raise InvariantViolation(f"{position.id}: a stop order needs a stop price")
        trigger = market.round_stop(stop, direction)
        order_type = OrderType.STOP
    if kind is Working.TAKE_PROFIT or kind is Working.OCO:
        if position.take_profit is None:
            raise InvariantViolation(f"{position.id}: a take-profit order needs a target")
        price = market.round_price(position.take_profit)
        order_type = OrderType.LIMIT if kind is Working.TAKE_PROFIT else OrderType.OCO
    request = OrderRequest(
        client_order_id=_closing_id(position, purpose, attempt),
        position_id=position.id, symbol=position.symbol, side=direction.exit_side,
        type=order_type, purpose=purpose, amount=amount, price=price, trigger_price=trigger,
        reduce_only=True,
    )
    extra[counter] = attempt + 1
    return evolve(position, working=kind, working_amount=amount, **extra), request


_COUNTER = {
    OrderPurpose.ENTRY: "entry_attempt",
    OrderPurpose.STOP: "stop_attempt",
    OrderPurpose.TAKE_PROFIT: "tp_attempt",
    OrderPurpose.EXIT: "exit_attempt",
}


def held_after(position: Position, changes: dict[str, Any]) -> Decimal:
    """Return the amount held once ``changes`` (pending field updates) are applied."""
    filled: Decimal = changes.get("filled", position.filled)
    exit_filled: Decimal = changes.get("exit_filled", position.exit_filled)
    return filled - exit_filled


def _attempts(position: Position, purpose: OrderPurpose) -> int:
    count: int = getattr(position, _COUNTER[purpose])
    return count
