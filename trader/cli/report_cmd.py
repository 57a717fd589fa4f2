"""`tradebot tax export|import-rates|fetch-rates|import-holdings|holdings`: the ATO capital gains export.

Fills and AUD rates come from CSV files or, when a file is not given, from the configured store. Opening
holdings (parcels acquired before the bot's records) come from ``--holdings`` or, when fills are read
from the store, from the store; a run with ``--fills`` and ``--rates`` files never opens the store.
Outputs (CSV, Koinly CSV, PNG summary) are written into ``--out``; nothing is written on error.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trader.config import Settings
from trader.core.analytics.tax import (
    AudRate,
    AudRates,
    FinancialYear,
    MatchMethod,
    OpeningParcel,
    parse_fills_csv,
    parse_holdings_csv,
    parse_rates_csv,
)
from trader.core.analytics.tax.cgt_events import fills_through, needed_rates
from trader.core.analytics.tax.parcels import ato_method_note
from trader.core.analytics.tax.rates import AUD, rates_from_daily_closes
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.domain.orders import Fill
from trader.core.errors import InputError
from trader.core.formatting import money
from trader.services.tax_export import build_export, stored_rates, stored_records


def register(sub: Any) -> None:
    """Add the `tax` command group."""
    parser: argparse.ArgumentParser = sub.add_parser("tax", help="Australian (ATO) capital gains export")
    inner = parser.add_subparsers(dest="tax_command", metavar="ACTION", required=True)
    export = inner.add_parser("export", help="write the CGT report (CSV, Koinly CSV, PNG) for an income year")
    export.add_argument("--year", type=int, required=True,
                        help="income year by its end: 2024 = 1 Jul 2023 - 30 Jun 2024")
    export.add_argument("--method", choices=[m.value for m in MatchMethod], default=MatchMethod.FIFO.value,
                        help="parcel matching (default fifo)")
    export.add_argument("--fills", type=Path, metavar="FILE.csv", help="fills CSV (default: the store)")
    export.add_argument("--rates", type=Path, metavar="FILE.csv", help="AUD rates CSV (default: the store)")
    export.add_argument("--holdings", type=Path, metavar="FILE.csv",
                        help="opening holdings CSV (default: the store's, when fills come from the store)")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")
    export.add_argument("--prior-losses", default="0", metavar="AUD",
                        help="net capital losses carried in from before the fills' first income year; the "
                             "losses of the fills' own earlier years are carried forward automatically")
    export.add_argument("--rate-fallback-days", type=int, default=0, metavar="N",
                        help="use the latest rate up to N days earlier when a day has none (default 0)")
    export.add_argument("--timezone", default="Australia/Sydney", help="calendar days in this zone")
    export.add_argument("--no-fetch-rates", action="store_true",
                        help="do not fetch missing AUD rates from CoinGecko (default: fetch them)")
    export.set_defaults(func=_export)
    rates = inner.add_parser("import-rates",
                             help="store daily AUD rates from CSV (date,currency,aud_rate,source)")
    rates.add_argument("file", type=Path, metavar="FILE.csv")
    rates.set_defaults(func=_import_rates)
    fetch = inner.add_parser("fetch-rates", help="store daily AUD rates: the ones an income year's records "
                                                 "need from CoinGecko, or an X/AUD market's 1d closes")
    fetch.add_argument("--source", choices=("coingecko", "exchange"),
                       help="coingecko: what --year needs (default); exchange: --market's closes (default "
                            "when --market is given)")
    fetch.add_argument("--year", type=int, metavar="YEAR", help="coingecko: the income year (e.g. 2024)")
    fetch.add_argument("--market", metavar="PAIR", help="exchange: e.g. USDT/AUD or BTC/AUD")
    fetch.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="exchange: first day")
    fetch.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="default: today")
    fetch.set_defaults(func=_fetch_rates)
    holdings = inner.add_parser(
        "import-holdings", help="store parcels acquired before the bot's records "
                                "(asset,quantity,acquired_at,cost_base_aud,note,source)")
    holdings.add_argument("file", type=Path, metavar="FILE.csv")
    holdings.add_argument("--timezone", default="Australia/Sydney",
                          help="zone of acquired_at given as a plain date (default Australia/Sydney)")
    holdings.set_defaults(func=_import_holdings)
    listing = inner.add_parser("holdings", help="list the stored opening holdings")
    listing.set_defaults(func=_list_holdings)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read {what} file {path}: {exc.strerror or exc}") from exc


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r} (e.g. Australia/Sydney, Australia/Perth)") from exc


def _decimal(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise InputError(f"{name} {raw!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise InputError(f"{name} must be a non-negative number, got {raw!r}")
    return value


async def _export(args: argparse.Namespace) -> int:
    if not 2000 <= args.year <= 2100:
        raise InputError(f"--year {args.year} is not an income year (2024 = 1 July 2023 - 30 June 2024)")
    if args.rate_fallback_days < 0:
        raise InputError("--rate-fallback-days must not be negative")
    zone, method = _zone(args.timezone), MatchMethod(args.method)
    prior = _decimal(args.prior_losses, "--prior-losses")
    fy = FinancialYear(args.year)
    opening: list[OpeningParcel] = []
    if args.holdings is not None:
        opening = parse_holdings_csv(_read(args.holdings, "holdings"), str(args.holdings), zone)
    if args.fills is not None:
        fills = fills_through(parse_fills_csv(_read(args.fills, "fills")), fy.end, zone)
    else:
        fills, stored_opening = await _store_fills(args, fy, zone)
        opening = opening if args.holdings is not None else stored_opening
    if args.rates is not None:
        stored = parse_rates_csv(_read(args.rates, "rates"))
    else:
        stored = await _store_rates(args, fills, zone)
    rates = AudRates(stored, max_stale_days=args.rate_fallback_days)
    export = build_export(fills, opening, rates, fy, method, zone, prior)
    report = export.report
    from trader.runtime.offline import tax_summary_png  # matplotlib only when exporting

    png = tax_summary_png(report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"cgt_{fy.label}_{method.value}"
    outputs = {args.out / f"{stem}.csv": export.cgt_csv.encode(), args.out / f"{stem}.png": png,
               args.out / f"koinly_{fy.label}.csv": export.koinly_csv.encode()}
    for path, data in outputs.items():
        path.write_bytes(data)
    s = report.summary
    print(f"{fy.label}, {method.label}: {len(report.lines)} disposal line(s); "
          f"gains {money(s.total_gains, AUD)}, losses {money(s.total_losses, AUD)}, "
          f"discount-eligible {money(s.discount_eligible_gains, AUD)}, "
          f"prior-year losses brought forward {money(s.prior_year_losses, AUD)} "
          f"(applied {money(s.prior_year_losses_applied, AUD)}), "
          f"net capital gain {money(s.net_capital_gain, AUD)}, "
          f"losses carried forward {money(s.losses_carried_forward, AUD)}")
    print(ato_method_note(method, identified=export.opening_identified))
    for path in outputs:
        print(f"wrote {path}")
    return 0


async def _store_fills(args: argparse.Namespace, fy: FinancialYear, zone: ZoneInfo
                       ) -> tuple[list[Fill], list[OpeningParcel]]:
    from trader.config import load_settings
    from trader.runtime.offline import open_store

    async with open_store(load_settings(args.config)) as uow_factory:
        return await stored_records(uow_factory, uow_factory, fy, zone)


async def _store_rates(args: argparse.Namespace, fills: list[Fill], zone: ZoneInfo) -> list[AudRate]:
    from trader.config import load_settings
    from trader.runtime.offline import open_store

    settings = load_settings(args.config)

    async def fetch(needed: set[tuple[str, date]]) -> None:
        await _fetch_needed(settings, needed)

    allowed = settings.prices.fetch_aud_rates and not args.no_fetch_rates
    async with open_store(settings) as uow_factory:
        return await stored_rates(uow_factory, fills, zone, fetch if allowed else None)


async def _import_rates(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.ports.store import AudRate as StoredRate
    from trader.runtime.offline import open_store

    parsed = parse_rates_csv(_read(args.file, "rates"), default_source=args.file.name)
    async with open_store(load_settings(args.config)) as uow_factory, uow_factory() as uow:
        written = await uow.aud_rates.upsert(StoredRate(r.day, r.currency, r.rate, r.source) for r in parsed)
        await uow.commit()
    print(f"stored {written} AUD rate(s) from {args.file}")
    return 0


async def _fetch_needed(settings: Settings, needed: set[tuple[str, date]]) -> None:
    from trader.runtime.offline import open_store
    from trader.runtime.prices import aud_rate_service

    async with open_store(settings) as uow_factory, aud_rate_service(settings.prices, uow_factory) as rates:
        if not await rates.missing(needed):
            return
        result = await rates.fetch_missing(needed)
    print(f"fetched {result.stored} AUD rate(s) from {result.source}"
          + (f"; none for {len(result.still_missing)} day(s)" if result.still_missing else ""))


async def _fetch_rates(args: argparse.Namespace) -> int:
    from trader.config import load_settings

    source = args.source or ("exchange" if args.market else "coingecko")
    if source == "coingecko":
        if args.year is None or not 2000 <= args.year <= 2100:
            raise InputError("--source coingecko needs --year YEAR (the income year, e.g. 2024)")
        settings = load_settings(args.config)
        zone = _zone("Australia/Sydney")
        fills, _ = await _store_fills(args, FinancialYear(args.year), zone)
        needed = needed_rates(fills, zone)
        if not needed:
            print(f"the records need no AUD rates up to the end of the {FinancialYear(args.year).label} year")
            return 0
        await _fetch_needed(settings, needed)
        return 0
    if args.market is None or args.since is None:
        raise InputError("--source exchange needs --market PAIR and --since YYYY-MM-DD")
    return await _fetch_market_rates(args)


async def _fetch_market_rates(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.ports.store import AudRate as StoredRate
    from trader.runtime.offline import open_store, public_venue

    try:
        base, quote = split_symbol(args.market.upper())
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if quote != AUD:
        raise InputError(f"--market {args.market} is not quoted in AUD (e.g. USDT/AUD)")
    until = args.until or datetime.now(UTC).date()
    settings = load_settings(args.config)
    exchange = public_venue(settings.exchange)
    source = f"{settings.exchange.name} {base}/{quote} 1d close"
    cursor = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC)
    rates: list[AudRate] = []
    try:
        while cursor.date() <= until:
            page = await exchange.candles(Symbol(f"{base}/{quote}"), "1d", since=cursor, limit=500)
            page = page.slice(0, int((page.timestamp <= _ms(until)).sum()))
            if len(page) == 0:
                break
            rates += rates_from_daily_closes(base, page.timestamp.tolist(), page.close.tolist(), source)
            cursor = datetime.fromtimestamp(int(page.timestamp[-1]) / 1000, tz=UTC) + timedelta(days=1)
    finally:
        await exchange.close()
    async with open_store(settings) as uow_factory, uow_factory() as uow:
        written = await uow.aud_rates.upsert(StoredRate(r.day, r.currency, r.rate, r.source) for r in rates)
        await uow.commit()
    first = rates[0].day.isoformat() if rates else "-"
    print(f"stored {written} {base} AUD rate(s) from {source}, {first} to {until.isoformat()}")
    return 0


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp() * 1000)


async def _import_holdings(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.runtime.offline import open_store

    parsed = parse_holdings_csv(_read(args.file, "holdings"), str(args.file), _zone(args.timezone))
    async with open_store(load_settings(args.config)) as uow_factory, uow_factory() as uow:
        before = {p.key: p for p in await uow.opening_holdings.all()}
        await uow.opening_holdings.upsert(parsed)
        after = {p.key: p for p in await uow.opening_holdings.all()}
        await uow.commit()
    new = sum(1 for p in parsed if p.key not in before)
    unchanged = sum(1 for p in parsed if before.get(p.key) == after[p.key])
    print(f"stored {len(parsed)} opening holding(s) from {args.file}: {new} new, "
          f"{len(parsed) - new - unchanged} replaced, {unchanged} unchanged")
    return 0


async def _list_holdings(args: argparse.Namespace) -> int:
    from trader.config import load_settings
    from trader.runtime.offline import open_store

    async with open_store(load_settings(args.config)) as uow_factory, uow_factory() as uow:
        parcels = await uow.opening_holdings.all()
    if not parcels:
        print("no opening holdings stored; import them with `tradebot tax import-holdings FILE.csv`")
        return 0
    from trader.core.formatting import money, qty

    rows = [("asset", "quantity", "acquired (UTC)", "cost base (AUD)", "unit cost (AUD)", "source", "note")]
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for p in parcels:
        rows.append((p.asset, qty(p.quantity), f"{p.acquired_at:%Y-%m-%d %H:%M:%S}", money(p.cost_aud),
                     money(p.cost_aud / p.quantity), p.source or "-", p.note or "-"))
        held, cost = totals.get(p.asset, (Decimal(0), Decimal(0)))
        totals[p.asset] = (held + p.quantity, cost + p.cost_aud)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    right = {1, 3, 4}  # numbers line up on the decimal point
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=False))]
        print("  ".join([*cells, row[-1]]).rstrip())
    for asset, (held, cost) in sorted(totals.items()):
        print(f"total {asset}: {qty(held)} for {money(cost, 'AUD')}")
    return 0
