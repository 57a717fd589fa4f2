"""Pure inputs of the analytics: closed trades, open positions and the equity curve.

Live records (from the store) and backtest results map to these same types, so one set of KPI
functions serves both. Money is Decimal; times are aware UTC datetimes; the equity curve is a float64
pandas Series on a UTC DatetimeIndex (float is fine there: it only feeds ratios and charts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from trader.core import memo
from trader.core.domain.enums import Direction

FloatArray = npt.NDArray[np.float64]


def _check_utc(name: str, moment: datetime) -> None:
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"{name} is naive: times must be timezone-aware UTC")
    if offset != timedelta(0):
        raise ValueError(f"{name} is not UTC (offset {offset})")


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One closed round trip; ``pnl`` is net of ``fees`` in the quote currency."""

    symbol: str
    strategy: str
    direction: Direction
    entry_time: datetime
    exit_time: datetime
    entry_price: Decimal
    exit_price: Decimal
    amount: Decimal
    fees: Decimal
    pnl: Decimal
    exit_reason: str
    confidence: float | None = None
    id: str = ""  # the position id where the trade was live or paper; empty in a backtest
    entry_reason: str = ""  # what the strategy said when it entered (backtests keep it)
    mae: float = 0.0  # worst excursion against the position, a fraction of the entry price (backtests)
    mfe: float = 0.0  # best excursion in its favour, a fraction of the entry price (backtests)
    leverage: Decimal = Decimal(1)  # above 1 on a perpetual swap
    funding: Decimal = Decimal(0)  # perpetual swaps: funding paid (negative: received), inside ``pnl``

    def __post_init__(self) -> None:
        _check_utc("entry_time", self.entry_time)
        _check_utc("exit_time", self.exit_time)
        if self.exit_time < self.entry_time:
            raise ValueError(f"trade {self.symbol}: exit {self.exit_time} before entry {self.entry_time}")
        if self.amount <= 0 or self.entry_price <= 0 or self.exit_price <= 0:
            raise ValueError(f"trade {self.symbol}: amount and prices must be positive")
        if self.fees < 0:
            raise ValueError(f"trade {self.symbol}: fees must not be negative")

    @property
    def is_win(self) -> bool:
        """Return True when the net PnL is positive."""
        return self.pnl > 0

    @property
    def is_loss(self) -> bool:
        """Return True when the net PnL is negative (zero is neither a win nor a loss)."""
        return self.pnl < 0

    @property
    def cost(self) -> Decimal:
        """Return the entry notional (entry price x amount) in the quote currency."""
        return self.entry_price * self.amount

    @property
    def return_fraction(self) -> Decimal:
        """Return the net PnL as a fraction of the entry notional (0.019 = 1.9 %)."""
        return self.pnl / self.cost

    @property
    def duration(self) -> timedelta:
        """Return how long the position was held."""
        return self.exit_time - self.entry_time


@dataclass(frozen=True, slots=True)
class OpenPosition:
    """An open position marked at the latest price (for the live account KPIs)."""

    symbol: str
    direction: Direction
    amount: Decimal
    entry_price: Decimal
    mark_price: Decimal
    entry_time: datetime

    def __post_init__(self) -> None:
        _check_utc("entry_time", self.entry_time)
        if self.amount <= 0:
            raise ValueError(f"position {self.symbol}: amount must be positive")

    @property
    def sign(self) -> int:
        """Return +1 for a long, -1 for a short."""
        return 1 if self.direction is Direction.LONG else -1

    @property
    def notional(self) -> Decimal:
        """Return the absolute market value at the mark price."""
        return self.amount * self.mark_price

    def unrealised_from(self, reference_price: Decimal) -> Decimal:
        """Return the PnL from ``reference_price`` to the mark price (before exit fees)."""
        return (self.mark_price - reference_price) * self.amount * self.sign

    @property
    def unrealised_pnl(self) -> Decimal:
        """Return the PnL from the entry price to the mark price (before exit fees)."""
        return self.unrealised_from(self.entry_price)


@dataclass(frozen=True, slots=True)
class TradeArrays:
    """Columnar float/int64 view of trades for vectorised maths (times in ns since epoch, UTC)."""

    pnl: FloatArray
    entry_ns: npt.NDArray[np.int64]
    exit_ns: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.pnl)


def trade_arrays(trades: Sequence[TradeRecord]) -> TradeArrays:
    """Return the trades as columns (one pass; the maths after it is vectorised)."""
    n = len(trades)
    pnl = np.fromiter((float(t.pnl) for t in trades), dtype=np.float64, count=n)
    entry = np.fromiter((_ns(t.entry_time) for t in trades), dtype=np.int64, count=n)
    exit_ = np.fromiter((_ns(t.exit_time) for t in trades), dtype=np.int64, count=n)
    return TradeArrays(pnl=pnl, entry_ns=entry, exit_ns=exit_)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _ns(moment: datetime) -> int:
    # exact integer arithmetic; ~10x faster than building a pandas Timestamp per trade
    return (moment - _EPOCH) // _MICROSECOND * 1000


def trades_frame(trades: Sequence[TradeRecord]) -> pd.DataFrame:
    """Return one row per trade (pnl and fees as Decimal objects, times as UTC timestamps)."""
    columns = {name: [getattr(t, name) for t in trades] for name in TradeRecord.__slots__}
    frame = pd.DataFrame(columns, columns=list(TradeRecord.__slots__))
    for col in ("entry_time", "exit_time"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def equity_curve(times: Sequence[datetime] | pd.DatetimeIndex | npt.NDArray[np.int64],
                 values: Sequence[float] | FloatArray | Sequence[Decimal]) -> pd.Series:
    """Return a validated equity curve; integer ``times`` are epoch milliseconds (the candle unit)."""
    if isinstance(times, np.ndarray) and np.issubdtype(times.dtype, np.integer):
        cache = memo.active()
        if cache is None:
            index = _ms_index(times)
        else:  # an optimiser batch: every trial on a window marks equity at the same times
            stamps = times.astype(np.int64).tobytes()  # keyed by content: equal bytes, equal index
            index = cache.shared(("equity-index", stamps), (), lambda: _ms_index(times), freeze=False,
                                 size=2 * len(stamps))
    else:
        index = pd.DatetimeIndex(list(times))
        if index.tz is None:
            raise ValueError("equity curve times are naive: they must be timezone-aware UTC")
        index = index.tz_convert("UTC")
    series = pd.Series(np.asarray(values, dtype=np.float64), index=index, name="equity")
    return check_equity(series)


def _ms_index(times: npt.NDArray[np.int64]) -> pd.DatetimeIndex:
    # nanoseconds by one integer product, read as UTC: the same index as pd.to_datetime(unit="ms",
    # utc=True) and as numpy's two unit casts then tz_localize, without their copies (a year of
    # minutes: 0.15 ms instead of 50 and 3.5)
    return pd.DatetimeIndex(np.multiply(times, 1_000_000, dtype=np.int64), dtype=_UTC_NS)


_UTC_NS = pd.DatetimeTZDtype("ns", "UTC")


def check_equity(equity: pd.Series) -> pd.Series:
    """Return ``equity`` unchanged after checking its index is UTC, increasing and its values finite."""
    index = equity.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("equity curve needs a timezone-aware (UTC) DatetimeIndex")
    if len(index) > 1 and not index.is_monotonic_increasing:
        raise ValueError("equity curve times must be increasing")
    values = equity.to_numpy(dtype=np.float64)
    if len(values) and (values > 0).all() and np.isfinite(values.max()):  # two passes where all is well
        return equity
    if not np.all(np.isfinite(values)):
        raise ValueError("equity curve has NaN or infinite values")
    if np.any(values <= 0):
        raise ValueError("equity curve must stay positive (returns are undefined otherwise)")
    return equity
