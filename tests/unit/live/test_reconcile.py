"""Start-up reconciliation on a paper venue and the in-memory store: fills adopted while down, exits done
by hand, orphaned protective orders, missing stops, coin shortfalls; the entry block and acknowledge."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.unit.live.test_trading_control import BTC, T0, Paper
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderType, Side
from trader.core.domain.ids import ClientOrderId, PositionId, client_order_id
from trader.core.domain.orders import OrderRequest
from trader.core.positions.protection import working_id
from trader.live.monitor import ProtectionMonitor
from trader.live.reconcile import Reconciler
from trader.live.trading import TradingService
from trader.ports.store import OrderRecord


async def opened(paper: Paper) -> Paper:
    await paper.service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    await paper.settle()
    return paper


def restarted(paper: Paper) -> tuple[TradingService, Reconciler]:
    """A new process over the same store and venue."""
    service = TradingService(paper.venue, paper.store.uow, paper.clock, paper.service.runner.options, {})
    paper.service = service
    return service, Reconciler(service.runner, ["BTC/USDT"])


async def test_clean_start_reports_nothing_and_allows_entries() -> None:
    paper = Paper()
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean and report.differences == () and report.adopted_fills == 0
    assert (await service.runner.snapshot()).state.entries_blocked == ""


async def test_stop_filled_while_down_is_adopted_and_closes_the_position() -> None:
    paper = await opened(Paper())
    [position] = (await paper.service.engine_state()).positions.values()
    assert position.stop_price is not None
    paper.price(float(position.stop_price) - 100)  # while we are down, the resting stop fills
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean and report.adopted_fills == 1
    assert (await service.engine_state()).positions == {}
    async with paper.store.uow() as uow:
        [closed] = await uow.positions.finished()
    assert closed.exit_reason is ExitReason.STOP_LOSS


async def test_position_sold_by_hand_is_booked_as_a_manual_exit() -> None:
    paper = await opened(Paper())
    [position] = (await paper.service.engine_state()).positions.values()
    stop = working_id(position)
    assert stop is not None
    await paper.venue.cancel(BTC, stop)  # the user cancels our stop and sells on the exchange's web page
    await paper.venue.place(OrderRequest(ClientOrderId("web123"), PositionId(""), BTC, Side.SELL,
                                         OrderType.MARKET, OrderPurpose.EXIT, position.filled))
    paper.price(51000)
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean, report.summary()
    assert [d.kind for d in report.differences] == ["closed_by_hand"]
    assert (await service.engine_state()).positions == {}
    async with paper.store.uow() as uow:
        [closed] = await uow.positions.finished()
    assert closed.exit_reason is ExitReason.MANUAL and closed.exit_price == Decimal("51000")
    assert await paper.venue.open_orders() == []  # nothing re-placed for a position that is gone
    async with paper.store.uow() as uow:
        fills = await uow.fills.since(T0)
    assert len(fills) == 2  # the entry and the sale by hand, each stored once
    await reconciler.run()  # a second reconciliation adopts nothing twice
    async with paper.store.uow() as uow:
        assert len(await uow.fills.since(T0)) == 2


async def test_orphaned_protective_order_is_cancelled() -> None:
    paper = Paper()
    cid = client_order_id(PositionId("old-life"), OrderPurpose.STOP)
    request = OrderRequest(cid, PositionId("old-life"), BTC, Side.BUY, OrderType.LIMIT, OrderPurpose.STOP,
                           Decimal("0.001"), price=Decimal(40000))
    await paper.venue.place(request)
    async with paper.store.uow() as uow:
        await uow.orders.add(OrderRecord.from_request(request, paper.clock.now()))
        await uow.commit()
    _, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean and [d.kind for d in report.differences] == ["orphan_cancelled"]
    assert await paper.venue.open_orders() == []


async def test_stop_cancelled_by_hand_is_re_placed_at_once() -> None:
    paper = await opened(Paper())
    [position] = (await paper.service.engine_state()).positions.values()
    old = working_id(position)
    assert old is not None
    await paper.venue.cancel(BTC, old)
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean and [d.kind for d in report.differences] == ["protection_replaced"]
    [resting] = await paper.venue.open_orders()
    [position] = (await service.engine_state()).positions.values()
    assert resting.client_order_id == working_id(position) != old
    assert resting.trigger_price == position.stop_price


async def test_coin_shortfall_blocks_entries_until_an_admin_acknowledges() -> None:
    paper = await opened(Paper())
    [position] = (await paper.service.engine_state()).positions.values()
    # the coins left the account (the user cancelled our stop and withdrew them) while the position
    # still claims them: the paper account is restored without them
    account = paper.venue.snapshot()
    account["balances"]["BTC"] = "0"
    account["orders"] = [o for o in account["orders"] if o["status"] != "open"]
    paper.venue.restore(account)
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert not report.clean and [d.kind for d in report.unresolved] == ["balance_mismatch"]
    refused = await service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")
    assert not refused.ok and refused.refused_reason == "entries_blocked"  # refused inside step
    assert "unresolved difference" in refused.message
    acknowledged = await reconciler.acknowledge("admin:42")
    assert acknowledged.acknowledged_by == "admin:42"
    assert (await service.runner.snapshot()).state.entries_blocked == ""
    assert (await service.force_entry("BTC/USDT", Direction.LONG, None, "breakout")).refused_reason \
        != "entries_blocked"  # allowed again (another guard may still say no: one position per pair)
    assert position.id in (await service.engine_state()).positions


async def test_position_sold_by_hand_while_running_ends_in_error_then_restart_books_it() -> None:
    paper = await opened(Paper())
    [position] = (await paper.service.engine_state()).positions.values()
    stop = working_id(position)
    assert stop is not None and position.stop_price is not None
    await paper.venue.cancel(BTC, stop)
    await paper.venue.place(OrderRequest(ClientOrderId("web7"), PositionId(""), BTC, Side.SELL,
                                         OrderType.MARKET, OrderPurpose.EXIT, position.filled))
    paper.price(50000)
    monitor = ProtectionMonitor(paper.service.runner, timedelta(seconds=10))
    for _ in range(8):  # the engine re-places the stop (refused: no coins), watches it, then fails to exit
        await monitor.run_once()
        paper.price(float(position.stop_price) - 500)
    [stuck] = (await paper.service.engine_state()).positions.values()
    assert stuck.status.value == "error"
    service, reconciler = restarted(paper)
    report = await reconciler.run()
    assert report.clean, report.summary()
    assert (await service.engine_state()).positions == {}
    async with paper.store.uow() as uow:
        [closed] = await uow.positions.finished()
    assert closed.exit_reason is ExitReason.MANUAL and closed.exit_price == Decimal("50000")
