"""End to end on real parts: TradingService + monitor over the real ccxt client, the fake Binance venue
and a SQLite file. A scripted price path gives an entry, a native stop, trailing moves and a trailing
stop exit; the store, the venue's ledger and the delivered alerts agree. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from tests.e2e.live_harness import LiveRig
from tests.fakes.fake_exchange import FakeExchange
from trader.config.sections import ExchangeConfig
from trader.core.domain.enums import ExitReason, OrderStatus, ProtectionKind
from trader.core.positions.state import PositionStatus


async def test_entry_stop_trailing_and_stop_exit_agree_everywhere(
        fake_exchange: FakeExchange, fake_exchange_config: ExchangeConfig, db_url: str) -> None:
    rig = await LiveRig.start(fake_exchange, fake_exchange_config, db_url)
    try:
        report = await rig.trading.run_tick("enter_at", "BTC/USDT", "1h")
        assert report.signal is not None and report.signal.enter_long
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.status is PositionStatus.OPEN
        assert position.protection is ProtectionKind.NATIVE
        assert position.stop_price == Decimal("49000.00")  # default 2 % stop
        venue = fake_exchange.venue
        assert [(e.detail["type"], e.detail["side"]) for e in venue.accepted()] == [
            ("MARKET", "BUY"), ("STOP_LOSS", "SELL")]

        for price in ("50500", "51000", "52000"):  # up: the stop trails 2 % below the high
            fake_exchange.set_price("BTC/USDT", price)
            rig.clock.advance(timedelta(seconds=10))
            await rig.monitor.run_once()
        [position] = (await rig.trading.engine_state()).positions.values()
        assert position.stop_price == Decimal("50960.00")
        stops = [o for o in venue.open_orders(None) if o.type == "STOP_LOSS"]
        assert [(o.stop_price, o.qty) for o in stops] == [(Decimal("50960.00"), position.filled)]

        fake_exchange.set_price("BTC/USDT", "50900")  # through the stop: the venue sells
        rig.clock.advance(timedelta(seconds=10))
        await rig.monitor.run_once()
        state = await rig.trading.engine_state()
        assert state.positions == {}
        async with rig.db.uow() as uow:
            [closed] = await uow.positions.finished()
            orders = await uow.orders.for_position(closed.id)
            fills = await uow.fills.since(rig.clock.now() - timedelta(days=30))
        assert closed.status is PositionStatus.CLOSED
        assert closed.exit_reason is ExitReason.TRAILING_STOP
        assert closed.exit_price == Decimal("50900")
        assert closed.realised_pnl > 0

        # every order the venue accepted is stored once, with the venue's final status
        accepted = Counter(e.client_id for e in venue.accepted())
        assert set(accepted.values()) == {1}
        assert {o.client_order_id for o in orders} == set(accepted)
        final = {o.client_id: o.status for o in venue.all_orders()}
        mapping = {"FILLED": OrderStatus.FILLED, "CANCELED": OrderStatus.CANCELLED}
        assert {o.client_order_id: o.status for o in orders} == {c: mapping[s] for c, s in final.items()}
        # every venue fill is stored once, with the same amount and price
        ledger = [(e.detail["trade_id"], Decimal(e.detail["qty"]), Decimal(e.detail["price"]))
                  for e in venue.fills()]
        assert sorted((f.trade_id, f.amount, f.price) for f in fills) == sorted(ledger)

        kinds = [a.kind for a in await rig.delivered()]
        assert kinds[0] == "entry" and kinds[-1] == "exit"
        assert kinds.count("stop_moved") >= 3  # placed, then moved by the trail
        assert "trailing_stop" in rig.channel.sent[-1].text
        await rig.check_invariants()
    finally:
        await rig.close()
