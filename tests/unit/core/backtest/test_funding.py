"""Funding in a backtest of perpetuals: charged from the funding-rate history on what is held at each
funding time, booked on the positions, in the ledger and in the equity curve alike."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from tests.e2e.test_replay_equals_backtest import PARAMS, TRAILING, hourly
from trader.core.backtest.api import run_backtest
from trader.core.backtest.markets import default_market
from trader.core.backtest.runner import BacktestSettings, compute_signals, simulate
from trader.core.domain.enums import Direction
from trader.core.domain.futures import FuturesTerms
from trader.core.sim.costs import FeeModel
from trader.core.strategies.registry import create

D = Decimal
EIGHT_HOURS = 8 * 3_600_000


def _settings(rate: Decimal | None) -> tuple[BacktestSettings, dict]:  # type: ignore[type-arg]
    frames = hourly()
    first = int(min(f.timestamp[0] for f in frames.values()))
    last = int(max(f.timestamp[-1] for f in frames.values()))
    start = first - first % EIGHT_HOURS + EIGHT_HOURS
    times = range(start, last, EIGHT_HOURS)
    funding = {} if rate is None else {s: tuple((t, rate) for t in times) for s in frames}
    settings = BacktestSettings("bollinger_reversion", "1h", risk=TRAILING, fees=FeeModel.flat(D("0.001")),
                                allow_short=True, futures=FuturesTerms(D(3)), funding=funding)
    return settings, frames


def _run(rate: Decimal | None):  # type: ignore[no-untyped-def]
    settings, frames = _settings(rate)
    strategy = create("bollinger_reversion", PARAMS["bollinger_reversion"])
    markets = {s: default_market(s, float(f.close[0])) for s, f in frames.items()}
    return simulate(compute_signals(strategy, frames), frames, markets, settings)


def test_a_positive_rate_is_paid_by_longs_and_received_by_shorts_and_books_everywhere() -> None:
    run = _run(D("0.0005"))
    held_over_funding = [p for p in run.positions if p.funding != 0]
    assert len(held_over_funding) >= 5
    assert all((p.funding > 0) == (p.direction is Direction.LONG) for p in held_over_funding)
    assert {p.direction for p in held_over_funding} == {Direction.LONG, Direction.SHORT}
    # what the positions booked is what the ledger charged, to the last digit
    assert sum((p.funding for p in run.positions), D(0)) == sum((paid for _, paid in run.funding), D(0))
    # and the account ends where the trades say: start + every realised PnL (fees and funding in)
    cash = run.timeline.equity_curve(run.fills, D(10_000), run.funding)[-1]
    assert np.isclose(cash, float(D(10_000) + sum((p.realised_pnl for p in run.positions), D(0))))


def test_without_funding_history_nothing_is_charged_and_a_zero_rate_changes_nothing() -> None:
    bare, zero = _run(None), _run(D(0))
    assert bare.funding == () and all(p.funding == 0 for p in bare.positions)
    pnl = [(p.id, p.realised_pnl) for p in bare.positions]
    assert pnl == [(p.id, p.realised_pnl) for p in zero.positions]


def test_the_backtest_report_counts_funding_in_the_equity() -> None:
    settings, frames = _settings(D("0.001"))
    strategy = create("bollinger_reversion", PARAMS["bollinger_reversion"])
    paying = run_backtest(strategy, frames, settings)
    free, _ = _settings(None)
    assert paying.end_equity != run_backtest(strategy, frames, free).end_equity
