"""The command table is valid for Telegram and complete."""

from __future__ import annotations

import re

from handlers.commands import BUTTONS, COMMANDS, command_for

REQUIRED = {
    "start",
    "help",
    "status",
    "positions",
    "balance",
    "profit",
    "performance",
    "drift",
    "daily",
    "weekly",
    "monthly",
    "trades",
    "chart",
    "equity",
    "backtest",
    "backtests",
    "strategies",
    "settings",
    "pause",
    "resume",
    "halt",
    "close",
    "buy",
    "health",
    "jobs",
    "news",
    "portfolio",
    "holdings",
    "version",
    "config",
    "reload",
    "locks",
    "unlock",
    "whoami",
    "tax",
    "logs",
    "dashboard",
}


def test_table_has_every_command_once() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names)) and set(names) == REQUIRED


def test_names_and_descriptions_fit_telegram_rules() -> None:
    for c in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", c.name)
        assert 3 <= len(c.help) <= 256
        assert c.callback.__doc__, c.name
        assert not c.usage or c.usage.startswith(f"/{c.name}")


def test_only_whoami_is_public_and_buttons_map_to_commands() -> None:
    assert [c.name for c in COMMANDS if c.public] == ["whoami"]
    assert all(command_for(b.command) is not None for b in BUTTONS)
    assert command_for("Status@fake_test_bot") is command_for("status")


def test_docs_mention_every_command() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "telegram.md").read_text()
    missing = [c.name for c in COMMANDS if f"/{c.name}" not in docs]
    assert not missing
