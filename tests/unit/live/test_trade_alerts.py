"""Alert texts for engine events: prices and amounts readable at a glance, never raw Decimal digits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from tests.unit.core.engine.test_step_pairs import open_group
from trader.core.domain.alerts import Severity
from trader.core.domain.enums import Direction, ExitReason, ProtectionKind
from trader.core.domain.ids import PositionId, Symbol
from trader.core.engine.events import GroupClosed, GroupOpened, PositionClosed, PositionOpened, StopMoved
from trader.core.engine.pair_groups import LegBook
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.state import Position, PositionStatus
from trader.live.trade_alerts import event_alerts

NOW = datetime(2024, 3, 1, 12, tzinfo=UTC)
ID = PositionId("breakout-BTC/USDT-20240301T1200-1")


def position(**fields: object) -> Position:
    base: dict[str, object] = dict(
        id=ID, symbol=Symbol("BTC/USDT"), strategy="breakout", direction=Direction.LONG,
        status=PositionStatus.OPEN, amount=Decimal("0.01234000"), filled=Decimal("0.01234000"),
        entry_price=Decimal("64000.5000000"), stop_price=Decimal("62720.49"),
        protection=ProtectionKind.NATIVE)
    return Position(**(base | fields))  # type: ignore[arg-type]


def test_entry_alert_shows_amount_price_and_stop_rounded_for_reading() -> None:
    [alert] = event_alerts([PositionOpened(position(), NOW)])
    assert alert.text == f"Opened long BTC/USDT 0.01234 @ 64,000.50 (stop 62,720.49, native) [breakout] {ID}"


def test_exit_alert_shows_the_average_fill_price_with_the_pair_precision_not_its_raw_digits() -> None:
    closed = position(status=PositionStatus.CLOSED, exit_filled=Decimal("0.01234"),
                      exit_price=Decimal("3130.4020160"), exit_reason=ExitReason.STOP_LOSS,
                      realised_pnl=Decimal("-1047.9234"))
    [alert] = event_alerts([PositionClosed(closed, NOW)])
    assert alert.text == f"Closed BTC/USDT (stop_loss) @ 3,130.40: PnL -1,047.92 USDT [breakout] {ID}"


def test_stop_alerts_say_placed_or_moved() -> None:
    btc = Symbol("BTC/USDT")
    placed, moved = event_alerts([StopMoved(ID, btc, None, Decimal("62720.49"), NOW),
                                  StopMoved(ID, btc, Decimal("62720.49"), Decimal("0.5"), NOW)])
    assert placed.text == f"Stop placed at 62,720.49 on BTC/USDT ({ID})"
    assert moved.text == f"Stop moved 62,720.49 -> 0.50000000 on BTC/USDT ({ID})"


def test_pair_group_alerts_say_opened_closed_with_pnl_or_failed_and_sent_back() -> None:
    group = open_group()
    [opened] = event_alerts([GroupOpened(group, NOW)])
    assert opened.text == ("Opened pair group long ETH/USDT / BTC/USDT: buy ETH/USDT 1.5 @ 2,000.00 / "
                           f"sell BTC/USDT 0.06 @ 40,000.00 [pairs] {group.id}")
    books = (replace(group.books[0], exit_filled=Decimal("1.5"), exit_price=Decimal(2100)),
             replace(group.books[1], exit_filled=Decimal("0.06"), exit_price=Decimal(40000)))
    closed = replace(group, group=replace(group.group, status=GroupStatus.CLOSED), books=books,
                     exit_reason="signal")
    [done] = event_alerts([GroupClosed(closed, NOW)])
    assert done.text == f"Closed pair group ETH/USDT / BTC/USDT (signal): PnL +147.30 USDT [pairs] {group.id}"
    failed = replace(closed, group=replace(group.group, status=GroupStatus.FAILED),
                     books=(books[0], LegBook()))
    [warned] = event_alerts([GroupClosed(failed, NOW)])
    assert warned.severity is Severity.WARNING and "did not open: a leg failed" in warned.text
