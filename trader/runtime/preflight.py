"""What a start needs beyond a valid settings model: registered strategies with valid parameters, a
venue that trades linear perpetuals for a ``market = "swap"`` strategy, on the primary account and on
each ``[[venues]]`` account alike (leverage is checked against the market's limit when the markets load),
a venue with a sandbox when ``exchange.demo`` (or a venue's ``demo``) is set, and a writable log file.
``tradebot config check`` and ``tradebot run`` (through ``build_runtime``) both call ``check_runnable``,
so the check accepts exactly what a start accepts.
"""

from __future__ import annotations

import os
from pathlib import Path

from trader.adapters.exchange.client import (
    ACCOUNT_MARGIN_MODE_VENUES,
    LIVE_SWAP_VENUES,
    SWAP_VENUES,
    demo_refusal,
    has_sandbox,
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
    """Raise ConfigError listing every problem ``runnable_problems`` finds."""
    problems = runnable_problems(settings)
    if problems:
        raise ConfigError(problems)


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
