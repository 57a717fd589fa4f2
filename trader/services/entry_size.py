"""Cap a forced entry at the amount the user asked for (never above what risk sized)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from trader.domain.commands import Command, PlaceOrder
from trader.domain.enums import OrderPurpose
from trader.domain.market import MarketSpec
from trader.engine.inputs import StepOutput
from trader.positions.state import PositionStatus
from trader.services.engine_runner import Adjust
from trader.services.engine_store import EngineSnapshot


def limit_entry(amount: Decimal, market: MarketSpec) -> Adjust:
    """Return an adjustment that lowers the new entry to ``amount`` (rounded down), or refuses it.

    Risk approved the larger size, so a smaller one stays within every cap; a size below the venue's
    minimums is refused before anything is stored or sent.
    """

    def adjust(out: StepOutput, before: EngineSnapshot) -> StepOutput | str:
        commands: list[Command] = []
        positions = dict(out.state.positions)
        for command in out.commands:
            request = command.request if isinstance(command, PlaceOrder) else None
            if request is None or request.purpose is not OrderPurpose.ENTRY or \
                    request.position_id in before.state.positions:
                commands.append(command)
                continue
            wanted = market.round_amount(min(amount, request.amount))
            reference = request.price or positions[request.position_id].requested_price or Decimal(0)
            problem = market.minimums_problem(wanted, reference)
            if problem is not None:
                return f"amount {amount} {market.base}: {problem}"
            commands.append(PlaceOrder(replace(request, amount=wanted)))
            position = positions[request.position_id]
            if position.status is PositionStatus.PENDING_ENTRY:
                positions[request.position_id] = replace(position, amount=wanted)
        state = replace(out.state, positions=positions)
        return StepOutput(state, tuple(commands), out.events)

    return adjust
