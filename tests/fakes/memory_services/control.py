"""ControlService test double: validates, refuses as values, counts changes, audits."""

from __future__ import annotations

from decimal import Decimal

from tests.fakes.memory_services.state import MARKETS, NOW, MemoryState
from trader.core.domain.enums import Direction, ExitReason, TradingState
from trader.core.errors import DataError, InputError
from trader.services.dto import (
    Actor,
    BuyPreview,
    ClosePreview,
    ControlResult,
    SettingChange,
    TradeView,
)


class MemoryControl:
    """ControlService over MemoryState: validates, refuses as values, counts changes, audits."""

    def __init__(self, s: MemoryState) -> None:
        self.s = s

    def _audit(self, actor: Actor, action: str, detail: str = "") -> None:
        self.s.audit.append((actor.label, action, detail, "ok"))

    async def pause(self, actor: Actor) -> ControlResult:
        if self.s.state is not TradingState.ACTIVE:
            return ControlResult(False, "Not paused", f"trading is {self.s.state.value}")
        self.s.state = TradingState.PAUSED
        self.s.changed()
        self._audit(actor, "pause")
        return ControlResult(True, "Paused: no new positions; open ones stay protected.")

    async def resume(self, actor: Actor) -> ControlResult:
        if self.s.state is TradingState.ACTIVE:
            return ControlResult(False, "Already active", "trading is active")
        self.s.state, self.s.halted_reason = TradingState.ACTIVE, None
        self.s.changed()
        self._audit(actor, "resume")
        return ControlResult(True, "Trading resumed.")

    async def halt(self, actor: Actor, *, flatten: bool) -> ControlResult:
        self.s.state, self.s.halted_reason = TradingState.HALTED, f"halted by {actor.name or actor.user_id}"
        closed = len(self.s.positions) if flatten else 0
        if flatten:
            await self._close_all()
        self.s.changed()
        self._audit(actor, "halt", f"flatten={flatten}")
        return ControlResult(
            True, f"Trading halted; closed {closed} positions." if flatten else "Trading halted."
        )

    async def preview_close(self, target: str | None) -> ClosePreview:
        if target is not None and target not in self.s.positions:
            raise InputError(
                f"unknown position {target}", user_message=f"No open position {target}; see /positions."
            )
        chosen = [p for p in self.s.positions.values() if target is None or p.id == target]
        return ClosePreview(target, tuple(self.s.marked(p) for p in chosen))

    async def close(self, target: str | None, actor: Actor) -> ControlResult:
        if target is not None and target not in self.s.positions:
            return ControlResult(False, "Nothing closed", f"position {target} is no longer open")
        if target is None:
            count = await self._close_all()
        else:
            self._close(target)
            count = 1
        self.s.changed()
        self._audit(actor, "close", str(target))
        return ControlResult(True, f"Closed {count} position{'s' if count != 1 else ''}.")

    async def _close_all(self) -> int:
        ids = list(self.s.positions)
        for pid in ids:
            self._close(pid)
        return len(ids)

    def _close(self, pid: str) -> None:
        p = self.s.marked(self.s.positions.pop(pid))
        self.s.cash += p.amount * (p.current_price or p.entry_price)
        self.s.trades.insert(
            0,
            TradeView(
                pid,
                p.pair,
                p.direction,
                p.amount,
                p.entry_price,
                p.current_price or p.entry_price,
                p.pnl,
                p.pnl_fraction,
                p.opened_at,
                NOW,
                ExitReason.MANUAL,
                p.strategy,
            ),
        )

    async def preview_buy(self, pair: str, amount: Decimal | None) -> BuyPreview:
        market = MARKETS.get(pair)
        if market is None:
            raise DataError(
                f"unknown pair {pair}", user_message=f"Unknown pair {pair}; tradable: {', '.join(MARKETS)}"
            )
        price = self.s.prices[pair]
        sized = (
            amount
            if amount is not None
            else self.s.cash * self.s.settings["risk.risk_per_trade"].value / price
        )
        rounded = market.round_amount(sized)
        problem = market.minimums_problem(rounded, price)
        if problem:
            raise InputError(problem, user_message=f"Cannot buy: {problem}")
        stop = market.round_stop(price * Decimal("0.98"), Direction.LONG)
        return BuyPreview(pair, rounded, price, rounded * price, stop, None, "USDT")

    async def buy(self, preview: BuyPreview, actor: Actor) -> ControlResult:
        if self.s.state is not TradingState.ACTIVE:
            return ControlResult(False, "Not bought", f"trading is {self.s.state.value}")
        if preview.cost > self.s.cash:
            return ControlResult(False, "Not bought", "insufficient free balance")
        p = self.s.open_position(preview.pair, preview.amount, preview.price, stop=preview.stop_price)
        self.s.changed()
        self._audit(actor, "buy", f"{p.id} {preview.pair} {preview.amount}")
        return ControlResult(True, f"Bought {preview.amount} {preview.pair} as {p.id}.", position_ids=(p.id,))

    async def preview_setting(self, key: str, value: str) -> SettingChange:
        setting = self.s.settings.get(key)
        if setting is None:
            raise InputError(f"unknown key {key}", user_message=f"Unknown setting {key}; see /settings.")
        try:
            new = Decimal(value)
        except ArithmeticError:
            raise InputError("not a number", user_message=f"{key} needs a number.") from None
        if not new.is_finite() or not setting.low < new <= setting.high:
            raise InputError(
                "out of bounds", user_message=f"{key} must be in {setting.low} < x <= {setting.high}."
            )
        return SettingChange(key, str(setting.value), str(new))

    async def apply_setting(self, change: SettingChange, actor: Actor) -> ControlResult:
        self.s.settings[change.key].value = Decimal(change.new)
        self.s.changed()
        self._audit(actor, "param.change", f"{change.key}: {change.old} → {change.new}")
        return ControlResult(True, f"{change.key} is now {change.new}.")

    async def unlock(self, pair: str, actor: Actor) -> ControlResult:
        if pair not in self.s.locks:
            return ControlResult(False, "Nothing unlocked", f"{pair} is not locked")
        del self.s.locks[pair]
        self.s.changed()
        self._audit(actor, "unlock", pair)
        return ControlResult(True, f"{pair} unlocked.")

    async def reload(self, actor: Actor) -> ControlResult:
        self.s.changed()
        self._audit(actor, "reload")
        return ControlResult(True, "Reloaded 2 strategies.")
