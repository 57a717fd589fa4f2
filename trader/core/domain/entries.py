"""The entry request that risk judges and its two possible answers: Approved or Refused."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from trader.core.domain.enums import Direction
from trader.core.domain.ids import Symbol


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """A strategy's wish to open a position; ``entry_price`` is the reference (or limit) price."""

    symbol: Symbol
    direction: Direction
    entry_price: Decimal
    stop_price: Decimal | None  # None: RiskConfig.default_stop_pct away from entry
    strategy: str
    confidence: float = 1.0
    take_profit: Decimal | None = None
    reason: str = ""
    limit: bool = False  # True: rest a limit at entry_price instead of a market order
    amount: Decimal | None = None  # base; a manual entry's own size instead of risk's sizing (caps apply)


class RefusalReason(StrEnum):
    """Why an entry was refused; values are stable (stored and shown)."""

    HALTED = "halted"
    PAUSED = "paused"
    MAX_DRAWDOWN = "max_drawdown"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    CONSECUTIVE_STOPS = "consecutive_stops"
    COOLDOWN = "cooldown"
    MAX_TRADES_PER_DAY = "max_trades_per_day"
    MAX_OPEN_POSITIONS = "max_open_positions"
    MAX_PER_PAIR = "max_per_pair"
    MAX_EXPOSURE = "max_exposure"
    LOW_CONFIDENCE = "low_confidence"
    INVALID_REQUEST = "invalid_request"
    SHORTING_UNSUPPORTED = "shorting_unsupported"
    NO_EDGE = "no_edge"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    BELOW_MINIMUM = "below_minimum"
    ENTRIES_BLOCKED = "entries_blocked"
    VENUE_DOWN = "venue_down"  # the venue's circuit breaker is open: entries wait until it closes
    LIQUIDATION_TOO_CLOSE = "liquidation_too_close"
    LEVERAGE_NOT_ALLOWED = "leverage_not_allowed"


@dataclass(frozen=True, slots=True)
class Refused:
    """No trade, with a reason the bot can show (``detail`` names the numbers)."""

    reason: RefusalReason
    detail: str

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Approved:
    """Trade ``amount`` (base, already rounded down to the market step) with ``stop_price``.

    ``risk`` is the quote loss if the stop is hit, fees and expected slippage included;
    ``capped_by`` names the cap that shrank the size, if any. On a perpetual swap ``leverage`` is above
    one and ``liquidation_price`` is where the venue would close the position (None on spot).
    """

    amount: Decimal
    stop_price: Decimal
    entry_price: Decimal
    risk: Decimal
    sizing: str
    capped_by: str | None = None
    leverage: Decimal = Decimal(1)
    liquidation_price: Decimal | None = None

    @property
    def notional(self) -> Decimal:
        """Return amount times entry price, quote."""
        return self.amount * self.entry_price

    @property
    def margin(self) -> Decimal:
        """Return the quote the entry ties up: the notional on spot, notional / leverage on a swap."""
        return self.notional / self.leverage


Decision = Approved | Refused
