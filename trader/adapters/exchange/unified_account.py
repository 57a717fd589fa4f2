"""Bybit's unified trading account (UTA) for live perpetuals: the margin free for new orders, and the
account set-ups the adapter refuses at start-up rather than failing inside an order.

* Free margin: the least of what the venue says is available (docs/futures.md): ccxt's ``free``, the
  quote coin's wallet less its margins and any unrealised loss, and the account's
  ``totalAvailableBalance`` (cross margin: margin balance - haircut - initial margin; empty in isolated
  margin, where the account-wide fields do not apply). Sizing never asks for more than the venue takes.
* Hedge position mode: our orders are one-way (``positionIdx`` 0), which the venue rejects on a symbol in
  hedge mode. ccxt 4.5 has no ``fetchPositionMode`` for Bybit; ``/v5/position/list`` for one symbol
  lists it in either mode, ``positionIdx`` 1/2 rows in hedge mode (ccxt: ``hedged``).
* A classic (non-unified) account: ccxt's ``is_unified_enabled`` (``/v5/user/query-api`` and
  ``/v5/account/info``); the adapter's margin mode, wallet and order paths are the unified account's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from trader.adapters.exchange.ccxt_orders import dec
from trader.core.domain.money import ZERO
from trader.core.errors import ExchangeError

T = TypeVar("T")
Retried = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]
_MARGINS = ("locked", "totalPositionIM", "totalOrderIM")


def available_margin(info: dict[str, Any], quote: str, ccxt_free: Decimal) -> Decimal:
    """Return the quote margin free for new orders from a wallet-balance answer (never below zero)."""
    candidates = [ccxt_free]
    for account in (info.get("result") or {}).get("list") or []:
        coin = next((c for c in account.get("coin") or [] if c.get("coin") == quote), None)
        if coin is not None:
            margins = sum((dec(coin.get(key)) or ZERO for key in _MARGINS), ZERO)
            loss = min(dec(coin.get("unrealisedPnl")) or ZERO, ZERO)  # a profit is not spendable here
            candidates.append((dec(coin.get("walletBalance")) or ZERO) - margins + loss)
        account_wide = dec(account.get("totalAvailableBalance"))  # "" in isolated margin: not applicable
        if account_wide is not None:
            candidates.append(account_wide)
    return max(min(candidates), ZERO)


async def require_unified(client: Any, retried: Retried) -> None:
    """Refuse a classic (non-unified) Bybit account: live perpetuals here are the unified account's."""
    margin, account = await retried("is_unified_enabled", client.is_unified_enabled)
    if not (margin or account):
        raise ExchangeError(
            "bybit: the account is a classic (non-unified) account; live perpetuals need a unified "
            "trading account",
            user_message="This Bybit account is a classic account: live perpetual trading needs a Unified "
                         "Trading Account. Upgrade it on Bybit (Account > Unified Trading Account), then "
                         "start again.")


async def require_one_way(client: Any, retried: Retried, venue_symbol: str) -> None:
    """Refuse a Bybit perpetual in hedge position mode (our orders carry ``positionIdx`` 0, one-way)."""
    rows: list[dict[str, Any]] = await retried(
        "fetch_positions", partial(client.fetch_positions, [venue_symbol]))
    if any(row.get("hedged") for row in rows):
        raise ExchangeError(
            f"bybit: {venue_symbol} is in hedge position mode (positionIdx 1/2); one-way mode is needed",
            user_message=f"Bybit holds {venue_symbol} in hedge mode: switch the USDT perpetuals to one-way "
                         "mode (Derivatives > Preferences > Position Mode), then start again.")
