"""Which assets a headline mentions: tickers as whole upper-case words or cashtags, names as words.

A bare ticker needs three letters or more and upper case ("SOL", not "sol" in "solution"); shorter or
common ones count only as cashtags ("$OP"). Names match whole words in any case ("Ethereum").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

NAMES: Final[Mapping[str, tuple[str, ...]]] = {
    "BTC": ("bitcoin",), "ETH": ("ethereum", "ether"), "SOL": ("solana",), "XRP": ("ripple",),
    "ADA": ("cardano",), "DOGE": ("dogecoin",), "BNB": ("binance coin",), "AVAX": ("avalanche",),
    "DOT": ("polkadot",), "LINK": ("chainlink",), "LTC": ("litecoin",), "TRX": ("tron",),
    "TON": ("toncoin",), "SHIB": ("shiba inu",), "ATOM": ("cosmos hub",), "XLM": ("stellar",),
    "USDT": ("tether",), "USDC": ("usd coin",), "UNI": ("uniswap",), "ARB": ("arbitrum",),
    "OP": ("optimism",), "NEAR": ("near protocol",), "APT": ("aptos",), "SUI": ("sui network",),
    "PEPE": ("pepe",), "AAVE": ("aave",), "FIL": ("filecoin",), "ICP": ("internet computer",),
    "XMR": ("monero",), "MATIC": ("polygon",), "POL": ("polygon",),
}
# Upper-case words that are tickers of small coins but mostly mean something else in a headline.
COMMON_WORDS: Final = frozenset({"ONE", "NEAR", "GAS", "HOT", "OM", "OP", "ID", "SUN", "MAX", "FOR", "CEO",
                                 "SEC", "ETF", "USD", "THE", "NEW", "NOW", "KEY", "ACT", "TRUMP"})


def mentioned_assets(text: str, tickers: Iterable[str], names: Mapping[str, tuple[str, ...]] = NAMES
                     ) -> tuple[str, ...]:
    """Return the tickers of ``tickers`` that ``text`` mentions, sorted."""
    words = set(re.findall(r"(?<![A-Za-z0-9$])([A-Z][A-Z0-9]{2,9})(?![A-Za-z0-9])", text))
    cashtags = {t.upper() for t in re.findall(r"\$([A-Za-z][A-Za-z0-9]{0,9})\b", text)}
    lowered = text.lower()
    found = set()
    for ticker in {t.upper() for t in tickers}:
        if ticker in cashtags or (ticker in words and ticker not in COMMON_WORDS):
            found.add(ticker)
        elif any(re.search(rf"\b{re.escape(name)}\b", lowered) for name in names.get(ticker, ())):
            found.add(ticker)
    return tuple(sorted(found))
