"""Control across venue accounts: each account has its own ``EngineControlService`` (its engine, store and
exchange); this one routes to them.

- pause, resume and halt act on every account (one answer naming each account's outcome);
- a manual buy, and /unlock, go to the first account (the primary first) whose pairs list the pair,
  else to the primary: with the same pair on two accounts, the primary's wins;
- close finds the position or pair group on the account holding it; close without a target closes on
  every account;
- /settings changes the primary account's parameter book (stored in the main store, which every
  account's book reads at start); a risk setting is applied to every account's running engine too.
  /reload acts on the primary account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from trader.core.errors import InputError
from trader.services.control import EngineControlService
from trader.services.dto import Actor, BuyPreview, ClosePreview, ControlResult, SettingChange


@dataclass(frozen=True, slots=True)
class VenueControl:
    """One account's control service, its name and the pairs it trades."""

    venue: str
    pairs: tuple[str, ...]
    control: EngineControlService
    follow: Callable[[SettingChange], None] | None = None  # apply a risk change to the running account


class MultiVenueControlService:
    """Implements ``api.ControlService`` over several accounts (the primary first)."""

    def __init__(self, accounts: Sequence[VenueControl]) -> None:
        self._accounts = tuple(accounts)
        self._primary = self._accounts[0].control

    def route(self, pair: str) -> VenueControl:
        """Return the account a manual order on ``pair`` goes to."""
        wanted = pair.upper()
        return next((a for a in self._accounts if wanted in a.pairs), self._accounts[0])

    @staticmethod
    def _merged(results: Sequence[tuple[str, ControlResult]]) -> ControlResult:
        ok = any(r.ok for _, r in results)
        message = "; ".join(f"{venue}: {r.message}" for venue, r in results)
        refused = "; ".join(f"{venue}: {r.refused_reason}" for venue, r in results if r.refused_reason)
        return ControlResult(ok, message, None if ok else refused or None)

    async def pause(self, actor: Actor) -> ControlResult:
        """Pause entries on every account."""
        return self._merged([(a.venue, await a.control.pause(actor)) for a in self._accounts])

    async def resume(self, actor: Actor) -> ControlResult:
        """Resume entries on every account."""
        return self._merged([(a.venue, await a.control.resume(actor)) for a in self._accounts])

    async def halt(self, actor: Actor, *, flatten: bool) -> ControlResult:
        """Halt every account (and close every position with ``flatten``)."""
        return self._merged([(a.venue, await a.control.halt(actor, flatten=flatten)) for a in self._accounts])

    async def _holder(self, target: str) -> VenueControl | None:
        """Return the account holding the position or pair group ``target``, None if none does."""
        for account in self._accounts:
            preview = await account.control.preview_close(None)
            if any(p.id == target for p in preview.positions) or any(g.id == target for g in preview.groups):
                return account
        return None

    async def preview_close(self, target: str | None) -> ClosePreview:
        """Return the positions and pair groups ``target`` (None: all, on every account) would close, the
        positions with their account."""
        chosen = []
        groups = []
        for account in self._accounts:
            preview = await account.control.preview_close(None)
            chosen += [replace(p, venue=account.venue) for p in preview.positions
                       if target is None or p.id == target]
            groups += [g for g in preview.groups if target is None or g.id == target]
        if target is not None and not chosen and not groups:
            raise InputError(f"unknown position {target}",
                             user_message=f"No open position {target}; see /positions.")
        return ClosePreview(target, tuple(chosen), tuple(groups))

    async def close(self, target: str | None, actor: Actor) -> ControlResult:
        """Close one position or pair group on the account holding it, or everything on every account."""
        if target is None:
            return self._merged([(a.venue, await a.control.close(None, actor)) for a in self._accounts])
        holder = await self._holder(target)
        return await (holder.control if holder is not None else self._primary).close(target, actor)

    async def preview_buy(self, pair: str, amount: Decimal | None) -> BuyPreview:
        """Return the manual long as the account trading ``pair`` would send it."""
        return await self.route(pair).control.preview_buy(pair, amount)

    async def buy(self, preview: BuyPreview, actor: Actor) -> ControlResult:
        """Send the previewed long on the account trading its pair."""
        return await self.route(preview.pair).control.buy(preview, actor)

    async def preview_setting(self, key: str, value: str) -> SettingChange:
        """Validate a parameter change (the primary account's book)."""
        return await self._primary.preview_setting(key, value)

    async def apply_setting(self, change: SettingChange, actor: Actor) -> ControlResult:
        """Apply a parameter change to the primary account's book (stored); a risk one to every account."""
        result = await self._primary.apply_setting(change, actor)
        if result.ok and change.key.startswith("risk."):
            for account in self._accounts[1:]:
                if account.follow is not None:
                    account.follow(change)
        return result

    async def unlock(self, pair: str, actor: Actor) -> ControlResult:
        """Remove the cooldown on ``pair`` on the account trading it."""
        return await self.route(pair).control.unlock(pair, actor)

    async def reload(self, actor: Actor) -> ControlResult:
        """Discover strategies again (the primary account's engine)."""
        return await self._primary.reload(actor)
