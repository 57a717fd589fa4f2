"""Basket holdings from real fills: a basket buy stores the position it opened; its fills settle it.

A buy records the preview's amount and cost as soon as the order is accepted; once the entry order
has fills, the holding's quantity and cost are those of the fills (fees paid in the base currency
reduce the quantity, fees in the quote add to the cost), so the valuation follows what really filled.
The position's exit fills (its stop, take-profit or a close) reduce the quantity still held, and what
they brought back, less their fees, is the holding's ``proceeds``: a stopped-out asset is no longer
shown as held, and its loss stays in the basket's PnL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from trader.core.domain.basket import Basket
from trader.core.domain.enums import OrderPurpose
from trader.core.domain.ids import ClientOrderId, PositionId
from trader.core.domain.money import ZERO
from trader.core.errors import DataError, ExchangeError, InputError
from trader.ports.portfolio import Holding, HoldingKind
from trader.ports.store import UnitOfWork
from trader.services.api import ControlService
from trader.services.dto import Actor
from trader.services.portfolio_dto import BasketBuyResult


async def settle_fill_holdings(uow: UnitOfWork, holdings: Sequence[Holding]) -> list[Holding]:
    """Return ``holdings`` with each fill holding's quantity and cost taken from its entry fills."""
    settled: list[Holding] = []
    for holding in holdings:
        if holding.kind is not HoldingKind.FILL:
            settled.append(holding)
            continue
        bought, cost, sold, proceeds = ZERO, ZERO, ZERO, ZERO
        base = holding.asset
        for order in await uow.orders.for_position(PositionId(holding.reference)):
            entry = order.purpose is OrderPurpose.ENTRY
            for fill in await uow.fills.for_order(ClientOrderId(order.client_order_id)):
                in_base = fill.fee if fill.fee_currency == base else ZERO
                in_quote = fill.fee if fill.fee_currency != base else ZERO
                if entry:
                    bought += fill.amount - in_base
                    cost += fill.amount * fill.price + in_quote
                else:  # a basket buy is a long position: every other fill sells what it bought
                    sold += fill.amount + in_base
                    proceeds += fill.amount * fill.price - in_quote
        filled = bought > 0  # not filled yet: the preview's estimate stands
        settled.append(dataclasses.replace(holding, quantity=max(bought - sold, ZERO), cost=cost,
                                           proceeds=proceeds) if filled else holding)
    return settled


async def buy_basket(control: ControlService, basket: Basket, quote: str, amount: Decimal,
                     prices: Mapping[str, Decimal], actor: Actor,
                     now: datetime) -> tuple[BasketBuyResult, list[Holding]]:
    """Buy ``amount`` of ``quote`` of each asset with an exchange price (preview, then buy via ``control``).

    ``prices`` are the exchange's last prices of the pairs ``ASSET/quote`` it lists; they only size the
    request (base = amount / price); the preview re-prices and rounds it as /buy does.

    Each order is judged by the same risk rules and audited like /buy; a refusal is reported per
    asset and the others still go. Returns the result and the holdings to store for what was sent.
    """
    bought: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    assets = [a.symbol for a in basket.assets]
    not_listed = tuple(a for a in assets if a not in prices)
    holdings: list[Holding] = []
    for asset in assets:
        if asset not in prices:
            continue
        pair = f"{asset}/{quote}"
        try:
            preview = await control.preview_buy(pair, amount / prices[asset])
        except (InputError, DataError, ExchangeError) as exc:  # one refusal must not stop the others
            refused.append((asset, exc.user_message or str(exc)))
            continue
        result = await control.buy(preview, actor)
        if not result.ok:
            refused.append((asset, result.refused_reason or result.message))
            continue
        bought.append((asset, result.message))
        for position in result.position_ids:
            holdings.append(Holding(basket.name, asset, preview.amount, preview.cost, quote,
                                    HoldingKind.FILL, now, position))
    return BasketBuyResult(basket.name, quote, tuple(bought), tuple(refused), not_listed), holdings
