"""A configured pairs strategy: ``[[strategies]] name = "pairs"`` with its two pairs and parameters.

The pairs strategy reads two candle frames, so it is not a registry (single-pair) strategy; the engine
runs it as pair groups (``engine.pair_groups``). This module turns a configuration entry into the
validated setup (``PairSetup``) and computes the row for the last closed candle, with the same
``compute_pair`` the pairs backtest runs on the whole history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from trader.core.domain.candles import CandleFrame
from trader.core.errors import StrategyError
from trader.core.strategies.base import Param
from trader.core.strategies.pairs import PairParams, aligned, compute_pair

PAIRS_NAME: Final = "pairs"
PARAM_DOCS: Final[Mapping[str, str]] = {
    "window": "OLS window of the hedge ratio, candles (720)",
    "halflife": "EWMA half-life of the spread's mean and variance, candles (168)",
    "entry_z": "enter when z crosses this band (3)",
    "exit_z": "close when |z| is back inside this band (0.5)",
    "stop_z": "stop out at |z| beyond this band (5)",
    "leg_fraction": "the y leg's notional as a fraction of equity; the x leg is beta x that (0.3)",
}

# The declared ranges ``tradebot optimise --strategy pairs`` searches (defaults as ``PairParams``).
PARAMS_SPEC: Final[Mapping[str, Param]] = {
    "window": Param(720, 100, 2000, 20, doc=PARAM_DOCS["window"]),
    "halflife": Param(168.0, 12.0, 720.0, doc=PARAM_DOCS["halflife"]),
    "entry_z": Param(3.0, 1.0, 4.5, 0.25, doc=PARAM_DOCS["entry_z"]),
    "exit_z": Param(0.5, 0.0, 1.5, 0.25, doc=PARAM_DOCS["exit_z"]),
    "stop_z": Param(5.0, 3.0, 8.0, 0.5, doc=PARAM_DOCS["stop_z"]),
    "leg_fraction": Param(0.3, 0.05, 1.0, 0.05, doc=PARAM_DOCS["leg_fraction"]),
}


@dataclass(frozen=True, slots=True)
class PairRow:
    """The strategy's statistics and signals on the last closed candle of both legs."""

    timestamp: int
    beta: float
    zscore: float
    enter_long: bool
    enter_short: bool
    exit_long: bool
    exit_short: bool
    stop_long: bool
    stop_short: bool


@dataclass(frozen=True, slots=True)
class PairSetup:
    """The couple (``y``, ``x``), the statistics' parameters and the leg size."""

    y: str
    x: str
    params: PairParams
    leg_fraction: Decimal = Decimal("0.3")

    @property
    def required_history(self) -> int:
        """Return the candles each leg needs before the last row equals the whole history's."""
        return self.params.required_history

    def latest(self, y: CandleFrame, x: CandleFrame) -> PairRow | None:
        """Return the row of the last candle both legs share, or None when they share none."""
        y, x = aligned(y.tail(self.required_history), x.tail(self.required_history))
        if len(y) == 0:
            return None
        s = compute_pair(y, x, self.params)
        return PairRow(int(s.timestamp[-1]), float(s.beta[-1]), float(s.zscore[-1]), bool(s.enter_long[-1]),
                       bool(s.enter_short[-1]), bool(s.exit_long[-1]), bool(s.exit_short[-1]),
                       bool(s.stop_long[-1]), bool(s.stop_short[-1]))


def pair_setup(pairs: Sequence[str] | None, params: Mapping[str, Any]) -> PairSetup:
    """Return the validated setup of a pairs entry; StrategyError naming what is wrong."""
    if pairs is None or len(pairs) != 2 or pairs[0] == pairs[1]:
        raise StrategyError("pairs: list exactly two different pairs, the y leg first "
                            "(pairs = [\"ETH/USDT\", \"BTC/USDT\"])")
    unknown = sorted(set(params) - set(PARAM_DOCS))
    if unknown:
        known = ", ".join(PARAM_DOCS)
        raise StrategyError(f"pairs: unknown parameter(s) {', '.join(unknown)}; known: {known}")
    try:
        stats = {k: float(v) for k, v in params.items() if k not in ("window", "leg_fraction")}
        window = int(params.get("window", 720))
        fraction = Decimal(str(params.get("leg_fraction", "0.3")))
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise StrategyError(f"pairs: parameter is not a number: {exc}") from exc
    if not Decimal(0) < fraction <= Decimal(1):
        raise StrategyError(f"pairs: leg_fraction must be in (0, 1], got {fraction}")
    return PairSetup(pairs[0], pairs[1], PairParams(window=window, **stats), fraction)
