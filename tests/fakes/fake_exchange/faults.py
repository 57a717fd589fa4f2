"""Scripted faults: a test queues them per route; the server consumes one per matching request."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    """What goes wrong."""

    RATE_LIMIT = "rate_limit"  # HTTP 429 + Retry-After, request not processed
    SERVER_ERROR = "server_error"  # HTTP 5xx, request not processed
    TIMEOUT = "timeout"  # no answer within ``delay`` seconds, request not processed
    DROP_AFTER_ACCEPT = "drop_after_accept"  # request processed, connection closed before the answer
    ERROR = "error"  # a venue error body (status, code, msg), request not processed


@dataclass
class Fault:
    """One scripted fault on ``route`` ("POST /api/v3/order", "GET /api/v3/klines" or "*")."""

    kind: FaultKind
    route: str = "*"
    times: int = 1
    retry_after: int = 1
    status: int = 503
    code: int = -1001
    msg: str = "Internal error; unable to process your request. Please try again."
    delay: float = 2.0
    after: int = 0  # let this many matching requests through first (fail the stop after its entry)


class FaultPlan:
    """Queue of faults; thread-safe since tests and the server thread both touch it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.fired: list[tuple[str, FaultKind]] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def take(self, route: str) -> Fault | None:
        """Return (and use up one time of) the first fault matching ``route``."""
        with self._lock:
            for fault in self._faults:
                if fault.route in ("*", route):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    self.fired.append((route, fault.kind))
                    return fault
            return None

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """Return how many faults are still queued."""
        with self._lock:
            return len(self._faults)
