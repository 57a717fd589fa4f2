"""Formatting: HTML-escaped, split under Telegram's limit without breaking tags or entities."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from handlers import formatting
from tests.fakes.fake_botapi.html_check import html_problem
from trader.core.domain.enums import Direction, ExitReason, Mode, TradingState
from trader.services.dto import (
    BacktestHalt,
    BacktestReport,
    BacktestRequest,
    ControlResult,
    HealthView,
    ProfitView,
    RefusedEntries,
    TradePage,
    TradeQuery,
    TradeView,
)


@given(st.text(max_size=300))
def test_error_text_is_always_valid_html(text: str) -> None:
    assert html_problem(formatting.error(text)) is None


@given(st.lists(st.text(max_size=2000), max_size=40))
def test_log_blocks_are_valid_html_and_under_the_limit(lines: list[str]) -> None:
    for part in formatting.split_pre(tuple(lines)):
        assert len(part) <= 4096
        assert html_problem(part) is None


def test_split_keeps_every_line_and_the_limit() -> None:
    text = "\n".join(f"<b>row {i}</b> " + "x" * 100 for i in range(200))
    parts = formatting.split(text)
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(html_problem(p) is None for p in parts)


def test_result_escapes_service_text() -> None:
    text = formatting.result(ControlResult(False, "No <b>", "a & b"))
    assert text == "⚠️ No &lt;b&gt; (a &amp; b)"


def test_numbers_are_formatted_for_reading() -> None:
    assert formatting.price(Decimal("60000")) == "60,000.00"
    assert formatting.price(Decimal("0.00012345")) == "0.00012345"
    assert formatting.qty(Decimal("0.12340000")) == "0.1234"
    assert formatting.pct(Decimal("-0.0123")) == "-1.23%"
    assert formatting.signed(Decimal("10"), "USDT") == "+10.00 USDT"


def _profit(**overrides: object) -> ProfitView:
    values: dict[str, object] = dict(quote="USDT", days=None, realised=Decimal("-60.5"),
                                     unrealised=Decimal(0), closed_trades=2, wins=0, losses=2,
                                     fees=Decimal("3.1"), win_rate=Decimal(0))
    values.update(overrides)
    return ProfitView(**values)  # type: ignore[arg-type]


def test_profit_when_every_trade_lost_has_a_zero_profit_factor_not_0e18() -> None:
    text = formatting.profit(_profit(profit_factor=float(Decimal(0) / Decimal("60.5"))))
    assert "Profit factor 0.00" in text and "E+" not in text


def test_profit_rounds_ratios_and_says_why_one_is_missing() -> None:
    text = formatting.profit(_profit(wins=2, losses=0, profit_factor=float("inf"),
                                     sharpe=0.9154665135144889, sortino=None, volatility=0.41234))
    assert "Profit factor n/a (no losing trades)" in text
    assert "Sharpe 0.92" in text and "Sortino n/a (under 2 days of equity)" in text
    assert "Volatility 41.23%" in text and "inf" not in text


def test_a_trade_line_shows_its_return_fraction_as_a_percentage_once() -> None:
    trade = TradeView("t1", "BTC/USDT", Direction.LONG, Decimal("0.05"), Decimal(49_600), Decimal("50863.8"),
                      Decimal("63.19"), Decimal("63.19") / Decimal(2480), datetime(2024, 1, 1, tzinfo=UTC),
                      datetime(2024, 1, 2, tzinfo=UTC), ExitReason.TAKE_PROFIT)
    text = formatting.trade_page(TradePage(TradeQuery(), (trade,), 1))
    assert "+63.19 USDT (+2.55%)" in text


def _backtest_report(**stops: object) -> BacktestReport:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    request = BacktestRequest("breakout", "BTC/USDT", "1h", 90)
    return BacktestReport(request, start, start + timedelta(days=90), 4, Decimal("0.5"), Decimal("-0.03"),
                          Decimal("0.031"), Decimal("0.8"), None,
                          Decimal("9700"), **stops)  # type: ignore[arg-type]


def test_a_backtest_caption_says_why_trading_stopped_and_fits_a_photo_caption() -> None:
    at = datetime(2024, 2, 3, 4, tzinfo=UTC)
    refusals = tuple(RefusedEntries(reason, count, at + timedelta(hours=count), at + timedelta(days=9))
                     for reason, count in (("halted", 9), ("daily_loss_limit", 3), ("cooldown", 2),
                                           ("max_exposure", 1)))
    text = formatting.backtest(_backtest_report(
        halts=(BacktestHalt(at, "drawdown 3.10% from peak 10100.00 reached <the> limit"),),
        daily_loss_days=(date(2024, 1, 20), at.date()), refusals=refusals))
    assert "Halted 2024-02-03 04:00 UTC: drawdown 3.10% from peak 10100.00 reached &lt;the&gt; limit" in text
    assert "Daily loss limit hit on 2 day(s), first 2024-01-20" in text
    assert ("Refused entry signals 15: halted 9 from 2024-02-03 13:00, daily_loss_limit 3 from "
            "2024-02-03 07:00, cooldown 2 from 2024-02-03 06:00, 1 more rule(s)") in text
    assert len(text) <= 1024 and html_problem(text) is None


def test_a_backtest_that_never_stopped_has_no_stop_lines() -> None:
    text = formatting.backtest(_backtest_report())
    assert "Halted" not in text and "Refused" not in text and "Daily loss" not in text


def test_health_shows_the_venue_breaker_and_since_when() -> None:
    since = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    down = HealthView(TradingState.ACTIVE, Mode.LIVE, False, True, True, None, 60.0, 1,
                      ("venue down since 2026-01-01 12:00:00 UTC, entries paused",), venue_breaker="open",
                      venue_since=since)
    text = formatting.health(down)
    assert html_problem(text) is None
    assert "venue breaker <b>open</b> since 2026-01-01 12:00 UTC · entries paused" in text
    up = formatting.health(HealthView(TradingState.ACTIVE, Mode.LIVE, True, True, True, None, 60.0, 0,
                                      venue_breaker="closed"))
    assert "venue breaker <b>closed</b>" in up and "paused" not in up
    replay = formatting.health(HealthView(TradingState.ACTIVE, Mode.PAPER, True, True, True, None, 60.0, 0))
    assert "breaker" not in replay


def test_a_leveraged_short_shows_direction_leverage_liquidation_and_funding() -> None:
    from trader.core.domain.enums import ProtectionKind
    from trader.services.dto import PositionView

    spot = PositionView("P1", "BTC/USDT", Direction.LONG, Decimal("0.1"), Decimal(60_000), Decimal(61_000),
                        Decimal(100), Decimal("0.016"), Decimal(58_800), None, False, ProtectionKind.NATIVE,
                        datetime(2024, 7, 1, tzinfo=UTC))
    short = PositionView("P2", "BTC/USDT", Direction.SHORT, Decimal("0.1"), Decimal(60_000), Decimal(59_000),
                         Decimal(100), Decimal("0.016"), Decimal(61_200), None, False, ProtectionKind.NATIVE,
                         datetime(2024, 7, 1, tzinfo=UTC), leverage=Decimal(5),
                         liquidation_price=Decimal("71713.5"), funding=Decimal("-1.25"))
    assert "Leverage" not in formatting.position(spot, "USDT")
    text = formatting.position(short, "USDT")
    assert html_problem(text) is None
    assert "BTC/USDT</b> short" in text
    assert "Leverage 5x · Liquidation 71,713.50 · Funding received 1.25 USDT" in text
    listed = formatting.positions((spot, short))  # the compact /positions list: on the swap line only
    assert html_problem(listed) is None
    spot_line, short_line = listed.splitlines()[1:]
    assert "x · liq." not in spot_line and short_line.endswith(" · 5x · liq. 71,713.50"), listed
