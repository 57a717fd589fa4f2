"""Read models across venue accounts: /status, /positions, /balance and /health of a service trading
several venues, each line carrying its account's name, with totals.

Each account has its own ``LiveQueryService`` (its store, its exchange); this one asks them all and
merges. The totals add only accounts quoted in the primary's currency (a Nobitex account in IRT is
listed on its own, marked outside the totals). A venue that does not answer is shown as such instead
of failing the whole view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from trader.core.domain.money import ZERO
from trader.services.dto import (
    BalanceView,
    HealthView,
    JobView,
    LockView,
    PositionView,
    SettingsView,
    StatusView,
    StrategyView,
    VenueBalance,
    VenueState,
)
from trader.services.pair_dto import PairGroupView
from trader.services.queries import LiveQueryService

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VenueQueries:
    """One account's read side: its name, exchange id, query service and why its entries pause."""

    venue: str
    exchange: str
    queries: LiveQueryService
    paused: Callable[[], str] = field(default=lambda: "")  # the breaker's "venue down since ..." or ""


class MultiVenueQueryService:
    """Implements ``api.QueryService`` over several accounts' query services (the primary first)."""

    def __init__(self, accounts: Sequence[VenueQueries]) -> None:
        self._accounts = tuple(accounts)
        self._primary = self._accounts[0].queries

    def account(self, venue: str) -> LiveQueryService:
        """Return the query service of the account named ``venue`` (KeyError for an unknown name)."""
        return next(a.queries for a in self._accounts if a.venue == venue)

    async def positions(self) -> tuple[PositionView, ...]:
        """Return every account's active positions, each marked with its account, accounts in order."""
        out: list[PositionView] = []
        for account in self._accounts:
            out += [replace(p, venue=account.venue) for p in await account.queries.positions()]
        return tuple(out)

    async def status(self) -> StatusView:
        """Return the primary's trading state, one line per account and every account's positions."""
        lines: list[VenueState] = []
        positions: list[PositionView] = []
        halted: list[str] = []
        first: StatusView | None = None
        for account in self._accounts:
            view = await account.queries.status()
            first = first or view
            note = view.halted_reason or account.paused()
            lines.append(VenueState(account.venue, account.exchange, view.mode, view.state,
                                    len(view.positions), note))
            positions += [replace(p, venue=account.venue) for p in view.positions]
            if view.halted_reason:
                halted.append(f"{account.venue}: {view.halted_reason}")
        assert first is not None  # at least one account
        return StatusView(first.state, first.mode, first.quote, tuple(positions),
                          "; ".join(halted) or None, tuple(lines))

    async def balance(self) -> BalanceView:
        """Return each account's balance and the totals of those quoted in the primary's currency."""
        views: list[VenueBalance] = []
        quote, mode = "", None
        for account in self._accounts:
            try:
                view = await account.queries.balance()
            except Exception as exc:  # one silent venue must not hide the others' balances
                logger.warning("no balance from venue %s: %s", account.venue, exc)
                views.append(VenueBalance(account.venue, account.exchange, quote or "?", ZERO, ZERO, ZERO, (),
                                          in_total=False, note=f"no answer ({type(exc).__name__})"))
                continue
            quote = quote or view.quote
            mode = mode or view.mode
            views.append(VenueBalance(account.venue, account.exchange, view.quote, view.equity, view.free,
                                      view.exposure, view.assets, view.mode, in_total=view.quote == quote))
        counted = [v for v in views if v.in_total]
        equity, free = sum((v.equity for v in counted), ZERO), sum((v.free for v in counted), ZERO)
        return BalanceView(quote, equity, free, sum((v.exposure for v in counted), ZERO), (),
                           mode or views[0].mode, tuple(views))

    async def health(self) -> HealthView:
        """Return the primary's health with every further account's problems named by account."""
        view = await self._primary.health()
        problems = list(view.problems)
        exchange_ok, store_ok, positions = view.exchange_ok, view.store_ok, view.open_positions
        for account in self._accounts[1:]:
            other = await account.queries.health()
            problems += [f"{account.venue}: {p}" for p in other.problems if not p.startswith("scheduler")]
            exchange_ok = exchange_ok and other.exchange_ok
            store_ok = store_ok and other.store_ok
            positions += other.open_positions
        return replace(view, exchange_ok=exchange_ok, store_ok=store_ok, open_positions=positions,
                       problems=tuple(problems))

    async def locks(self) -> tuple[LockView, ...]:
        """Return every account's cooldowns."""
        out: list[LockView] = []
        for account in self._accounts:
            out += await account.queries.locks()
        return tuple(out)

    async def pair_groups(self) -> tuple[PairGroupView, ...]:
        """Return every account's open pair groups, accounts in order."""
        out: list[PairGroupView] = []
        for account in self._accounts:
            out += await account.queries.pair_groups()
        return tuple(out)

    async def jobs(self) -> tuple[JobView, ...]:
        """Return the scheduled jobs (one scheduler runs every account's)."""
        return await self._primary.jobs()

    async def strategies(self) -> tuple[StrategyView, ...]:
        """Return every registered strategy, enabled on whichever account trades it."""
        found: dict[str, StrategyView] = {}
        for account in self._accounts:
            for view in await account.queries.strategies():
                if view.enabled or view.name not in found:
                    found[view.name] = view
        return tuple(sorted(found.values(), key=lambda v: (not v.enabled, v.name)))

    async def settings(self) -> SettingsView:
        """Return the parameters /settings may change (the primary account's book; a risk change reaches
        every account)."""
        return await self._primary.settings()
