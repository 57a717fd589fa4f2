"""Portfolio and news API: baskets valued (viewer), the rebalancing report, basket buys (trader), news.

Every route calls one service method and returns its DTO; money is a decimal string in JSON. A
stale price is never passed off as fresh: each asset's ``price.stale`` and ``stale`` are true, its
category counts it in ``stale``, and the valuation lists it in ``stale``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from trader.services.dto import NewsView
from trader.services.portfolio_dto import (
    BasketBuyResult,
    BasketInfo,
    BasketValuation,
    HoldingView,
    RebalancePlan,
)
from web.auth import Trader, Viewer
from web.deps import Core

router = APIRouter(tags=["portfolio"])
BasketName = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
                                         description="basket name; the first with holdings when absent")]


class BasketBuyRequest(BaseModel):
    """Buy ``amount`` of ``quote`` of each asset of ``basket`` the exchange lists against ``quote``."""

    model_config = ConfigDict(extra="forbid")
    basket: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
    quote: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,12}$")] = "USDT"
    amount: Annotated[Decimal, Field(gt=0, le=1_000_000)]


@router.get("/news", summary="Newest headlines, optionally only those mentioning one asset")
async def news(_: Viewer, core: Core,
               asset: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{2,12}$")] = None,
               limit: Annotated[int, Query(ge=1, le=50)] = 10) -> tuple[NewsView, ...]:
    return await core.news.latest(asset, limit)


@router.get("/portfolio/baskets", summary="Every basket's definition and how much it holds")
async def baskets(_: Viewer, core: Core) -> tuple[BasketInfo, ...]:
    return await core.portfolio.baskets()


@router.get("/portfolio", summary="A basket valued per asset, per category and in total (stale flagged)")
async def portfolio(_: Viewer, core: Core, basket: BasketName = None) -> BasketValuation:
    return await core.portfolio.value(basket)


@router.get("/portfolio/holdings", summary="Stored purchases (real fills and virtual ones)")
async def holdings(_: Viewer, core: Core, basket: BasketName = None) -> tuple[HoldingView, ...]:
    return await core.portfolio.holdings(basket)


@router.get("/portfolio/rebalance", summary="What to buy and sell to return to the targets (no trading)")
async def rebalance(_: Viewer, core: Core, basket: BasketName = None) -> RebalancePlan:
    return await core.portfolio.rebalance(basket)


@router.post("/portfolio/buy-basket", summary="Buy each listed asset of a basket via the engine, like /buy")
async def buy_basket(actor: Trader, core: Core, request: BasketBuyRequest) -> BasketBuyResult:
    await core.audit.record(actor.label, "api.command",
                            f"buy-basket {request.basket} {request.amount} {request.quote}", "received")
    return await core.portfolio.buy_basket(request.basket, request.quote, request.amount, actor)
