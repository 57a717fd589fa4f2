"""ConsoleNotifier: print alerts to a text stream when no Telegram token is configured."""

from __future__ import annotations

import sys
from typing import TextIO

from trader.adapters.notify.render import render_text
from trader.core.domain.alerts import Alert


class ConsoleNotifier:
    """Write each alert, rendered, to ``stream`` (stdout by default) followed by a blank line."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, alert: Alert) -> None:
        """Print the alert; an image is noted by its size since a terminal cannot show it."""
        stream = self._stream or sys.stdout
        text = render_text(alert)
        if alert.image is not None:
            text += f"\n[image: {len(alert.image)} bytes, PNG]"
        stream.write(text + "\n\n")
        stream.flush()
