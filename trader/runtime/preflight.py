"""What a start needs beyond a valid settings model: registered strategies with valid parameters, a
venue that trades linear perpetuals for a ``market = "swap"`` strategy, on the primary account and on
each ``[[venues]]`` account alike (leverage is checked against the market's limit when the markets load),
a venue with a sandbox when ``exchange.demo`` (or a venue's ``demo``) is set, a live account confirmed
(``live_confirmed``) and a demo one started live, and a writable log file; then, once the secret store
is read, the API keys each live account's venue requires (``credential_problems``).
``tradebot config check`` and ``tradebot run`` (through ``build_runtime``) both call ``check_runnable``
and ``credential_problems`` (the check reads the stored secrets without creating or migrating the
database), so the check accepts exactly what a start accepts.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from trader.adapters.exchange.client import (
    ACCOUNT_MARGIN_MODE_VENUES,
    LIVE_SWAP_VENUES,
    SWAP_VENUES,
    demo_refusal,
    has_sandbox,
    venue_class,
)
from trader.config import Account, Settings
from trader.core.errors import ConfigError, StrategyError
from trader.core.strategies.pair_setup import PAIRS_NAME, pair_setup
from trader.core.strategies.registry import default_registry


def runnable_problems(settings: Settings) -> list[str]:
    """Return one readable line per reason ``settings`` cannot start the service (empty when it can)."""
    problems: list[str] = []
    registry = default_registry()
    for i, entry in enumerate(settings.strategies):
        try:
            if entry.name == PAIRS_NAME:  # two legs, one short: not a registry strategy (pair_setup.py)
                pair_setup(entry.pairs, entry.params)
            else:
                registry.create(entry.name, entry.params)
        except StrategyError as exc:
            problems.append(f"strategies.{i} ({entry.name}): {exc}")
        if entry.name == PAIRS_NAME and entry.market != "swap":
            problems.append(f"strategies.{i} ({entry.name}): one leg is always short, which needs "
                            "market = \"swap\" (spot cannot be shorted)")
    for account in settings.accounts():  # the primary and each [[venues]] account: one rule for all
        refusal = account.exchange.mode_refusal()
        if refusal is not None:
            problems.append(f"{_where(settings, account)}{refusal}")
        problems += account_swap_problems(settings, account)
    if settings.exchange.demo and not has_sandbox(settings.exchange.name):
        problems.append(demo_refusal(settings.exchange.name) + " (env TRADER_EXCHANGE__DEMO)")
    problems += venue_account_problems(settings)
    if settings.logging.file is not None:
        why = log_file_problem(Path(settings.logging.file))
        if why:
            problems.append(f"logging.file = {settings.logging.file!r}: {why} (env TRADER_LOGGING__FILE)")
    return problems


def account_swap_problems(settings: Settings, account: Account) -> list[str]:
    """Return why an account's perpetual swaps cannot start: a venue without linear perpetuals (or without
    live perpetual trading, in live mode), or mixed margin modes on a venue holding one per account.

    The primary ``[exchange]`` and every further ``[[venues]]`` account go through this one check.
    """
    problems: list[str] = []
    config = account.exchange
    where = "" if not settings.venues else f" on venue {account.label!r}"
    for entry in account.strategies:
        if entry.market != "swap":
            continue
        i = settings.strategies.index(entry)
        if config.mode == "live" and config.name in SWAP_VENUES - LIVE_SWAP_VENUES:
            problems.append(f"strategies.{i} ({entry.name}): live perpetual trading is built for "
                            f"{', '.join(sorted(LIVE_SWAP_VENUES))}, not yet {config.name}{where} "
                            "(docs/futures.md); run it in paper mode or as a replay")
        if config.name not in SWAP_VENUES:
            problems.append(f"strategies.{i} ({entry.name}): market = \"swap\" is supported on "
                            f"{', '.join(sorted(SWAP_VENUES))}, not {config.name}{where}")
    if account.market == "swap" and not account.strategies and config.name not in SWAP_VENUES:
        problems.append(f"venues ({account.label}): market = \"swap\" is supported on "
                        f"{', '.join(sorted(SWAP_VENUES))}, not {config.name}")
    return problems + account_margin_mode_problems(account)


def account_margin_mode_problems(account: Account) -> list[str]:
    """Return a line when swap strategies want different margin modes on a venue that holds one per account.

    Bybit's unified account sets the margin mode for every perpetual at once: a cross strategy and an
    isolated one would switch it back and forth under each other's positions.
    """
    name = account.exchange.name
    modes = sorted({e.margin_mode for e in account.strategies if e.market == "swap"})
    if account.exchange.mode != "live" or name not in ACCOUNT_MARGIN_MODE_VENUES or len(modes) < 2:
        return []
    return [f"strategies: {name} holds one margin mode for the whole account, but the swap strategies "
            f"use {' and '.join(modes)}; give them all the same margin_mode (docs/futures.md)"]


def venue_account_problems(settings: Settings) -> list[str]:
    """Return what stops a ``[[venues]]`` account from starting beyond its swaps (``account_swap_problems``):
    a demo account on a venue without a sandbox. Nothing without ``[[venues]]``."""
    return [f"venues ({account.label}): {demo_refusal(account.exchange.name)}"
            for account in (settings.accounts() if settings.venues else ())
            if account.exchange.demo and not has_sandbox(account.exchange.name)]


def check_runnable(settings: Settings) -> None:
    """Raise ConfigError listing every problem ``runnable_problems`` finds in the accounts as they run."""
    from trader.runtime.venues import primary_settings  # the service's whole wiring: only when checking

    problems = runnable_problems(primary_settings(settings))
    if problems:
        raise ConfigError(problems)


_CREDENTIALS = (("apiKey", "api_key"), ("secret", "api_secret"), ("password", "api_password"))


@functools.cache
def required_credentials(venue: str) -> tuple[str, ...]:
    """Return the key fields (``api_key``, ``api_secret``, ``api_password``) a venue's private API needs.

    ccxt's ``requiredCredentials`` (our Nobitex and Wallex classes state theirs) is the source: the
    venue's client refuses a private call without them, so a live start without them cannot trade.
    """
    needed = venue_class(venue)({}).requiredCredentials  # no connection: ccxt opens it on a request
    return tuple(field for key, field in _CREDENTIALS if needed.get(key))


def credential_problems(settings: Settings) -> list[str]:
    """Return one line per live account missing a key its venue requires (``settings`` with the
    stored secrets laid over them, as ``tradebot run`` holds them after reading the secret store)."""
    problems = []
    for account in settings.accounts():
        config = account.exchange
        missing = [f for f in required_credentials(config.name) if getattr(config, f) is None]
        if config.mode != "live" or not missing:
            continue
        stored = "exchange" if not settings.venues else f"venues.{account.label}"
        how = " and ".join(f"`tradebot secrets set {stored}.{f}`" for f in missing)
        if not settings.venues:
            how += " (or env " + ", ".join(f"TRADER_EXCHANGE__{f.upper()}" for f in missing) + ")"
        problems.append(f"{_where(settings, account)}{', '.join(missing)}: live trading on {config.name} "
                        f"needs {'it' if len(missing) == 1 else 'them'}; store with {how}")
    return problems


async def stored_key_problems(settings: Settings) -> list[str]:
    """Return ``credential_problems`` of ``settings`` with the stored secrets laid over them, as
    ``build_runtime`` checks them once it has read the secret store.

    The database is read as it stands: nothing is created or migrated (one not made yet stores no
    secret). Secrets no configured key opens raise SecretError, as at start-up; so does a store failure.
    """
    from sqlalchemy import inspect

    from trader.adapters.ops.secret_store import load_secrets, overlay_settings
    from trader.adapters.store.db import sqlite_path
    from trader.adapters.store.sql.uow import Database
    from trader.runtime.clock import SystemClock
    from trader.runtime.venues import primary_settings

    secrets: dict[str, str] = {}
    url = settings.database.url
    path = sqlite_path(url)
    if ":memory:" not in url and (path is None or path.exists()):
        db = Database.from_config(settings.database)
        try:
            async with db.engine.connect() as connection:
                made = await connection.run_sync(lambda sync: inspect(sync).has_table("secrets"))
            if made:
                secrets = await load_secrets(settings, db.uow_factory, SystemClock())
        finally:
            await db.dispose()
    return credential_problems(primary_settings(overlay_settings(settings, secrets) if secrets else settings))


def _where(settings: Settings, account: Account) -> str:
    # the prefix naming an account's settings in a problem line
    return "exchange." if not settings.venues else f"venues ({account.label}): "


def log_file_problem(path: Path) -> str | None:
    """Return why the service could not append to the log file ``path`` (None when it can).

    Nothing is created: the nearest existing folder must be a writable directory (the missing ones
    are made at start-up).
    """
    if path.is_dir():
        return "is a directory"
    if path.exists():
        return None if os.access(path, os.W_OK) else "is not writable"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"the folder {ancestor} is not writable"
    return None
