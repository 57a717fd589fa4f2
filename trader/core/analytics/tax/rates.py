"""Daily AUD conversion rates (one unit of a currency in AUD) and their CSV import.

A missing rate is a DataError naming the currency and date, never a silent zero. Each conversion
returns the rate used, so every tax line can record its source.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from trader.core.errors import DataError, InputError

AUD = "AUD"
RATE_COLUMNS = ("date", "currency", "aud_rate", "source")


@dataclass(frozen=True, slots=True)
class AudRate:
    """AUD value of one unit of ``currency`` on ``day``; ``source`` says where it came from."""

    day: date
    currency: str
    rate: Decimal
    source: str

    def __post_init__(self) -> None:
        if not self.rate.is_finite() or self.rate <= 0:
            raise ValueError(f"AUD rate for {self.currency} on {self.day} must be positive")


_AUD_ITSELF = "identity (AUD)"


class AudRates:
    """Look up daily rates; ``max_stale_days`` allows the latest earlier rate (e.g. no weekend fixings)."""

    def __init__(self, rates: Iterable[AudRate], max_stale_days: int = 0) -> None:
        self._rates: dict[tuple[str, date], AudRate] = {(r.currency.upper(), r.day): r for r in rates}
        self.max_stale_days = max_stale_days

    def __len__(self) -> int:
        return len(self._rates)

    def rate(self, currency: str, day: date) -> AudRate:
        """Return the rate for ``currency`` on ``day``; DataError naming both when there is none."""
        code = currency.upper()
        if code == AUD:
            return AudRate(day, AUD, Decimal(1), _AUD_ITSELF)
        for back in range(self.max_stale_days + 1):
            found = self._rates.get((code, day - timedelta(days=back)))
            if found is not None:
                return found
        window = f" (or the {self.max_stale_days} days before)" if self.max_stale_days else ""
        raise DataError(
            f"missing AUD rate for {code} on {day.isoformat()}{window}",
            user_message=f"No AUD rate for {code} on {day.isoformat()}{window}: import one with "
                         "`tradebot tax import-rates` or pass --rates.",
        )

    def to_aud(self, amount: Decimal, currency: str, day: date) -> tuple[Decimal, AudRate]:
        """Return ``amount`` of ``currency`` in AUD and the rate used."""
        used = self.rate(currency, day)
        return amount * used.rate, used

    def all(self) -> list[AudRate]:
        """Return every stored rate, sorted by currency then day."""
        return sorted(self._rates.values(), key=lambda r: (r.currency, r.day))


def describe(rate: AudRate) -> str:
    """Return the rate's provenance for an export line, e.g. ``USDT 1.52 @2024-03-01 (rba)``."""
    if rate.source == _AUD_ITSELF:
        return rate.source
    return f"{rate.currency} {rate.rate.normalize():f} @{rate.day.isoformat()} ({rate.source})"


def rates_from_daily_closes(currency: str, open_times_ms: Iterable[int], closes: Iterable[float],
                            source: str) -> list[AudRate]:
    """Return one rate per daily candle of a CURRENCY/AUD market: the close, dated by the candle's UTC day."""
    rates = []
    for ms, close in zip(open_times_ms, closes, strict=True):
        day = datetime.fromtimestamp(int(ms) / 1000, tz=UTC).date()
        rates.append(AudRate(day, currency.upper(), Decimal(repr(float(close))), source))
    return rates


def parse_rates_csv(text: str, default_source: str = "csv") -> list[AudRate]:
    """Parse ``date,currency,aud_rate[,source]`` rows; InputError names the line of any bad row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in RATE_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"rates CSV lacks column(s) {', '.join(missing)}; expected {','.join(RATE_COLUMNS)}")
    rates: list[AudRate] = []
    seen: dict[tuple[str, date], int] = {}
    for line, row in enumerate(reader, start=2):
        rate = _parse_rate_row(row, line, default_source)
        key = (rate.currency, rate.day)
        if key in seen:
            raise InputError(f"rates CSV line {line}: duplicate {rate.currency} rate for {rate.day} "
                             f"(first on line {seen[key]})")
        seen[key] = line
        rates.append(rate)
    return rates


def _parse_rate_row(row: Mapping[str, str | None], line: int, default_source: str) -> AudRate:
    where = f"rates CSV line {line}"
    raw_day, raw_rate = (row.get("date") or "").strip(), (row.get("aud_rate") or "").strip()
    currency = (row.get("currency") or "").strip().upper()
    try:
        day = date.fromisoformat(raw_day)
    except ValueError as exc:
        raise InputError(f"{where}: date {raw_day!r} is not YYYY-MM-DD") from exc
    try:
        value = Decimal(raw_rate)
    except InvalidOperation as exc:
        raise InputError(f"{where}: aud_rate {raw_rate!r} is not a number") from exc
    if not currency:
        raise InputError(f"{where}: currency is empty")
    if not value.is_finite() or value <= 0:
        raise InputError(f"{where}: aud_rate {raw_rate!r} must be a positive number")
    return AudRate(day, currency, value, (row.get("source") or "").strip() or default_source)
