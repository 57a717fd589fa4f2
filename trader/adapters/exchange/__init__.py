"""Exchange adapters: ``build_exchange`` returns the live, paper or replay implementation of the port."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from trader.adapters.exchange.ccxt_venue import CcxtExchange
from trader.adapters.exchange.paper_store import PaperStateStore
from trader.adapters.exchange.paper_venue import PaperCosts, PaperExchange
from trader.config.sections import ExchangeConfig
from trader.core.backtest.markets import as_swap
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.errors import ConfigError
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWork

__all__ = ["CcxtExchange", "PaperCosts", "PaperExchange", "PaperStateStore", "build_exchange"]


async def build_exchange(
    config: ExchangeConfig,
    clock: Clock,
    *,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    markets: Iterable[MarketSpec] | None = None,
    swap: bool = False,
    perpetuals: Mapping[str, tuple[Decimal, str]] | None = None,
) -> Exchange:
    """Return the exchange for ``config.mode``: CcxtExchange (live) or PaperExchange (paper, replay).

    Paper uses the venue's public data (no keys) unless ``config.replay``; replay needs ``markets``.
    With ``uow_factory`` the paper account is restored from, and saved to, the store. ``swap``: the
    pairs' linear perpetuals (live: set to ``perpetuals``' leverage and margin mode before the first entry).
    """
    refusal = config.mode_refusal()
    if refusal is not None:
        raise ConfigError([f"exchange.{refusal}"])
    if config.mode == "live":
        return CcxtExchange(config, swap=swap, perpetuals=perpetuals)
    source = None if config.replay else CcxtExchange(config, public_only=True)
    if markets is None:
        if source is None:
            raise ConfigError(["exchange.replay: replay needs market specs (pairs) from the caller"])
        listed = await source.markets()
        missing = [p for p in config.pairs if Symbol(p) not in listed]
        if missing:
            raise ConfigError([f"exchange.pairs: {config.name} does not list {', '.join(missing)}"])
        markets = [listed[Symbol(p)] for p in config.pairs]
    if swap:  # paper-trade the pairs as perpetuals: the spot market's precision, margin and shorts added
        markets = [as_swap(m) for m in markets]
    store = PaperStateStore(uow_factory, clock) if uow_factory is not None else None
    start = {config.quote_currency: Decimal(config.paper_start_balance)}
    # a paper perpetual on live prices pays the venue's real funding (its public rate history)
    rates = CcxtExchange(config, public_only=True, swap=True) if swap and source is not None else None
    paper = PaperExchange(
        markets, quote=config.quote_currency, balances=start,
        costs=PaperCosts.from_config(config), market_data=source, clock=clock,
        saver=store.save if store is not None else None, funding=rates,
    )
    if store is not None:
        await store.load_into(paper)
    return paper
