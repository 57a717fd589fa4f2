"""docs/exchanges.md carries the generated capability table; the CLI prints the same table."""

from __future__ import annotations

from pathlib import Path

from trader.adapters.exchange.capability_table import capability_rows, markdown_table
from trader.cli import main

DOC = Path(__file__).resolve().parents[4] / "docs" / "exchanges.md"


def test_docs_table_matches_generator() -> None:
    text = DOC.read_text()
    table = text.split("<!-- capability-table:start -->\n")[1].split("\n<!-- capability-table:end -->")[0]
    assert table == markdown_table(capability_rows())


def test_venues_without_native_stop_are_named(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["exchanges", "capabilities"]) == 0
    out = capsys.readouterr().out
    assert "| binance | yes | yes | yes |" in out
    assert "No native stop (the engine watches the price and sends the exit): nobitex, wallex" in out


def test_one_venue_can_be_asked_for(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["exchanges", "capabilities", "wallex"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("| wallex | yes | yes | no |")
