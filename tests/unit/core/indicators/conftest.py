"""Real bundled candles for indicator cross-checks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SAMPLE = Path(__file__).resolve().parents[4] / "trader" / "data" / "sample"


@pytest.fixture(scope="session", params=["BTC_USDT-1h", "BTC_USDT-1m"])
def candles(request: pytest.FixtureRequest) -> pd.DataFrame:
    """Return a bundled real candle file (first 20,000 rows keep the pandas references quick)."""
    return pd.read_csv(SAMPLE / f"{request.param}.csv.gz").head(20_000)
