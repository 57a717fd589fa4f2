"""Funding the venue charged on the engine's perpetual positions, fed to ``step`` (``StepInput.funding``).

No cursor is kept: for each pair with open perpetual positions, the funding the venue reports since
the oldest of them opened, less what those positions already booked, is what is still to book. So a
restart, a missed cycle or a repeated read never books a charge twice or loses one, and the booking
itself is ``step``'s (the same rule backtests and the simulator use). The venue is asked at most once
per pair per clock hour (funding times fall on the hour at every venue we trade), and always at the
first cycle after a start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal

from trader.core.domain.ids import Symbol
from trader.core.positions.state import Position
from trader.ports.exchange import FundingSource


class FundingWatch:
    """Work out, per pair, the funding paid on the venue that the positions have not booked yet."""

    def __init__(self, is_perpetual: Callable[[Position], bool]) -> None:
        self._is_perpetual = is_perpetual
        self._asked: dict[Symbol, datetime] = {}  # the last time the venue was asked, per pair

    async def due(self, venue: object, positions: Iterable[Position], now: datetime) -> dict[Symbol, Decimal]:
        """Return the unbooked funding per pair (quote paid; negative: received); {} off perpetuals."""
        if not isinstance(venue, FundingSource):
            return {}
        held: dict[Symbol, list[Position]] = {}
        for position in positions:
            if position.open_amount > 0 and position.opened_at is not None and self._is_perpetual(position):
                held.setdefault(position.symbol, []).append(position)
        due: dict[Symbol, Decimal] = {}
        for symbol, group in sorted(held.items()):
            asked = self._asked.get(symbol)
            if asked is not None and _hour(asked) == _hour(now):
                continue
            since = min(p.opened_at for p in group if p.opened_at is not None)
            charges = await venue.funding_paid(symbol, since)
            self._asked[symbol] = now
            unbooked = sum((paid for at, paid in charges if at >= since), Decimal(0)) \
                - sum((p.funding for p in group), Decimal(0))
            if unbooked:
                due[symbol] = unbooked
        return due


def _hour(moment: datetime) -> tuple[int, int, int, int]:
    return moment.year, moment.month, moment.day, moment.hour
