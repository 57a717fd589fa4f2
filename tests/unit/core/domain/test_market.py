from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trader.core.domain.enums import Direction, OrderPurpose
from trader.core.domain.ids import PositionId, Symbol, client_order_id, split_symbol
from trader.core.domain.market import MarketSpec

M = MarketSpec(Symbol("BTC/USDT"), "BTC", "USDT", amount_step=Decimal("0.00001"),
               price_step=Decimal("0.01"), min_amount=Decimal("0.0001"), min_cost=Decimal(5))


@given(st.decimals(min_value=0, max_value=10**6, places=12, allow_nan=False))
def test_round_amount_never_rounds_up(amount: Decimal) -> None:
    r = M.round_amount(amount)
    assert r <= amount and amount - r < M.amount_step


def test_stop_rounding_tightens_risk() -> None:
    assert M.round_stop(Decimal("99.991"), Direction.LONG) == Decimal("100.00")
    assert M.round_stop(Decimal("100.009"), Direction.SHORT) == Decimal("100.00")


def test_minimums_problem_names_the_reason() -> None:
    assert M.minimums_problem(Decimal("0.00005"), Decimal(60000)) is not None
    assert "minimum 5" in (M.minimums_problem(Decimal("0.0001"), Decimal(100)) or "")
    assert M.minimums_problem(Decimal("0.001"), Decimal(60000)) is None


def test_client_order_id_is_deterministic_and_short() -> None:
    a = client_order_id(PositionId("p1"), OrderPurpose.STOP, 2)
    assert a == client_order_id(PositionId("p1"), OrderPurpose.STOP, 2)
    assert a != client_order_id(PositionId("p1"), OrderPurpose.STOP, 3)
    assert len(a) <= 32 and a.isalnum()


def test_split_symbol_rejects_garbage() -> None:
    assert split_symbol("BTC/USDT") == ("BTC", "USDT")
    for bad in ("BTCUSDT", "/USDT", "BTC/", "A/B/C"):
        try:
            split_symbol(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
