"""Which assets a headline mentions."""

from __future__ import annotations

import pytest

from trader.core.analytics.news_tags import mentioned_assets

UNIVERSE = ("BTC", "ETH", "SOL", "OP", "NEAR", "LINK", "USDT")


@pytest.mark.parametrize(("text", "expected"), [
    ("Bitcoin tops $100,000", ("BTC",)),
    ("BTC and ETH both rose", ("BTC", "ETH")),
    ("A solution for nearly everything", ()),  # 'sol', 'near' inside words are not tickers
    ("Ether slides as ethereum fees fall", ("ETH",)),
    ("$op pumps; OP stands for original poster", ("OP",)),  # a cashtag counts, a common word alone not
    ("NEAR the top? Traders hedge", ()),
    ("Chainlink oracles and $LINK staking", ("LINK",)),
    ("Tether mints 1B USDT", ("USDT",)),
    ("SOLANA rallies", ("SOL",)),  # names match in any case
    ("sol and eth in lower case", ()),  # a lower-case ticker is a word, not a ticker
])
def test_mentions(text: str, expected: tuple[str, ...]) -> None:
    assert mentioned_assets(text, UNIVERSE) == expected


def test_only_the_asked_universe_is_tagged() -> None:
    assert mentioned_assets("Bitcoin and Solana", ("BTC",)) == ("BTC",)
