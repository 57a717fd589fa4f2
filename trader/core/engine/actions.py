"""Control actions: every change of engine state that is not a fill, a price or a signal.

They are ``StepInput.actions`` and are applied by ``step`` itself, right after the risk memory and
before order updates, in the order given (``ClosePosition`` with the exits, ``EnterManually`` with
the entries), so a halt, a pause, a manual entry or a reconciliation block
is booked, persisted and announced by the same path as a strategy's trade; nothing outside ``step``
rewrites the state. Frozen, imperative (they are commands to the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trader.core.domain.enums import Direction, ExitReason
from trader.core.domain.ids import ClientOrderId, PositionId, Symbol


@dataclass(frozen=True, slots=True)
class Halt:
    """Stop every new entry until resumed (persists across restarts); ``flatten`` closes every position."""

    reason: str
    flatten: bool = False


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop new entries; open positions keep their protection. A halt is not downgraded."""

    reason: str


@dataclass(frozen=True, slots=True)
class Resume:
    """Allow entries again; the drawdown peak restarts at the account's equity of this step."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Unlock:
    """Remove the entry cooldown of ``symbol``."""

    symbol: Symbol


@dataclass(frozen=True, slots=True)
class BlockEntries:
    """Refuse every new entry (ENTRIES_BLOCKED) until ``AllowEntries``; set by start-up reconciliation."""

    reason: str


@dataclass(frozen=True, slots=True)
class AllowEntries:
    """Lift a ``BlockEntries`` (an admin acknowledged the reconciliation differences)."""


@dataclass(frozen=True, slots=True)
class EnterManually:
    """Open a position by hand, judged by the same ``risk.check`` as a strategy's entry signal.

    ``amount`` (base) replaces risk's sizing when given; the caps still apply (and name themselves in
    ``EntryApproved.decision.capped_by``), and an amount whose cost exceeds the free balance is refused.
    The reference price is ``StepInput.prices[symbol].close``, as for a signal.
    """

    symbol: Symbol
    direction: Direction
    amount: Decimal | None = None
    strategy: str = "manual"


@dataclass(frozen=True, slots=True)
class ClosePosition:
    """Close one position at market (``/close ID``); a position no longer active is left alone."""

    position_id: PositionId
    reason: ExitReason = ExitReason.MANUAL


@dataclass(frozen=True, slots=True)
class AdoptManualExit:
    """Book a fill made outside the bot (``client_order_id``, fed as an order update) as ``position``'s exit.

    The position goes to ERROR (it lost its coins behind our back) with exit reason MANUAL; the fill in
    the same step's order updates then closes it through the position machine.
    """

    position_id: PositionId
    client_order_id: ClientOrderId


ControlAction = (Halt | Pause | Resume | Unlock | BlockEntries | AllowEntries | EnterManually | ClosePosition
                 | AdoptManualExit)
