"""DTOs of a service trading several venue accounts: a venue's line in /status, its balance, an asset."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trader.core.domain.enums import Mode, TradingState


@dataclass(frozen=True, slots=True)
class AssetBalance:
    """One asset in /balance; ``value`` is its worth in the quote currency when known."""

    asset: str
    free: Decimal
    used: Decimal
    value: Decimal | None = None

    @property
    def total(self) -> Decimal:
        """Return free plus used."""
        return self.free + self.used


@dataclass(frozen=True, slots=True)
class VenueState:
    """One venue account's line in /status: its exchange, mode, trading state and why entries pause."""

    venue: str
    exchange: str
    mode: Mode
    state: TradingState
    open_positions: int
    note: str = ""  # why it does not trade normally (halted, venue down), "" when it does


@dataclass(frozen=True, slots=True)
class VenueBalance:
    """One venue account's balance; ``in_total`` is False when its quote differs from the totals'."""

    venue: str
    exchange: str
    quote: str
    equity: Decimal
    free: Decimal
    exposure: Decimal
    assets: tuple[AssetBalance, ...]
    mode: Mode = Mode.PAPER
    in_total: bool = True
    note: str = ""  # why the balance is unknown (venue not answering); figures are then zero
