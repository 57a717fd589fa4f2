"""The single risk entry point: ``check(...) -> Approved | Refused``, identical in every mode.

Order of evaluation (the first refusal wins, so the reason shown is the most fundamental one):
trading state -> request validity -> drawdown -> daily loss -> stop streak -> trades per day ->
cooldown -> open positions -> per pair -> confidence floor -> stop -> size -> caps -> precision and
venue minimums -> (perpetual swaps) leverage limit and the stop safely inside the liquidation price.
Amounts round down; a too-small order is refused, never rounded up. A manual entry brings its own size
(``EntryRequest.amount``): it replaces the sizing, is refused when its cost exceeds the free balance,
and is shrunk by the same caps (``Approved.capped_by`` names the one that bound).

On a perpetual swap (``MarketSpec.futures``) the free balance pays the margin (notional / leverage) and
the fee, not the notional; the position and exposure caps still count the notional, so leverage frees
margin but never lets a position grow past the caps. An entry whose stop is not at least
``liquidation_buffer`` (of the entry price) inside the liquidation price is refused: the stop, not the
venue's liquidation engine, must end a losing trade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from trader.config.sections import RiskConfig
from trader.core.domain.account import AccountSnapshot
from trader.core.domain.entries import Approved, Decision, EntryRequest, RefusalReason, Refused
from trader.core.domain.enums import Direction
from trader.core.domain.futures import liquidation_price
from trader.core.domain.market import MarketSpec
from trader.core.positions.state import Position
from trader.core.risk import guards, limits, sizing
from trader.core.risk.state import RiskState, trading_day


def check(  # noqa: PLR0913 - the one entry point takes exactly the inputs the issue lists
    request: EntryRequest, account: AccountSnapshot, state: RiskState, positions: Sequence[Position],
    market: MarketSpec, cfg: RiskConfig, *, history: Sequence[Decimal] = (), now: datetime,
) -> Decision:
    """Return Approved(amount, ...) or Refused(reason, detail) for an entry request at ``now`` (aware).

    ``positions`` are the account's positions (inactive ones are ignored); ``history`` is the PnL of
    the strategy's closed trades, oldest first, used by Kelly sizing.
    """
    refusal = _account_guards(request, account, state, positions, market, cfg, now)
    if refusal is not None:
        return refusal
    stop = sizing.resolve_stop(request, cfg, market)
    if isinstance(stop, Refused):
        return stop
    fee, slip = market.taker_fee, cfg.expected_slippage
    unit_loss = sizing.loss_per_unit(request.entry_price, stop, request.direction, fee, slip)
    cost_factor = sizing.cost_factor(market, fee, slip)
    amount = _base_amount(request, account, cfg, history, unit_loss, market, cost_factor) \
        if request.amount is None \
        else _own_amount(request, request.amount, account, cost_factor)
    if isinstance(amount, Refused):
        return amount
    exposure_now = limits.current_exposure(positions, account)
    capped = limits.cap_amount(amount, request.entry_price, account, exposure_now, cost_factor, cfg)
    if isinstance(capped, Refused):
        return capped
    amount = market.round_amount(capped[0])
    problem = market.minimums_problem(amount, request.entry_price)
    if problem is not None:
        return Refused(RefusalReason.BELOW_MINIMUM, problem)
    approved = Approved(amount=amount, stop_price=stop, entry_price=request.entry_price,
                        risk=amount * unit_loss, sizing=cfg.sizing, capped_by=capped[1])
    return approved if market.futures is None \
        else _futures_check(approved, request.direction, market, cfg, account.free)


def _futures_check(approved: Approved, direction: Direction, market: MarketSpec,
                   cfg: RiskConfig, free: Decimal) -> Decision:
    """Return ``approved`` with leverage and liquidation price, or refuse a stop too near liquidation."""
    terms = market.futures
    assert terms is not None
    problem = terms.leverage_problem(approved.notional)
    if problem is not None:
        return Refused(RefusalReason.LEVERAGE_NOT_ALLOWED, f"{market.symbol}: {problem}")
    entry, stop = approved.entry_price, approved.stop_price
    # cross: what stays free once this entry's margin and fee are paid also backs it
    left = free - terms.initial_margin(approved.notional) - approved.notional * market.taker_fee
    liquidation = liquidation_price(direction, entry, approved.amount, terms, free=left)
    if liquidation is not None:
        room = stop - liquidation if direction is Direction.LONG else liquidation - stop
        if room < cfg.liquidation_buffer * entry:
            return Refused(RefusalReason.LIQUIDATION_TOO_CLOSE,
                           f"stop {stop} is not {cfg.liquidation_buffer:.1%} of the entry inside the "
                           f"liquidation price {liquidation:,.2f} at {terms.leverage}x; lower the "
                           f"leverage or tighten the stop")
    return replace(approved, leverage=terms.leverage, liquidation_price=liquidation)


def _account_guards(request: EntryRequest, account: AccountSnapshot, state: RiskState,
                    positions: Sequence[Position], market: MarketSpec, cfg: RiskConfig,
                    now: datetime) -> Refused | None:
    today = trading_day(now, cfg.timezone)
    refusal = guards.trading_state_guard(state) or _request_problem(request, account, market)
    refusal = refusal or guards.drawdown_guard(state, account.equity, cfg)
    refusal = refusal or guards.daily_loss_guard(state, account.equity, today, cfg)
    refusal = refusal or guards.consecutive_stops_guard(state, today, cfg)
    refusal = refusal or guards.trades_per_day_guard(state, today, cfg)
    refusal = refusal or guards.cooldown_guard(state, request.symbol, now)
    refusal = refusal or limits.open_positions_guard(positions, cfg)
    return refusal or limits.per_pair_guard(positions, request.symbol, cfg)


def _request_problem(request: EntryRequest, account: AccountSnapshot, market: MarketSpec) -> Refused | None:
    if request.direction is Direction.SHORT and not (market.capabilities.shorting or market.is_futures):
        return Refused(RefusalReason.SHORTING_UNSUPPORTED, f"{market.symbol} cannot be shorted on this venue")
    if not request.entry_price.is_finite() or request.entry_price <= 0:
        return Refused(RefusalReason.INVALID_REQUEST, f"entry price {request.entry_price} is not positive")
    if not math.isfinite(request.confidence) or not 0 <= request.confidence <= 1:
        return Refused(RefusalReason.INVALID_REQUEST, f"confidence {request.confidence} is not in [0, 1]")
    if account.equity <= 0:
        return Refused(RefusalReason.INSUFFICIENT_FUNDS, f"equity is {account.equity} {account.quote}")
    return None


def _own_amount(request: EntryRequest, amount: Decimal, account: AccountSnapshot,
                cost_factor: Decimal) -> Decimal | Refused:
    """Return a manual entry's own amount, or refuse one that is not positive or the account cannot pay."""
    if not amount.is_finite() or amount <= 0:
        return Refused(RefusalReason.INVALID_REQUEST, f"amount {amount} is not positive")
    cost = amount * request.entry_price * cost_factor
    if cost > account.free:
        return Refused(RefusalReason.INSUFFICIENT_FUNDS,
                       f"{amount} {request.symbol} costs about {cost:,.2f} {account.quote}, "
                       f"free balance is {account.free:,.2f} {account.quote}")
    return amount


def _base_amount(request: EntryRequest, account: AccountSnapshot, cfg: RiskConfig,
                 history: Sequence[Decimal], unit_loss: Decimal, market: MarketSpec,
                 cost_factor: Decimal) -> Decimal | Refused:
    if cfg.sizing == "all_in":
        if market.futures is None:
            return sizing.all_in(account.free, request.entry_price, market.taker_fee, cfg.expected_slippage)
        return max(account.free, Decimal(0)) / (request.entry_price * cost_factor)
    if sizing.below_floor(request.confidence, cfg.min_confidence):
        return Refused(RefusalReason.LOW_CONFIDENCE,
                       f"confidence {request.confidence:.2f} is below the floor {cfg.min_confidence}")
    fraction = cfg.risk_per_trade
    if cfg.sizing == "kelly":
        kelly = sizing.kelly_fraction(history, cfg)
        if isinstance(kelly, Refused):
            return kelly
        fraction = kelly if kelly is not None else fraction  # short history: fixed fraction
    if cfg.sizing == "confidence":
        fraction = fraction * sizing.confidence_multiplier(request.confidence)
    return sizing.fixed_fraction(account.equity, fraction, unit_loss)

