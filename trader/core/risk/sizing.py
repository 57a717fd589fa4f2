"""Position sizing: fixed-fractional risk, confidence scaling, fractional Kelly, all-in.

Every method returns an unrounded base amount; ``check`` applies the caps and rounds down. The loss
per unit at the stop includes the taker fee on both legs and the expected slippage against us on
both legs, so hitting the stop loses at most the intended fraction of equity.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from trader.config.sections import RiskConfig
from trader.core.domain.entries import EntryRequest, RefusalReason, Refused
from trader.core.domain.enums import Direction
from trader.core.domain.market import MarketSpec
from trader.core.domain.money import ONE, ZERO

Num = TypeVar("Num", Decimal, float)
"""The sizing arithmetic below (``long_unit_loss``, ``risk_amount``, ``all_in_amount``) is written once
over this type: the engine calls it with Decimals (exact money), the compiled backtest loop
(``backtest.compiled``) with floats inside numba. Integer literals keep the Decimal results exactly
what ``ONE``-based expressions gave (an int converts to Decimal exactly)."""


def resolve_stop(request: EntryRequest, cfg: RiskConfig, market: MarketSpec) -> Decimal | Refused:
    """Return the stop rounded toward the position (default ``default_stop_pct``); refuse a wrong side."""
    long = request.direction is Direction.LONG
    stop = request.stop_price
    if stop is None:
        stop = request.entry_price * (ONE - cfg.default_stop_pct if long else ONE + cfg.default_stop_pct)
    stop = market.round_stop(stop, request.direction)
    if stop <= 0 or (long and stop >= request.entry_price) or (not long and stop <= request.entry_price):
        side = "below" if long else "above"
        return Refused(RefusalReason.INVALID_REQUEST,
                       f"stop {stop} must be {side} the entry {request.entry_price} "
                       f"for a {request.direction}")
    return stop


def loss_per_unit(entry: Decimal, stop: Decimal, direction: Direction, fee: Decimal,
                  slippage: Decimal) -> Decimal:
    """Return the quote lost per base unit bought at ``entry`` and sold at ``stop``, fees and slippage in."""
    if direction is Direction.LONG:
        return long_unit_loss(entry, stop, fee, slippage)
    return stop * (ONE + slippage) * (ONE + fee) - entry * (ONE - slippage) * (ONE - fee)


def cost_factor(market: MarketSpec, fee: Decimal, slippage: Decimal) -> Decimal:
    """Return the free quote spent per quote of notional: all of it on spot, the margin on a swap."""
    if market.futures is None:
        return spot_cost_factor(fee, slippage)
    return (ONE + slippage) * (ONE / market.futures.leverage + fee)


def fixed_fraction(equity: Decimal, fraction: Decimal, unit_loss: Decimal) -> Decimal:
    """Return the amount whose loss at the stop is ``fraction`` of ``equity``."""
    if unit_loss <= 0 or equity <= 0:
        return ZERO
    return risk_amount(equity, fraction, unit_loss)


def confidence_multiplier(confidence: float) -> Decimal:
    """Return the size multiplier for a confidence: linear, clamped to [0, 1]."""
    return Decimal(repr(confidence_fraction(confidence)))


def kelly_fraction(history: Sequence[Decimal], cfg: RiskConfig) -> Decimal | Refused | None:
    """Return the risk fraction from the strategy's closed trades, None when history is too short.

    ``history`` holds each closed trade's PnL (quote or return; only signs and ratios matter).
    Kelly: f* = W - (1 - W) / R with win rate W and payoff ratio R = mean win / mean loss; we risk
    ``kelly_fraction * f*`` of equity at the stop, at most ``kelly_max_risk``. f* <= 0 is refused.
    """
    if len(history) < cfg.kelly_min_trades:
        return None
    wins = [p for p in history if p > 0]
    losses = [-p for p in history if p < 0]
    win_rate = Decimal(len(wins)) / Decimal(len(history))
    if not wins:
        return Refused(RefusalReason.NO_EDGE, f"no winning trade in the last {len(history)}")
    if not losses:
        edge = win_rate
    else:
        payoff = (sum(wins, ZERO) / len(wins)) / (sum(losses, ZERO) / len(losses))
        edge = kelly_edge(win_rate, payoff)
        if edge <= 0:
            return Refused(RefusalReason.NO_EDGE,
                           f"Kelly edge {edge:.3f} <= 0 (win rate {win_rate:.1%}, payoff {payoff:.2f})")
    return kelly_risk(edge, cfg.kelly_fraction, cfg.kelly_max_risk)


def kelly_edge(win_rate: Num, payoff: Num) -> Num:
    """Return Kelly's f* = W - (1 - W) / R for win rate W and payoff ratio R (mean win / mean loss)."""
    return win_rate - (1 - win_rate) / payoff


def kelly_risk(edge: Num, fraction: Num, max_risk: Num) -> Num:
    """Return the fraction of equity risked at the stop for a positive Kelly ``edge``."""
    return min(fraction * edge, max_risk)


def all_in(free: Decimal, entry: Decimal, fee: Decimal, slippage: Decimal) -> Decimal:
    """Return the amount the whole free balance buys, fee and slippage included."""
    if free <= 0:
        return ZERO
    return all_in_amount(free, entry, fee, slippage)


def long_unit_loss(entry: Num, stop: Num, fee: Num, slippage: Num) -> Num:
    """Return the quote lost per base unit of a long bought at ``entry`` and sold at ``stop``."""
    return entry * (1 + slippage) * (1 + fee) - stop * (1 - slippage) * (1 - fee)


def risk_amount(equity: Num, fraction: Num, unit_loss: Num) -> Num:
    """Return the amount whose loss at the stop is ``fraction`` of ``equity`` (both positive)."""
    return equity * fraction / unit_loss


def all_in_amount(free: Num, entry: Num, fee: Num, slippage: Num) -> Num:
    """Return the amount a positive ``free`` balance buys at ``entry``, fee and slippage included."""
    return free / (entry * (1 + slippage) * (1 + fee))


def below_floor(confidence: float, floor: Decimal) -> bool:
    """Return True when a signal's ``confidence`` is below the sizing floor (its repr, in Decimal)."""
    return Decimal(repr(confidence)) < floor


def confidence_fraction(confidence: float) -> float:
    """Return a confidence clamped to [0, 1]: the size multiplier before its Decimal conversion."""
    return min(max(confidence, 0.0), 1.0)


def spot_cost_factor(fee: Num, slippage: Num) -> Num:
    """Return the free quote spent per quote of spot notional."""
    return (1 + slippage) * (1 + fee)


COMPILABLE = (long_unit_loss, risk_amount, all_in_amount, confidence_fraction, spot_cost_factor, kelly_edge,
              kelly_risk)
"""The sizing rules the compiled backtest loop registers with numba."""
