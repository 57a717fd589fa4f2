"""Parse TradingView-UDF history responses (Nobitex and Wallex candles) into ccxt OHLCV rows."""

from __future__ import annotations

from typing import Any

from trader.core.errors import DataError


def udf_rows(body: dict[str, Any], price_divisor: int = 1) -> list[list[float]]:
    """Return [[open ms, o, h, l, c, v], ...] from a UDF body; prices divided by ``price_divisor``.

    ``{"s": "no_data"}`` is an empty list; ``{"s": "error"}`` raises DataError with the venue's message.
    Values may be numbers (Nobitex) or decimal strings (Wallex).
    """
    status = body.get("s")
    if status == "no_data":
        return []
    if status != "ok":
        raise DataError(f"candle request failed: {body.get('errmsg') or body}")
    columns = [body.get(k) or [] for k in ("t", "o", "h", "l", "c", "v")]
    if len({len(c) for c in columns}) != 1:
        raise DataError("candle response columns differ in length")
    rows = []
    for t, o, h, low, c, v in zip(*columns, strict=True):
        prices = [float(x) / price_divisor for x in (o, h, low, c)]
        rows.append([int(t) * 1000, *prices, float(v)])
    return sorted(rows, key=lambda r: r[0])


def udf_window(since_ms: int | None, limit: int, timeframe_seconds: int, now_seconds: int) -> dict[str, int]:
    """Return the from/to (seconds) query covering ``limit`` candles from ``since`` (or ending now)."""
    if since_ms is None:
        return {"from": now_seconds - timeframe_seconds * limit, "to": now_seconds}
    start = since_ms // 1000
    return {"from": start, "to": start + timeframe_seconds * limit - 1}
