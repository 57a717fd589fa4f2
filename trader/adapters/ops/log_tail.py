"""Keep the last log lines in memory for /logs (records are already redacted when they are created)."""

from __future__ import annotations

import logging
import threading
from collections import deque

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogTail(logging.Handler):
    """A logging handler holding the newest ``capacity`` formatted lines."""

    def __init__(self, capacity: int = 1000, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: deque[str] = deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter(_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        """Store one formatted record."""
        try:
            line = self.format(record)
        except Exception:  # a broken record must not break logging
            self.handleError(record)
            return
        with self._guard:
            self._lines.append(line)

    def tail(self, count: int) -> list[str]:
        """Return up to ``count`` newest lines, oldest first."""
        with self._guard:
            lines = list(self._lines)
        return lines[-count:] if count > 0 else []

    def install(self) -> None:
        """Attach to the root logger."""
        logging.getLogger().addHandler(self)

    def remove(self) -> None:
        """Detach from the root logger."""
        logging.getLogger().removeHandler(self)
