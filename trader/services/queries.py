"""QueryService and SystemService: read models of the live state and of the running program.

Positions and the risk state come from the store (what the engine committed), prices and balances from
the exchange port. A price that cannot be fetched shows as unknown instead of failing the whole view.
"""

from __future__ import annotations

import asyncio
import logging
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from importlib import metadata
from typing import Any

from trader import __version__
from trader.core.domain.enums import Mode, TradingState
from trader.core.domain.ids import Symbol, split_symbol
from trader.core.domain.money import ZERO
from trader.core.engine.pair_groups import GroupPosition
from trader.core.positions.pnl import cost_basis, position_liquidation, unrealised_pnl
from trader.core.positions.state import Position, PositionStatus
from trader.core.risk.breaker import Breaker
from trader.core.risk.state import RiskState
from trader.live.parameters import ParameterBook
from trader.ports.backup import BackupInfo
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import AuditEntry, TradingUnitOfWorkFactory
from trader.services.dto import (
    AssetBalance,
    BalanceView,
    ConfigView,
    HealthView,
    JobView,
    LockView,
    LogView,
    PositionView,
    SettingsView,
    StatusView,
    StrategyView,
    VersionView,
)
from trader.services.pair_dto import PairGroupView, PairLegView

logger = logging.getLogger(__name__)

PRICE_TIMEOUT = 5.0  # seconds per price; a slow venue must not hang /status


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the runtime knows about itself (wall-clock uptime, scheduler, last tick); read at query time."""

    uptime_seconds: float
    scheduler_running: bool = False
    last_tick_at: datetime | None = None
    problems: tuple[str, ...] = ()
    last_backup: BackupInfo | None = None
    jobs: tuple[JobView, ...] = ()
    breaker: Breaker | None = None  # the venue's circuit breaker (None: a replay's simulated venue)


class LiveQueryService:
    """Status, positions, balance, health, locks, strategies and settings (``api.QueryService``)."""

    def __init__(self, uow_factory: TradingUnitOfWorkFactory, exchange: Exchange, clock: Clock, *, mode: Mode,
                 quote: str, book: ParameterBook, facts: Callable[[], RunFacts]) -> None:
        self._uow = uow_factory
        self._exchange = exchange
        self._clock = clock
        self._mode = mode
        self._quote = quote
        self._book = book
        self._facts = facts

    async def _risk(self) -> RiskState:
        async with self._uow() as uow:
            return await uow.risk.get() or RiskState()

    async def _active(self) -> list[Position]:
        async with self._uow() as uow:
            found = await uow.positions.unfinished()
        return [p for p in found if p.status is not PositionStatus.PENDING_ENTRY or p.filled > 0]

    async def _price(self, symbol: Symbol) -> Decimal | None:
        try:
            return await asyncio.wait_for(self._exchange.last_price(symbol), PRICE_TIMEOUT)
        except Exception as exc:  # an unknown price is shown as unknown, the view still answers
            logger.warning("no price for %s: %s", symbol, exc)
            return None

    async def _view(self, position: Position, prices: dict[Symbol, Decimal | None]) -> PositionView:
        if position.symbol not in prices:
            prices[position.symbol] = await self._price(position.symbol)
        mark = prices[position.symbol]
        pnl = unrealised_pnl(position, mark) if mark is not None and position.entry_price else ZERO
        basis = cost_basis(position) if position.entry_price else ZERO
        trailing_cfg = self._book.risk.trailing
        trailing = trailing_cfg.distance if trailing_cfg.enabled else None
        return PositionView(
            id=position.id, pair=position.symbol, direction=position.direction,
            amount=position.open_amount if position.filled > 0 else position.amount,
            entry_price=position.entry_price or position.requested_price or ZERO, current_price=mark,
            pnl=pnl, pnl_fraction=pnl / basis if basis > 0 else ZERO, stop_price=position.stop_price,
            take_profit=position.take_profit, trailing_active=trailing is not None,
            protection=position.protection, opened_at=position.opened_at or position.created_at
            or self._clock.now(), strategy=position.strategy, trailing_distance=trailing,
            leverage=position.leverage, liquidation_price=await self._liquidation(position),
            funding=position.funding,
        )

    async def _liquidation(self, position: Position) -> Decimal | None:
        try:
            market = await asyncio.wait_for(self._exchange.market(position.symbol), PRICE_TIMEOUT)
        except Exception as exc:  # shown as unknown; the view still answers
            logger.warning("no market for %s: %s", position.symbol, exc)
            return None
        terms, free = market.futures, ZERO
        entry = next((e for e in self._book.strategies if e.name == position.strategy), None)
        if terms is not None and entry is not None and entry.margin_mode == "cross":
            # cross: the account's free margin backs the position too (read now; else isolated, stricter)
            terms = replace(terms, margin_mode="cross")
            try:
                free = (await asyncio.wait_for(self._exchange.balances(), PRICE_TIMEOUT)).free
            except Exception as exc:
                logger.warning("no balance for the cross liquidation price of %s: %s", position.symbol, exc)
        exact = position_liquidation(position, terms, free)
        # shown at the market's tick and rounded toward the position, never past where the venue closes it
        return None if exact is None else market.round_stop(exact, position.direction)

    async def positions(self) -> tuple[PositionView, ...]:
        """Return the active positions, oldest first, marked at the last price."""
        prices: dict[Symbol, Decimal | None] = {}
        return tuple([await self._view(p, prices) for p in await self._active()])

    async def pair_groups(self) -> tuple[PairGroupView, ...]:
        """Return the open pair groups from the engine's memory, each leg marked at the last price."""
        async with self._uow() as uow:
            memory = await uow.engine.get()
        groups = sorted((memory.groups if memory else {}).values(), key=lambda g: g.created_at)
        prices: dict[Symbol, Decimal | None] = {}
        for symbol in sorted({s for g in groups for s in g.symbols}):
            prices[symbol] = await self._price(symbol)
        return tuple(pair_group_view(g, prices) for g in groups)

    async def status(self) -> StatusView:
        """Return the trading state, why it is not active, and the open positions."""
        risk = await self._risk()
        reason = risk.halt_reason or None if risk.trading_state is not TradingState.ACTIVE else None
        return StatusView(risk.trading_state, self._mode, self._quote, await self.positions(), reason)

    async def balance(self) -> BalanceView:
        """Return equity, free quote and every non-zero asset valued at the last price."""
        account = await self._exchange.balances()
        assets: list[AssetBalance] = []
        for asset, bal in sorted(account.balances.items()):
            if bal.total == 0:
                continue
            value: Decimal | None = bal.total
            if asset != account.quote:
                price = await self._price(Symbol(f"{asset}/{account.quote}"))
                value = None if price is None else bal.total * price
            assets.append(AssetBalance(asset, bal.free, bal.used, value))
        return BalanceView(account.quote, account.equity, account.free, account.exposure, tuple(assets),
                           self._mode)

    async def health(self) -> HealthView:
        """Return whether the exchange, store and scheduler answer, and the last tick time."""
        facts = self._facts()
        problems = list(facts.problems)
        store_ok, risk, active = True, RiskState(), []
        try:
            risk, active = await self._risk(), await self._active()
        except Exception as exc:  # health reports failures instead of raising them
            store_ok = False
            problems.append(f"store: {type(exc).__name__}")
        exchange_ok = True
        breaker = facts.breaker
        if breaker is not None and not breaker.allows_entries:  # known down: no call to wait on
            exchange_ok = False
            since = breaker.down_since or breaker.since or self._clock.now()
            problems.append(f"venue down since {since:%Y-%m-%d %H:%M:%S} UTC, entries paused "
                            f"({breaker.state.value}, {breaker.failures_while_down} unanswered call(s)): "
                            f"{breaker.reason}")
        else:
            try:
                await asyncio.wait_for(self._exchange.balances(), PRICE_TIMEOUT)
            except Exception as exc:  # same: report, do not raise
                exchange_ok = False
                problems.append(f"exchange: {type(exc).__name__}")
        if not facts.scheduler_running:
            problems.append("scheduler: not running")
        return HealthView(risk.trading_state, self._mode, exchange_ok, store_ok, facts.scheduler_running,
                          facts.last_tick_at, facts.uptime_seconds, len(active), tuple(problems),
                          facts.last_backup.taken_at if facts.last_backup else None,
                          facts.last_backup.size_bytes if facts.last_backup else None,
                          breaker.state.value if breaker else "",
                          (breaker.down_since or breaker.since) if breaker else None)

    async def jobs(self) -> tuple[JobView, ...]:
        """Return the scheduled jobs with their last and next runs (none while a replay drives)."""
        return self._facts().jobs

    async def locks(self) -> tuple[LockView, ...]:
        """Return the pairs in a cooldown (no entries before ``until``)."""
        risk, now = await self._risk(), self._clock.now()
        return tuple(LockView(symbol, until, "cooldown after a closed trade")
                     for symbol, until in sorted(risk.cooldowns.items()) if until > now)

    async def strategies(self) -> tuple[StrategyView, ...]:
        """Return every registered strategy, enabled ones first, with their current parameters."""
        enabled = {e.name: e for e in self._book.strategies}
        views: list[StrategyView] = []
        params = self._book.views()
        for name, description, _spec in self._book.registry.available():
            entry = enabled.get(name)
            mine = tuple(p for p in params if p.key.startswith(f"{name}.")) if entry else ()
            pairs = tuple(entry.pairs or ()) if entry else ()
            views.append(StrategyView(name, description, entry is not None, pairs,
                                      (entry.timeframe or "") if entry else "", mine))
        return tuple(sorted(views, key=lambda v: (not v.enabled, v.name)))

    async def settings(self) -> SettingsView:
        """Return every parameter /settings may change."""
        return SettingsView(self._book.views())


class RuntimeSystemService:
    """Version, masked configuration and the recent log (``api.SystemService``)."""

    def __init__(self, *, exchange_name: str, mode: Mode, config_lines: Sequence[tuple[str, str]],
                 log_tail: Callable[[int], Sequence[str]], audit_tail: Callable[[int], Any] | None = None
                 ) -> None:
        self._exchange = exchange_name
        self._mode = mode
        self._lines = tuple(config_lines)
        self._tail = log_tail
        self._audit_tail = audit_tail

    async def version(self) -> VersionView:
        """Return the program, Python and Telegram library versions."""
        return VersionView(__version__, platform.python_version(), _version_of("python-telegram-bot"),
                           self._exchange, self._mode)

    async def config(self) -> ConfigView:
        """Return the effective configuration, secrets masked."""
        return ConfigView(self._lines)

    async def logs(self, lines: int) -> LogView:
        """Return the last ``lines`` log lines (redacted at record creation); the audit log if none."""
        lines = max(1, min(lines, 500))
        tail = list(self._tail(lines))
        if not tail and self._audit_tail is not None:
            entries: list[AuditEntry] = await self._audit_tail(lines)
            tail = [f"{e.ts:%Y-%m-%d %H:%M:%S} AUDIT {e.actor} {e.action} {e.detail} [{e.result}]"
                    for e in reversed(entries)]
        return LogView(tuple(tail[-lines:]))


def _version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def flatten_config(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Return nested config data as sorted dotted (key, value) lines."""
    if isinstance(data, dict):
        out: list[tuple[str, str]] = []
        for key, value in data.items():
            out += flatten_config(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(data, list | tuple) and data and all(isinstance(v, dict) for v in data):
        out = []
        for i, value in enumerate(data):
            out += flatten_config(value, f"{prefix}[{i}]")
        return out
    if isinstance(data, list | tuple):
        return [(prefix, ", ".join(str(v) for v in data))]
    return [(prefix, "" if data is None else str(data))]


def base_of(pair: str) -> str:
    """Return the base asset of ``BASE/QUOTE``."""
    return split_symbol(pair)[0]


def pair_group_view(group: GroupPosition, prices: Mapping[Symbol, Decimal | None]) -> PairGroupView:
    """Return the view of ``group`` with each leg marked at ``prices`` (a missing price marks nothing)."""
    legs = []
    for leg, book, symbol in zip(group.group.legs, group.books, group.symbols, strict=True):
        held = leg.held - book.exit_filled
        mark = prices.get(symbol)
        legs.append(PairLegView(leg.symbol, leg.side, held if leg.held > 0 else leg.amount, book.entry_price,
                                mark, book.pnl(leg.side, leg.held, mark)))
    spread = "long" if group.side > 0 else "short"
    return PairGroupView(group.id, group.strategy, group.group.status.value, spread, group.beta,
                         (legs[0], legs[1]), group.opened_at or group.created_at, legs[0].pnl + legs[1].pnl)
