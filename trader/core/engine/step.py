"""``step(state, StepInput) -> StepOutput``: THE trading decision, shared by backtest, paper and live.

Order inside one step (fixed, and relied on by the backtest runner):

1. risk memory: equity marks, then the account's equity (peak, daily loss, drawdown halt, day roll);
   then the control actions in the order given (``engine.actions``: halt, pause, resume, unlock,
   entry block, adopted manual exits; closes wait for step 4, manual entries for step 5);
2. funding charged on perpetual swaps since the last step, split over each pair's open positions by
   size (before this step's fills: it was charged on what was held then); then order updates: fills
   and status changes -> position transitions (``positions.machine.apply``);
3. prices: the closed candle per pair -> watched stops/targets, trailing ratchet, protection re-plan;
4. exits: a halt with flatten, explicit exit requests and ``ClosePosition`` actions, then exit
   signals of the strategy (its own positions only);
5. adds (DCA, ``risk.dca``): an OPEN position of this strategy whose candle closed at its next safety
   level gets a market add, if ``risk.adds.check_add`` allows it (``positions.dca``);
   then entries: manual entries (``EnterManually``), then entry signals -> ``risk.check`` (sizing, caps,
   guards) -> ``positions.opening``; each approved entry is reported as ``EntryApproved``;
6. the commands of all of the above, in order, plus events to announce.

Pair groups (``engine.pair_groups``) go through the same steps: their leg updates in 2, their closes in 4
(halt with flatten, exit requests of either leg's pair, ``ClosePosition`` of the group id, the pair
signal's target or stop), their entries in 5 after the single-pair entries.

``step`` is pure: no I/O and no clock (``inp.now`` is the time). The caller persists the commands
(outbox) before executing them and feeds the resulting order updates to the next step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal

from trader.core.domain.commands import CancelOrder, Command, PlaceOrder, ReplaceStop
from trader.core.domain.entries import EntryRequest, RefusalReason, Refused
from trader.core.domain.enums import Direction, ExitReason, OrderPurpose, OrderStatus, OrderType
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol
from trader.core.domain.money import D
from trader.core.domain.orders import OrderRequest
from trader.core.engine import actions as act
from trader.core.engine import pair_groups as pgs
from trader.core.engine.events import (
    EngineEvent,
    EntryApproved,
    EntryRefused,
    GroupClosed,
    GroupOpened,
    PositionClosed,
    PositionFailed,
    PositionOpened,
    StopMoved,
)
from trader.core.engine.inputs import StepInput, StepOutput
from trader.core.engine.orders import OrderRef, OrderUpdate, position_event
from trader.core.engine.state import HISTORY_LENGTH, EngineState
from trader.core.positions import dca
from trader.core.positions import position_events as ev
from trader.core.positions.machine import apply
from trader.core.positions.opening import open_position
from trader.core.positions.pair_group import GroupStatus
from trader.core.positions.protection import PositionContext
from trader.core.positions.state import Position, PositionStatus
from trader.core.risk import guards
from trader.core.risk import state as risk_state
from trader.core.risk.adds import check_add
from trader.core.risk.check import check
from trader.core.strategies.base import Signal

_DROPPED = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


def step(state: EngineState, inp: StepInput) -> StepOutput:
    """Return the state after ``inp``, the commands to execute in order, and the events to announce."""
    run = _Run(state, inp)
    run.record_equity()
    run.apply_actions()
    run.apply_funding()
    run.apply_order_updates()
    run.apply_prices()
    run.apply_exits()
    run.apply_adds()
    run.apply_entries()
    return run.output()


class _Run:
    """Accumulates one step's changes; lives only inside ``step``, so ``step`` stays pure."""

    def __init__(self, state: EngineState, inp: StepInput) -> None:
        self.inp = inp
        self.cfg = inp.config
        self.positions: dict[PositionId, Position] = dict(state.positions)
        self.orders = dict(state.orders)
        self.risk = state.risk
        self.history = state.history
        self.sequence = state.sequence
        self.blocked = state.entries_blocked
        self.groups: dict[str, pgs.GroupPosition] = dict(state.groups)
        self.commands: list[Command] = []
        self.events: list[EngineEvent] = []
        self.free = inp.account.free  # lowered by entries sent in this step

    def output(self) -> StepOutput:
        state = EngineState(self.positions, self.orders, self.risk, self.history, self.sequence, self.blocked,
                            self.groups)
        return StepOutput(state, tuple(self.commands), tuple(self.events))

    # ── 1. risk memory ───────────────────────────────────────────────────────────────────────
    def record_equity(self) -> None:
        risk_cfg = self.cfg.risk
        for at, equity in self.inp.equity_marks:
            self.risk = risk_state.on_equity(self.risk, equity, at, risk_cfg)
        self.risk = risk_state.on_equity(self.risk, self.inp.account.equity, self.inp.now, risk_cfg)

    def apply_actions(self) -> None:
        now = self.inp.now
        for action in self.inp.actions:
            if isinstance(action, act.Halt):
                self.risk = risk_state.halt(self.risk, action.reason, now, flatten=action.flatten)
            elif isinstance(action, act.Pause):
                self.risk = risk_state.pause(self.risk, action.reason, now)
            elif isinstance(action, act.Resume):
                self.risk = risk_state.resume(self.risk, now, self.inp.account.equity)
            elif isinstance(action, act.Unlock):
                cooldowns = {s: t for s, t in self.risk.cooldowns.items() if s != action.symbol}
                self.risk = replace(self.risk, cooldowns=cooldowns)
            elif isinstance(action, act.BlockEntries):
                self.blocked = action.reason
            elif isinstance(action, act.AllowEntries):
                self.blocked = ""
            elif isinstance(action, act.AdoptManualExit):
                self._adopt_manual_exit(action)

    def _adopt_manual_exit(self, action: act.AdoptManualExit) -> None:
        position = self.positions.get(action.position_id)
        if position is None:
            return  # closed meanwhile: the fill is a stranger, reconciliation reports it
        if position.status is not PositionStatus.ERROR:
            failed = ev.ErrorRaised("sold outside the bot")
            position, _ = apply(position, failed, self._context(position.symbol))
        # whatever the engine meant to do, the coins were sold by hand: that is the exit's reason
        self.positions[position.id] = replace(position, exit_reason=ExitReason.MANUAL)
        self.orders[action.client_order_id] = OrderRef(position.id, OrderPurpose.EXIT, OrderType.MARKET)

    # ── 2. order updates ─────────────────────────────────────────────────────────────────────
    def apply_order_updates(self) -> None:
        for update in self.inp.order_updates:
            ref = self.orders.get(update.client_order_id)
            if ref is None:
                continue  # not ours, or already settled: reconciliation deals with strangers
            if update.status in _DROPPED and update.fill is None:
                del self.orders[update.client_order_id]
            position = self.positions.get(ref.position_id)
            if position is None:
                self._group_update(ref.position_id, update)
                continue
            event = position_event(ref, update, position.direction, self.inp.now)
            if event is not None:
                self.transition(position, event)

    def apply_funding(self) -> None:
        for symbol in sorted(self.inp.funding):
            paid = self.inp.funding[symbol]
            holders = [p for p in self._active(symbol) if p.open_amount > 0]
            legs = pgs.legs_holding(self.groups.values(), symbol)  # pair group legs share it by size too
            held = sum((p.open_amount for p in holders), Decimal(0)) + sum((a for *_, a in legs), Decimal(0))
            if not paid or held <= 0:
                continue  # charged on a position no longer ours: reconciliation shows the difference
            left = paid
            for i, position in enumerate(holders):
                share = left if i == len(holders) - 1 and not legs else paid * position.open_amount / held
                left -= share
                self.transition(position, ev.FundingPaid(share, self.inp.now))
            for i, (group_id, leg, amount) in enumerate(legs):
                share = left if i == len(legs) - 1 else paid * amount / held
                left -= share
                self.groups[group_id] = pgs.book_funding(self.groups[group_id], leg, share)

    # ── 3. prices ────────────────────────────────────────────────────────────────────────────
    def apply_prices(self) -> None:
        for symbol, candle in self.inp.prices.items():
            for position in self._active(symbol):
                self.transition(position, candle)

    # ── 4. exits ─────────────────────────────────────────────────────────────────────────────
    def apply_exits(self) -> None:
        now = self.inp.now
        if self.risk.flatten_requested:
            for position in list(self.positions.values()):
                self.transition(position, ev.ExitRequested(ExitReason.HALT, now))
            self._close_groups(lambda _: True, ExitReason.HALT)
            self.risk = risk_state.flatten_done(self.risk)
        for symbol, reason in self.inp.exit_requests.items():
            for position in self._active(symbol):
                self.transition(position, ev.ExitRequested(reason, now))
            self._close_groups(lambda g, s=symbol: s in g.symbols, reason)  # type: ignore[misc]
        self._close_requested()
        self._pair_exits()
        for symbol, signal in self.inp.signals.items():
            for position in self._active(symbol):
                if position.strategy != self.cfg.strategy:
                    continue  # another strategy's (or a manual) position follows its own exits
                wants_out = signal.exit_long if position.is_long else signal.exit_short
                if wants_out and position.status is PositionStatus.OPEN:
                    self.transition(position, ev.ExitRequested(ExitReason.SIGNAL, now))

    def _close_requested(self) -> None:
        for action in self.inp.actions:
            if isinstance(action, act.ClosePosition) and action.position_id in self.positions:
                position = self.positions[action.position_id]
                self.transition(position, ev.ExitRequested(action.reason, self.inp.now))
            elif isinstance(action, act.ClosePosition) and action.position_id in self.groups:
                self._close_group(self.groups[action.position_id], action.reason.value)

    # ── 5. adds, then entries ────────────────────────────────────────────────────────────────
    def apply_adds(self) -> None:
        rules = self.cfg.risk.dca
        if not rules.enabled:
            return
        for position in sorted(self.positions.values(), key=lambda p: p.id):
            candle = self.inp.prices.get(position.symbol)
            if position.strategy != self.cfg.strategy or candle is None:
                continue
            level = dca.trigger_level(position, rules)
            if level is None or not dca.triggered(level, float(candle.close), position.direction):
                continue
            market = self._context(position.symbol).market
            amount = dca.add_amount(position, rules, market)
            account = replace(self.inp.account, free=self.free)
            refusal = check_add(position, amount, candle.close, account, state=self.risk,
                                positions=list(self.positions.values()), market=market, cfg=self.cfg.risk)
            if refusal is not None:
                self.positions[position.id] = dca.skip_add(position)
                detail = f"safety order {dca.adds_done(position) + 1}: {refusal.detail}"
                self._refuse(position.symbol, position.strategy, replace(refusal, detail=detail))
                continue
            added, commands = dca.place_add(position, amount, self._context(position.symbol))
            self.positions[position.id] = added
            self.free -= amount * candle.close * (1 + market.taker_fee)
            self._track(commands)

    def apply_entries(self) -> None:
        for action in self.inp.actions:
            if isinstance(action, act.EnterManually):
                self.enter(action.symbol, action.direction, action.strategy, amount=action.amount)
        for symbol in sorted(self.inp.signals):
            signal = self.inp.signals[symbol]
            if signal.enter_long and not signal.exit_long:
                self.enter(symbol, Direction.LONG, self.cfg.strategy, signal)
            elif signal.enter_short and not signal.exit_short and self.cfg.allow_short:
                self.enter(symbol, Direction.SHORT, self.cfg.strategy, signal)
        for key in sorted(self.inp.pair_signals):
            self._enter_pair(self.inp.pair_signals[key])

    def enter(self, symbol: Symbol, direction: Direction, strategy: str, signal: Signal | None = None, *,
              amount: Decimal | None = None) -> None:
        now, market = self.inp.now, self.cfg.markets.get(symbol)
        candle = self.inp.prices.get(symbol)
        if market is None or candle is None:
            missing = "market" if market is None else "closing price"
            refusal = Refused(RefusalReason.INVALID_REQUEST, f"no {missing} for {symbol}")
            self._refuse(symbol, strategy, refusal)
            return
        if self.blocked:
            self._refuse(symbol, strategy, Refused(RefusalReason.ENTRIES_BLOCKED, self.blocked))
            return
        if self.cfg.venue_down:
            self._refuse(symbol, strategy, Refused(RefusalReason.VENUE_DOWN, self.cfg.venue_down))
            return
        stop = None if signal is None or signal.stop_loss is None else D(signal.stop_loss)
        take = None if signal is None or signal.take_profit is None else D(signal.take_profit)
        if self.cfg.risk.dca.enabled:  # DCA plans both exits from the (average) entry price itself
            stop, take = dca.exits_from_average(candle.close, direction, self.cfg.risk.dca, market)
        request = EntryRequest(
            symbol=symbol, direction=direction, entry_price=candle.close, stop_price=stop,
            strategy=strategy, confidence=1.0 if signal is None else signal.confidence,
            take_profit=take, reason="manual" if signal is None else signal.reason, amount=amount,
        )
        account = replace(self.inp.account, free=self.free)
        decision = check(request, account, self.risk, list(self.positions.values()), market,
                         self.cfg.risk, history=self.history, now=now)
        if isinstance(decision, Refused):
            self._refuse(symbol, strategy, decision)
            return
        self.sequence += 1
        position_id = PositionId(f"{strategy}-{symbol}-{now:%Y%m%dT%H%M}-{self.sequence}")
        position, commands = open_position(position_id, request, decision, now, self._context(symbol))
        self.positions[position_id] = position
        if market.futures is None:
            self.free -= decision.notional * (1 + market.taker_fee)
        else:  # a swap ties up its margin, not its notional
            self.free -= decision.margin + decision.notional * market.taker_fee
        self.risk = risk_state.on_entry(self.risk, now, self.inp.account.equity, self.cfg.risk)
        self._track(commands)
        self.events.append(EntryApproved(position_id, symbol, strategy, decision, now))

    # ── pair groups (``engine.pair_groups``) ─────────────────────────────────────────────────
    def _pair_exits(self) -> None:
        for before in list(self.groups.values()):
            signal = self.inp.pair_signals.get(before.key)
            group = before
            if signal is not None or any(s in self.inp.prices for s in group.symbols):
                group, commands = pgs.resend(before)  # closing orders the venue dropped: again, with a price
                self.groups[group.id] = group
                self._track(commands)
            if signal is None or group.strategy != self.cfg.strategy:
                continue
            stop = signal.stop_long if group.side > 0 else signal.stop_short
            target = signal.exit_long if group.side > 0 else signal.exit_short
            if stop or target:
                self._close_group(group, ExitReason.STOP_LOSS.value if stop else ExitReason.SIGNAL.value)

    def _enter_pair(self, signal: pgs.PairSignal) -> None:
        side = 1 if signal.enter_long else -1 if signal.enter_short else 0
        held = any(g.key == signal.key and g.strategy == self.cfg.strategy for g in self.groups.values())
        if side == 0 or held:
            return
        now, strategy, equity = self.inp.now, self.cfg.strategy, self.inp.account.equity
        refusal = self._pair_refusal(signal)
        if refusal is None:
            markets = (self.cfg.markets[signal.y], self.cfg.markets[signal.x])
            prices = (self.inp.prices[signal.y].close, self.inp.prices[signal.x].close)
            group_id = f"{strategy}-{signal.y}-{signal.x}-{now:%Y%m%dT%H%M}-{self.sequence + 1}"
            opened = pgs.open_pair(group_id, signal, side, prices, markets, equity, self.free,
                                   self.cfg.pair_leg_fraction, strategy, now)
            if not isinstance(opened, Refused):
                group, commands, cost = opened
                self.sequence += 1
                self.groups[group.id] = group
                self.free -= cost
                self.risk = risk_state.on_entry(self.risk, now, equity, self.cfg.risk)
                self._track(commands)
                return
            refusal = opened
        self._refuse(signal.y, strategy, refusal)

    def _pair_refusal(self, signal: pgs.PairSignal) -> Refused | None:
        if any(s not in self.cfg.markets or s not in self.inp.prices for s in (signal.y, signal.x)):
            return Refused(RefusalReason.INVALID_REQUEST, f"no market or closing price for {signal.key}")
        if self.blocked:
            return Refused(RefusalReason.ENTRIES_BLOCKED, self.blocked)
        if self.cfg.venue_down:
            return Refused(RefusalReason.VENUE_DOWN, self.cfg.venue_down)
        equity, today = self.inp.account.equity, risk_state.trading_day(self.inp.now, self.cfg.risk.timezone)
        return (guards.trading_state_guard(self.risk)
                or guards.drawdown_guard(self.risk, equity, self.cfg.risk)
                or guards.daily_loss_guard(self.risk, equity, today, self.cfg.risk)
                or guards.trades_per_day_guard(self.risk, today, self.cfg.risk))

    def _close_groups(self, which: Callable[[pgs.GroupPosition], bool], reason: ExitReason) -> None:
        for group in [g for g in self.groups.values() if which(g)]:
            self._close_group(group, reason.value)

    def _close_group(self, group: pgs.GroupPosition, reason: str) -> None:
        new, commands = pgs.close_pair(group, reason, self.inp.now)
        self.groups[new.id] = new
        self._track(commands)

    def _group_update(self, leg_id: PositionId, update: OrderUpdate) -> None:
        found = pgs.split_leg_id(leg_id)
        group = None if found is None else self.groups.get(found[0])
        if found is None or group is None:
            return
        new, commands = pgs.on_update(group, found[1], update, self.inp.now)
        self._track(commands)
        if new.group.status is GroupStatus.OPEN and group.group.status is not GroupStatus.OPEN:
            self.events.append(GroupOpened(new, self.inp.now))
        if not new.settled:
            self.groups[new.id] = new
            return
        done = pgs.finish(new, self.inp.now)
        del self.groups[new.id]
        legs = {pgs.leg_position_id(new.id, 0), pgs.leg_position_id(new.id, 1)}
        self.orders = {cid: ref for cid, ref in self.orders.items() if ref.position_id not in legs}
        if done.group.status is GroupStatus.CLOSED:
            pnl = done.realised_pnl
            reason = ExitReason(done.exit_reason) if done.exit_reason else None
            self.risk = risk_state.on_trade_closed(self.risk, done.symbols[0], pnl, reason, self.inp.now,
                                                   self.cfg.risk)
            self.history = (*self.history, pnl)[-HISTORY_LENGTH:]
        markets = (self.cfg.markets.get(done.symbols[0]), self.cfg.markets.get(done.symbols[1]))
        leverages = tuple(D(1) if m is None or m.futures is None else m.futures.leverage for m in markets)
        trades = pgs.leg_positions(done, (leverages[0], leverages[1]))
        self.events.append(GroupClosed(done, self.inp.now, trades))

    def _refuse(self, symbol: Symbol, strategy: str, refusal: Refused) -> None:
        self.events.append(EntryRefused(symbol, strategy, refusal, self.inp.now))

    # ── transitions and bookkeeping ──────────────────────────────────────────────────────────
    def transition(self, position: Position, event: ev.PositionEvent) -> None:
        new, commands = apply(position, event, self._context(position.symbol))
        self._track(commands)
        now = self.inp.now
        if new.status is PositionStatus.OPEN and position.status is PositionStatus.PENDING_ENTRY:
            self.events.append(PositionOpened(new, now))
        if new.stop_price is not None and new.stop_price != position.stop_price and \
                position.status is PositionStatus.OPEN:
            self.events.append(StopMoved(new.id, new.symbol, position.stop_price, new.stop_price, now))
        if new.status is PositionStatus.ERROR and position.status is not PositionStatus.ERROR:
            self.events.append(PositionFailed(new, now))
        if new.status.is_terminal:
            self._finish(new)
        else:
            self.positions[new.id] = new

    def _finish(self, position: Position) -> None:
        del self.positions[position.id]
        self.orders = {cid: ref for cid, ref in self.orders.items() if ref.position_id != position.id}
        if position.filled > 0:
            pnl = position.realised_pnl
            self.risk = risk_state.on_trade_closed(self.risk, position.symbol, pnl, position.exit_reason,
                                                   self.inp.now, self.cfg.risk)
            self.history = (*self.history, pnl)[-HISTORY_LENGTH:]
        self.events.append(PositionClosed(position, self.inp.now))

    def _track(self, commands: Iterable[Command]) -> None:
        for command in commands:
            self.commands.append(command)
            if isinstance(command, PlaceOrder):
                self._remember(command.request)
            elif isinstance(command, ReplaceStop):
                self._cancelling(command.cancel_client_order_id)
                self._remember(command.request)
            elif isinstance(command, CancelOrder):
                self._cancelling(command.client_order_id)

    def _remember(self, request: OrderRequest) -> None:
        take_profit = request.price if request.type is OrderType.OCO else None
        self.orders[request.client_order_id] = OrderRef(request.position_id, request.purpose, request.type,
                                                        take_profit)

    def _cancelling(self, client_order_id: ClientOrderId) -> None:
        ref = self.orders.get(client_order_id)
        if ref is not None:
            self.orders[client_order_id] = replace(ref, cancelling=True)

    def _active(self, symbol: Symbol) -> list[Position]:
        return [p for p in self.positions.values() if p.symbol == symbol]

    def _context(self, symbol: Symbol) -> PositionContext:
        return self.cfg.context(symbol)

