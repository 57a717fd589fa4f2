"""`tradebot portfolio list|show|check|track|value|holdings|rebalance|untrack|buy-basket`: baskets.

Definitions come from the shipped default basket and ``portfolio.baskets_dir``; holdings, the price
cache and snapshots from the configured store. Valuing here uses CoinGecko and the cached prices (the
running service also prices from the exchange). ``buy-basket`` asks the running service over its web
API, so the orders go through its engine, risk limits and audit like /buy (a trader-role API token).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from trader.core.errors import InputError

TOKEN_HELP = "file holding the API token (default $TRADER_API_TOKEN)"  # noqa: S105 - help text


def register(sub: Any) -> None:
    """Add the `portfolio` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("portfolio", help="baskets: define, track, value, buy")
    inner = parser.add_subparsers(dest="portfolio_command", metavar="ACTION", required=True)
    inner.add_parser("list", help="the baskets and what they hold").set_defaults(func=_list)
    show = inner.add_parser("show", help="one basket's categories and assets")
    show.add_argument("name")
    show.set_defaults(func=_show)
    check = inner.add_parser("check", help="check a basket file and say what is wrong with it")
    check.add_argument("file", type=Path)
    check.set_defaults(func=_check)
    track = inner.add_parser("track", help="record a virtual purchase at a day's prices (nothing traded)")
    track.add_argument("name")
    track.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD", help="default: today (UTC)")
    track.add_argument("--amount", type=_amount, help="total to spread by weight (baskets given as weights)")
    track.set_defaults(func=_track)
    value = inner.add_parser("value", help="value a basket (STALE marks old prices)")
    value.add_argument("name", nargs="?")
    value.add_argument("--assets", action="store_true", help="one line per asset too")
    value.set_defaults(func=_value)
    holdings = inner.add_parser("holdings", help="stored purchases (fills and virtual ones)")
    holdings.add_argument("name", nargs="?")
    holdings.set_defaults(func=_holdings)
    rebalance = inner.add_parser("rebalance", help="what to buy and sell to return to the targets (a report)")
    rebalance.add_argument("name", nargs="?")
    rebalance.set_defaults(func=_rebalance)
    untrack = inner.add_parser("untrack", help="forget every holding of a basket (nothing is sold)")
    untrack.add_argument("name")
    untrack.set_defaults(func=_untrack)
    buy = inner.add_parser("buy-basket", help="buy each listed asset through the running service, like /buy")
    buy.add_argument("name")
    buy.add_argument("--quote", default="USDT", help="quote currency of the pairs (default USDT)")
    buy.add_argument("--amount", type=_amount, required=True, help="quote amount per asset, e.g. 10")
    buy.add_argument("--url", help="service base URL (default $TRADER_CTL_URL, else ops host and port)")
    buy.add_argument("--token-file", type=Path, help=TOKEN_HELP)
    buy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    buy.set_defaults(func=_buy)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"the amount must be above 0: {text!r}")
    return value


async def _with_service(args: argparse.Namespace, action: Any) -> int:
    from trader.config import load_settings
    from trader.runtime.clock import SystemClock
    from trader.runtime.offline import open_store
    from trader.runtime.prices import offline_portfolio

    settings = load_settings(args.config)
    async with open_store(settings) as uow, offline_portfolio(settings, uow, SystemClock()) as service:
        text = await action(service)
    print(text)
    return 0


async def _list(args: argparse.Namespace) -> int:
    from trader.services.portfolio_text import baskets_text

    return await _with_service(args, lambda s: _then(s.baskets(), baskets_text))


async def _then(awaitable: Any, render: Any) -> str:
    return str(render(await awaitable))


async def _show(args: argparse.Namespace) -> int:
    from trader.services.portfolio_text import basket_text

    async def show(service: Any) -> str:
        service.catalog.get(args.name)  # InputError naming the known baskets
        infos = await service.baskets()
        return basket_text(next(i for i in infos if i.name == args.name.lower()))

    return await _with_service(args, show)


def _check(args: argparse.Namespace) -> int:
    from trader.services.baskets import load_basket_file
    from trader.services.portfolio_text import categories

    basket = load_basket_file(args.file)
    print(f"{args.file}: basket {basket.name}, {len(basket.assets)} assets in "
          f"{categories(len(basket.categories))}, quote {basket.quote}: OK")
    return 0


async def _track(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    day = args.date or datetime.now(UTC).date()
    print(f"fetching each asset's price of {day} (CoinGecko allows a few calls a minute) ...",
          file=sys.stderr)
    return await _with_service(args, lambda s: _then(s.track(args.name, day, args.amount), _tracked))


def _tracked(result: Any) -> str:
    """Return what a tracked-only purchase recorded; nothing recorded is an error (exit code 1)."""
    from trader.services.portfolio_text import track_text

    if not result.tracked:
        raise InputError("nothing tracked", user_message=(
            f"nothing tracked: no asset of {result.basket} has a price for {result.day} "
            f"({', '.join(result.missing)}; the warnings above say why)"))
    return track_text(result)


async def _value(args: argparse.Namespace) -> int:
    from trader.services.portfolio_text import valuation_text

    return await _with_service(
        args, lambda s: _then(s.value(args.name), lambda v: valuation_text(v, assets=args.assets)))


async def _holdings(args: argparse.Namespace) -> int:
    from trader.services.portfolio_text import holdings_text

    return await _with_service(args, lambda s: _then(s.holdings(args.name), holdings_text))


async def _rebalance(args: argparse.Namespace) -> int:
    from trader.services.portfolio_text import rebalance_text

    return await _with_service(args, lambda s: _then(s.rebalance(args.name), rebalance_text))


async def _untrack(args: argparse.Namespace) -> int:
    return await _with_service(
        args, lambda s: _then(s.untrack(args.name), lambda n: f"forgot {n} holding(s) of {args.name}"))


def _buy(args: argparse.Namespace) -> int:
    from trader.cli.ctl_cmd import Api, confirm

    api = Api(args)
    if not confirm(args, f"Buy {args.amount} {args.quote.upper()} of every asset of {args.name} the exchange "
                         "lists, through the risk rules?"):
        return 1
    result = api.call("POST", "/portfolio/buy-basket",
                      {"basket": args.name.lower(), "quote": args.quote.upper(), "amount": str(args.amount)})
    print(f"basket {result['basket']}: {len(result['bought'])} order(s) sent, "
          f"{len(result['refused'])} refused, {len(result['not_listed'])} not listed")
    for asset, message in result["bought"]:
        print(f"  {asset}: {message}")
    for asset, why in result["refused"]:
        print(f"  {asset} refused: {why}")
    if not result["bought"]:
        raise InputError("nothing bought",
                         user_message="nothing bought: every asset was refused or not listed")
    return 0
