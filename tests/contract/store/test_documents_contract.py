"""Contract: the typed repositories kept as documents (engine memory, /settings overrides, the venue
account, the venue breakers, the replay cursor) round-trip exactly on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from trader.core.domain.commands import CancelOrder, PlaceOrder
from trader.core.domain.enums import OrderPurpose, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.orders import OrderRequest
from trader.core.engine.memory import EngineMemory
from trader.core.engine.orders import OrderRef
from trader.core.engine.pair_groups import GroupPosition, LegBook
from trader.core.positions.pair_group import GroupStatus, Leg, PairGroup
from trader.core.risk.breaker import Breaker, BreakerState
from trader.ports.store import BreakerMemory, ReplayCursor, UnitOfWorkFactory, VenueAccount

T0 = datetime(2024, 1, 1, tzinfo=UTC)
BTC = Symbol("BTC/USDT")


def _memory() -> EngineMemory:
    cid = ClientOrderId("cid-1")
    request = OrderRequest(cid, PositionId("p-1"), BTC, Side.SELL, OrderType.STOP, OrderPurpose.STOP,
                           Decimal("0.012345678901234567"), trigger_price=Decimal("49000.1"))
    ref = OrderRef(PositionId("p-1"), OrderPurpose.ENTRY, OrderType.LIMIT, take_profit=Decimal("51000.5"))
    return EngineMemory(orders={cid: ref}, history=(Decimal("-1.5"), Decimal("2.000000000000000001")),
                        sequence=7, entries_blocked="reconciliation differs",
                        outbox=(PlaceOrder(request), CancelOrder(BTC, ClientOrderId("old"))),
                        fill_cursors={BTC: T0 + timedelta(minutes=3)}, groups={"g-1": _group()})


def _group() -> GroupPosition:
    """An unwinding pair group with a partly filled closing order: every field the codec keeps."""
    legs = (Leg("ETH/USDT", Side.BUY, Decimal("1.5"), Decimal("1.5"), False, Decimal("1.5")),
            Leg("BTC/USDT", Side.SELL, Decimal("0.06"), Decimal(0), True))
    books = (LegBook(Decimal("2000.123456789012345678"), Decimal("0.5"), Decimal("2001"), Decimal("0.75"), 1,
                     ((ClientOrderId("tbexit0abc"), Decimal("1.0")),), Decimal("0.25"), Decimal("-0.0312")),
             LegBook())
    return GroupPosition(PairGroup("g-1", legs, GroupStatus.UNWINDING), "pairs", -1, Decimal("0.8123"), 2.61,
                         books, T0, reduce_only=True, exit_reason="")


async def test_engine_memory_round_trips_exactly(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.engine.get() is None
        await uow.engine.save(_memory(), T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.engine.get() == _memory()


async def test_settings_venue_account_and_replay_cursor_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.settings.overrides() == {}
        assert await uow.venue_account.get() is None and await uow.replay.get() is None
        await uow.settings.save_overrides({"risk.risk_per_trade": "0.02"}, T0)
        await uow.venue_account.save(VenueAccount("binance", "demo"), T0)
        await uow.replay.save(ReplayCursor("1h", 1_700_000_000_000), T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.settings.overrides() == {"risk.risk_per_trade": "0.02"}
        assert await uow.venue_account.get() == VenueAccount("binance", "demo")
        assert await uow.replay.get() == ReplayCursor("1h", 1_700_000_000_000)


async def test_a_venue_breaker_round_trips_per_venue(uow_factory: UnitOfWorkFactory) -> None:
    down = Breaker(BreakerState.OPEN, since=T0 + timedelta(seconds=40), down_since=T0, streak=3,
                   calls=((T0, True), (T0 + timedelta(seconds=1), False)), failures_while_down=9, probes_ok=1,
                   reason="3 venue calls in a row got no answer (last: RetryableError)",
                   last_error="RetryableError")
    async with uow_factory() as uow:
        assert await uow.breakers.get("binance") is None
        await uow.breakers.save("binance", BreakerMemory(down, outages=2, retries=4), T0)
        await uow.breakers.save("kraken", BreakerMemory(Breaker()), T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.breakers.get("binance") == BreakerMemory(down, outages=2, retries=4)
        assert await uow.breakers.get("kraken") == BreakerMemory(Breaker())
