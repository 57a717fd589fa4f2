"""`tradebot optimise` end to end on the bundled candles: a small real Optuna study per test."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from trader.cli import main
from trader.cli.backtest_cmd import SAMPLE_DIR, load_candles
from trader.cli.optimise_cmd import optuna_url
from trader.core.backtest.runner import BacktestSettings
from trader.core.domain.candles import datetime_to_ms
from trader.core.domain.ids import Symbol
from trader.core.optimise.evaluate import evaluate
from trader.core.optimise.folds import Window
from trader.core.optimise.objectives import Objective, ObjectiveName
from trader.core.sim.costs import FeeModel
from trader.core.strategies.registry import create

BASE = ["optimise", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
        "--from", "2023-01-01", "--to", "2024-01-01", "--search", "lookback=10:60",
        "--search", "reward_risk=1:4:0.5", "--min-trades", "3"]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table_rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("fold  "))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def test_one_worker_study_is_seeded_and_reproducible(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--trials", "12", "--jobs", "1", "--seed", "7"]
    code, first, _ = run(args, capsys)
    assert code == 0, first
    code, second, _ = run(args, capsys)
    assert code == 0
    assert table_rows(first) == table_rows(second)  # same seed, same trials, same best
    (row,) = table_rows(first)
    assert row[:3] == ["1", "2023-01-01 00:00 → 2023-09-13 12:00", "2023-09-13 12:00 → 2024-01-01 00:00"]
    assert row[7] == "12 (0 pruned, 0 infeasible)"
    assert "maximise sharpe, at least 3 trades" in first and "1 worker process(es)" in first


@pytest.mark.parametrize("sampler", ["random", "qmc"])
def test_a_chosen_sampler_in_batches_is_named_and_reproducible(sampler: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--trials", "12", "--jobs", "1", "--seed", "7", "--sampler", sampler, "--batch", "4"]
    code, first, _ = run(args, capsys)
    assert code == 0, first
    assert f"{sampler} sampler, seed 7" in first
    assert table_rows(first)[0][7] == "12 (0 pruned, 0 infeasible)"
    code, second, _ = run(args, capsys)
    assert table_rows(first) == table_rows(second)


def test_printed_best_params_reproduce_the_printed_train_and_test_objectives(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*BASE, "--trials", "8", "--jobs", "1", "--objective", "calmar"], capsys)
    assert code == 0, out
    (row,) = table_rows(out)
    params = dict(p.split("=") for p in row[3].split())
    btc = Symbol("BTC/USDT")
    end = datetime_to_ms(datetime(2024, 1, 1, tzinfo=UTC))
    candles = {btc: load_candles(SAMPLE_DIR, btc, "1h", None, end)}
    settings = BacktestSettings("breakout", "1h", fees=FeeModel.flat(Decimal("0.001")))  # the config defaults
    objective = Objective(ObjectiveName.CALMAR, min_trades=3)
    strategy = create("breakout", params)
    train = Window(datetime_to_ms(datetime(2023, 1, 1, tzinfo=UTC)),
                   datetime_to_ms(datetime(2023, 9, 13, 12, tzinfo=UTC)))
    test = Window(train.end_ms, datetime_to_ms(datetime(2024, 1, 1, tzinfo=UTC)))
    assert f"{evaluate(strategy, candles, train, settings, objective).value:.3f}" == row[4]
    assert f"{evaluate(strategy, candles, test, settings, objective).value:.3f}" == row[5].split()[0]
    assert "latest fold's parameters: --param lookback=" in out


def test_walk_forward_with_segments_prunes_and_reports_every_fold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([*BASE, "--from", "2022-06-01", "--trials", "14", "--jobs", "1", "--folds", "3",
                          "--segments", "3", "--test-fraction", "0.25"], capsys)
    assert code == 0, out
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    tests = [r[2].split(" → ") for r in rows]
    assert tests[0][1] == tests[1][0] and tests[1][1] == tests[2][0]  # test windows follow each other
    assert all(r[1].split(" → ")[1] == r[2].split(" → ")[0] for r in rows)  # train ends where test starts
    pruned = [int(re.search(r"(\d+) pruned", r[7]).group(1)) for r in rows]  # type: ignore[union-attr]
    assert sum(pruned) > 0  # the median pruner stopped some candidates after a segment
    assert "mean sharpe: train" in out and err.count("fold ") == 3


def test_two_local_worker_processes_share_a_journal_study(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*BASE, "--trials", "10", "--jobs", "2"], capsys)
    assert code == 0, out
    assert "2 worker process(es)" in out and "temporary journal file" in out
    (row,) = table_rows(out)
    finished = int(row[7].split()[0])
    assert 10 <= finished <= 11  # the last round may overshoot by one with two workers


def test_no_feasible_trial_is_reported_not_hidden(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run([*BASE, "--trials", "4", "--jobs", "1", "--min-trades", "100000"], capsys)
    assert code == 0
    (row,) = table_rows(out)
    assert "no feasible trial" in row[4] and row[7] == "4 (0 pruned, 4 infeasible)"
    assert "no fold found a feasible parameter set" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--search", "nope"], "unknown parameter"),
    (["--search", "lookback=1:5000"], "need 2 <= low"),
    (["--storage", "not-a-url"], "is not a database URL"),
    (["--folds", "0"], "must be at least 1"),
    (["--storage", "sqlite:///x.db", "--jobs", "2"], "SQLite study locks under several worker processes"),
])
def test_bad_input_is_a_clear_error(extra: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main([*BASE, "--trials", "2", "--jobs", "1", *extra])
    except SystemExit as exc:  # argparse refuses types before the command runs
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code != 0 and message in err


def test_storage_urls_get_a_synchronous_driver() -> None:
    assert optuna_url("postgresql+asyncpg://u@h:5432/db") == "postgresql+psycopg2://u@h:5432/db"
    assert optuna_url("postgresql://u:p@h/db") == "postgresql+psycopg2://u:p@h/db"
    assert optuna_url("sqlite+aiosqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert optuna_url("mysql+pymysql://u@h/db") == "mysql+pymysql://u@h/db"


def test_a_stored_study_resumes_up_to_the_new_trial_total(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    storage = ["--storage", f"sqlite:///{tmp_path / 'studies.db'}", "--jobs", "1"]
    code, out, _ = run([*BASE, *storage, "--trials", "5"], capsys)
    assert code == 0, out
    assert table_rows(out)[0][7].startswith("5 ")
    code, out, _ = run([*BASE, *storage, "--trials", "8"], capsys)
    assert code == 0, out
    assert table_rows(out)[0][7].startswith("8 ")  # 3 more trials on the same study, not 8 new ones
    assert re.search(r"study breakout-[0-9a-f]{10} in sqlite:///", out)


def test_a_continuous_search_range_is_described_in_words_not_inf() -> None:
    from trader.cli.optimise_cmd import _points
    from trader.core.optimise.space import FloatRange, IntRange, size

    continuous = _points(size([IntRange("lookback", 10, 60, 1), FloatRange("halflife", 12.0, 720.0, None)]))
    assert continuous == "continuous (no finite count of points)"
    assert _points(size([IntRange("lookback", 10, 60, 1), FloatRange("reward_risk", 1.0, 4.0, 0.5)])) \
        == "357 points"
