"""Funding on the paper account's perpetual positions: each funding time charged once, at the venue's rate.

The rates come from a ``RateSource``: on live prices the venue's public funding-rate history (a key-less
swap CcxtExchange, ccxt ``fetchFundingRateHistory``), in replay the funding-history file's rates
(``FileRates``). Each funding time T after the account's cursor is charged through
``SimLedger.charge_funding`` (the simulator's one funding rule, the backtest's too) on the contracts
held at T (held now less the fills since T: holdings change only by fills) at the last price fed before
T, then recorded. ``PaperExchange.funding_paid`` answers from the record like a venue's funding history,
so the engine books it through ``step`` (``StepInput.funding``) exactly as in live trading.

The cursor and the record are saved with the paper account, so a restart never charges a funding time
twice. A rate the venue has not published yet is charged when it is (asked at most once per pair per
clock hour on live prices; funding times fall on the hour).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from trader.core.domain.candles import datetime_to_ms, ms_to_datetime
from trader.core.domain.enums import Side
from trader.core.domain.ids import Symbol
from trader.core.domain.money import ZERO
from trader.core.domain.orders import Fill
from trader.core.errors import DataError, ExchangeError
from trader.core.sim.ledger import SimLedger

logger = logging.getLogger(__name__)
HOUR_MS = 3_600_000
Rates = tuple[tuple[int, Decimal], ...]  # (funding time epoch ms, rate) ascending, as funding files hold


class RateSource(Protocol):
    """Where funding rates come from (a key-less swap CcxtExchange fits)."""

    async def funding_rates(self, symbol: str, since: datetime, limit: int = 1000
                            ) -> list[tuple[datetime, Decimal]]: ...


class FileRates:
    """Funding rates read from funding-history files (replay): the same answers as the venue's history."""

    def __init__(self, rates: Mapping[Symbol, Rates]) -> None:
        self._rates = dict(rates)

    async def funding_rates(self, symbol: str, since: datetime, limit: int = 1000
                            ) -> list[tuple[datetime, Decimal]]:
        """Return ``symbol``'s rates from ``since`` on, oldest first (at most ``limit``)."""
        start = datetime_to_ms(since)
        rows = [(ms_to_datetime(at), rate) for at, rate in self._rates.get(Symbol(symbol), ()) if at >= start]
        return rows[:limit]


class PaperFunding:
    """Per pair: the funding times settled so far (cursor), the charges made, the marks fed."""

    def __init__(self, source: RateSource | None, *, throttle: bool = True) -> None:
        self._source = source
        self._throttle = throttle  # the venue is asked at most once per pair per clock hour
        self._cursor: dict[Symbol, int] = {}  # funding times up to here (ms) are settled
        self._charges: list[tuple[Symbol, datetime, Decimal]] = []
        self._asked: dict[Symbol, int] = {}  # the clock hour (ms) the source was last asked in
        self._marks: dict[Symbol, dict[int, Decimal]] = {}  # clock hour (ms) -> last price fed in it
        self._seen: dict[Symbol, int] = {}  # the latest price time fed (a candle's open in replay)

    def on_price(self, symbol: Symbol, at_ms: int, price: Decimal) -> None:
        """Remember the last price fed in each clock hour: the mark of the funding time that ends it."""
        marks = self._marks.setdefault(symbol, {})
        marks[at_ms - at_ms % HOUR_MS] = price
        self._seen[symbol] = max(self._seen.get(symbol, at_ms), at_ms)
        self._cursor.setdefault(symbol, at_ms)  # funding before the account first saw the pair is not its

    def reach(self, at_ms: int) -> None:
        """Let the pairs' time reach ``at_ms`` without a price (replay: a candle's close, once its fills
        are done), so the funding time there is charged before the decisions made at that close."""
        for symbol in self._cursor:
            self._seen[symbol] = max(self._seen.get(symbol, at_ms), at_ms)

    def paid(self, symbol: str, since: datetime) -> list[tuple[datetime, Decimal]]:
        """Return (funding time, quote paid) charged on ``symbol`` since ``since`` (negative: received)."""
        return [(at, paid) for s, at, paid in self._charges if s == symbol and at >= since]

    async def settle(self, ledger: SimLedger, fills: Iterable[Fill]) -> bool:
        """Charge every published funding time the pair's prices have reached, once; True when any was.

        A pair's time is that of its latest price fed (in replay a candle's open: a candle's fills come
        before the funding time at its close, as in the backtest).
        """
        if self._source is None:
            return False
        charged = False
        fills = list(fills)
        for symbol in sorted(self._cursor):
            cursor, now_ms = self._cursor[symbol], self._seen.get(symbol, self._cursor[symbol])
            later = [f for f in fills if f.symbol == symbol and datetime_to_ms(f.timestamp) > cursor]
            if not ledger.held(symbol) and not later:  # flat all along: nothing to charge up to now
                self._cursor[symbol] = max(cursor, now_ms)
                continue
            hour = now_ms - now_ms % HOUR_MS
            if cursor - cursor % HOUR_MS == hour:
                continue  # no funding time (they fall on the hour) since the cursor
            if self._throttle and self._asked.get(symbol) == hour:
                continue
            self._asked[symbol] = hour
            try:
                rates = await self._source.funding_rates(symbol, ms_to_datetime(cursor + 1))
            except (ExchangeError, DataError) as exc:  # a rate read never stops paper trading: next hour
                logger.warning("%s: funding rates unavailable (%s); charged when they are", symbol, exc)
                continue
            for at, rate in rates:
                at_ms = datetime_to_ms(at)
                if not cursor < at_ms <= now_ms:
                    continue
                held = ledger.held(symbol) - sum((_signed(f) for f in later if f.timestamp >= at), ZERO)
                paid = ledger.charge_funding(symbol, rate, self._mark(symbol, at_ms), held=held)
                if paid:
                    self._charges.append((symbol, at, paid))
                    charged = True
                self._cursor[symbol] = cursor = at_ms
            self._prune(symbol)
        return charged

    def _mark(self, symbol: Symbol, at_ms: int) -> Decimal:
        """Return the last price fed before ``at_ms`` (the closest hour recorded before it)."""
        marks = self._marks.get(symbol, {})
        before = [hour for hour in marks if hour < at_ms]
        return marks[max(before)] if before else marks[min(marks)] if marks else ZERO

    def _prune(self, symbol: Symbol) -> None:
        """Forget the marks no unsettled funding time can need (all but the hour before the cursor on)."""
        marks = self._marks.get(symbol, {})
        keep = self._cursor[symbol] - HOUR_MS
        older = sorted(hour for hour in marks if hour < keep)
        for hour in older[:-1] if older else ():
            del marks[hour]

    def encode(self) -> dict[str, Any]:
        """Return the cursor, the charges and the marks as plain data (saved with the paper account)."""
        return {"cursor": dict(self._cursor), "seen": dict(self._seen),
                "charges": [[s, at.isoformat(), str(paid)] for s, at, paid in self._charges],
                "marks": {s: {str(h): str(p) for h, p in m.items()} for s, m in self._marks.items()}}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the state with an ``encode()``; marks fed since (a replay's warm-up) are kept."""
        self._cursor = {Symbol(s): int(at) for s, at in data.get("cursor", {}).items()}
        for symbol, at in data.get("seen", {}).items():  # prices fed since (a replay's warm-up) are newer
            self._seen[Symbol(symbol)] = max(self._seen.get(Symbol(symbol), int(at)), int(at))
        self._charges = [(Symbol(s), datetime.fromisoformat(at), Decimal(paid))
                         for s, at, paid in data.get("charges", [])]
        for symbol, marks in data.get("marks", {}).items():
            saved = {int(h): Decimal(p) for h, p in marks.items()}
            self._marks[Symbol(symbol)] = {**saved, **self._marks.get(Symbol(symbol), {})}


def _signed(fill: Fill) -> Decimal:
    return fill.amount if fill.side is Side.BUY else -fill.amount
