"""Formatting of a service trading several venue accounts: each line names its account (escaped), the
totals come first; a single-venue view looks as it always did (no venue tags, no venue lines)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from handlers import formatting
from tests.fakes.fake_botapi.html_check import html_problem
from trader.core.domain.enums import Direction, Mode, ProtectionKind, TradingState
from trader.services.dto import (
    AssetBalance,
    BalanceView,
    PositionView,
    ProfitView,
    StatusView,
    VenueBalance,
    VenueProfit,
    VenueState,
)

AT = datetime(2024, 7, 1, tzinfo=UTC)


def _position(venue: str = "") -> PositionView:
    return PositionView("p1", "BTC/USDT", Direction.LONG, Decimal("0.01"), Decimal(60000), Decimal(61000),
                        Decimal(10), Decimal("0.016"), Decimal(58800), None, False, ProtectionKind.NATIVE, AT,
                        venue=venue)


def test_single_venue_lines_carry_no_venue() -> None:
    text = formatting.status(StatusView(TradingState.ACTIVE, Mode.PAPER, "USDT", (_position(),)))
    assert "[" not in text.split("\n")[0] and "<b>BTC/USDT</b>" in text
    assert formatting.positions((_position(),)).count("[") == 0


def test_status_names_each_account_and_why_one_pauses() -> None:
    lines = (VenueState("main", "binance", Mode.LIVE, TradingState.ACTIVE, 1),
             VenueState("i<r>", "wallex", Mode.PAPER, TradingState.ACTIVE, 0, "venue i<r> is down since now"))
    text = formatting.status(StatusView(TradingState.ACTIVE, Mode.LIVE, "USDT", (_position("main"),),
                                        venues=lines))
    assert "[main] binance live · active · 1 open" in text
    assert "[i&lt;r&gt;] wallex paper · active · 0 open: venue i&lt;r&gt; is down since now" in text
    assert "🟢 [main] <b>BTC/USDT</b>" in text and html_problem(text) is None


def test_balance_shows_the_totals_then_each_account_in_its_quote() -> None:
    asset = AssetBalance("BTC", Decimal("0.01"), Decimal(0), Decimal(600))
    venues = (VenueBalance("main", "binance", "USDT", Decimal(10000), Decimal(9400), Decimal(600), (asset,),
                           Mode.LIVE),
              VenueBalance("iran", "wallex", "IRT", Decimal(5_000_000), Decimal(5_000_000), Decimal(0), (),
                           Mode.PAPER, in_total=False),
              VenueBalance("gone", "kraken", "USDT", Decimal(0), Decimal(0), Decimal(0), (), in_total=False,
                           note="no answer (RequestTimeout)"))
    text = formatting.balance(BalanceView("USDT", Decimal(10000), Decimal(9400), Decimal(600), (), Mode.LIVE,
                                          venues))
    assert text.startswith("<b>Equity, all venues</b> 10,000.00 USDT")
    assert "<b>main</b> (binance, live) equity 10,000.00 USDT" in text
    assert "<b>iran</b> (wallex, paper) equity 5,000,000.00 IRT (not in the total: other quote)" in text
    assert "<b>gone</b> (kraken): no answer (RequestTimeout)" in text and html_problem(text) is None


def test_profit_totals_leave_the_curve_ratios_to_each_account() -> None:
    one = ProfitView("USDT", None, Decimal(5), Decimal(1), 2, 1, 1, Decimal(1), Decimal("0.5"), 2.0,
                     Decimal("0.1"), AT, 1.5, 2.5, 0.2)
    text = formatting.profit(ProfitView("USDT", None, Decimal(10), Decimal(2), 4, 2, 2, Decimal(2),
                                        venues=(VenueProfit("main", one), VenueProfit("side", one))))
    head, _, rest = text.partition("\n\n")
    assert head.startswith("<b>Profit, all time, all venues</b>") and "Sharpe" not in head
    assert rest.count("Sharpe 1.50") == 2 and "<b>side</b>" in rest
    single = formatting.profit(one)
    assert "Sharpe 1.50" in single and "all venues" not in single
