"""Opening holdings: parcels acquired before the bot's records (coins bought elsewhere, the starting USDT).

Each parcel is an acquisition with a known AUD cost base (fees included), fed to the parcel pool as an
acquisition event at its own date, so it obeys the same matching and 12-month discount rules as a fill.
CSV: ``asset,quantity,acquired_at,cost_base_aud[,note][,source]``; ``acquired_at`` is ISO 8601 with an
offset, or a plain ``YYYY-MM-DD`` meaning 00:00 that day in the given zone. A parcel is identified by
(asset, acquired_at): importing it again replaces it, so a re-import is idempotent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from trader.core.analytics.tax.cgt_events import SYDNEY, EventKind, TaxEvent
from trader.core.analytics.tax.rates import AUD
from trader.core.domain.money import ZERO
from trader.core.errors import InputError

HOLDING_COLUMNS = ("asset", "quantity", "acquired_at", "cost_base_aud", "note", "source")
_REQUIRED = HOLDING_COLUMNS[:4]
MAX_SOURCE = 128  # the store's column width


@dataclass(frozen=True, slots=True)
class OpeningParcel:
    """Units of ``asset`` acquired at ``acquired_at`` (aware) for ``cost_aud``, cost base incl. fees."""

    asset: str
    quantity: Decimal
    acquired_at: datetime
    cost_aud: Decimal
    note: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.acquired_at.utcoffset() is None:
            raise ValueError(f"opening {self.asset}: acquired_at must be timezone-aware")
        if not self.asset or self.asset != self.asset.upper():
            raise ValueError(f"opening parcel asset {self.asset!r} must be a non-empty upper-case code")
        if not self.quantity.is_finite() or self.quantity <= 0:
            raise ValueError(f"opening {self.asset}: quantity {self.quantity} must be positive")
        if not self.cost_aud.is_finite() or self.cost_aud < 0:
            raise ValueError(f"opening {self.asset}: cost base {self.cost_aud} AUD must not be negative")

    @property
    def key(self) -> tuple[str, datetime]:
        """Return the identity used by re-imports: (asset, acquisition time in UTC)."""
        return self.asset, self.acquired_at.astimezone(UTC)

    @property
    def ref(self) -> str:
        """Return the acquisition reference printed on CGT lines."""
        return f"opening {self.asset} {self.acquired_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    @property
    def provenance(self) -> str:
        """Return where the cost base came from, for the line's acquisition source column."""
        parts = [p for p in (self.source, self.note) if p]
        return "opening holding, cost base as recorded" + (f" ({'; '.join(parts)})" if parts else "")


def opening_events(parcels: Iterable[OpeningParcel]) -> list[TaxEvent]:
    """Return one acquisition event per parcel, in time order (put them before the fills' events)."""
    return [TaxEvent(EventKind.ACQUISITION, p.asset, p.acquired_at, p.quantity, p.cost_aud, ZERO,
                     p.provenance, p.ref)
            for p in sorted(parcels, key=lambda p: (p.acquired_at, p.asset))]


def parse_holdings_csv(text: str, name: str = "holdings CSV", zone: tzinfo = SYDNEY) -> list[OpeningParcel]:
    """Parse every row or none: InputError names ``name`` and the line of the first bad row."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{name}: lacks column(s) {', '.join(missing)}; "
                         f"expected {','.join(HOLDING_COLUMNS)}")
    parcels: list[OpeningParcel] = []
    seen: dict[tuple[str, datetime], int] = {}
    for line, row in enumerate(reader, start=2):
        parcel = _parcel(row, f"{name} line {line}", zone)
        if parcel.key in seen:
            raise InputError(f"{name} line {line}: {parcel.asset} acquired at "
                             f"{parcel.acquired_at.isoformat()} repeats line {seen[parcel.key]} "
                             "(merge them into one parcel)")
        seen[parcel.key] = line
        parcels.append(parcel)
    if not parcels:
        raise InputError(f"{name}: no holdings rows")
    return parcels


def _parcel(row: Mapping[str, str | None], where: str, zone: tzinfo) -> OpeningParcel:
    def text(column: str) -> str:
        return (row.get(column) or "").strip()

    if None in row:  # DictReader puts extra cells under the None key
        raise InputError(f"{where}: more cells than the {len(row) - 1} columns of the header")
    asset = text("asset").upper()
    if not asset or not asset.isalnum():
        raise InputError(f"{where}: asset {text('asset')!r} is not a currency code such as BTC or USDT")
    if asset == AUD:
        raise InputError(f"{where}: AUD is not a CGT asset; list only crypto (and foreign currency) parcels")
    quantity = _number(text("quantity"), "quantity", where)
    cost = _number(text("cost_base_aud"), "cost_base_aud", where)
    if quantity <= 0:
        raise InputError(f"{where}: quantity {quantity} must be positive")
    if cost < 0:
        raise InputError(f"{where}: cost_base_aud {cost} must not be negative")
    if len(text("source")) > MAX_SOURCE:
        raise InputError(f"{where}: source is longer than {MAX_SOURCE} characters")
    return OpeningParcel(asset, quantity, _moment(text("acquired_at"), where, zone), cost,
                         text("note"), text("source"))


def _number(raw: str, column: str, where: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise InputError(f"{where}: {column} {raw!r} is not a number") from exc
    if not value.is_finite():
        raise InputError(f"{where}: {column} {raw!r} is not a finite number")
    return value


def _moment(raw: str, where: str, zone: tzinfo) -> datetime:
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), tzinfo=zone).astimezone(UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InputError(f"{where}: acquired_at {raw!r} is not YYYY-MM-DD or ISO 8601 with an offset"
                         ) from exc
    if moment.tzinfo is None:
        raise InputError(f"{where}: acquired_at {raw!r} has no UTC offset (add Z or +10:00, or give a date)")
    return moment.astimezone(UTC)
