"""One log line per decision: entry signals always, exit signals only when the cycle acted on them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.unit.core.engine.test_step_pairs import open_group
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.enums import Direction, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.domain.orders import Fill
from trader.core.engine.events import EntryRefused, GroupOpened
from trader.core.strategies.base import Signal
from trader.live.decision_log import log_fills, log_ticks
from trader.live.trading import TickReport

AT = datetime(2024, 1, 1, tzinfo=UTC)
BTC, ETH = Symbol("BTC/USDT"), Symbol("ETH/USDT")


def _signal(enter: bool = False, exit_: bool = False) -> Signal:
    return Signal(0, enter, exit_, False, False, 0.8, None, None, "breakout, volume")


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "trader.decisions"]


def test_quiet_exits_are_not_logged_but_entries_and_refusals_are(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "trader.decisions")
    refusal = EntryRefused(ETH, "breakout", Refused(RefusalReason.COOLDOWN, "ETH/USDT until 10:00"), AT)
    reports = [TickReport("breakout", BTC, AT, _signal(exit_=True)),
               TickReport("breakout", ETH, AT, _signal(enter=True), (refusal,))]
    assert log_ticks(reports) == 2
    lines = _lines(caplog)
    assert lines[0] == "[breakout] ETH/USDT: signal enter long (confidence 0.80) because breakout, volume"
    assert lines[1] == "[breakout] ETH/USDT: entry refused: cooldown: ETH/USDT until 10:00"


def test_exit_that_sent_orders_is_logged_with_the_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "trader.decisions")
    held = frozenset({Direction.LONG})
    log_ticks([TickReport("breakout", BTC, AT, _signal(exit_=True), sent=1, held=held)])
    assert _lines(caplog) == [
        "[breakout] BTC/USDT: signal exit long (confidence 0.80) because breakout, volume",
        "[breakout] 1 order command(s) sent to the exchange",
    ]


def test_skipped_tick_and_fills_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "trader.decisions")
    log_ticks([TickReport("breakout", BTC, None, None, note="no candle closed for this tick yet")])
    fill = Fill("t1", ClientOrderId("cid"), BTC, Side.BUY, Decimal("0.5"), Decimal(100), Decimal("0.05"),
                "USDT", AT)
    assert log_fills([fill]) == 1
    assert _lines(caplog) == ["[breakout] BTC/USDT: skipped (no candle closed for this tick yet)",
                              "BTC/USDT: fill buy 0.5 @ 100.0000, fee 0.05 USDT (cid)"]


def test_an_exit_of_a_direction_not_held_is_debug_even_when_another_pair_acted(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "trader.decisions")
    exit_short = Signal(0, False, False, False, True, 0.0, None, None, "exit_slow_ema")
    enter = Signal(0, True, False, False, True, 0.76, None, None, "breakout, trend")
    # the long-only spot strategy's every candle: "exit short" on both pairs; ETH enters (an order sent)
    reports = [TickReport("breakout", BTC, AT, exit_short, sent=1),
               TickReport("breakout", ETH, AT, enter, sent=1)]
    assert log_ticks(reports) == 2
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert info == ["[breakout] ETH/USDT: signal enter long (confidence 0.76) because breakout, trend",
                    "[breakout] 1 order command(s) sent to the exchange"]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == ["[breakout] BTC/USDT: signal exit short, nothing to act on because exit_slow_ema",
                     "[breakout] ETH/USDT: signal exit short, nothing to act on because breakout, trend"]


def test_a_pairs_tick_is_debug_unless_it_acted_and_then_logs_the_group(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "trader.decisions")
    assert log_ticks([TickReport("pairs", ETH, AT, None, note="z -1.20, beta 0.800")]) == 0
    group = open_group()
    opened = TickReport("pairs", ETH, AT, None, (GroupOpened(group, AT),), sent=2, note="z -3.10, beta 0.800")
    assert log_ticks([opened]) == 3
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert info == ["[pairs] ETH/USDT: z -3.10, beta 0.800",
                    f"[pairs] pair group opened: buy ETH/USDT 1.5 @ 2,000.00, sell BTC/USDT 0.06 @ 40,000.00 "
                    f"({group.id})",
                    "[pairs] 2 order command(s) sent to the exchange"]


def test_fills_show_amounts_prices_and_quote_fees_as_people_read_them(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "trader.decisions")
    # the replay's first fill: exact Decimals from the simulator, 15 places of fee
    quote_fee = Fill("t1", ClientOrderId("c1"), BTC, Side.BUY, Decimal("0.05683"), Decimal("44009.963985"),
                     Decimal("2.50108625326755"), "USDT", AT)
    base_fee = Fill("t2", ClientOrderId("c2"), Symbol("BTC/USDT:USDT"), Side.BUY, Decimal("0.05683"),
                    Decimal("44009.963985"), Decimal("0.0000568300000001"), "BTC", AT)
    assert log_fills([quote_fee, base_fee]) == 2
    assert _lines(caplog) == ["BTC/USDT: fill buy 0.05683 @ 44,009.96, fee 2.50 USDT (c1)",
                              "BTC/USDT:USDT: fill buy 0.05683 @ 44,009.96, fee 0.00005683 BTC (c2)"]
