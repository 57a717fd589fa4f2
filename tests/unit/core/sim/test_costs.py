from __future__ import annotations

from decimal import Decimal

import pytest

from trader.core.domain.enums import Side
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.sim.costs import FeeModel, Liquidity, SlippageModel


def test_fee_is_rate_times_notional_per_liquidity() -> None:
    model = FeeModel(taker=Decimal("0.001"), maker=Decimal("0.0002"))
    assert model.fee(Decimal(1000), Liquidity.TAKER) == Decimal("1.000")
    assert model.fee(Decimal(1000), Liquidity.MAKER) == Decimal("0.2000")


def test_fee_model_from_market_uses_its_rates() -> None:
    market = MarketSpec(Symbol("BTC/USDT"), "BTC", "USDT", Decimal("0.0001"), Decimal("0.01"),
                        maker_fee=Decimal("0.0004"), taker_fee=Decimal("0.0006"))
    assert FeeModel.from_market(market) == FeeModel(taker=Decimal("0.0006"), maker=Decimal("0.0004"))


def test_negative_or_whole_fee_rejected() -> None:
    with pytest.raises(ValueError, match="fee rates"):
        FeeModel(taker=Decimal(-1))
    with pytest.raises(ValueError, match="slippage"):
        SlippageModel(Decimal(1))


def test_zero_slippage_returns_price_unchanged() -> None:
    assert SlippageModel().apply(Decimal("123.45"), Side.BUY) == Decimal("123.45")
