"""`tradebot backtest` end to end through the real CLI dispatcher on bundled and directory data."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from trader.cli import main

SAMPLE = Path(__file__).resolve().parents[3] / "trader" / "data" / "sample"


def test_backtest_on_bundled_data_prints_report_and_writes_exports(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--strategy", "breakout", "--pairs", "BTC/USDT,ETH/USDT", "--timeframe", "1h",
                 "--from", "2023-01-01", "--to", "2023-07-01", "--csv", str(tmp_path / "t.csv"),
                 "--json", str(tmp_path / "r.json"), "--png", str(tmp_path / "e.png"),
                 "--png-trades", str(tmp_path / "trades.png"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Backtest breakout · BTC/USDT, ETH/USDT · 1h" in out and "2023-01-01" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["pairs"] == ["BTC/USDT", "ETH/USDT"]
    assert all(t["entry_time"] >= "2023-01-01" for t in data["trades"])  # warm-up candles never trade
    assert (tmp_path / "t.csv").read_text().startswith("symbol,strategy,direction")
    assert (tmp_path / "e.png").read_bytes().startswith(b"\x89PNG")
    for pair in ("BTC_USDT", "ETH_USDT"):  # one candles-with-trades chart per pair
        assert (tmp_path / f"trades-{pair}.png").read_bytes().startswith(b"\x89PNG")


def test_backtest_resamples_a_finer_file_from_data_dir(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SAMPLE / "BTC_USDT-1h.csv.gz", tmp_path / "BTC_USDT-1h.csv.gz")
    code = main(["backtest", "--strategy", "bollinger_reversion", "--pairs", "BTC/USDT", "--timeframe", "4h",
                 "--data-dir", str(tmp_path), "--param", "stop_pct=0.02", "--quiet"])
    assert code == 0
    assert "· 4h" in capsys.readouterr().out


def test_report_names_the_simulation_path_and_engine_path_forces_the_engine(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["backtest", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
            "--from", "2023-01-01", "--to", "2023-04-01", "--quiet"]
    assert main(args) == 0
    fast = capsys.readouterr().out
    assert main([*args, "--engine-path"]) == 0
    engine = capsys.readouterr().out
    assert "simulation: compiled" in fast  # default risk: guards that can act, compiled since issue 22
    assert "compiled loop: not used" not in fast
    assert "simulation: engine (asked for)" in engine

    def run_lines(report: str) -> list[str]:
        named = ("simulation:", "compiled loop:")
        return [line for line in report.splitlines() if not line.lstrip().startswith(named)]

    # the same run either way: only the lines naming the simulation differ
    assert run_lines(fast) == run_lines(engine)


def test_detail_resolves_with_minute_candles(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--strategy", "bollinger_reversion", "--pairs", "BTC/USDT", "--timeframe", "15m",
                 "--detail", "1m", "--param", "regime_filter=false", "--quiet"])
    assert code == 0
    assert "resolved with lower-timeframe candles" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--pairs", "DOGE/USDT"], "No DOGE/USDT 1h candles"),
    (["--pairs", "BTCUSDT"], "not a pair"),
    (["--from", "2023-05-01", "--to", "2023-01-01"], "--to must be after --from"),
    (["--detail", "4h"], "must be finer"),
    (["--detail", "1m"],  # the bundled minutes (mid 2024) lie after the bundled hours (2022 to April 2024)
     "--detail 1m: the BTC/USDT 1m candles (2024-07-26 .. 2024-08-25) do not overlap its 1h candles "
     "(2022-01-01 .. 2024-04-21); choose --from/--to inside both"),
    (["--param", "lookback"], "is not NAME=VALUE"),
    (["--param", "lookback=abc"], "parameter lookback: 'abc' is not an integer"),
    (["--leverage", "200"], "--leverage must be 1..125, got 200"),
    (["--funding-dir", "funding"], "--funding-dir charges perpetuals only: add --short or --leverage N"),
    (["--short", "--funding-dir", "/no/such/funding"],
     "--funding-dir /no/such/funding: no BTC_USDT-funding.csv there (write them with `tradebot data fetch "
     "--funding --pair BTC/USDT --out /no/such/funding`)"),
])
def test_bad_input_is_a_clear_error(args: list[str], message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    base = ["backtest", "--strategy", "breakout", "--timeframe", "1h", "--quiet"]
    if "--pairs" not in args:
        base += ["--pairs", "BTC/USDT"]
    assert main([*base, *args]) == 1
    assert message in capsys.readouterr().err


def test_corrupt_candle_file_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with gzip.open(tmp_path / "BTC_USDT-1h.csv.gz", "wt") as fh:
        fh.write("timestamp,open,high,low,close,volume\n2,1,1,1,1,1\n1,1,1,1,1,1\n")
    code = main(["backtest", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
                 "--data-dir", str(tmp_path), "--quiet"])
    assert code == 1
    assert "BTC_USDT-1h.csv.gz is not a valid candle file" in capsys.readouterr().err


async def _stored_runs(url: str) -> list[object]:
    from trader.adapters.store.sql.uow import Database

    database = Database.from_url(url)
    try:
        async with database.uow() as uow:
            return list(await uow.backtests.recent())
    finally:
        await database.dispose()


def test_backtest_from_stored_candles_saves_the_run(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    monkeypatch.setenv("TRADER_DATABASE__URL", sqlite_url)
    assert main(["data", "import", str(SAMPLE / "BTC_USDT-1h.csv.gz")]) == 0
    code = main(["backtest", "--strategy", "breakout", "--pairs", "BTC/USDT", "--timeframe", "1h",
                 "--from", "2023-01-01", "--to", "2023-04-01", "--source", "store", "--save", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "stored as backtest run 1" in out
    runs = asyncio.run(_stored_runs(sqlite_url))
    assert len(runs) == 1
    run = runs[0]
    assert run.strategy == "breakout" and run.pairs == ("BTC/USDT",)  # type: ignore[attr-defined]
    assert run.kpis["trades"] == len(run.trades)  # type: ignore[attr-defined]


def test_store_source_without_candles_says_how_to_get_them(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRADER_DATABASE__URL", sqlite_url)
    code = main(["backtest", "--strategy", "breakout", "--pairs", "ETH/USDT", "--timeframe", "1h",
                 "--source", "store", "--quiet"])
    assert code == 1
    assert "tradebot data" in capsys.readouterr().err


def test_dispatcher_imports_only_the_named_command_module() -> None:
    from trader.cli import _command_module

    assert _command_module(["--config", "x.toml", "backtest", "--strategy", "b"]) == "trader.cli.backtest_cmd"
    assert _command_module(["tax", "export"]) is None  # not <command>_cmd: every module is registered
    assert _command_module(["--help"]) is None


def test_short_backtest_on_leveraged_perpetuals_trades_both_directions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--strategy", "bollinger_reversion", "--pairs", "BTC/USDT,ETH/USDT",
                 "--timeframe", "1h", "--from", "2023-01-01", "--to", "2023-07-01",
                 "--short", "--leverage", "3", "--json", str(tmp_path / "r.json"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "linear perpetuals at 3x isolated margin, longs and shorts" in out
    trades = json.loads((tmp_path / "r.json").read_text())["trades"]
    assert {t["direction"] for t in trades} == {"long", "short"}
    assert {t["leverage"] for t in trades} == {"3"} and {t["funding"] for t in trades} == {"0"}
