"""The compiled path's records built on first read, its money booked over arrays: every value a reader sees
(records, equity, KPIs, objective scores) equals the eager per-trade booking's, and reading only the
curve and the trade count (the optimiser) never builds a record."""

from __future__ import annotations

import pickle
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from tests.unit.core.backtest.test_fast_path import BRISK, BTC, ETH, INERT, load, trade_rows
from trader.core.analytics.kpis import compute_kpis
from trader.core.backtest import compiled_records
from trader.core.backtest.api import run_backtest
from trader.core.backtest.compiled_records import X_TAKE, Booked, LazyTrades
from trader.core.backtest.result import BacktestResult
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import CandleFrame, FloatArray
from trader.core.domain.enums import Side
from trader.core.domain.ids import Symbol
from trader.core.domain.market import MarketSpec
from trader.core.optimise.evaluate import evaluate
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective, ObjectiveName
from trader.core.sim.costs import FeeModel, Liquidity, SlippageModel
from trader.core.strategies.registry import BUILTINS, create


def eager_money(done: FloatArray, entry_open: FloatArray, settings: BacktestSettings,
                market: MarketSpec) -> Booked[np.ndarray]:
    """The booking as it was before the arrays: one call of each money rule per trade, on one Decimal."""
    fees = settings.fees or FeeModel.from_market(market)
    slippage, step = settings.slippage, market.amount_step
    columns: list[list[Decimal]] = [[], [], [], [], [], [], []]
    for row, opened in zip(done.tolist(), entry_open.tolist(), strict=True):
        amount = Decimal(int(row[5])) * step
        entry = slippage.apply(Decimal(repr(opened)), Side.BUY)
        maker = row[3] == X_TAKE
        raw = Decimal(repr(row[9]))
        exit_ = raw if maker else slippage.apply(raw, Side.SELL)
        entry_fee = fees.fee(amount * entry, Liquidity.TAKER)
        exit_fee = fees.fee(amount * exit_, Liquidity.MAKER if maker else Liquidity.TAKER)
        for column, value in zip(columns, (amount, entry, exit_, entry_fee, exit_fee, amount * entry,
                                           amount * exit_), strict=True):
            column.append(value)
    arrays = []
    for column in columns:
        array = np.empty(len(column), dtype=object)
        array[:] = column
        arrays.append(array)
    return Booked(*arrays)


def eager_curve(result: BacktestResult, frame: CandleFrame, settings: BacktestSettings) -> FloatArray:
    """The equity curve as the eager booking built it: each trade's fills from its Decimal record."""
    assert settings.fees is not None
    n = len(frame)
    at: list[int] = []
    value: list[float] = []
    fee: list[float] = []
    amounts: list[float] = []
    for t in result.trades:
        maker = t.exit_reason == "take_profit"
        entry_fee = settings.fees.fee(t.amount * t.entry_price, Liquidity.TAKER)
        exit_fee = settings.fees.fee(t.amount * t.exit_price, Liquidity.MAKER if maker else Liquidity.TAKER)
        assert entry_fee + exit_fee == t.fees
        for ms in (t.entry_time, t.exit_time):
            at.append(min(int(np.searchsorted(frame.timestamp, int(ms.timestamp() * 1000))), n - 1))
        value += [-float(t.amount * t.entry_price), float(t.amount * t.exit_price)]
        fee += [float(entry_fee), float(exit_fee)]
        amounts += [float(t.amount), -float(t.amount)]
    equity = np.full(n, float(settings.start_balance))
    flow = np.zeros(n + 1)
    np.add.at(flow, np.array(at, dtype=np.int64), np.array(value) - np.array(fee))
    equity += np.cumsum(flow)[:-1]
    holding = np.zeros(n + 1)
    np.add.at(holding, np.array(at, dtype=np.int64), np.array(amounts))
    return equity + np.cumsum(holding)[:-1] * frame.close


def settings_for(name: str, slippage: str = "0", fee: str | None = "0.001") -> BacktestSettings:
    return BacktestSettings(name, "1h", risk=INERT, fees=None if fee is None else FeeModel.flat(Decimal(fee)),
                            slippage=SlippageModel(Decimal(slippage)))


def run(name: str, candles: dict[Symbol, CandleFrame], settings: BacktestSettings) -> BacktestResult:
    result = run_backtest(create(name, BRISK[name]), candles, settings)
    assert result.path == "compiled"
    return result


@pytest.mark.parametrize("name", [cls.name for cls in BUILTINS])
@pytest.mark.parametrize(("slippage", "fee", "pairs"), [
    ("0", "0.001", (BTC,)), ("0.0007", None, (BTC,)), ("0.0003", "0.00075", (BTC, ETH))])
def test_lazy_result_equals_the_eager_booking(name: str, slippage: str, fee: str | None,
                                              pairs: tuple[Symbol, ...], monkeypatch: Any) -> None:
    candles = {p: load(p.replace("/", "_") + "-1h", 2500) for p in pairs}
    settings = settings_for(name, slippage, fee)
    lazy = run(name, candles, settings)
    curve = lazy.equity.to_numpy().copy()  # read before any record is built
    with monkeypatch.context() as patched:
        patched.setattr(compiled_records, "book_money", eager_money)
        patched.setattr(compiled_records, "book_scaled", lambda *_: None)  # the curve from Decimals too
        eager = run(name, candles, settings)
        eager_rows = trade_rows(eager)  # built while the per-trade booking is in place
    assert isinstance(lazy.trades, LazyTrades)
    assert len(lazy.trades) == len(eager_rows) > 0
    assert trade_rows(lazy) == eager_rows
    assert np.array_equal(curve, eager.equity.to_numpy())
    if len(pairs) == 1 and fee is not None:
        assert np.array_equal(curve, eager_curve(eager, candles[BTC], settings))
    assert lazy.equity.index.equals(eager.equity.index)
    assert lazy.kpis() == eager.kpis() == compute_kpis(tuple(eager.trades), eager.equity)
    assert lazy.trades == eager.trades == tuple(eager.trades)


def test_the_objective_never_builds_a_record_and_scores_as_with_the_records_built(
        monkeypatch: pytest.MonkeyPatch) -> None:
    candles = {BTC: load("BTC_USDT-1h", 3000)}
    window = Window(int(candles[BTC].timestamp[600]), int(candles[BTC].timestamp[2900]))
    settings = BacktestSettings("breakout", "1h", risk=INERT)
    objectives = [Objective(ObjectiveName.SHARPE, min_trades=1),
                  Objective(ObjectiveName.PROFIT_DD, max_drawdown=0.05, min_trades=2)]
    strategy: Any = create("breakout", BRISK["breakout"])

    def refuse(*_: object) -> tuple[object, ...]:
        raise AssertionError("the objective built the trade records")

    with monkeypatch.context() as patched:
        patched.setattr(compiled_records, "_records", refuse)
        scores = [evaluate(strategy, candles, window, settings, o, parts=2) for o in objectives]
    with monkeypatch.context() as patched:
        patched.setattr(compiled_records, "book_money", eager_money)
        patched.setattr(compiled_records, "book_scaled", lambda *_: None)  # the curve from Decimals too
        eager = [evaluate(strategy, candles, window, settings, o, parts=2) for o in objectives]
    assert scores == eager
    assert all(s.trades for s in scores), "the comparison should include trades"


def test_lazy_trades_behave_as_the_tuple() -> None:
    built: list[int] = []
    records = run("breakout", {BTC: load("BTC_USDT-1h", 2500)}, settings_for("breakout")).trades
    assert isinstance(records, LazyTrades)
    plain = tuple(records)

    def build() -> tuple[Any, ...]:
        built.append(1)
        return plain

    lazy = LazyTrades(len(plain), build)
    assert len(lazy) == len(plain) and not built and bool(lazy)
    assert lazy[0] == plain[0] and lazy[-1] == plain[-1] and lazy[1:3] == plain[1:3]
    assert list(lazy) == list(plain) and lazy == plain and plain == lazy and lazy == list(plain)
    assert built == [1], "built once, on first read"
    assert pickle.loads(pickle.dumps(lazy)) == plain
    assert lazy != plain[:-1] and not LazyTrades(0, tuple)
    with pytest.raises(AssertionError, match="announced"):
        LazyTrades(len(plain) + 1, lambda: plain).records()

