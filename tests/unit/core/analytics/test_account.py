"""Live account KPIs: equity, exposure and daily PnL since 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trader.core.analytics.kpis import account_kpis
from trader.core.analytics.records import OpenPosition, TradeRecord
from trader.core.domain.enums import Direction
from trader.core.errors import DataError

NOW = datetime(2024, 3, 5, 15, 30, tzinfo=UTC)
YESTERDAY = datetime(2024, 3, 4, 20, 0, tzinfo=UTC)
TODAY = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)

BTC_LONG = OpenPosition("BTC/USDT", Direction.LONG, Decimal("0.5"), Decimal(100), Decimal(120), YESTERDAY)
ETH_SHORT = OpenPosition("ETH/USDT", Direction.SHORT, Decimal(2), Decimal(50), Decimal(45), TODAY)
CLOSED = TradeRecord("BTC/USDT", "breakout", Direction.LONG, YESTERDAY, TODAY, Decimal(100), Decimal(116),
                     Decimal(1), Decimal(1), Decimal(15), "take_profit")
OLD = TradeRecord("BTC/USDT", "breakout", Direction.LONG, YESTERDAY, YESTERDAY, Decimal(100), Decimal(90),
                  Decimal(1), Decimal(0), Decimal(-10), "stop_loss")


def test_account_kpis_match_hand_computed_values() -> None:
    k = account_kpis(Decimal(1000), [BTC_LONG, ETH_SHORT], [CLOSED, OLD], NOW, {"BTC/USDT": Decimal(110)})
    assert k.total_equity == Decimal(1070)  # 1000 cash + 60 long value + 10 short PnL
    assert k.exposure_pct == Decimal(150) / Decimal(1070) * 100
    assert k.unrealised_pnl == Decimal(20)
    assert k.realised_today == Decimal(5)  # 15 minus the 10 gained before midnight
    assert k.unrealised_today == Decimal(15)  # long from 110 (5) + short opened today (10)
    assert k.daily_pnl == Decimal(20)
    assert k.day_start == datetime(2024, 3, 5, tzinfo=UTC)


def test_missing_boundary_price_names_symbol_and_date() -> None:
    with pytest.raises(DataError, match=r"BTC/USDT.*2024-03-05 00:00"):
        account_kpis(Decimal(1000), [BTC_LONG], [], NOW, {})


def test_flat_account_needs_no_prices_and_has_zero_exposure() -> None:
    k = account_kpis(Decimal(500), [], [OLD], NOW, {})
    assert (k.total_equity, k.exposure_pct, k.daily_pnl) == (Decimal(500), Decimal(0), Decimal(0))
