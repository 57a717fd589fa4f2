"""Caps: max open positions, per pair, max position size, max exposure (the account's, and every venue
account's together), free balance.

Count caps refuse; size caps shrink the amount (and say which cap did), refusing only when no room
is left at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from trader.config.sections import RiskConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.positions.pnl import exposure
from trader.core.positions.state import Position


def open_positions_guard(positions: Sequence[Position], cfg: RiskConfig) -> Refused | None:
    """Refuse when ``max_open_positions`` positions are already active."""
    active = sum(1 for p in positions if p.status.is_active)
    if active >= cfg.max_open_positions:
        return Refused(RefusalReason.MAX_OPEN_POSITIONS,
                       f"{active} positions open (limit {cfg.max_open_positions})")
    return None


def per_pair_guard(positions: Sequence[Position], symbol: str, cfg: RiskConfig) -> Refused | None:
    """Refuse when the pair already has ``max_positions_per_pair`` active positions."""
    active = sum(1 for p in positions if p.symbol == symbol and p.status.is_active)
    if active >= cfg.max_positions_per_pair:
        return Refused(RefusalReason.MAX_PER_PAIR,
                       f"{active} position(s) open on {symbol} (limit {cfg.max_positions_per_pair})")
    return None


def current_exposure(positions: Sequence[Position], account: AccountSnapshot) -> Decimal:
    """Return the quote value in the market: the larger of the account's view and our positions'."""
    ours = sum((exposure(p) for p in positions), Decimal(0))
    return max(account.exposure, ours)


def total_exposure_room(account: AccountSnapshot, exposure_now: Decimal, cfg: RiskConfig) -> Decimal:
    """Return the quote value every venue account together may still add under ``max_total_exposure_pct``
    of their equity (this account's figures plus ``others_*``, the service's other accounts)."""
    equity = account.equity + account.others_equity
    return equity * cfg.max_total_exposure_pct - exposure_now - account.others_exposure


def _total_refusal(account: AccountSnapshot, exposure_now: Decimal, cfg: RiskConfig) -> Refused:
    return Refused(RefusalReason.MAX_EXPOSURE,
                   f"exposure of all venue accounts {exposure_now + account.others_exposure:.2f} at the "
                   f"limit {cfg.max_total_exposure_pct:.0%} of their equity "
                   f"{account.equity + account.others_equity:.2f}")


def cap_amount(amount: Decimal, price: Decimal, account: AccountSnapshot, exposure_now: Decimal,
               cost_factor: Decimal, cfg: RiskConfig) -> tuple[Decimal, str | None] | Refused:
    """Return ``amount`` shrunk to every size cap and the name of the binding cap (None if none bound).

    ``cost_factor`` is the quote spent per quote of notional (1 + fee, slippage included).
    """
    room = account.equity * cfg.max_exposure_pct - exposure_now
    if room <= 0:
        return Refused(RefusalReason.MAX_EXPOSURE,
                       f"exposure {exposure_now:.2f} already at the limit "
                       f"{cfg.max_exposure_pct:.0%} of equity {account.equity:.2f}")
    total_room = total_exposure_room(account, exposure_now, cfg)
    if total_room <= 0:
        return _total_refusal(account, exposure_now, cfg)
    if account.free <= 0:
        return Refused(RefusalReason.INSUFFICIENT_FUNDS, f"no free {account.quote} balance")
    amount, which = capped(amount, price, account.equity, account.free, room, total_room,
                           cfg.max_position_pct, cost_factor)
    return amount, _cap_name(_CAPS[which], cfg, account)


_CAPS = (None, "position", "exposure", "total", "free")
Num = TypeVar("Num", Decimal, float)


def capped(amount: Num, price: Num, equity: Num, free: Num, room: Num, total_room: Num,  # noqa: PLR0913, PLR0917 - numba calls it positionally
           max_position_pct: Num, cost_factor: Num) -> tuple[Num, int]:
    """Return ``amount`` shrunk to the position, exposure, all-accounts exposure and free-balance caps,
    and which bound last.

    0: none, 1: position, 2: exposure, 3: total (every venue account), 4: free; the first of equal caps
    names the binding one. Written once over Decimal or float: ``cap_amount`` calls it with Decimals,
    the compiled backtest loop (``backtest.compiled``) with floats in numba.
    """
    which = 0
    limit = equity * max_position_pct / price
    if amount > limit:
        amount, which = limit, 1
    limit = room / price
    if amount > limit:
        amount, which = limit, 2
    limit = total_room / price
    if amount > limit:
        amount, which = limit, 3
    limit = free / (price * cost_factor)
    if amount > limit:
        amount, which = limit, 4
    return amount, which


def _cap_name(binding: str | None, cfg: RiskConfig, account: AccountSnapshot) -> str | None:
    # Formatted only when a cap binds: Decimal formatting is the slowest part of a check.
    if binding == "position":
        return f"max position {cfg.max_position_pct:.0%} of equity"
    if binding == "exposure":
        return f"max exposure {cfg.max_exposure_pct:.0%} of equity"
    if binding == "total":
        return f"max exposure {cfg.max_total_exposure_pct:.0%} of all venue accounts' equity"
    if binding == "free":
        return f"free {account.quote} balance"
    return None
