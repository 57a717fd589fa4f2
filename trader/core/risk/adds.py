"""Risk's word on a safety order (DCA add): the whole position, adds included, stays inside the caps.

An add is refused, never shrunk (a smaller add would change the ladder the user configured), when
trading is halted or paused, when the position's total value after the add would exceed
``max_position_pct`` of equity, when all positions together would exceed ``max_exposure_pct`` (or,
with every venue account counted, ``max_total_exposure_pct``), when
the free balance cannot pay it, or when it is below the venue minimums.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE
from trader.core.positions.state import Position
from trader.core.risk import guards, limits
from trader.core.risk.state import RiskState


def position_exposure_after(position: Position, amount: Decimal, price: Decimal) -> Decimal:
    """Return the position's quote value at ``price`` once ``amount`` more is held."""
    return (position.open_amount + amount) * price


def check_add(  # noqa: PLR0913 - the same inputs as risk.check, plus the position
    position: Position, amount: Decimal, price: Decimal, account: AccountSnapshot, *, state: RiskState,
    positions: Sequence[Position], market: MarketSpec, cfg: RiskConfig,
) -> Refused | None:
    """Return None when the add may be sent, else the refusal naming the limit."""
    refusal = guards.trading_state_guard(state)
    if refusal is not None:
        return refusal
    if amount <= 0:
        return Refused(RefusalReason.BELOW_MINIMUM, f"safety order on {position.symbol} rounds to 0")
    problem = market.minimums_problem(amount, price)
    if problem is not None:
        return Refused(RefusalReason.BELOW_MINIMUM, problem)
    total = position_exposure_after(position, amount, price)
    cap = account.equity * cfg.max_position_pct
    if total > cap:
        return Refused(RefusalReason.MAX_EXPOSURE,
                       f"{position.symbol} would hold {total:,.2f} {account.quote} after the safety order, "
                       f"above max position {cfg.max_position_pct:.0%} of equity ({cap:,.2f})")
    added = amount * price
    exposure_now = limits.current_exposure(positions, account)
    everything = exposure_now + added
    if everything > account.equity * cfg.max_exposure_pct:
        return Refused(RefusalReason.MAX_EXPOSURE,
                       f"exposure would reach {everything:,.2f} {account.quote}, above "
                       f"{cfg.max_exposure_pct:.0%} of equity {account.equity:,.2f}")
    if added > limits.total_exposure_room(account, exposure_now, cfg):
        return Refused(RefusalReason.MAX_EXPOSURE,
                       f"exposure of all venue accounts would exceed {cfg.max_total_exposure_pct:.0%} "
                       f"of their equity {account.equity + account.others_equity:,.2f}")
    cost = added * (ONE + market.taker_fee) * (ONE + cfg.expected_slippage)
    if cost > account.free:
        return Refused(RefusalReason.INSUFFICIENT_FUNDS,
                       f"safety order costs about {cost:,.2f} {account.quote}, free balance is "
                       f"{account.free:,.2f} {account.quote}")
    return None
