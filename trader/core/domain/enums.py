"""String enums of the domain; values are stable and stored in the database."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        """Return the other side."""
        return Side.SELL if self is Side.BUY else Side.BUY


class Direction(StrEnum):
    """Position direction."""

    LONG = "long"
    SHORT = "short"

    @property
    def entry_side(self) -> Side:
        """Return the order side that opens this direction."""
        return Side.BUY if self is Direction.LONG else Side.SELL

    @property
    def exit_side(self) -> Side:
        """Return the order side that closes this direction."""
        return self.entry_side.opposite


class OrderType(StrEnum):
    """Order types we place; stops are market-on-trigger unless STOP_LIMIT."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT = "take_profit"
    OCO = "oco"


class OrderPurpose(StrEnum):
    """Why an order exists; part of the deterministic client order id."""

    ENTRY = "entry"
    STOP = "stop"
    TAKE_PROFIT = "tp"
    EXIT = "exit"


class OrderStatus(StrEnum):
    """Order lifecycle; the legal transitions live in ``domain.orders``."""

    PENDING = "pending"  # intent stored, not yet acknowledged by the venue
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Return True when no further change can happen."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class TradingState(StrEnum):
    """Whole-account trading state; HALTED persists across restarts."""

    ACTIVE = "active"
    PAUSED = "paused"
    HALTED = "halted"


class ExitReason(StrEnum):
    """Why a position closed."""

    TAKE_PROFIT = "take_profit"
    STOP_LOSS = "stop_loss"
    TRAILING_STOP = "trailing_stop"
    SIGNAL = "signal"
    MANUAL = "manual"
    HALT = "halt"
    END_OF_DATA = "end_of_data"


class ProtectionKind(StrEnum):
    """How a position's stop is enforced."""

    NATIVE = "native"  # resting stop order on the venue
    ATTACHED = "attached"  # the first stop (or OCO) came with the entry order; then as NATIVE
    WATCHED = "watched"  # engine watches price and sends a market order
    NONE = "none"


class Mode(StrEnum):
    """Run mode; only ports and config differ between modes, never the trading logic."""

    BACKTEST = "backtest"
    PAPER = "paper"
    LIVE = "live"
    DEMO = "demo"  # live engine against the venue's demo/testnet account: no real money
    REPLAY = "replay"  # paper engine over stored candles on a simulated clock: the replay demo

    @property
    def label(self) -> str:
        """Return how a user sees the mode: 'replay demo' for a replay, else the value ('paper')."""
        return "replay demo" if self is Mode.REPLAY else self.value
