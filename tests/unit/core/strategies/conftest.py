"""Real bundled candles for strategy tests, and the example plugin installed into the running venv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.unit.core.strategies.plugin_install import ensure_example_plugin
from trader.core.domain.candles import CandleFrame

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"

# Installed at collection time so that tests parametrised over the registry include the plugin.
ensure_example_plugin()


def load_sample(name: str, rows: int | None = None) -> CandleFrame:
    """Return a bundled sample file as a CandleFrame (optionally only its first ``rows``)."""
    df = pd.read_csv(SAMPLE / f"{name}.csv.gz")
    return CandleFrame.from_dataframe(df if rows is None else df.head(rows))


@pytest.fixture(scope="session")
def btc_1h() -> CandleFrame:
    """Return BTC/USDT 1h candles since 2022 (about 20,000 rows)."""
    return load_sample("BTC_USDT-1h")


@pytest.fixture(scope="session")
def btc_1m() -> CandleFrame:
    """Return a month of BTC/USDT 1m candles."""
    return load_sample("BTC_USDT-1m")
