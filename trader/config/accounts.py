"""Venue accounts: the ``[[venues]]`` list (or the single ``[exchange]``) as the accounts a service trades.

One rule for both shapes: without ``[[venues]]`` the ``[exchange]`` section is the one account, labelled
``DEFAULT_LABEL``; with it, every entry is an account whose unset fields come from ``[exchange]``, the
first being the primary (the one a strategy without ``venue`` trades, and the one the single-venue code
paths such as drift, news and the replay demo use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trader.config.sections import ExchangeConfig, StrategyEntry, VenueConfig

DEFAULT_LABEL = "default"


@dataclass(frozen=True, slots=True)
class Account:
    """One venue account: its label, its effective exchange settings and its strategies."""

    label: str
    exchange: ExchangeConfig
    strategies: tuple[StrategyEntry, ...]
    market: str = "spot"
    database_url: str | None = None  # None: the main database (the primary) or a file beside it
    data_venue: str | None = None  # an exchange id whose public candles feed the account's strategies
    data_base_url: str | None = None

    @property
    def pairs(self) -> tuple[str, ...]:
        """Return every pair the account's strategies trade (the account's pairs when none name any)."""
        found = {p for e in self.strategies for p in (e.pairs or self.exchange.pairs)}
        return tuple(sorted(found)) or self.exchange.pairs


def venue_accounts(exchange: ExchangeConfig, strategies: Sequence[StrategyEntry],
                   venues: Sequence[VenueConfig]) -> tuple[Account, ...]:
    """Return the accounts a service trades, the primary first (validated settings assumed)."""
    if not venues:
        return (Account(DEFAULT_LABEL, exchange, tuple(strategies), strategies[0].market if strategies
                        else "spot"),)
    primary = venues[0].name
    return tuple(Account(v.name, v.exchange_config(exchange),
                         tuple(e for e in strategies if (e.venue or primary) == v.name), v.market,
                         v.database_url, v.data_venue, v.data_base_url) for v in venues)


def venue_problems(exchange: ExchangeConfig, strategies: Sequence[StrategyEntry],
                   venues: Sequence[VenueConfig]) -> list[str]:
    """Return one readable line per inconsistency between ``[[venues]]`` and ``[[strategies]]``."""
    problems: list[str] = []
    labels = [v.name for v in venues]
    for label in sorted({n for n in labels if labels.count(n) > 1}):
        problems.append(f"venues: the account name {label!r} is used twice; each account needs its own name")
    known = set(labels)
    for entry in strategies:
        if entry.venue is not None and entry.venue not in known:
            where = ", ".join(labels) if labels else "none: add a [[venues]] list"
            problems.append(f"strategies ({entry.name}): venue {entry.venue!r} is not a [[venues]] account "
                            f"(known: {where})")
    if problems or not venues:
        return problems
    for account in venue_accounts(exchange, strategies, venues):
        problems += _binding_problems(account)
    seen: dict[str, str] = {}
    for v in venues:
        if v.database_url is not None and v.database_url in seen:
            problems.append(f"venues ({v.name}): database_url is also {seen[v.database_url]!r}'s; "
                            "each account keeps its own store")
        if v.database_url is not None:
            seen[v.database_url] = v.name
    return problems


def _binding_problems(account: Account) -> list[str]:
    """Return what the account's strategies ask that the account does not offer (pairs, market)."""
    problems: list[str] = []
    offered = set(account.exchange.pairs)
    for entry in account.strategies:
        missing = [p for p in entry.pairs or () if p not in offered]
        if missing:
            problems.append(f"strategies ({entry.name}): {', '.join(missing)} not among the pairs of "
                            f"venue {account.label!r} ({', '.join(account.exchange.pairs)})")
        if entry.market != account.market:
            problems.append(f"strategies ({entry.name}): market {entry.market!r} but venue "
                            f"{account.label!r} trades {account.market!r}")
    return problems
