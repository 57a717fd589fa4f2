"""Balances and account snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from trader.core.domain.money import ZERO


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset's balance; ``total = free + used``."""

    asset: str
    free: Decimal
    used: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Return free plus used."""
        return self.free + self.used


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Equity view in the quote currency at one moment."""

    quote: str
    equity: Decimal
    free: Decimal
    exposure: Decimal = ZERO
    balances: dict[str, Balance] = field(default_factory=dict)
    # A derivatives wallet's open positions per pair, signed (shorts negative); None on a spot account,
    # whose holdings are its balances. Reconciliation compares the engine's positions with these.
    positions: dict[str, Decimal] | None = None
    # The service's other venue accounts in the same quote (last known; zero with one venue): the
    # global exposure cap (risk.max_total_exposure_pct) counts them with this account.
    others_equity: Decimal = ZERO
    others_exposure: Decimal = ZERO
