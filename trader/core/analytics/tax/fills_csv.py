"""Read fills for the tax export from CSV: ``timestamp,symbol,side,amount,price,fee,fee_currency,trade_id``.

``timestamp`` is ISO 8601 with an offset (``2024-03-01T10:00:00Z``) or epoch milliseconds. An opening
balance bought elsewhere is a row too (e.g. a ``USDT/AUD`` buy). Bad rows raise InputError naming the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from trader.core.domain.enums import Side
from trader.core.domain.ids import ClientOrderId, Symbol, split_symbol
from trader.core.domain.orders import Fill
from trader.core.errors import InputError

FILL_COLUMNS = ("timestamp", "symbol", "side", "amount", "price", "fee", "fee_currency", "trade_id")


def parse_fills_csv(text: str) -> list[Fill]:
    """Return the fills of a CSV text; InputError names the line and column of a bad value."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in FILL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"fills CSV lacks column(s) {', '.join(missing)}; expected {','.join(FILL_COLUMNS)}")
    fills: list[Fill] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        fill = _fill(row, f"fills CSV line {line}")
        key = (fill.symbol, fill.trade_id)
        if key in seen:
            raise InputError(f"fills CSV line {line}: trade_id {fill.trade_id} repeats line {seen[key]}")
        seen[key] = line
        fills.append(fill)
    return fills


def _fill(row: Mapping[str, str | None], where: str) -> Fill:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    symbol = text("symbol").upper()
    try:
        split_symbol(symbol)
        side = Side(text("side").lower())
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from exc
    trade_id = text("trade_id")
    if not trade_id:
        raise InputError(f"{where}: trade_id is empty")
    amount, price = _number(text("amount"), "amount", where), _number(text("price"), "price", where)
    fee = _number(text("fee") or "0", "fee", where)
    if amount <= 0 or price <= 0 or fee < 0:
        raise InputError(f"{where}: amount and price must be positive and fee not negative")
    return Fill(trade_id=trade_id, client_order_id=ClientOrderId(""), symbol=Symbol(symbol), side=side,
                amount=amount, price=price, fee=fee, fee_currency=text("fee_currency").upper(),
                timestamp=_timestamp(text("timestamp"), where))


def _number(raw: str, name: str, where: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise InputError(f"{where}: {name} {raw!r} is not a number") from exc
    if not value.is_finite():
        raise InputError(f"{where}: {name} {raw!r} is not a finite number")
    return value


def _timestamp(raw: str, where: str) -> datetime:
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InputError(f"{where}: timestamp {raw!r} is not ISO 8601 or epoch milliseconds") from exc
    if moment.tzinfo is None:
        raise InputError(f"{where}: timestamp {raw!r} has no UTC offset (add Z or +00:00)")
    return moment.astimezone(UTC)
