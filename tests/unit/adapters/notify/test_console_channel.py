"""ConsoleNotifier writes rendered alerts to its stream."""

from __future__ import annotations

import io

import pytest

from trader.adapters.notify.console_channel import ConsoleNotifier
from trader.core.domain.alerts import Alert, Severity


async def test_console_prints_rendered_alert_and_notes_image() -> None:
    out = io.StringIO()
    await ConsoleNotifier(out).send(Alert(kind="exit", text="BTC/USDT +2.1 %", image=b"\x89PNG1234"))
    assert out.getvalue() == "ℹ️ Exit\nBTC/USDT +2.1 %\n[image: 8 bytes, PNG]\n\n"


async def test_console_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleNotifier().send(Alert(kind="error", text="boom", severity=Severity.ERROR))
    assert "❗ Error (ERROR)\nboom" in capsys.readouterr().out
