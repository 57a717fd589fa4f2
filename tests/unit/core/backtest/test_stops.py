"""Backtest reports say why trading stopped: drawdown halt, daily-loss days, refused entry signals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from trader.config import RiskConfig
from trader.core.backtest.api import run_backtest
from trader.core.backtest.report import result_json, text_report
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.backtest.stops import StopLog
from trader.core.domain.candles import CandleFrame
from trader.core.domain.entries import RefusalReason, Refused
from trader.core.domain.enums import TradingState
from trader.core.domain.ids import Symbol
from trader.core.engine.events import EntryRefused
from trader.core.engine.inputs import StepOutput
from trader.core.engine.state import EngineState
from trader.core.risk.state import RiskState
from trader.core.strategies.registry import create

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"
BTC = Symbol("BTC/USDT")
TIGHT = RiskConfig(max_drawdown_pct=Decimal("0.03"), daily_loss_limit_pct=Decimal("0.004"),
                   risk_per_trade=Decimal("0.02"), max_position_pct=Decimal("0.9"))


def _run(risk: RiskConfig) -> BacktestResult:
    candles = CandleFrame.from_dataframe(pd.read_csv(SAMPLE / "BTC_USDT-1h.csv.gz")).slice(0, 6000)
    return run_backtest(create("breakout", {}), {BTC: candles}, BacktestSettings("breakout", "1h", risk=risk))


@pytest.fixture(scope="module")
def halted() -> BacktestResult:
    return _run(TIGHT)


def test_a_drawdown_halt_is_recorded_with_its_time_and_every_later_signal_is_refused(
        halted: BacktestResult) -> None:
    [halt] = halted.stops.halts
    assert halt.reason.startswith("drawdown") and "reached the limit" in halt.reason
    assert all(t.entry_time < halt.at for t in halted.trades)  # nothing opened after the halt
    [refused] = halted.stops.refusals
    assert refused.reason == "halted" and refused.count == halted.stops.refused > 5
    assert halt.at < refused.first <= refused.last
    assert halted.stops.daily_loss_days and all(d <= halt.at.date() for d in halted.stops.daily_loss_days)


def test_the_text_report_says_why_trading_stopped(halted: BacktestResult) -> None:
    text = text_report(halted)
    halt = halted.stops.halts[0]
    assert f"Trading halted {halt.at:%Y-%m-%d %H:%M} UTC: {halt.reason}" in text
    assert f"Daily loss limit hit on {len(halted.stops.daily_loss_days)} day(s)" in text
    first = halted.stops.refusals[0].first
    assert f"Entry signals refused by risk: {halted.stops.refused}: halted {halted.stops.refused} " \
           f"(from {first:%Y-%m-%d %H:%M})" in text


def test_the_json_export_carries_halts_loss_days_and_refusals(halted: BacktestResult) -> None:
    stops = json.loads(result_json(halted))["trading_stops"]
    halt = halted.stops.halts[0]
    assert stops["halts"] == [{"at": halt.at.isoformat(), "reason": halt.reason}]
    assert stops["daily_loss_days"] == [d.isoformat() for d in halted.stops.daily_loss_days]
    assert stops["refused_entries"] == halted.stops.refused
    [refusal] = stops["refusals"]
    assert refusal["reason"] == "halted" and refusal["count"] == halted.stops.refused


def test_a_run_that_never_stopped_reports_nothing() -> None:
    result = _run(RiskConfig(max_drawdown_pct=Decimal("0.9"), daily_loss_limit_pct=Decimal("0.9"),
                             cooldown_minutes=0, cooldown_after_loss_minutes=0))
    assert not result.stops and result.trades
    text = text_report(result)
    assert "halted" not in text and "refused" not in text and "Daily loss" not in text
    assert json.loads(result_json(result))["trading_stops"] == {
        "halts": [], "daily_loss_days": [], "refused_entries": 0, "refusals": []}


def _at(hour: int) -> datetime:
    return datetime(2024, 1, 2, hour, tzinfo=UTC)


def _refused(reason: RefusalReason, hour: int) -> EntryRefused:
    return EntryRefused(BTC, "s", Refused(reason, "x"), _at(hour))


def test_the_log_counts_each_rule_with_its_first_and_last_refusal_most_refused_first() -> None:
    log = StopLog()
    calm = RiskState()
    halted = RiskState(trading_state=TradingState.HALTED, halt_reason="manual halt", changed_at=_at(3))
    log.observe(calm, StepOutput(EngineState(risk=calm), (), (_refused(RefusalReason.COOLDOWN, 1),)))
    log.observe(calm, StepOutput(EngineState(risk=halted), (), (_refused(RefusalReason.HALTED, 4),)))
    log.observe(halted, StepOutput(EngineState(risk=halted), (), (_refused(RefusalReason.HALTED, 5),)))
    report = log.report()
    assert [(h.at, h.reason) for h in report.halts] == [(_at(3), "manual halt")]  # recorded once
    assert [(r.reason, r.count, r.first, r.last) for r in report.refusals] == [
        ("halted", 2, _at(4), _at(5)), ("cooldown", 1, _at(1), _at(1))]
    assert report.refused == 3 and not report.daily_loss_days
