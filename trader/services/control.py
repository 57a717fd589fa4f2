"""ControlService: pause, resume, halt, close, manual entry, parameter changes, unlock and reload.

Every action goes through the TradingService (so it runs the one engine cycle and is persisted there)
and is audited before it returns; refusals are values (``ControlResult(ok=False, refused_reason=...)``)
and are audited too. Parameter changes are validated by the ParameterBook, stored with their audit
entry in one transaction, then applied to the running engine by the runtime (``EngineHandle``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Protocol

from trader.core.domain.enums import Direction, TradingState
from trader.core.domain.ids import Symbol
from trader.core.errors import DataError, InputError
from trader.live.parameters import ParameterBook
from trader.live.trading import ActionResult, TradingService
from trader.ports.clock import Clock
from trader.ports.exchange import Exchange
from trader.ports.store import UnitOfWorkFactory
from trader.services.api import QueryService
from trader.services.audit import AuditService, change_detail
from trader.services.dto import (
    Actor,
    BuyPreview,
    ClosePreview,
    ControlResult,
    SettingChange,
)

logger = logging.getLogger(__name__)

MANUAL_STRATEGY = "manual"


class EngineHandle(Protocol):
    """What the runtime gives the control service: the live trading service and how to re-apply config."""

    @property
    def trading(self) -> TradingService:
        """Return the trading service the scheduler uses now."""
        ...

    def apply_parameters(self) -> None:
        """Rebuild strategies and engine options from the parameter book (after a change)."""
        ...

    def reload_strategies(self) -> int:
        """Discover strategy plugins again, rebuild the enabled ones and return how many run."""
        ...

    async def entries_blocked(self) -> str:
        """Return why start-up reconciliation blocks new entries ("" when it does not)."""
        ...

    async def acknowledge(self, actor: str) -> None:
        """Lift the reconciliation entry block."""
        ...


def _result(action: ActionResult) -> ControlResult:
    return ControlResult(action.ok, action.message, action.refused_reason)


class EngineControlService:
    """Implements ``api.ControlService`` over the TradingService, the ParameterBook and the audit log."""

    def __init__(self, engine: EngineHandle, book: ParameterBook, queries: QueryService, audit: AuditService,
                 uow_factory: UnitOfWorkFactory, exchange: Exchange, clock: Clock) -> None:
        self._engine = engine
        self._book = book
        self._queries = queries
        self._audit = audit
        self._uow = uow_factory
        self._exchange = exchange
        self._clock = clock

    async def _done(self, actor: Actor, action: str, result: ControlResult,
                    detail: str = "") -> ControlResult:
        outcome = "ok" if result.ok else f"refused: {result.refused_reason or result.message}"
        await self._audit.record(actor.label, action, detail or result.message, outcome)
        logger.info("%s by %s: %s (%s)", action, actor.label, result.message, outcome)
        return result

    async def _state(self) -> TradingState:
        return (await self._engine.trading.engine_state()).risk.trading_state

    # ── trading state ──────────────────────────────────────────────────────────────────────
    async def pause(self, actor: Actor) -> ControlResult:
        """Stop new entries; refused unless trading is active."""
        state = await self._state()
        if state is not TradingState.ACTIVE:
            refusal = ControlResult(False, "Not paused", f"trading is already {state.value}")
            return await self._done(actor, "control.pause", refusal)
        await self._engine.trading.pause(f"paused by {actor.label}")
        done = ControlResult(True, "Paused: no new positions; open ones stay protected.")
        return await self._done(actor, "control.pause", done)

    async def resume(self, actor: Actor) -> ControlResult:
        """Allow entries again after a pause, halt or reconciliation block; refused when already active."""
        active = await self._state() is TradingState.ACTIVE
        blocked = await self._engine.entries_blocked()
        if active and not blocked:
            return await self._done(actor, "control.resume",
                                    ControlResult(False, "Already active", "trading is active"))
        if not active:
            await self._engine.trading.resume(f"resumed by {actor.label}")
        if blocked:  # the admin has seen the reconciliation report; entries may start again
            await self._engine.acknowledge(actor.label)
        note = f" (acknowledged: {blocked})" if blocked else ""
        return await self._done(actor, "control.resume", ControlResult(True, f"Trading resumed.{note}"))

    async def halt(self, actor: Actor, *, flatten: bool) -> ControlResult:
        """Halt (persists across restarts); with ``flatten`` also close every position at market."""
        if not flatten and await self._state() is TradingState.HALTED:
            refusal = ControlResult(False, "Not halted", "trading is already halted")
            return await self._done(actor, "control.halt", refusal, "flatten=False")
        action = await self._engine.trading.halt(flatten, f"halted by {actor.label}")
        message = "Trading halted" + ("; closing every position at market." if flatten else ".")
        result = ControlResult(action.ok, message if action.ok else action.message, action.refused_reason)
        return await self._done(actor, "control.halt", result, f"flatten={flatten}")

    # ── closing ────────────────────────────────────────────────────────────────────────────
    async def preview_close(self, target: str | None) -> ClosePreview:
        """Return the positions ``target`` (None: all) would close; InputError for an unknown id."""
        positions = await self._queries.positions()
        chosen = tuple(p for p in positions if target is None or p.id == target)
        groups = tuple(g for g in await self._queries.pair_groups() if target is None or g.id == target)
        if target is not None and not chosen and not groups:
            raise InputError(f"unknown position {target}",
                             user_message=f"No open position {target}; see /positions.")
        return ClosePreview(target, chosen, groups)

    async def close(self, target: str | None, actor: Actor) -> ControlResult:
        """Close one position (or all) at market; refused when it is no longer open."""
        trading = self._engine.trading
        if target is None:
            return await self._done(actor, "control.close_all", _result(await trading.close_all(actor.label)))
        state = await trading.engine_state()
        if target not in state.positions and target not in state.groups:
            refusal = ControlResult(False, "Nothing closed", f"position {target} is no longer open")
            return await self._done(actor, "control.close", refusal, target)
        action = await trading.close_position(target, actor.label)
        return await self._done(actor, "control.close", _result(action), target)

    # ── manual entry ───────────────────────────────────────────────────────────────────────
    async def preview_buy(self, pair: str, amount: Decimal | None) -> BuyPreview:
        """Return the manual long exactly as it would be sent now (``step`` run dry); nothing changes.

        The amount is risk's sizing (or ``amount``) after every cap, rounded; ``capped_by`` names the cap
        that shrank it. What risk would refuse (halted, paused, blocked, the free balance cannot pay,
        below the venue minimum, ...) raises InputError here, before anyone is asked to confirm.
        """
        symbol = Symbol(pair.upper())
        down = self._engine.trading.venue_refusal()
        if down is not None:  # the venue's breaker is open: refused before asking the venue anything
            raise InputError(f"buy {symbol} refused: {down}", user_message=f"Cannot buy {symbol}: {down}.")
        market = await self._exchange.market(symbol)  # an unknown pair fails here, with the venue's message
        price = await self._exchange.last_price(symbol)
        if price <= 0:
            raise DataError(f"no price for {symbol}", user_message=f"No price for {symbol} yet.")
        dry = await self._engine.trading.preview_entry(symbol, Direction.LONG, amount, MANUAL_STRATEGY)
        if dry.approved is None:
            why = str(dry.refused)
            raise InputError(f"buy {symbol} refused: {why}", user_message=f"Cannot buy {symbol}: {why}.")
        ok = dry.approved
        return BuyPreview(symbol, ok.amount, dry.price, ok.notional, ok.stop_price, None, market.quote,
                          capped_by=ok.capped_by, requested=amount)

    async def buy(self, preview: BuyPreview, actor: Actor) -> ControlResult:
        """Send the previewed long: ``step`` judges the previewed amount again (risk may have moved)."""
        action = await self._engine.trading.force_entry(preview.pair, Direction.LONG, preview.amount,
                                                        MANUAL_STRATEGY)
        detail = f"{preview.pair} amount {preview.amount} at about {preview.price}"
        if action.ok:
            ids = ", ".join(action.position_ids)
            sent = action.amount if action.amount is not None else preview.amount
            note = "" if sent == preview.amount else \
                f" (not the previewed {preview.amount}: {action.message})"
            result = ControlResult(True, f"Buying {sent} {preview.pair} at market ({ids}){note}.",
                                   position_ids=tuple(action.position_ids))
        else:
            result = _result(action)
        return await self._done(actor, "control.buy", result, detail)

    # ── parameters ─────────────────────────────────────────────────────────────────────────
    async def preview_setting(self, key: str, value: str) -> SettingChange:
        """Validate ``value`` for ``key``; InputError names the problem and the bounds."""
        return self._book.preview(key, value)

    async def apply_setting(self, change: SettingChange, actor: Actor) -> ControlResult:
        """Re-validate, persist with its audit entry, then apply the change to the running engine."""
        current = self._book.value(change.key)
        if current != change.old:
            refusal = ControlResult(False, "Not changed", f"{change.key} changed meanwhile to {current}")
            return await self._done(actor, "param.change", refusal, change.key)
        checked = self._book.preview(change.key, change.new)
        self._book.apply(checked)
        async with self._uow() as uow:
            await self._book.save(uow, self._clock.now())
            await self._audit.record_in(uow, actor.label, "param.change",
                                        change_detail(change.key, change.old, checked.new))
            await uow.commit()
        self._engine.apply_parameters()
        logger.info("param.change by %s: %s", actor.label, change_detail(change.key, change.old, checked.new))
        return ControlResult(True, f"{change.key} is now {checked.new} (was {change.old}).")

    async def unlock(self, pair: str, actor: Actor) -> ControlResult:
        """Remove the cooldown on ``pair``; refused when it is not locked."""
        action = await self._engine.trading.unlock(pair.upper())
        return await self._done(actor, "control.unlock", _result(action), pair.upper())

    async def reload(self, actor: Actor) -> ControlResult:
        """Discover strategies again and rebuild the enabled ones with the current parameters."""
        count = self._engine.reload_strategies()
        noun = "strategy" if count == 1 else "strategies"
        return await self._done(actor, "control.reload", ControlResult(True, f"Reloaded {count} {noun}."))
