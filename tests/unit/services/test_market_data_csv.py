"""CSV candle files: parsing, validation errors naming file and line, names giving pair and timeframe."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from trader.core.errors import InputError
from trader.services.candle_csv import read_candle_csv, series_from_name

HEADER = "timestamp,open,high,low,close,volume\n"
GOOD = ["1704067200000,42000.5,42100,41900,42050.25,12.5", "1704070800000,42050.25,42200,42000,42150,7"]


def write(tmp_path: Path, lines: list[str], name: str = "BTC_USDT-1h.csv", header: bool = True) -> Path:
    path = tmp_path / name
    path.write_text((HEADER if header else "") + "\n".join(lines) + "\n")
    return path


def test_reads_plain_and_gzip_files_alike(tmp_path: Path) -> None:
    plain = read_candle_csv(write(tmp_path, GOOD))
    gz = tmp_path / "BTC_USDT-1h.csv.gz"
    gz.write_bytes(gzip.compress((HEADER + "\n".join(GOOD)).encode()))
    packed = read_candle_csv(gz)
    assert list(plain.timestamp) == list(packed.timestamp) == [1704067200000, 1704070800000]
    assert np.array_equal(plain.close, np.array([42050.25, 42150.0]))
    assert np.array_equal(plain.volume, packed.volume)


def test_file_without_header_is_accepted(tmp_path: Path) -> None:
    assert len(read_candle_csv(write(tmp_path, GOOD, header=False))) == 2


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("1704074400000,1,2,0.5", "expected 6 fields"),
        ("1704074400000,1,2,abc,1.5,3", "low 'abc' is not a number"),
        ("1704074400.5,1,2,0.5,1.5,3", "not whole milliseconds"),
        ("1704074400,1,2,0.5,1.5,3", "seconds instead of milliseconds"),
        ("1704074400000,1,2,0.5,1.5,-3", "volume '-3' must be a finite number >= 0"),
        ("1704074400000,1,2,0.5,nan,3", "close 'nan' must be a finite"),
        ("1704074400000,1,1.2,0.5,1.5,3", "high is below open or close"),
        ("1704074400000,1,2,1.2,1.5,3", "low is above open or close"),
        ("1704067200000,1,2,0.5,1.5,3", "not after the previous row"),
        ("1704074400000,0,2,0,1.5,3", r"a price is not a finite number in \(0, 1e\+15\]"),
        ("1704074400000,1,1e308,0.5,1.5,3", "a price is not a finite number"),
        ("4102444800000,1,2,0.5,1.5,3", "is after 2100"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path: Path, bad_row: str, message: str) -> None:
    path = write(tmp_path, [*GOOD, bad_row])
    with pytest.raises(InputError, match=message) as info:
        read_candle_csv(path)
    assert f"{path}:4:" in str(info.value)


def test_wrong_header_and_empty_and_missing_files_are_input_errors(tmp_path: Path) -> None:
    wrong = tmp_path / "x.csv"
    wrong.write_text("time,o,h,l,c,v\n" + GOOD[0] + "\n")
    with pytest.raises(InputError, match=r"x\.csv:1: header"):
        read_candle_csv(wrong)
    with pytest.raises(InputError, match="no candles"):
        read_candle_csv(write(tmp_path, [], name="empty.csv"))
    with pytest.raises(InputError, match="cannot read"):
        read_candle_csv(tmp_path / "missing.csv")
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(b"timestamp")[:12])
    with pytest.raises(InputError, match="cannot read"):
        read_candle_csv(broken)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("BTC_USDT-1h.csv.gz", ("BTC/USDT", "1h")), ("eth_btc-5m.csv", ("ETH/BTC", "5m")),
     ("SOL_USDT-1d.csv.gz", ("SOL/USDT", "1d"))],
)
def test_series_from_name(name: str, expected: tuple[str, str]) -> None:
    assert series_from_name(Path(name)) == expected


@pytest.mark.parametrize("name", ["btc.csv", "BTC_USDT.csv.gz", "BTC_USDT-1x.csv", "BTC-USDT-1h.csv"])
def test_unparseable_name_asks_for_symbol_and_timeframe(name: str) -> None:
    with pytest.raises(InputError, match="--symbol and --timeframe"):
        series_from_name(Path(name))


def test_bundled_sample_parses(tmp_path: Path) -> None:
    from trader.services.market_data import sample_files

    files = {p.name: p for p in sample_files()}
    assert {"BTC_USDT-1h.csv.gz", "ETH_USDT-1h.csv.gz", "BTC_USDT-1m.csv.gz"} <= set(files)
    frame = read_candle_csv(files["BTC_USDT-1h.csv.gz"])
    assert frame.timestamp[0] == 1640995200000 and len(frame) > 15_000


def test_byte_order_mark_and_windows_line_endings_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "BTC_USDT-1h.csv"
    path.write_bytes(("\ufeff" + HEADER + "\r\n".join(GOOD) + "\r\n").encode())
    assert len(read_candle_csv(path)) == 2
