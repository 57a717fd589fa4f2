"""Pair groups as Telegram text: both legs with side, amount, entry, current price and PnL, and the total."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from handlers.pair_text import pair_groups, with_groups
from trader.core.domain.enums import Side
from trader.services.pair_dto import PairGroupView, PairLegView

D = Decimal
GROUP = PairGroupView(
    "g<1>", "pairs", "open", "short", D("1.2345"),
    (PairLegView("ETH/USDT", Side.SELL, D("1.5"), D(2000), D(1900), D("148.5")),
     PairLegView("BTC/USDT", Side.BUY, D("0.06"), None, None, D("-1.2"))),
    datetime(2024, 1, 1, tzinfo=UTC), D("147.3"))


def test_a_group_shows_each_leg_and_the_total() -> None:
    assert pair_groups((GROUP,)) == (
        "<b>Pair groups</b>\n"
        "🟢 <code>g&lt;1&gt;</code> short spread ETH/USDT / BTC/USDT · open · beta 1.234 · PnL +147.30 USDT\n"
        "  ETH/USDT sell 1.5 @ 2,000.00 → 1,900.00 · PnL +148.50 USDT\n"
        "  BTC/USDT buy 0.06 @ not filled · PnL -1.20 USDT")


def test_groups_follow_the_positions_or_replace_the_empty_list_message() -> None:
    assert with_groups("No open positions.", ()) == "No open positions."
    assert with_groups("No open positions.", (GROUP,)) == pair_groups((GROUP,))
    assert with_groups("Trading active\nNo open positions.", (GROUP,)).startswith("Trading active\n\n<b>Pair")
    assert with_groups("<b>Open positions</b>\nx", (GROUP,)).startswith("<b>Open positions</b>\nx\n\n<b>Pair")
