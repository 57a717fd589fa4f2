"""Start-up reconciliation: make the store agree with the exchange before any new entry.

``Reconciler.run`` blocks new entries, then:

1. executes the outbox left by a crash (idempotent on client ids: adopts or sends, never duplicates);
2. adopts what happened while we were down through ``engine.step``: fills and status changes of our
   orders (a stop that filled closes its position), and exits done by hand on the exchange (a fill on
   an open position's pair that is not ours is booked as that position's manual exit);
3. cancels orphaned protective orders (ours by client id, but no position needs them);
4. re-places missing protection: an OPEN position whose working stop is not resting gets a new one;
5. checks that the account holds the coins the open positions and pair-group legs claim (a leg missing
   or different is an unresolved difference, as a position whose coins vanished: ``reconcile_groups``).

It returns a ReconcileReport and pushes a ``reconcile`` alert. New entries stay blocked while the
report has unresolved differences, until ``acknowledge`` (an admin) lifts the block. The block, its
lifting and the adoption of a manual exit are ``engine.actions`` run through ``step`` like any trade.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from trader.core.domain.alerts import Alert, Severity
from trader.core.domain.enums import OrderStatus, Side
from trader.core.domain.ids import ClientOrderId, Symbol
from trader.core.engine.actions import AdoptManualExit, AllowEntries, BlockEntries
from trader.core.engine.orders import OrderUpdate
from trader.core.errors import OrderNotFound
from trader.core.positions.protection import working_id
from trader.core.positions.state import Position, PositionStatus
from trader.live.engine_runner import CycleInput, EngineRunner
from trader.live.monitor import is_protected
from trader.live.reconcile_groups import LegClaim, agrees, claims_by_pair, leg_claims, leg_problem
from trader.ports.store import OrderRecord

logger = logging.getLogger(__name__)

BLOCKED = "reconciliation in progress"
Marked = dict[ClientOrderId, Position]  # the manual fill's adopted client id -> the position it closes
_HOLDING = frozenset({PositionStatus.OPEN, PositionStatus.ERROR})  # may have been sold by hand
BALANCE_TOLERANCE = Decimal("0.01")  # fees in the base asset and rounding: 1 % of the claimed amount


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the store and the exchange disagreed, and whether reconciliation fixed it."""

    kind: str  # adopted_fill, closed_by_hand, orphan_cancelled, foreign_order, protection_replaced, ...
    detail: str
    resolved: bool


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What reconciliation found and did; entries are allowed once ``clean`` or acknowledged."""

    at: datetime
    adopted_fills: int
    differences: tuple[Difference, ...] = ()
    acknowledged_by: str | None = None

    @property
    def unresolved(self) -> tuple[Difference, ...]:
        """Return the differences reconciliation could not fix."""
        return tuple(d for d in self.differences if not d.resolved)

    @property
    def clean(self) -> bool:
        """Return True when nothing is left unresolved."""
        return not self.unresolved

    def headline(self) -> str:
        """Return the one-line count of what reconciliation found."""
        return (f"Reconciliation: {self.adopted_fills} fill(s) adopted, {len(self.differences)} "
                f"difference(s), {len(self.unresolved)} unresolved")

    def summary(self) -> str:
        """Return the report in a few lines for the alert (and the log when something is unresolved)."""
        head = self.headline()
        lines = [f"- {'ok' if d.resolved else 'OPEN'} {d.kind}: {d.detail}" for d in self.differences]
        tail = "New entries are allowed." if self.clean else "New entries stay blocked until acknowledged."
        return "\n".join([head, *lines, tail])


class Reconciler:
    """Compare the store with the exchange at start-up and repair what can be repaired."""

    def __init__(self, runner: EngineRunner, symbols: Sequence[str] = ()) -> None:
        self._runner = runner
        self._symbols = tuple(Symbol(s) for s in symbols)
        self.last_report: ReconcileReport | None = None

    async def run(self) -> ReconcileReport:
        """Reconcile (see the module doc); return the report, also pushed as an alert."""
        runner = self._runner
        await runner.cycle(CycleInput(actions=(BlockEntries(BLOCKED),)), [])
        fills_before = await self._fill_count()
        differences: list[Difference] = []
        await runner.drain()
        naked = await self._naked()
        manual, marked = await self._manual_exits(differences)
        pairs = await self._pairs()
        adopt = tuple(AdoptManualExit(position.id, cid) for cid, position in marked.items())
        await runner.cycle(CycleInput(order_updates=manual, all_pairs=pairs, actions=adopt), None)
        differences += await self._orphans(pairs)
        await self._replace_missing([p for p in naked if p.id not in {m.id for m in marked.values()}],
                                    differences)
        differences += await self._balances()
        snap = await runner.snapshot()
        if snap.outbox:
            differences.append(Difference("unresolved_intent", f"{len(snap.outbox)} command(s) still waiting "
                                          "for the exchange", False))
        adopted = await self._fill_count() - fills_before
        report = ReconcileReport(runner.clock.now(), adopted, tuple(differences))
        severity = Severity.INFO if report.clean else Severity.WARNING
        block = "" if report.clean else f"{len(report.unresolved)} unresolved difference(s) at reconciliation"
        await runner.cycle(CycleInput(actions=(BlockEntries(block) if block else AllowEntries(),)), [],
                           extra_alerts=[Alert("reconcile", report.summary(), severity)])
        # the alert carries the whole report to the user (the console in a headless run); the log keeps
        # one line, and the details only when something needs a look
        if report.clean:
            logger.info("%s", report.headline())
        else:
            logger.warning("%s", report.summary())
        self.last_report = report
        return report

    async def acknowledge(self, actor: str) -> ReconcileReport:
        """Lift the entry block after an admin looked at the unresolved differences."""
        await self._runner.cycle(CycleInput(actions=(AllowEntries(),)), [], extra_alerts=[
            Alert("reconcile", f"Reconciliation differences acknowledged by {actor}; entries allowed.")])
        base = self.last_report or ReconcileReport(self._runner.clock.now(), 0)
        self.last_report = replace(base, acknowledged_by=actor)
        return self.last_report

    # ── steps ───────────────────────────────────────────────────────────────────────────────
    async def _fill_count(self) -> int:
        async with self._runner.uow_factory() as uow:
            return len(await uow.fills.since(datetime(1970, 1, 1, tzinfo=UTC)))

    async def _pairs(self) -> tuple[Symbol, ...]:
        snap = await self._runner.snapshot()
        async with self._runner.uow_factory() as uow:
            records = await uow.orders.open()
        return tuple(sorted({*self._symbols, *(p.symbol for p in snap.state.positions.values()),
                             *(r.symbol for r in records)}))

    async def _manual_exits(self, differences: list[Difference]) -> tuple[tuple[OrderUpdate, ...], Marked]:
        """Find exit-side fills on open positions' pairs that are not ours: sold (or bought) by hand."""
        snap = await self._runner.snapshot()
        updates: list[OrderUpdate] = []
        marked: Marked = {}
        for position in snap.state.positions.values():
            if position.status not in _HOLDING or position.opened_at is None:
                continue
            left = position.open_amount
            for fill in await self._runner.exchange.fills_since(position.symbol, position.opened_at):
                if fill.side is not position.direction.exit_side or left <= 0 \
                        or await self._is_ours(fill.client_order_id):
                    continue
                cid = ClientOrderId(f"manual{fill.trade_id}")
                amount = min(fill.amount, left)
                left -= amount
                adopted = replace(fill, client_order_id=cid, amount=amount)
                updates.append(OrderUpdate(cid, OrderStatus.FILLED, adopted))
                marked[cid] = position
                differences.append(Difference(
                    "closed_by_hand", f"{position.id}: {amount} sold outside the bot at {fill.price} "
                                      f"(trade {fill.trade_id}); booked as a manual exit", True))
        return tuple(updates), marked

    async def _is_ours(self, client_order_id: str) -> bool:
        if not client_order_id:
            return False
        async with self._runner.uow_factory() as uow:
            return await uow.orders.get(ClientOrderId(client_order_id)) is not None

    async def _orphans(self, pairs: Iterable[Symbol]) -> list[Difference]:
        """Cancel our resting orders that no position needs; report orders placed outside the bot."""
        found: list[Difference] = []
        snap = await self._runner.snapshot()
        for symbol in pairs:
            for order in await self._runner.exchange.open_orders(symbol):
                ref = snap.state.orders.get(order.client_order_id)
                if ref is not None and not ref.cancelling:
                    continue
                if ref is None and not await self._is_ours(order.client_order_id):
                    name = order.client_order_id or order.exchange_order_id
                    found.append(Difference("foreign_order", f"{order.symbol} {order.side} {order.amount} "
                                            f"({name}) placed outside the bot: left alone", True))
                    continue
                try:
                    await self._runner.exchange.cancel(symbol, order.client_order_id)
                except OrderNotFound:
                    pass
                found.append(Difference("orphan_cancelled", f"{order.client_order_id} on {symbol} "
                                        f"({order.type} {order.amount}) no longer needed: cancelled", True))
        if found:
            await self._runner.cycle(CycleInput(), None)  # book the cancellations in the store
        return found

    async def _naked(self) -> list[Position]:
        """Return OPEN positions neither watched by the engine nor with their stop resting on the venue."""
        snap = await self._runner.snapshot()
        naked = []
        resting: dict[Symbol, set[str]] = {}
        for position in snap.state.positions.values():
            if is_protected(position, []):  # not OPEN, or watched by the engine
                continue
            if position.symbol not in resting:
                orders = await self._runner.exchange.open_orders(position.symbol)
                resting[position.symbol] = {o.client_order_id for o in orders}
            if working_id(position) not in resting[position.symbol]:
                naked.append(position)
        return naked

    async def _replace_missing(self, naked_before: list[Position], differences: list[Difference]) -> None:
        """Re-place the stop of every OPEN position still without one; report each that had none."""
        still = await self._naked()
        updates = tuple(OrderUpdate(cid, OrderStatus.CANCELLED, reason="missing at reconciliation")
                        for p in still if (cid := working_id(p)) is not None)
        if updates:  # the engine re-plans protection when its working stop is reported gone
            await self._runner.cycle(CycleInput(order_updates=updates), None)
        after = {p.id for p in await self._naked()}
        active = (await self._runner.snapshot()).state.positions
        for position in {p.id: p for p in (*naked_before, *still)}.values():
            if position.id not in active:
                continue  # closed meanwhile (its stop filled while we were down): nothing to protect
            ok = position.id not in after
            verb = "re-placed" if ok else "could not be re-placed"
            differences.append(Difference("protection_replaced" if ok else "unprotected",
                                          f"{position.id}: no stop was resting on the exchange; {verb}", ok))

    async def _open_records(self) -> list[OrderRecord]:
        async with self._runner.uow_factory() as uow:
            return await uow.orders.open()

    async def _balances(self) -> list[Difference]:
        """Report positions and pair-group legs claiming more than the account holds: coins on spot,
        contracts on perpetuals (``reconcile_groups``)."""
        snap = await self._runner.snapshot()
        holding = [p for p in snap.state.positions.values()
                   if p.status in (PositionStatus.OPEN, PositionStatus.EXITING) and p.open_amount > 0]
        legs = leg_claims(snap.state.groups)
        if not holding and not legs:
            return []
        account = await self._runner.exchange.balances()
        if account.positions is not None:
            return _perpetual_differences(holding, legs, account.positions)
        claimed: dict[str, Decimal] = {}
        for position in holding:
            if position.is_long:
                base = position.symbol.split("/")[0]
                claimed[base] = claimed.get(base, Decimal(0)) + position.open_amount
        bought = [c for c in legs if c.side is Side.BUY]  # a spot short leg sold coins held: nothing to see
        for claim in bought:
            base = claim.symbol.split("/")[0]
            claimed[base] = claimed.get(base, Decimal(0)) + claim.amount
        found = []
        for asset, amount in sorted(claimed.items()):
            held = account.balances[asset].total if asset in account.balances else Decimal(0)
            if agrees(amount, held, BALANCE_TOLERANCE):
                continue
            mine = [c for c in bought if c.symbol.split("/")[0] == asset]
            venue_has = f"the account holds {held} {asset}"
            found += [Difference("group_leg_mismatch", leg_problem(c, amount, held, venue_has), False)
                      for c in mine]
            if not mine or any(p.is_long and p.symbol.split("/")[0] == asset for p in holding):
                found.append(Difference("balance_mismatch", f"open positions hold {amount} {asset} but the "
                                        f"account has {held}", False))
        return found


def _perpetual_differences(holding: Iterable[Position], legs: Iterable[LegClaim],
                           venue: dict[str, Decimal]) -> list[Difference]:
    """Compare the positions' and group legs' signed amounts per pair with the venue's positions (shorts
    negative)."""
    claimed: dict[str, Decimal] = {}
    singles: set[str] = set()
    for position in holding:
        signed = position.open_amount if position.is_long else -position.open_amount
        claimed[position.symbol] = claimed.get(position.symbol, Decimal(0)) + signed
        singles.add(position.symbol)
    by_pair = claims_by_pair(legs)
    for pair, claims in by_pair.items():
        claimed[pair] = claimed.get(pair, Decimal(0)) + sum((c.signed for c in claims), Decimal(0))
    found = []
    for symbol, amount in sorted(claimed.items()):
        held = venue.get(symbol, Decimal(0))
        if agrees(amount, held, BALANCE_TOLERANCE):
            continue
        venue_has = f"the venue's {symbol} position is {held}"
        found += [Difference("group_leg_mismatch", leg_problem(c, amount, held, venue_has), False)
                  for c in by_pair.get(Symbol(symbol), ())]
        if symbol in singles:
            found.append(Difference("position_mismatch", f"open positions hold {amount} {symbol} but the "
                                    f"venue's position is {held}", False))
    return found
