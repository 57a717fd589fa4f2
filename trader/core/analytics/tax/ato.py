"""Australian CGT rules used by the export: financial years, the 12-month discount test, net capital gain.

Discount test (ITAA 1997 s115-25(1)): the asset must have been acquired "at least 12 months before the
CGT event". The ATO counts this excluding both the day of acquisition and the day of the CGT event
(ATO "CGT discount" page; ATO Guide to capital gains tax, "The discount method": an asset acquired on
2 February 2001 qualifies for a CGT event on or after 3 February 2002). So a disposal on the
anniversary date is NOT eligible and one on the day after is; an asset bought on 29 February is
eligible from 1 March of the following year. Days are calendar days in Australian local time.

Net capital gain (ATO "Calculating your CGT", the method statement of ITAA 1997 s102-5): capital losses
(this year's, then earlier years') are subtracted from capital gains BEFORE the discount; we apply them
to non-discountable gains first, which leaves the most gain eligible for the discount; the discount
(50 % for individuals and trusts, 33⅓ % for complying super funds, none for companies) applies to
what remains of the discountable gains. Unused losses carry forward (ATO "Carrying forward a capital
loss"): a year's report therefore needs the net capital losses of every earlier year, which
``carried_losses`` chains from the records' first year. Prior-year losses are used only as far as this
year's gains (after this year's losses) need them: the summary shows both the amount brought forward
and the amount applied.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from trader.core.domain.money import ZERO

INDIVIDUAL_DISCOUNT = Decimal("0.5")
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Round an AUD amount to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def anniversary(day: date) -> date:
    """Return the same date one year later (29 February maps to 28 February)."""
    year = day.year + 1
    last = calendar.monthrange(year, day.month)[1]
    return date(year, day.month, min(day.day, last))


def is_discount_eligible(acquired: date, disposed: date) -> bool:
    """Return True when held 12 months excluding both end days (s115-25): disposed after the anniversary."""
    return disposed >= anniversary(acquired) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FinancialYear:
    """An Australian income year: 1 July (year - 1) to 30 June (year), named by the year it ends in."""

    year: int

    @property
    def start(self) -> date:
        """Return 1 July of the previous calendar year."""
        return date(self.year - 1, 7, 1)

    @property
    def end(self) -> date:
        """Return 30 June of ``year``."""
        return date(self.year, 6, 30)

    def contains(self, day: date) -> bool:
        """Return True when ``day`` falls in this income year."""
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        """Return e.g. ``FY2023-24``."""
        return f"FY{self.year - 1}-{self.year % 100:02d}"


@dataclass(frozen=True, slots=True)
class CgtSummary:
    """Totals of one income year in AUD (cents); losses are positive magnitudes.

    ``prior_year_losses`` is what was brought forward from earlier years, ``prior_year_losses_applied``
    the part of it this year's gains used; the rest is in ``losses_carried_forward``.
    """

    total_gains: Decimal
    total_losses: Decimal
    discount_eligible_gains: Decimal
    prior_year_losses: Decimal
    prior_year_losses_applied: Decimal
    discount_rate: Decimal
    discount_applied: Decimal
    net_capital_gain: Decimal
    losses_carried_forward: Decimal


def net_capital_gain(gains: Sequence[tuple[Decimal, bool]], prior_year_losses: Decimal = ZERO,
                     discount_rate: Decimal = INDIVIDUAL_DISCOUNT) -> CgtSummary:
    """Return the year's summary from (gain or loss, eligible) pairs; losses offset before the discount."""
    total_gains = sum((g for g, _ in gains if g > 0), ZERO)
    losses = -sum((g for g, _ in gains if g < 0), ZERO)
    discountable = sum((g for g, eligible in gains if g > 0 and eligible), ZERO)
    other = total_gains - discountable
    available = losses + prior_year_losses
    other_left = max(other - available, ZERO)
    available = max(available - other, ZERO)
    discountable_left = max(discountable - available, ZERO)
    carried = max(available - discountable, ZERO)
    discount = cents(discountable_left * discount_rate)
    # this year's losses are applied first (ATO method statement, steps 1 and 2): prior ones cover the rest
    prior_applied = min(prior_year_losses, max(total_gains - losses, ZERO))
    # every amount in cents, so a zero reads 0.00 like the rest
    return CgtSummary(
        total_gains=cents(total_gains),
        total_losses=cents(losses),
        discount_eligible_gains=cents(discountable),
        prior_year_losses=cents(prior_year_losses),
        prior_year_losses_applied=cents(prior_applied),
        discount_rate=discount_rate,
        discount_applied=discount,
        net_capital_gain=cents(other_left + discountable_left - discount),
        losses_carried_forward=cents(carried),
    )
